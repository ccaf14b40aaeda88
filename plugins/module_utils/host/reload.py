# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""Reload a daemon's configuration without restarting it, prove the new configuration is live, and
put the last good one back when it is not.

The state before is read from ``/metrics``; the reload is triggered by ``POST /-/reload`` or by
SIGHUP (to a pid, through supervisord or systemd); it counts as done only when
``<prefix>_config_last_reload_successful`` is 1 AND
``<prefix>_config_last_reload_success_timestamp_seconds`` is newer than before. For Prometheus, the
configuration the server then reports must also equal the file; for Alertmanager, ``<prefix>_config_hash``
must be the hash of the file (``config_hash``: it moved when the file changed). When the reload fails and
``<config_path>.last-good`` exists, it and the last good rule files are copied back atomically
(``config_files.restore_last_good``) and reloaded, and the failure is reported with the daemon's
own error text and its checker's.
"""

from __future__ import annotations

import hashlib
import os
import signal
import time

from ansible_collections.promfleet.federation.plugins.module_utils.errors import (
    ConfigError,
    ConfigFileError,
    PrometheusError,
    PrometheusHTTPError,
    ReloadError,
)
from ansible_collections.promfleet.federation.plugins.module_utils.host import checkers, config_files
from ansible_collections.promfleet.federation.plugins.module_utils.host.client import (
    PROMETHEUS,
    PrometheusClient,
    reload_metric_names,
    reload_verified,
)
from ansible_collections.promfleet.federation.plugins.module_utils.host.service import Supervisord, Systemd
from ansible_collections.promfleet.federation.plugins.module_utils.model.compare import config_differences
from ansible_collections.promfleet.federation.plugins.module_utils.model.documents import load_mapping

LIFECYCLE_HINT = "start Prometheus with --web.enable-lifecycle or use method: signal"
POLL_INTERVAL = 0.1
# Seconds the hash may lag behind the success timestamp: Alertmanager sets it right after.
HASH_TIMEOUT = 5.0


class Trigger:
    """How a reload is started: ``POST /-/reload`` (method http) or SIGHUP (method signal) to a pid,
    a pid file's pid, or a program of supervisord or a unit of systemd."""

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
        if service_manager == "supervisord":
            self.service = Supervisord(supervisord_conf)
        elif service_manager == "systemd":
            self.service = Systemd()
        else:
            self.service = None

    def describe(self) -> str:
        """What ``fire`` does, for check mode and messages."""
        if self.method == "http":
            return "POST /-/reload"
        if self.service is not None:
            return self.service.describe_reload(self.service_name)
        if self.pidfile:
            return "SIGHUP to the pid in %s" % self.pidfile
        return "SIGHUP to pid %s" % self.pid

    def supervisorctl_command(self) -> list:
        return Supervisord(self.service.conf if self.service else None).reload_command(self.service_name)

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
        if self.method == "signal" and self.service is None:
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
            return post_reload(client)
        if self.service is not None:
            self.service.reload(self.service_name)
            return None
        pid = self.target_pid()
        try:
            os.kill(pid, signal.SIGHUP)
        except ProcessLookupError:
            raise PrometheusError("no process with pid %d to send SIGHUP to" % pid) from None
        except PermissionError:
            raise PrometheusError("not allowed to send SIGHUP to pid %d (run as its user or root)" % pid) from None
        return None


def post_reload(client: PrometheusClient) -> str | None:
    """``POST /-/reload``: the error text of a 500 answer (the reload was refused, the old
    configuration runs), None when it was applied."""
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


def wait_for_reload(client: PrometheusClient, before: dict, timeout: float, prefix: str = PROMETHEUS) -> dict:
    """Poll ``/metrics`` until the reload since ``before`` is verified or has failed, at most
    ``timeout`` seconds. Returns the state with ``verified`` (bool). A failure is seen when the
    successful flag drops from 1 to 0; when it was 0 already, only the timeout tells."""
    deadline = time.monotonic() + timeout
    while True:
        state = client.reload_state(prefix)
        if reload_verified(before, state):
            return dict(state, verified=True)
        if before["successful"] and not state["successful"]:
            return dict(state, verified=False)
        if time.monotonic() >= deadline:
            return dict(state, verified=False)
        time.sleep(POLL_INTERVAL)


def checker_details(checker: list | None, config_path: str | None) -> str:
    """The checker's output when it refuses ``config_path``, as a suffix of a failure message, else
    "". Prometheus' own answer to a failed reload often names no file (``one or more errors
    occurred while applying the new configuration``); promtool does."""
    if not (config_path and checker):
        return ""
    passed, output = checkers.run_check(checker, config_path)
    if passed:
        return ""
    return "; %s %s says: %s" % (checkers.describe(checker), config_path, " ".join(output.split()))


def compare_with_text(client: PrometheusClient, text: str, where: str, config_dir: str) -> list:
    """``config_differences`` between the prometheus.yml ``text`` (``where`` names it in errors;
    relative paths resolve in ``config_dir``) and what the server reports."""
    try:
        document = load_mapping(text, where)
    except ConfigError as exc:
        raise PrometheusError(str(exc)) from None
    return config_differences(document, client.status_config(), config_dir)


def compare_with_file(client: PrometheusClient, config_path: str) -> list:
    """``config_differences`` between ``config_path`` on disk and what the server reports."""
    try:
        with open(config_path) as handle:
            text = handle.read()
    except OSError as exc:
        raise PrometheusError("cannot read config_path %s: %s" % (config_path, exc.strerror)) from None
    return compare_with_text(client, text, config_path, os.path.dirname(os.path.abspath(config_path)))


def config_hash(data: bytes) -> float:
    """The value of ``<prefix>_config_hash`` for a configuration file of bytes ``data``, as Alertmanager
    computes it: the first 48 bits of the md5 digest read as a little-endian integer (a float64 holds
    them exactly)."""
    return float(int.from_bytes(hashlib.md5(data).digest()[:6], "little"))


def config_hash_metric(prefix: str) -> str:
    """The metric of the hash of the loaded configuration of daemon ``prefix``."""
    return prefix + "_config_hash"


def loaded_hash(client: PrometheusClient, prefix: str) -> float | None:
    """``<prefix>_config_hash`` now, None when the daemon does not export it."""
    return client.metrics().get(config_hash_metric(prefix))


def wait_for_hash(client: PrometheusClient, config_path: str, prefix: str, timeout: float) -> dict:
    """After a proven reload: wait (at most ``timeout`` seconds) until ``<prefix>_config_hash`` is the
    hash of ``config_path``; ``{"file": <the file's hash>, "after": <the loaded one>}`` either way."""
    try:
        with open(config_path, "rb") as handle:
            wanted = config_hash(handle.read())
    except OSError as exc:
        raise PrometheusError("cannot read config_path %s: %s" % (config_path, exc.strerror)) from None
    deadline = time.monotonic() + timeout
    while True:
        loaded = loaded_hash(client, prefix)
        if loaded == wanted or time.monotonic() >= deadline:
            return {"file": wanted, "after": loaded}
        time.sleep(POLL_INTERVAL)


def attempt_reload(client: PrometheusClient, trigger, timeout: float, explain=None, prefix: str = PROMETHEUS) -> dict:
    """One reload: fire, then wait for proof. ``trigger`` is a Trigger or any object with its
    ``method`` (http or signal) and ``fire(client)``; ``explain()``, when given, adds the checker's
    view to a failure. ``ok``, ``error`` (the daemon's text), ``before``, ``after``, ``seconds``."""
    successful, timestamp = reload_metric_names(prefix)
    before = client.reload_state(prefix)
    started = time.monotonic()
    error = trigger.fire(client)
    if error is None:
        after = wait_for_reload(client, before, timeout, prefix)
        if not after["verified"]:
            if after["successful"] and trigger.method == "signal":
                error = ("no reload within %s s: %s stayed at %s (did the process get the signal?)"
                         % (timeout, timestamp, after["timestamp"]))
            elif trigger.method == "signal":
                error = "%s reported the reload as failed (%s is 0; its log has the reason)" % (
                    prefix.capitalize(), successful)
            else:
                error = "%s answered 200 but %s is %s" % (prefix.capitalize(), successful, int(after["successful"]))
    else:
        after = dict(client.reload_state(prefix), verified=False)
    if error is not None and explain is not None:
        error += explain()
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
    checker: list | None = None,
    check_mode: bool = False,
    prefix: str = PROMETHEUS,
    compare: bool = True,
    compare_hash: bool = False,
) -> dict:
    """Reload and verify (see the module docstring); returns the module's result, raises
    ReloadError (with the result) when the reload fails, PrometheusError when it cannot start.
    ``compare`` also checks that the configuration the server reports is the file's (Prometheus);
    ``compare_hash`` that ``<prefix>_config_hash`` is the hash of the file (Alertmanager), the result's
    ``config_hash`` then has it before and after the reload, and the file's."""
    result = {"changed": True, "method": trigger.method, "rolled_back": False, "restored_files": [],
              "config_differences": []}
    compare = compare and bool(config_path)
    compare_hash = compare_hash and bool(config_path)
    if check_mode:
        state = client.reload_state(prefix)
        trigger.check()
        if compare:
            result["config_differences"] = compare_with_file(client, config_path)
        result.update(
            msg="would reload with %s" % trigger.describe(),
            reload_seconds=None,
            last_reload_success_timestamp={"before": state["timestamp"], "after": state["timestamp"]},
        )
        return result

    def explain() -> str:
        return checker_details(checker, config_path)

    hash_before = loaded_hash(client, prefix) if compare_hash else None
    first = attempt_reload(client, trigger, timeout, explain, prefix)
    result.update(
        reload_seconds=first["seconds"],
        last_reload_success_timestamp={"before": first["before"]["timestamp"], "after": first["after"]["timestamp"]},
    )
    if first["ok"]:
        if compare_hash:
            result["config_hash"] = dict(wait_for_hash(client, config_path, prefix, HASH_TIMEOUT), before=hash_before)
            if result["config_hash"]["after"] != result["config_hash"]["file"]:
                raise ReloadError(
                    "the reload succeeded, but %s is %s, not the hash of %s (%s): the server loaded another file"
                    % (config_hash_metric(prefix), result["config_hash"]["after"], config_path,
                       result["config_hash"]["file"]), result)
        if compare:
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
        result["restored_files"] = config_files.restore_last_good(config_path)
    except (ConfigFileError, OSError) as exc:
        raise ReloadError(message + "; the rollback failed: %s" % exc, result) from None
    if not result["restored_files"]:
        message += "; no rollback: %s%s is missing or equals the file" % (config_path, config_files.LAST_GOOD_SUFFIX)
        raise ReloadError(message, result)

    result["rolled_back"] = True
    second = attempt_reload(client, trigger, timeout, explain, prefix)
    result["last_reload_success_timestamp"]["after"] = second["after"]["timestamp"]
    restored = ", ".join(result["restored_files"])
    if second["ok"]:
        message += "; rolled back: restored %s from the last good copies and reloaded, verified in %.3f s" % (
            restored, second["seconds"])
    else:
        message += "; rolled back: restored %s from the last good copies, but reloading them failed too: %s" % (
            restored, second["error"])
    raise ReloadError(message, result)
