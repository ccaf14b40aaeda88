# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""The target pipeline of a scrape job, as pure functions: the labels a discovered target has before
relabeling, and after Prometheus' relabeling and target checks (``target_labels``), as
``promtool check service-discovery`` prints them; and the simulation of a whole job's targets.

Before 3.0, an address without a port gets ``:80``/``:443`` from the scheme (and an unknown
scheme fails the target); 3.x keeps the address as it is.

Checked differentially against ``promtool check service-discovery`` of Debian's Prometheus 2.42.0,
2.53.3 and 3.5.3 (tests/integration/test_relabel_promtool.py, test_scrape_config_promtool.py).
"""

from __future__ import annotations

from ansible_collections.promfleet.federation.plugins.module_utils.errors import TargetError
from ansible_collections.promfleet.federation.plugins.module_utils.model.durations import (
    format_duration,
    parse_duration,
)
from ansible_collections.promfleet.federation.plugins.module_utils.model.relabel import (
    parse_rules,
    relabel,
    relabel_parsed,
    set_label,
)
from ansible_collections.promfleet.federation.plugins.module_utils.model.versions import (
    DEFAULT_SCHEMA_VERSION,
    semantics,
)

# Global defaults of Prometheus for the target pipeline (the same in 2.42 to 3.x).
DEFAULT_SCRAPE_INTERVAL = "1m"
DEFAULT_SCRAPE_TIMEOUT = "10s"
DEFAULT_METRICS_PATH = "/metrics"
DEFAULT_SCHEME = "http"


def _split_host_port(address: str) -> tuple[str, str] | None:
    """Go's ``net.SplitHostPort``: (host, port), or None where Go returns an error."""
    colon = address.rfind(":")
    if colon < 0:
        return None
    start, end_bracket = 0, 0
    if address.startswith("["):
        end = address.find("]")
        if end < 0 or end + 1 != colon:
            return None
        host = address[1:end]
        start, end_bracket = 1, end + 1
    else:
        host = address[:colon]
        if ":" in host:
            return None
    if "[" in address[start:] or "]" in address[end_bracket:]:
        return None
    return host, address[colon + 1 :]


def _job_setting(job: dict, global_config: dict, name: str, default: str) -> str:
    value = job.get(name)
    if value is None:
        value = global_config.get(name, default)
    return str(value)


def _job_labels(job: dict, global_config: dict | None) -> tuple:
    """What ``labels_before_relabeling`` adds to every target of ``job``: the job's ``job``,
    ``__scrape_interval__``, ``__scrape_timeout__``, ``__metrics_path__``, ``__scheme__`` (set where
    the target has no value), then the ``__param_*`` of its ``params`` (always set)."""
    global_config = global_config or {}
    interval_ms = parse_duration(_job_setting(job, global_config, "scrape_interval", DEFAULT_SCRAPE_INTERVAL))
    if job.get("scrape_timeout") is not None:
        timeout_ms = parse_duration(str(job["scrape_timeout"]))
    else:
        timeout_ms = min(
            parse_duration(str(global_config.get("scrape_timeout", DEFAULT_SCRAPE_TIMEOUT))), interval_ms
        )
    defaults = (
        ("job", str(job["job_name"])),
        ("__scrape_interval__", format_duration(interval_ms)),
        ("__scrape_timeout__", format_duration(timeout_ms)),
        ("__metrics_path__", str(job.get("metrics_path") or DEFAULT_METRICS_PATH)),
        ("__scheme__", str(job.get("scheme") or DEFAULT_SCHEME)),
    )
    # Scrape parameters override discovered __param_* labels.
    params = tuple(("__param_" + name, values[0]) for name, values in (job.get("params") or {}).items() if values)
    return defaults, params


def _with_job_labels(discovered: dict, job_labels: tuple) -> dict:
    """``labels_before_relabeling`` with the job's part worked out by ``_job_labels``."""
    if isinstance(discovered, dict) and "" not in discovered.values():
        labels = dict(discovered)
    else:
        labels = {name: value for name, value in discovered.items() if value != ""}
    defaults, params = job_labels
    for name, value in defaults:
        if not labels.get(name):
            set_label(labels, name, value)
    for name, value in params:
        set_label(labels, name, value)
    return labels


def labels_before_relabeling(discovered: dict, job: dict, global_config: dict | None = None) -> dict:
    """A target's labels as relabeling gets them (promtool's ``discoveredLabels``): the discovered
    ones (empty values dropped) plus the job's ``job``, ``__scrape_interval__``,
    ``__scrape_timeout__``, ``__metrics_path__``, ``__scheme__`` where absent, and ``__param_*``."""
    return _with_job_labels(discovered, _job_labels(job, global_config))


# Durations of __scrape_interval__/__scrape_timeout__ values already parsed (a job has few).
_DURATIONS: dict = {}


def _target_duration(text) -> int:
    """``parse_duration(text)``, remembered for text that parses."""
    if text.__class__ is str:
        milliseconds = _DURATIONS.get(text)
        if milliseconds is None:
            milliseconds = parse_duration(text)
            if len(_DURATIONS) >= 1024:
                _DURATIONS.clear()
            _DURATIONS[text] = milliseconds
        return milliseconds
    return parse_duration(text)


def target_labels(
    discovered: dict, job: dict, global_config: dict | None = None, version: str = DEFAULT_SCHEMA_VERSION, rules=None
) -> dict | None:
    """The labels of one discovered target after the target pipeline of Prometheus ``version``, as
    ``promtool check service-discovery`` prints them; None if relabeling drops the target.

    ``job`` is a scrape config (``job_name``, ``scrape_interval``, ``scrape_timeout``,
    ``metrics_path``, ``scheme``, ``params``, ``relabel_configs``); ``global_config`` gives the
    global ``scrape_interval``/``scrape_timeout``; ``rules``, the job's parsed relabel rules when
    the caller has them. Raises ``RelabelError`` for invalid rules and ``TargetError`` where
    Prometheus refuses the target (no address, bad scheme, ...).
    """
    if rules is None:
        job_name = str(job["job_name"])
        rules = parse_rules(job.get("relabel_configs") or [], 'job "%s", relabel_configs' % job_name, version)
    return _relabeled(labels_before_relabeling(discovered, job, global_config), rules, version)


def _relabeled(labels: dict, rules: list, version: str, parsed: bool = False) -> dict | None:
    """``target_labels`` from the labels before relabeling (not changed); ``parsed``: the rules are
    all ``RelabelRule`` objects."""
    result = relabel_parsed(labels, rules) if parsed else relabel(labels, rules, version, built=True)
    if result is None:
        return None
    address = result.get("__address__", "")
    if not address:
        raise TargetError("no address")
    scheme = result.get("__scheme__", "")
    if (
        semantics(version).default_port
        and _split_host_port(address) is None
        and _split_host_port(address + ":1234") is not None
    ):
        if scheme in ("http", ""):
            address += ":80"
        elif scheme == "https":
            address += ":443"
        else:
            raise TargetError("invalid scheme: %r" % scheme)
        result["__address__"] = address
    if "/" in address:
        raise TargetError("%r is not a valid hostname" % address)
    checked = {}
    for name in ("__scrape_interval__", "__scrape_timeout__"):
        what = "interval" if name == "__scrape_interval__" else "timeout"
        try:
            checked[name] = _target_duration(result.get(name, ""))
        except ValueError as exc:
            raise TargetError("error parsing scrape %s: %s" % (what, exc)) from None
        if checked[name] == 0:
            raise TargetError("scrape %s cannot be 0" % what)
    if checked["__scrape_timeout__"] > checked["__scrape_interval__"]:
        raise TargetError("scrape timeout cannot be greater than scrape interval")
    for name in [n for n in result if n.startswith("__meta_")]:
        del result[name]
    if not result.get("instance"):
        result["instance"] = address
    return result


def static_targets(config: dict) -> list:
    """The label sets of the job's static targets, as Prometheus' static discovery produces them
    (the group's labels, the target's ``__address__`` winning)."""
    found = []
    for group in config.get("static_configs") or []:
        group_labels = group.get("labels") or {}
        for address in group.get("targets") or []:
            # The target's own labels first, then the group's (Prometheus' targetsFromGroup).
            labels = {"__address__": address}
            if isinstance(group_labels, dict) and "__address__" not in group_labels:
                labels.update(group_labels)
            else:
                labels.update((name, value) for name, value in group_labels.items() if name != "__address__")
            found.append(labels)
    return found


def simulate_targets(
    config: dict, discovered_targets: list, global_config: dict | None = None, version: str = DEFAULT_SCHEMA_VERSION
) -> list:
    """The job's static targets, then ``discovered_targets``, through the target pipeline of
    Prometheus ``version``, as ``promtool check service-discovery`` prints them (``{}`` labels when
    dropped; empty labels and an ``error`` when Prometheus refuses the target)."""
    rules = parse_rules(config.get("relabel_configs") or [], 'job "%s", relabel_configs' % config["job_name"], version)
    job_labels = None  # worked out at the first target, where target_labels would
    out = []
    for discovered in static_targets(config) + list(discovered_targets):
        if job_labels is None:
            job_labels = _job_labels(config, global_config)
        before = _with_job_labels(discovered, job_labels)
        try:
            labels = _relabeled(before, rules, version, parsed=True)
        except TargetError as exc:
            out.append({"discovered_labels": {}, "labels": {}, "error": str(exc)})
            continue
        out.append(
            {
                "discovered_labels": dict(sorted(before.items())),
                "labels": {} if labels is None else dict(sorted(labels.items())),
            }
        )
    return out
