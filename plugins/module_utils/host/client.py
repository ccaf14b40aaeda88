# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""The HTTP client for a Prometheus server, and the reload logic built on it.

One client (``PrometheusClient``, on ``ansible.module_utils.urls.Request``, so modules need no
extra library) is used by the ``prometheus_info`` and ``prometheus_reload`` modules. The parsing of
what Prometheus answers (the text exposition format of ``/metrics``, the ``{"status": ...}``
envelope of ``/api/v1``) and the comparison of a configuration file with the one the server
reports are pure functions, unit-tested without a server.

Reload (``reload``): the state before is read from ``/metrics``; the reload is triggered by
``POST /-/reload`` or by SIGHUP (to a pid, through supervisord or systemd); it counts as done only
when ``prometheus_config_last_reload_successful`` is 1 AND
``prometheus_config_last_reload_success_timestamp_seconds`` is newer than before. When it fails and
``<config_path>.last-good`` exists, it and the last good rule files are copied back atomically
(``config_file.restore_last_good``) and reloaded, and the failure is reported with Prometheus' own
error text.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode

from ansible.module_utils.urls import Request, make_context

from ansible_collections.promfleet.federation.plugins.module_utils import config_file

# PyYAML comes with ansible-core; config_file guards its import once for every module.
yaml = config_file.yaml
YAML_IMPORT_ERROR = config_file.YAML_IMPORT_ERROR
from ansible_collections.promfleet.federation.plugins.module_utils.promconfig import redact
from ansible_collections.promfleet.federation.plugins.module_utils.relabel import parse_duration

RELOAD_SUCCESSFUL = "prometheus_config_last_reload_successful"
RELOAD_TIMESTAMP = "prometheus_config_last_reload_success_timestamp_seconds"
# What Prometheus prints instead of a secret in /api/v1/status/config.
SERVER_SECRET = "<secret>"
LIFECYCLE_HINT = "start Prometheus with --web.enable-lifecycle or use method: signal"
POLL_INTERVAL = 0.1

# The connection options shared by every module that talks to Prometheus (documented in each module).
CONNECTION_ARGUMENT_SPEC = {
    "url": {"type": "str", "default": "http://localhost:9090"},
    "url_username": {"type": "str"},
    "url_password": {"type": "str", "no_log": True},
    "bearer_token": {"type": "str", "no_log": True},
    "validate_certs": {"type": "bool", "default": True},
    "ca_path": {"type": "path"},
    "client_cert": {"type": "path"},
    "client_key": {"type": "path", "no_log": False},
    "request_timeout": {"type": "float", "default": 10.0},
}
CONNECTION_MUTUALLY_EXCLUSIVE = [("url_username", "bearer_token")]
CONNECTION_REQUIRED_TOGETHER = [("url_username", "url_password"), ("client_cert", "client_key")]


class PrometheusError(Exception):
    """Prometheus could not be reached or answered with an error; the message says which URL and why."""


class PrometheusHTTPError(PrometheusError):
    """Prometheus answered with an HTTP error status; ``status`` and ``body`` are its answer."""

    def __init__(self, message: str, status: int, body: str) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class ReloadError(PrometheusError):
    """A reload failed; ``result`` holds what the module returns with the failure."""

    def __init__(self, message: str, result: dict) -> None:
        super().__init__(message)
        self.result = result


# --- pure parsing -----------------------------------------------------------------------------------

_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)(?:\s+-?\d+)?\s*$")
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?')


def _unescape_label_value(text: str) -> str:
    return re.sub(r"\\(.)", lambda found: "\n" if found.group(1) == "n" else found.group(1), text)


def parse_labels(text: str) -> dict:
    """The labels of ``{a="1",b="x\\"y"}`` as a dict; ValueError when it is not a label set."""
    inner = text.strip()
    if not (inner.startswith("{") and inner.endswith("}")):
        raise ValueError("%r is not a label set" % text)
    inner = inner[1:-1]
    labels = {}
    position = 0
    while position < len(inner):
        found = _LABEL.match(inner, position)
        if not found or found.end() == position:
            raise ValueError("%r is not a label set" % text)
        labels[found.group(1)] = _unescape_label_value(found.group(2))
        position = found.end()
    return labels


def parse_float(text: str) -> float:
    """A sample value of the exposition format (``1``, ``1.5e+09``, ``NaN``, ``+Inf``, ``-Inf``)."""
    return float(text)


def parse_samples(text: str) -> list:
    """Every sample of a text exposition (``/metrics``) as ``(name, labels, value)``, in order;
    comments, ``# HELP``/``# TYPE`` lines, blank lines and unparseable lines are skipped."""
    samples = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        found = _SAMPLE.match(line)
        if not found:
            continue
        try:
            labels = parse_labels(found.group(2)) if found.group(2) else {}
            value = parse_float(found.group(3))
        except ValueError:
            continue
        samples.append((found.group(1), labels, value))
    return samples


def parse_metrics(text: str) -> dict:
    """The unlabelled series of a text exposition: metric name -> float. Labelled series are left
    out (use ``metric_value`` for one of them)."""
    return {name: value for name, labels, value in parse_samples(text) if not labels}


def metric_value(text: str, name: str, labels: dict | None = None) -> float | None:
    """The value of the series ``name`` whose labels are exactly ``labels`` (none by default), or None."""
    wanted = labels or {}
    for sample_name, sample_labels, value in parse_samples(text):
        if sample_name == name and sample_labels == wanted:
            return value
    return None


def parse_api_response(body: str, url: str = "") -> object:
    """The ``data`` of an ``/api/v1`` answer (``{"status": "success", "data": ...}``); PrometheusError
    with Prometheus' ``errorType`` and ``error`` when the status is not success."""
    where = " from %s" % url if url else ""
    try:
        document = json.loads(body)
    except ValueError:
        raise PrometheusError("the answer%s is not JSON: %s" % (where, body[:200])) from None
    if not isinstance(document, dict) or "status" not in document:
        raise PrometheusError("the answer%s is not a Prometheus API answer (no status): %s" % (where, body[:200]))
    if document["status"] != "success":
        error_type = document.get("errorType") or "error"
        error = document.get("error") or "no error text"
        raise PrometheusError("Prometheus answered%s with %s: %s" % (where, error_type, error))
    return document.get("data")


def reload_state(metrics: dict) -> dict:
    """``successful`` (bool) and ``timestamp`` (float seconds) of the last reload, from parsed
    metrics; PrometheusError when the server does not export them."""
    missing = [name for name in (RELOAD_SUCCESSFUL, RELOAD_TIMESTAMP) if name not in metrics]
    if missing:
        raise PrometheusError("/metrics has no %s; is this a Prometheus server?" % " and ".join(missing))
    return {"successful": metrics[RELOAD_SUCCESSFUL] == 1, "timestamp": metrics[RELOAD_TIMESTAMP]}


def reload_verified(before: dict, after: dict) -> bool:
    """Whether ``after`` proves a successful reload since ``before``: successful, and a newer
    success timestamp (a successful state alone may be the one from before)."""
    return after["successful"] and after["timestamp"] > before["timestamp"]


def _durations_equal(left: str, right: str) -> bool:
    try:
        return parse_duration(left) == parse_duration(right)
    except ValueError:
        return False


def _scalars_equal(key: str, file_value, server_value, config_dir: str) -> bool:
    if file_value == server_value:
        return True
    if server_value == SERVER_SECRET and file_value not in (None, ""):
        return True
    if isinstance(file_value, str) and isinstance(server_value, str):
        if key == "action" and file_value.lower() == server_value.lower():
            return True
        if config_dir and not os.path.isabs(file_value) and os.path.join(config_dir, file_value) == server_value:
            return True
        return _durations_equal(file_value, server_value)
    return False


def config_differences(file_config, server_config, config_dir: str = "", where: str = "") -> list:
    """Where the configuration the server reports differs from the file's, as readable lines.

    "Equal" means: every field the file sets has the same value on the server; fields the server
    shows but the file does not set (Prometheus prints its defaults) are ignored. Values are equal
    when they are identical, or both durations of the same length (``60s`` and ``1m``), or the
    server shows ``<secret>`` for a non-empty secret, or a relative path of the file joined to
    ``config_dir`` is the absolute path the server shows, or (field ``action``) they differ only in
    case. Lists must have the same length and equal items in the same order.
    """
    label = where or "the configuration"
    if isinstance(file_config, dict):
        if not isinstance(server_config, dict):
            return ["%s: the file has a mapping, the server has %r" % (label, server_config)]
        found = []
        for key, value in file_config.items():
            sub = "%s.%s" % (where, key) if where else str(key)
            if value is None:
                continue  # YAML null: unset, the server shows its default
            if key not in server_config:
                found.append("%s: set in the file, missing on the server" % sub)
                continue
            found += config_differences(value, server_config[key], config_dir, sub)
        return found
    if isinstance(file_config, list):
        if not isinstance(server_config, list):
            return ["%s: the file has a list, the server has %r" % (label, server_config)]
        if len(file_config) != len(server_config):
            return ["%s: %d items in the file, %d on the server" % (label, len(file_config), len(server_config))]
        found = []
        for index, (file_item, server_item) in enumerate(zip(file_config, server_config)):
            found += config_differences(file_item, server_item, config_dir, "%s[%d]" % (where, index))
        return found
    key = where.rsplit(".", 1)[-1]
    if _scalars_equal(key, file_config, server_config, config_dir):
        return []
    if server_config == SERVER_SECRET or key in ("password", "credentials", "bearer_token", "client_secret"):
        return ["%s: differs (a secret, not shown)" % label]
    return ["%s: %r in the file, %r on the server" % (label, file_config, server_config)]


def load_yaml(text: str, what: str) -> dict:
    """A YAML mapping (an empty document is {}); PrometheusError naming ``what`` when it is not one."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PrometheusError("%s is not valid YAML: %s" % (what, exc)) from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise PrometheusError("%s is not a YAML mapping" % what)
    return document


# --- the client -------------------------------------------------------------------------------------


class PrometheusClient:
    """A Prometheus server at ``url`` (``http(s)://host:port`` plus any route prefix)."""

    def __init__(
        self,
        url: str,
        username: str | None = None,
        password: str | None = None,
        bearer_token: str | None = None,
        validate_certs: bool = True,
        ca_path: str | None = None,
        client_cert: str | None = None,
        client_key: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.url = url.rstrip("/")
        self.username = username
        self.password = password
        self.bearer_token = bearer_token
        self.validate_certs = validate_certs
        self.ca_path = ca_path
        self.client_cert = client_cert
        self.client_key = client_key
        self.timeout = timeout
        self._context = None

    def _ssl_context(self):
        """One SSL context for every request: building it loads the CA bundle, which costs more
        than a reload (open_url would build one per request, even for plain http)."""
        if self._context is None:
            self._context = make_context(cafile=self.ca_path, validate_certs=self.validate_certs,
                                         client_cert=self.client_cert, client_key=self.client_key)
        return self._context

    @classmethod
    def from_params(cls, params: dict) -> PrometheusClient:
        """The client for the module parameters of ``CONNECTION_ARGUMENT_SPEC``."""
        return cls(
            params["url"],
            username=params["url_username"],
            password=params["url_password"],
            bearer_token=params["bearer_token"],
            validate_certs=params["validate_certs"],
            ca_path=params["ca_path"],
            client_cert=params["client_cert"],
            client_key=params["client_key"],
            timeout=params["request_timeout"],
        )

    def request(self, method: str, path: str, params: dict | None = None) -> str:
        """The body of ``method path?params``; PrometheusHTTPError for an HTTP error status,
        PrometheusError when the server cannot be reached."""
        url = self.url + path
        if params:
            url += "?" + urlencode(params, doseq=True)
        headers = {"Accept": "application/json, text/plain;q=0.9, */*;q=0.1"}
        if self.bearer_token:
            headers["Authorization"] = "Bearer " + self.bearer_token
        try:
            response = Request().open(
                method,
                url,
                headers=headers,
                timeout=self.timeout,
                url_username=self.username,
                url_password=self.password,
                force_basic_auth=bool(self.username),
                use_netrc=False,
                http_agent="promfleet.federation",
                context=self._ssl_context(),
            )
            return response.read().decode("utf-8", errors="replace")
        except HTTPError as exc:
            body = exc.read().decode("utf-8", errors="replace") if exc.fp is not None else ""
            message = "%s %s answered HTTP %d: %s" % (method, url, exc.code, body.strip() or exc.reason)
            raise PrometheusHTTPError(message, exc.code, body) from None
        except URLError as exc:
            raise PrometheusError("cannot reach Prometheus at %s: %s" % (url, exc.reason)) from None
        except (OSError, ValueError) as exc:
            raise PrometheusError("cannot reach Prometheus at %s: %s" % (url, exc)) from None

    def get_json(self, path: str, params: dict | None = None) -> object:
        """The ``data`` of an ``/api/v1`` GET; API errors (also those sent with a 4xx/5xx status)
        raise PrometheusError with Prometheus' error text."""
        try:
            body = self.request("GET", path, params)
        except PrometheusHTTPError as exc:
            if exc.body.lstrip().startswith("{"):
                return parse_api_response(exc.body, self.url + path)
            raise
        return parse_api_response(body, self.url + path)

    def post(self, path: str) -> str:
        """POST without a body; the answer's body."""
        return self.request("POST", path)

    def metrics_text(self) -> str:
        """``/metrics`` as text."""
        return self.request("GET", "/metrics")

    def metrics(self) -> dict:
        """The unlabelled series of ``/metrics``: name -> float."""
        return parse_metrics(self.metrics_text())

    def reload_state(self) -> dict:
        """``successful`` and ``timestamp`` of the last configuration reload."""
        return reload_state(self.metrics())

    def query(self, promql: str) -> dict:
        """An instant query: ``{"resultType": ..., "result": ...}``."""
        return self.get_json("/api/v1/query", {"query": promql})

    def targets(self, state: str = "any") -> dict:
        """``/api/v1/targets`` (``activeTargets``, ``droppedTargets``); ``state`` is any, active or dropped."""
        return self.get_json("/api/v1/targets", {"state": state})

    def status_config(self) -> dict:
        """The configuration the server has loaded, parsed (secrets show as ``<secret>``)."""
        data = self.get_json("/api/v1/status/config")
        yaml_text = data.get("yaml", "") if isinstance(data, dict) else ""
        return load_yaml(yaml_text, "the configuration %s/api/v1/status/config reports" % self.url)

    def buildinfo(self) -> dict:
        return self.get_json("/api/v1/status/buildinfo")

    def runtimeinfo(self) -> dict:
        return self.get_json("/api/v1/status/runtimeinfo")

    def flags(self) -> dict:
        return self.get_json("/api/v1/status/flags")


# --- info -------------------------------------------------------------------------------------------

INFO_PARTS = ("targets", "buildinfo", "runtimeinfo", "flags", "config", "reload")


def gather_info(client: PrometheusClient, gather: list, queries: list, targets_state: str = "any") -> dict:
    """What the server knows, for ``prometheus_info``: the parts of ``INFO_PARTS`` named in
    ``gather`` and the results of the instant ``queries``. The configuration is redacted."""
    info = {}
    if "targets" in gather:
        info["targets"] = client.targets(targets_state)
    for part in ("buildinfo", "runtimeinfo", "flags"):
        if part in gather:
            info[part] = getattr(client, part)()
    if "config" in gather:
        info["config"] = redact(client.status_config())
    if "reload" in gather:
        info["reload"] = client.reload_state()
    if queries:
        info["queries"] = [dict(client.query(promql), query=promql) for promql in queries]
    return info


# --- reload -----------------------------------------------------------------------------------------


class Trigger:
    """How a reload is started: ``POST /-/reload`` (method http) or SIGHUP (method signal)."""

    def __init__(
        self,
        method: str,
        pid: int | None = None,
        pidfile: str | None = None,
        service_manager: str | None = None,
        service_name: str | None = None,
        supervisord_conf: str | None = None,
    ) -> None:
        self.method = method
        self.pid = pid
        self.pidfile = pidfile
        self.service_manager = service_manager
        self.service_name = service_name
        self.supervisord_conf = supervisord_conf

    def describe(self) -> str:
        """What ``fire`` does, for check mode and messages."""
        if self.method == "http":
            return "POST /-/reload"
        if self.service_manager == "supervisord":
            return "SIGHUP through " + " ".join(self.supervisorctl_command())
        if self.service_manager == "systemd":
            return "systemctl reload %s" % self.service_name
        if self.pidfile:
            return "SIGHUP to the pid in %s" % self.pidfile
        return "SIGHUP to pid %s" % self.pid

    def supervisorctl_command(self) -> list:
        command = ["supervisorctl"]
        if self.supervisord_conf:
            command += ["-c", self.supervisord_conf]
        return command + ["signal", "HUP", self.service_name]

    def target_pid(self) -> int:
        """The pid to signal (from ``pidfile`` when given); PrometheusError when there is none."""
        if not self.pidfile:
            return self.pid
        try:
            with open(self.pidfile) as handle:
                text = handle.read().strip()
        except OSError as exc:
            raise PrometheusError("cannot read pidfile %s: %s" % (self.pidfile, exc.strerror)) from None
        if not text.isdigit():
            raise PrometheusError("pidfile %s does not hold a pid: %r" % (self.pidfile, text[:40]))
        return int(text)

    def check(self) -> None:
        """What check mode can verify without touching anything: the pid exists."""
        if self.method == "signal" and not self.service_manager:
            pid = self.target_pid()
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                raise PrometheusError("no process with pid %d" % pid) from None
            except PermissionError:
                pass  # it exists; sending will tell whether we may

    def fire(self, client: PrometheusClient) -> str | None:
        """Start the reload. For http, the error text of a 500 answer is returned (the reload was
        refused, the old configuration runs), None when it was applied."""
        if self.method == "http":
            try:
                client.post("/-/reload")
            except PrometheusHTTPError as exc:
                if exc.status == 500:
                    return exc.body.strip() or "HTTP 500 without a message"
                if exc.status == 403:
                    raise PrometheusError(
                        "POST %s/-/reload was refused (HTTP 403: %s): the lifecycle API is off; %s"
                        % (client.url, exc.body.strip() or "Forbidden", LIFECYCLE_HINT)
                    ) from None
                raise
            return None
        if self.service_manager:
            if self.service_manager == "supervisord":
                command = self.supervisorctl_command()
            else:
                command = ["systemctl", "reload", self.service_name]
            _run(command)
            return None
        pid = self.target_pid()
        try:
            os.kill(pid, signal.SIGHUP)
        except ProcessLookupError:
            raise PrometheusError("no process with pid %d to send SIGHUP to" % pid) from None
        except PermissionError:
            raise PrometheusError("not allowed to send SIGHUP to pid %d (run as its user or root)" % pid) from None
        return None


def _run(command: list) -> None:
    try:
        done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PrometheusError("%s failed: %s" % (" ".join(command), exc)) from None
    output = done.stdout.decode("utf-8", errors="replace").strip()
    # supervisorctl exits 0 on some errors: its output says so
    if done.returncode != 0 or "ERROR" in output:
        raise PrometheusError("%s failed (rc=%d): %s" % (" ".join(command), done.returncode, output))


def wait_for_reload(client: PrometheusClient, before: dict, timeout: float) -> dict:
    """Poll ``/metrics`` until the reload since ``before`` is verified or has failed, at most
    ``timeout`` seconds. Returns the state with ``verified`` (bool). A failure is seen when the
    successful flag drops from 1 to 0; when it was 0 already, only the timeout tells."""
    deadline = time.monotonic() + timeout
    while True:
        state = client.reload_state()
        if reload_verified(before, state):
            return dict(state, verified=True)
        if before["successful"] and not state["successful"]:
            return dict(state, verified=False)
        if time.monotonic() >= deadline:
            return dict(state, verified=False)
        time.sleep(POLL_INTERVAL)


SIGNAL_FAILURE = "Prometheus reported the reload as failed (%s is 0; its log has the reason)" % RELOAD_SUCCESSFUL


def promtool_details(config_path: str | None, promtool: str | None) -> str:
    """The output of ``promtool check config`` when it refuses ``config_path``, as a suffix of a
    failure message, else "". Prometheus' own answer to a failed reload often names no file
    (``one or more errors occurred while applying the new configuration``); promtool does."""
    if not (config_path and promtool):
        return ""
    passed, output = config_file.run_promtool(promtool, config_path)
    if passed:
        return ""
    return "; promtool check config %s says: %s" % (config_path, " ".join(output.split()))


def compare_with_text(client: PrometheusClient, text: str, where: str, config_dir: str) -> list:
    """``config_differences`` between the prometheus.yml ``text`` (``where`` names it in errors;
    relative paths resolve in ``config_dir``) and what the server reports."""
    return config_differences(load_yaml(text, where), client.status_config(), config_dir)


def compare_with_file(client: PrometheusClient, config_path: str) -> list:
    """``config_differences`` between ``config_path`` on disk and what the server reports."""
    try:
        with open(config_path) as handle:
            text = handle.read()
    except OSError as exc:
        raise PrometheusError("cannot read config_path %s: %s" % (config_path, exc.strerror)) from None
    return compare_with_text(client, text, config_path, os.path.dirname(os.path.abspath(config_path)))


def attempt_reload(client: PrometheusClient, trigger, timeout: float, config_path=None, promtool=None) -> dict:
    """One reload: fire, then wait for proof. ``trigger`` is a Trigger or any object with its
    ``method`` (http or signal) and ``fire(client)``. ``ok``, ``error`` (Prometheus' text), ``before``,
    ``after``, ``seconds``."""
    before = client.reload_state()
    started = time.monotonic()
    error = trigger.fire(client)
    if error is None:
        after = wait_for_reload(client, before, timeout)
        if not after["verified"]:
            if after["successful"] and trigger.method == "signal":
                error = ("no reload within %s s: %s stayed at %s (did the process get the signal?)"
                         % (timeout, RELOAD_TIMESTAMP, after["timestamp"]))
            elif trigger.method == "signal":
                error = SIGNAL_FAILURE
            else:
                error = "Prometheus answered 200 but %s is %s" % (RELOAD_SUCCESSFUL, int(after["successful"]))
    else:
        after = dict(client.reload_state(), verified=False)
    if error is not None:
        error += promtool_details(config_path, promtool)
    return {
        "ok": error is None,
        "error": error,
        "before": before,
        "after": after,
        "seconds": round(time.monotonic() - started, 3),
    }


def reload(
    client: PrometheusClient,
    trigger: Trigger,
    timeout: float = 30.0,
    config_path: str | None = None,
    rollback: bool = True,
    promtool: str | None = None,
    check_mode: bool = False,
) -> dict:
    """Reload and verify (see the module docstring); returns the module's result, raises
    ReloadError (with the result) when the reload fails, PrometheusError when it cannot start."""
    result = {"changed": True, "method": trigger.method, "rolled_back": False, "restored_files": [],
              "config_differences": []}
    if check_mode:
        state = client.reload_state()
        trigger.check()
        if config_path:
            result["config_differences"] = compare_with_file(client, config_path)
        result.update(
            msg="would reload with %s" % trigger.describe(),
            reload_seconds=None,
            last_reload_success_timestamp={"before": state["timestamp"], "after": state["timestamp"]},
        )
        return result

    first = attempt_reload(client, trigger, timeout, config_path, promtool)
    result.update(
        reload_seconds=first["seconds"],
        last_reload_success_timestamp={"before": first["before"]["timestamp"], "after": first["after"]["timestamp"]},
    )
    if first["ok"]:
        if config_path:
            result["config_differences"] = compare_with_file(client, config_path)
            if result["config_differences"]:
                message = ("the reload succeeded, but the configuration the server reports is not %s: %s"
                           % (config_path, "; ".join(result["config_differences"])))
                raise ReloadError(message, result)
        result["msg"] = "reloaded with %s and verified in %.3f s" % (trigger.describe(), first["seconds"])
        return result

    message = "reload with %s failed: %s" % (trigger.describe(), first["error"])
    if not (rollback and config_path):
        raise ReloadError(message, result)
    try:
        result["restored_files"] = config_file.restore_last_good(config_path)
    except (config_file.ConfigFileError, OSError) as exc:
        raise ReloadError(message + "; the rollback failed: %s" % exc, result) from None
    if not result["restored_files"]:
        message += "; no rollback: %s%s is missing or equals the file" % (config_path, config_file.LAST_GOOD_SUFFIX)
        raise ReloadError(message, result)

    result["rolled_back"] = True
    second = attempt_reload(client, trigger, timeout, config_path, promtool)
    result["last_reload_success_timestamp"]["after"] = second["after"]["timestamp"]
    restored = ", ".join(result["restored_files"])
    if second["ok"]:
        message += "; rolled back: restored %s from the last good copies and reloaded, verified in %.3f s" % (
            restored, second["seconds"])
    else:
        message += "; rolled back: restored %s from the last good copies, but reloading them failed too: %s" % (
            restored, second["error"])
    raise ReloadError(message, result)
