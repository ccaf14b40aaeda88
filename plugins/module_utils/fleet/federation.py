# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""What the globals take from the datacenters: the ``match[]`` selectors, checked before any change,
and one federation scrape job per datacenter of the topology."""

from __future__ import annotations

import re

from ansible_collections.promfleet.federation.plugins.module_utils.errors import RegexError
from ansible_collections.promfleet.federation.plugins.module_utils.model import versions
from ansible_collections.promfleet.federation.plugins.module_utils.model.re2 import compile_go

# Selectors that match every series of a server: federating them copies whole datacenters.
_MATCHER = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*,?')
_MATCH_ALL_REGEX = (".*", ".+")


def _selector_matchers(selector: str) -> list[tuple] | None:
    """Label matchers of ``selector``, or None when it is not a plain selector we can read."""
    selector = selector.strip()
    match = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*(?:\{(.*)\})?$", selector, re.S)
    if not match or not selector:
        return None
    name, body = match.group(1), (match.group(2) or "").strip()
    matchers = [("__name__", "=", name)] if name else []
    pos = 0
    while pos < len(body):
        found = _MATCHER.match(body, pos)
        if not found:
            return None
        matchers.append(found.groups())
        pos = found.end()
    return matchers


def _matches_empty(op: str, value: str) -> bool:
    if op in ("=", "!="):
        return (value == "") == (op == "=")
    try:
        full = compile_go(value).fullmatch("") is not None
    except RegexError:
        return False
    return full == (op == "=~")


def _matches_anything(op: str, value: str) -> bool:
    return (op == "=~" and value in _MATCH_ALL_REGEX) or (op == "!=" and value == "")


def federation_match_findings(selectors: list) -> tuple[list[str], list[str]]:
    """Check ``match[]`` selectors for the global. Returns (errors, warnings)."""
    errors: list[str] = []
    warnings: list[str] = []
    if not isinstance(selectors, list) or not selectors:
        return ["global_federation_match must be a non-empty list of series selectors, "
                "e.g. ['{__name__=~\"job:.+\"}', 'up']"], warnings
    for index, selector in enumerate(selectors):
        where = "global_federation_match[%d] %r" % (index, selector)
        if not isinstance(selector, str) or not selector.strip():
            errors.append("%s: must be a series selector string such as 'up' or '{__name__=~\"job:.+\"}'" % where)
            continue
        matchers = _selector_matchers(selector)
        if matchers is None:
            errors.append("%s: is not a series selector; write metric{label=\"value\", ...}" % where)
        elif not matchers:
            errors.append("%s: an empty selector matches nothing at /federate (Prometheus answers an empty "
                          "body); name a metric or a label matcher" % where)
        elif all(_matches_empty(op, value) for _label, op, value in matchers):
            errors.append("%s: every matcher also matches the empty string, which Prometheus refuses; "
                          "add one that does not, e.g. a metric name or job=~\".+\"" % where)
        elif all(_matches_anything(op, value) for _label, op, value in matchers):
            warnings.append("%s matches every series: the global will copy whole datacenters, which does not "
                            "scale; federate recording-rule aggregates (e.g. '{__name__=~\"job:.+\"}') instead"
                            % where)
    return errors, warnings


def federation_scrape_configs(topology: dict, match: list, interval: str, timeout: str,
                              scheme: str = "http", release: str | None = None,
                              client: dict | None = None) -> list[dict]:
    """One federation scrape job per datacenter, for the global server running ``release``. The
    datacenters on hosts are reached with ``client`` (the fleet's TLS and basic auth, web.py) when given;
    those in a cluster through their ``federation_url``."""
    pinned = {}
    if topology.get("mixed_versions") and release and versions.version_at_least(release, "3.0"):
        # A 2.x global receives UTF-8 names escaped; a 3.x one pins the same escaping.
        pinned["metric_name_validation_scheme"] = "legacy"
        if versions.version_at_least(release, "3.4"):
            pinned["metric_name_escaping_scheme"] = topology["mixed_versions"]["escaping"]
    jobs = []
    for dc in topology["datacenters"]:
        first = dc["servers"][0] if dc["servers"] else {}
        in_cluster = first.get("deployment") == "kubernetes"
        jobs.append({
            "job_name": "federate-%s" % dc["name"],
            "honor_labels": True,
            "metrics_path": (first.get("path_prefix", "") if in_cluster else "") + "/federate",
            "scheme": first["scheme"] if in_cluster else scheme,
            "scrape_interval": interval,
            "scrape_timeout": timeout,
            "params": {"match[]": list(match)},
            "static_configs": [{
                "targets": [s["target"] for s in dc["servers"]],
                "labels": {"datacenter": dc["name"]},
            }],
            **pinned,
            **({} if in_cluster or not client else client),
        })
    return jobs
