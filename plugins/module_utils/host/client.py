# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""The HTTP client for a server of the Prometheus ecosystem (Prometheus, Alertmanager, exporters).

One client (``PrometheusClient``, on the standard library's urllib and ssl, so modules need no
extra library and load fast) is used by every module that talks to a server. The parsing of what the servers
answer (the text exposition format of ``/metrics``, the ``{"status": ...}`` envelope of
``/api/v1``) is pure functions, unit-tested without a server.

Every daemon of the ecosystem that reloads its configuration exports the outcome of its last
reload as ``<prefix>_config_last_reload_successful`` and
``<prefix>_config_last_reload_success_timestamp_seconds`` (prefix ``prometheus``, ``alertmanager``):
``reload_state`` reads them, and ``reload.py`` proves a reload with them.
"""

from __future__ import annotations

import base64
import json
import re
import ssl
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode
from urllib.request import HTTPSHandler, Request, build_opener

from ansible_collections.promfleet.federation.plugins.module_utils.errors import (
    ConfigError,
    PrometheusError,
    PrometheusHTTPError,
)
from ansible_collections.promfleet.federation.plugins.module_utils.model.documents import load_mapping

PROMETHEUS = "prometheus"
# The path whose 200 answer means a server serves (Prometheus, Alertmanager); exporters without it
# name another one (node_exporter: /metrics).
READY_PATH = "/-/ready"

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


def reload_metric_names(prefix: str = PROMETHEUS) -> tuple:
    """The names of the success flag and the success timestamp of ``prefix``'s last reload."""
    return prefix + "_config_last_reload_successful", prefix + "_config_last_reload_success_timestamp_seconds"


def reload_state(metrics: dict, prefix: str = PROMETHEUS) -> dict:
    """``successful`` (bool) and ``timestamp`` (float seconds) of the last reload, from parsed
    metrics; PrometheusError when the server does not export them."""
    names = reload_metric_names(prefix)
    missing = [name for name in names if name not in metrics]
    if missing:
        raise PrometheusError("/metrics has no %s; is this a %s server?" % (" and ".join(missing), prefix))
    return {"successful": metrics[names[0]] == 1, "timestamp": metrics[names[1]]}


def reload_verified(before: dict, after: dict) -> bool:
    """Whether ``after`` proves a successful reload since ``before``: successful, and a newer
    success timestamp (a successful state alone may be the one from before)."""
    return after["successful"] and after["timestamp"] > before["timestamp"]


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
        self._opener = None

    def _ssl_context(self) -> ssl.SSLContext:
        """The TLS settings: the CA that verifies the server (the system's by default), a client
        certificate when given."""
        if self.validate_certs:
            context = ssl.create_default_context(cafile=self.ca_path)
        else:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if self.client_cert:
            context.load_cert_chain(self.client_cert, self.client_key)
        return context

    def _open(self, request: Request):
        """One opener for every request, its TLS context built once and only for https: loading the
        CA bundle costs more than a reload."""
        if self._opener is None:
            handlers = [HTTPSHandler(context=self._ssl_context())] if self.url.lower().startswith("https:") else []
            self._opener = build_opener(*handlers)
        return self._opener.open(request, timeout=self.timeout)

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
        headers = {"Accept": "application/json, text/plain;q=0.9, */*;q=0.1", "User-Agent": "promfleet.federation"}
        if self.bearer_token:
            headers["Authorization"] = "Bearer " + self.bearer_token
        elif self.username:
            credentials = "%s:%s" % (self.username, self.password or "")
            headers["Authorization"] = "Basic " + base64.b64encode(credentials.encode("utf-8")).decode("ascii")
        try:
            with self._open(Request(url, headers=headers, method=method)) as response:
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

    def reload_state(self, prefix: str = PROMETHEUS) -> dict:
        """``successful`` and ``timestamp`` of the last configuration reload of daemon ``prefix``."""
        return reload_state(self.metrics(), prefix)

    def ready(self, path: str = READY_PATH) -> bool:
        """Whether ``path`` (``/-/ready`` by default) answers 200, i.e. the daemon serves; False while it
        cannot be reached or answers another status."""
        try:
            self.request("GET", path)
        except PrometheusError:
            return False
        return True

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
        try:
            return load_mapping(yaml_text, "the configuration %s/api/v1/status/config reports" % self.url)
        except ConfigError as exc:
            raise PrometheusError(str(exc)) from None

    def buildinfo(self) -> dict:
        return self.get_json("/api/v1/status/buildinfo")

    def runtimeinfo(self) -> dict:
        return self.get_json("/api/v1/status/runtimeinfo")

    def flags(self) -> dict:
        return self.get_json("/api/v1/status/flags")
