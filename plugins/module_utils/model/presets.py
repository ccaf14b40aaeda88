# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""Scrape config presets for what people scrape most, as plain dicts for Prometheus 2.42.

Every preset is a function that returns a complete scrape config (``job_name`` included) that
``promconfig.normalize_scrape_config`` accepts and ``promtool check config`` passes
(tests/integration/test_scrape_config_promtool.py). ``preset(name, **options)`` builds one by
name; ``merge_preset`` lays the options a user gave over it.

The Kubernetes presets follow Prometheus' own ``documentation/examples/prometheus-kubernetes.yml``:
they run inside the cluster, authenticated with the service account's token and CA files.
"""

from __future__ import annotations

import inspect

from ansible_collections.promfleet.federation.plugins.module_utils.errors import PresetError
from ansible_collections.promfleet.federation.plugins.module_utils.model.versions import version_at_least

SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
IN_CLUSTER_TLS = {"ca_file": SERVICE_ACCOUNT_DIR + "/ca.crt"}
IN_CLUSTER_AUTHORIZATION = {"credentials_file": SERVICE_ACCOUNT_DIR + "/token"}

# Rule lists that are appended to a preset's rules instead of replacing them (see merge_preset).
APPENDED_OPTIONS = ("relabel_configs", "metric_relabel_configs")

# Characters Go's regexp.QuoteMeta escapes.
_REGEX_SPECIALS = frozenset("\\.+*?()|[]{}^$")


def go_quote_meta(text: str) -> str:
    """Go's ``regexp.QuoteMeta``: a regex that matches ``text`` literally."""
    return "".join("\\" + c if c in _REGEX_SPECIALS else c for c in text)


def _annotation_rules(kind: str) -> list:
    """Opt-in by the ``prometheus.io/*`` annotations of a ``kind`` (``service`` or ``pod``):
    scrape=true keeps the target, scheme/path/port override the defaults."""
    prefix = "__meta_kubernetes_%s_annotation_prometheus_io_" % kind
    return [
        {"source_labels": [prefix + "scrape"], "action": "keep", "regex": "true"},
        {"source_labels": [prefix + "scheme"], "action": "replace", "target_label": "__scheme__", "regex": "(https?)"},
        {"source_labels": [prefix + "path"], "action": "replace", "target_label": "__metrics_path__", "regex": "(.+)"},
        {
            "source_labels": ["__address__", prefix + "port"],
            "action": "replace",
            "target_label": "__address__",
            "regex": "(.+?)(?::\\d+)?;(\\d+)",
            "replacement": "$1:$2",
        },
        {"action": "labelmap", "regex": "__meta_kubernetes_%s_label_(.+)" % kind},
        {"source_labels": ["__meta_kubernetes_namespace"], "action": "replace", "target_label": "namespace"},
    ]


def node(job_name: str = "node", targets: list | None = None) -> dict:
    """Node exporters at static addresses (default ``localhost:9100``)."""
    return {"job_name": job_name, "static_configs": [{"targets": list(targets or ["localhost:9100"])}]}


def kubernetes_apiservers(job_name: str = "kubernetes-apiservers") -> dict:
    """The API servers: the ``https`` port of the ``default/kubernetes`` service's endpoints."""
    return {
        "job_name": job_name,
        "scheme": "https",
        "tls_config": dict(IN_CLUSTER_TLS),
        "authorization": dict(IN_CLUSTER_AUTHORIZATION),
        "kubernetes_sd_configs": [{"role": "endpoints"}],
        "relabel_configs": [
            {
                "source_labels": [
                    "__meta_kubernetes_namespace",
                    "__meta_kubernetes_service_name",
                    "__meta_kubernetes_endpoint_port_name",
                ],
                "action": "keep",
                "regex": "default;kubernetes;https",
            }
        ],
    }


def _kubelet(job_name: str, metrics_path: str | None) -> dict:
    config = {
        "job_name": job_name,
        "scheme": "https",
        "tls_config": dict(IN_CLUSTER_TLS),
        "authorization": dict(IN_CLUSTER_AUTHORIZATION),
        "kubernetes_sd_configs": [{"role": "node"}],
        "relabel_configs": [{"action": "labelmap", "regex": "__meta_kubernetes_node_label_(.+)"}],
    }
    if metrics_path is not None:
        config["metrics_path"] = metrics_path
    return config


def kubernetes_nodes(job_name: str = "kubernetes-nodes") -> dict:
    """The kubelets of every node (role ``node``), with the node's labels as target labels."""
    return _kubelet(job_name, None)


def kubernetes_cadvisor(job_name: str = "kubernetes-cadvisor") -> dict:
    """cAdvisor's container metrics, served by every kubelet at ``/metrics/cadvisor``."""
    return _kubelet(job_name, "/metrics/cadvisor")


def kubernetes_service_endpoints(job_name: str = "kubernetes-service-endpoints") -> dict:
    """Endpoints of the services annotated ``prometheus.io/scrape: "true"``; the annotations
    ``prometheus.io/scheme``, ``prometheus.io/path`` and ``prometheus.io/port`` override the
    scheme, the metrics path and the port."""
    rules = _annotation_rules("service")
    rules += [
        {"source_labels": ["__meta_kubernetes_service_name"], "action": "replace", "target_label": "service"},
        {"source_labels": ["__meta_kubernetes_pod_node_name"], "action": "replace", "target_label": "node"},
    ]
    return {"job_name": job_name, "kubernetes_sd_configs": [{"role": "endpoints"}], "relabel_configs": rules}


def kubernetes_pods(job_name: str = "kubernetes-pods") -> dict:
    """Pods annotated ``prometheus.io/scrape: "true"`` (scheme, path and port from the
    annotations as for services); pods that finished or have not started are left out."""
    rules = _annotation_rules("pod")
    rules += [
        {"source_labels": ["__meta_kubernetes_pod_name"], "action": "replace", "target_label": "pod"},
        {"source_labels": ["__meta_kubernetes_pod_phase"], "action": "drop", "regex": "Pending|Succeeded|Failed"},
    ]
    return {"job_name": job_name, "kubernetes_sd_configs": [{"role": "pod"}], "relabel_configs": rules}


def kubernetes_service(
    name: str,
    namespace: str | None = None,
    metrics_path: str = "/metrics",
    port: int | str | None = None,
    job_name: str | None = None,
) -> dict:
    """One custom service, scraped pod by pod: ``kubernetes_sd_configs`` role ``endpoints`` (one
    target per ready pod and port behind the service, at the pod's address), kept by the service's
    name (and namespace), scraped at ``metrics_path``. Each pod is its own target, as a service's
    load balancing would mix the pods' series into one. ``port`` keeps one port of the pods: a
    number (the pod's port, which may differ from the service's), or the port's name.
    ``job_name`` defaults to ``name``. Needs no cluster DNS."""
    if not isinstance(name, str) or not name:
        raise PresetError("preset kubernetes_service needs name, the name of the service, got %r" % (name,))
    sd_config: dict = {"role": "endpoints"}
    sources = ["__meta_kubernetes_service_name"]
    regex = go_quote_meta(name)  # Prometheus anchors it: the name and nothing else
    if namespace:
        sd_config["namespaces"] = {"names": [namespace]}
        sources.insert(0, "__meta_kubernetes_namespace")
        regex = go_quote_meta(namespace) + ";" + regex
    rules = [{"source_labels": sources, "action": "keep", "regex": regex}]
    if isinstance(port, int) and not isinstance(port, bool):
        rules.append({"source_labels": ["__address__"], "action": "keep", "regex": ".+:%d" % port})
    elif port is not None and port != "":
        rules.append({"source_labels": ["__meta_kubernetes_endpoint_port_name"], "action": "keep",
                      "regex": go_quote_meta(str(port))})
    rules += [
        {"source_labels": ["__meta_kubernetes_namespace"], "action": "replace", "target_label": "namespace"},
        {"source_labels": ["__meta_kubernetes_service_name"], "action": "replace", "target_label": "service"},
        {"source_labels": ["__meta_kubernetes_pod_name"], "action": "replace", "target_label": "pod"},
    ]
    return {
        "job_name": job_name or name,
        "metrics_path": metrics_path,
        "kubernetes_sd_configs": [sd_config],
        "relabel_configs": rules,
    }


PRESETS = {
    "node": node,
    "kubernetes_apiservers": kubernetes_apiservers,
    "kubernetes_nodes": kubernetes_nodes,
    "kubernetes_cadvisor": kubernetes_cadvisor,
    "kubernetes_service_endpoints": kubernetes_service_endpoints,
    "kubernetes_pods": kubernetes_pods,
    "kubernetes_service": kubernetes_service,
}


# Presets whose targets are anyone's applications: from 3.0 a target that answers without a
# Content-Type (or with text/html) is down unless the job names a fallback protocol.
ANY_APPLICATION = ("kubernetes_service_endpoints", "kubernetes_pods", "kubernetes_service")
FALLBACK_SCRAPE_PROTOCOL = "PrometheusText0.0.4"


def for_version(config: dict, preset_name: str | None, version: str) -> dict:
    """The preset's config as release line ``version`` needs it: from 3.0 the presets that scrape
    anyone's applications set ``fallback_scrape_protocol`` (unless the config sets it)."""
    if preset_name in ANY_APPLICATION and version_at_least(version, "3.0") and "fallback_scrape_protocol" not in config:
        return dict(config, fallback_scrape_protocol=FALLBACK_SCRAPE_PROTOCOL)
    return config


def preset(preset_name: str, **options) -> dict:
    """The scrape config of preset ``preset_name`` built with ``options`` (the preset function's
    keyword arguments, e.g. ``preset("kubernetes_service", name="api", port=8080)``)."""
    builder = PRESETS.get(preset_name)
    if builder is None:
        raise PresetError("unknown preset %r; the presets are %s" % (preset_name, ", ".join(PRESETS)))
    signature = inspect.signature(builder)
    try:
        signature.bind(**options)
    except TypeError as exc:
        taken = ", ".join(signature.parameters) or "no options"
        raise PresetError("preset %s: %s; it takes %s" % (preset_name, exc, taken)) from None
    return builder(**options)


def merge_preset(base: dict, options: dict) -> dict:
    """``options`` laid over the preset config ``base``: each option given (not None) replaces the
    preset's value, except ``relabel_configs`` and ``metric_relabel_configs``, which are appended
    to the preset's rules (the preset's run first)."""
    merged = dict(base)
    for key, value in options.items():
        if value is None:
            continue
        if key in APPENDED_OPTIONS:
            merged[key] = list(base.get(key) or []) + list(value)
        else:
            merged[key] = value
    return merged
