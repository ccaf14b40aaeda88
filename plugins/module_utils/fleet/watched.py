# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""What each datacenter watches, from inventory data alone: the watched machines of its group
(members of the watched group), their node_exporter, the exporters and services they declare, and
the scrape jobs and file_sd target files its servers read.

A job's target file holds one target group per machine; everything that may differ between
machines (address, metrics path, scheme, parameters, labels) is in the group, so adding or
removing a machine changes that file only, never prometheus.yml: the servers read it themselves
(file_sd), without a reload.
"""

from __future__ import annotations

import json
import re

from ansible_collections.promfleet.federation.plugins.module_utils.fleet.addresses import (
    WILDCARD_ADDRESSES,
    port_number,
    url_host,
)
from ansible_collections.promfleet.federation.plugins.module_utils.model.presets import go_quote_meta

DEFAULT_WATCHED_GROUP = "watched"
# These defaults are also the node_exporter role's (a unit test keeps them equal).
DEFAULT_NODE_EXPORTER_PORT = 9100
DEFAULT_NODE_EXPORTER_LISTEN_ADDRESS = "0.0.0.0"
NODE_JOB = "node"
# Jobs of the datacenter role itself: a watched exporter or service cannot take their names.
RESERVED_JOBS = ("prometheus",)
# Labels the collection sets on every watched target (or Prometheus owns): not the user's to set.
OWNED_LABELS = ("job", "instance", "datacenter", "replica", "service")
ENTRY_FIELDS = ("name", "port", "metrics_path", "scheme", "params", "labels")
SCHEMES = ("http", "https")

_IDENTIFIER = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_LABEL_NAME = _IDENTIFIER
_ARTICLED = {"exporter": "an exporter", "service": "a service"}


def machine_address(hostvars: dict) -> str:
    """The address a datacenter's servers reach a watched machine at: ``watched_address``, else
    its ``ansible_host`` (127.0.0.1 for a local connection), else its inventory name."""
    explicit = hostvars.get("watched_address")
    if explicit:
        return str(explicit)
    if hostvars.get("ansible_connection") == "local":
        return "127.0.0.1"
    return str(hostvars.get("ansible_host") or hostvars.get("inventory_hostname"))


def _labels(value, where: str, problems: list) -> dict:
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        problems.append("%s must be a mapping of label name to value, not %s" % (where, type(value).__name__))
        return {}
    labels = {}
    for name in sorted(value, key=str):
        text = str(name)
        if not _LABEL_NAME.fullmatch(text) or text.startswith("__"):
            problems.append("%s: label name %r is not valid; use letters, digits and '_', not starting with a "
                            "digit or '__'" % (where, text))
        elif text in OWNED_LABELS:
            problems.append("%s: label %r is set by the collection (%s are); choose another name"
                            % (where, text, ", ".join(OWNED_LABELS)))
        elif isinstance(value[name], (dict, list)) or value[name] is None:
            problems.append("%s: the value of %r must be a string, got %r" % (where, text, value[name]))
        else:
            labels[text] = str(value[name])
    return labels


def _params(value, where: str, problems: list) -> dict:
    """URL parameters as ``__param_<name>`` target labels (one value each, as Prometheus takes them)."""
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        problems.append("%s must be a mapping of parameter name to a value (or a list of one value), not %s"
                        % (where, type(value).__name__))
        return {}
    params = {}
    for name in sorted(value, key=str):
        raw = value[name]
        values = raw if isinstance(raw, list) else [raw]
        if not _LABEL_NAME.fullmatch(str(name)):
            problems.append("%s: parameter name %r must be letters, digits and '_' (it becomes the label "
                            "__param_%s)" % (where, str(name), name))
        elif len(values) != 1 or isinstance(values[0], (dict, list)) or values[0] is None:
            problems.append("%s.%s is %r; a watched target takes one value per parameter (a string, or a list of "
                            "one); declare another exporter for another value" % (where, name, raw))
        else:
            params[str(name)] = str(values[0])
    return params


def _entry(host: str, field: str, index: int, entry, problems: list) -> dict | None:
    """One exporter or service a machine declares, checked, or None (and problems)."""
    where = "host '%s': %s[%d]" % (host, field, index)
    if not isinstance(entry, dict):
        problems.append("%s must be a mapping with name and port (and metrics_path, scheme, params, labels), got %r"
                        % (where, entry))
        return None
    unknown = sorted(str(key) for key in entry if key not in ENTRY_FIELDS)
    if unknown:
        problems.append("%s: unknown field %s; the fields are %s"
                        % (where, ", ".join(unknown), ", ".join(ENTRY_FIELDS)))
    name = entry.get("name")
    if not isinstance(name, str) or not _IDENTIFIER.fullmatch(name):
        problems.append("%s.name is %r; it names the scrape job, so it must be an identifier: letters, digits "
                        "and '_', not starting with a digit (e.g. mysqld, checkout_api)" % (where, name))
        name = None
    elif name in RESERVED_JOBS or name == NODE_JOB:
        problems.append("%s.name %r is the job of %s; choose another name"
                        % (where, name, "the server itself" if name in RESERVED_JOBS else "node_exporter"))
        name = None
    if "port" not in entry:
        problems.append("%s.port is missing; it is the port the %s listens on"
                        % (where, "exporter" if field == "watched_exporters" else "service"))
        port = None
    else:
        port = port_number(entry.get("port"), "%s.port" % where, problems)
    path = entry.get("metrics_path", "/metrics")
    if not isinstance(path, str) or not path.startswith("/"):
        problems.append("%s.metrics_path is %r; it must be a path starting with '/', such as /metrics" % (where, path))
    scheme = entry.get("scheme", "http")
    if scheme not in SCHEMES:
        problems.append("%s.scheme is %r; use http or https" % (where, scheme))
    params = _params(entry.get("params"), "%s.params" % where, problems)
    labels = _labels(entry.get("labels"), "%s.labels" % where, problems)
    if name is None or port is None:
        return None
    return {"name": name, "port": port, "metrics_path": path, "scheme": scheme, "params": params, "labels": labels}


def _entries(host: str, hostvars: dict, field: str, problems: list) -> list:
    value = hostvars.get(field)
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        problems.append("host '%s': %s must be a list of {name, port, metrics_path, scheme, params, labels}, not %s"
                        % (host, field, type(value).__name__))
        return []
    entries = [e for e in (_entry(host, field, i, entry, problems) for i, entry in enumerate(value)) if e]
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries):
        if entry["name"] in seen:
            problems.append("host '%s': %s declares %r twice; one machine has one target per job"
                            % (host, field, entry["name"]))
        seen.setdefault(entry["name"], index)
    return entries


def _bool(host: str, hostvars: dict, field: str, default: bool, problems: list) -> bool:
    value = hostvars.get(field, default)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "yes", "false", "no"):
        return value.lower() in ("true", "yes")
    problems.append("host '%s': %s is %r; it must be true or false" % (host, field, value))
    return default


def watched_machine(host: str, hostvars: dict, datacenter: str, machine: str, problems: list) -> dict:
    """One watched machine of ``datacenter``: its address, node_exporter (None when disabled), and
    the exporters and services it declares."""
    address = machine_address(hostvars)
    node_exporter = None
    if _bool(host, hostvars, "node_exporter_enabled", True, problems):
        port = port_number(hostvars.get("node_exporter_port", DEFAULT_NODE_EXPORTER_PORT),
                           "host '%s': node_exporter_port" % host, problems)
        listen = str(hostvars.get("node_exporter_listen_address", DEFAULT_NODE_EXPORTER_LISTEN_ADDRESS))
        reach = address if listen in WILDCARD_ADDRESSES or hostvars.get("watched_address") else listen
        node_exporter = {"port": port, "listen_address": listen, "address": reach}
    return {
        "name": host,
        "datacenter": datacenter,
        "machine": machine,
        "address": address,
        "labels": _labels(hostvars.get("watched_labels"), "host '%s': watched_labels" % host, problems),
        "node_exporter": node_exporter,
        "exporters": _entries(host, hostvars, "watched_exporters", problems),
        "services": _entries(host, hostvars, "watched_services", problems),
    }


def ports_of(machine: dict) -> list[tuple[int, str]]:
    """(port, what) of everything the machine's entry says listens on it."""
    ports = []
    if machine["node_exporter"] and machine["node_exporter"]["port"]:
        ports.append((machine["node_exporter"]["port"], "node_exporter_port"))
    for field, kind in (("exporters", "watched_exporters"), ("services", "watched_services")):
        for entry in machine[field]:
            ports.append((entry["port"], "%s %s" % (kind, entry["name"])))
    return ports


def _group(machine: dict, address: str, port: int, entry: dict | None, service: str | None) -> dict:
    labels = {"instance": machine["name"], **machine["labels"]}
    if entry:
        labels.update(entry["labels"])
        if entry["metrics_path"] != "/metrics":
            labels["__metrics_path__"] = entry["metrics_path"]
        if entry["scheme"] != "http":
            labels["__scheme__"] = entry["scheme"]
        labels.update({"__param_" + name: value for name, value in entry["params"].items()})
    if service:
        labels["service"] = service
    return {"targets": ["%s:%d" % (url_host(address), port)], "labels": labels}


def datacenter_jobs(machines: list[dict], problems: list, datacenter: str) -> dict:
    """The jobs of a datacenter's watched machines: ``{job: {"kind", "groups"}}`` with one target
    group per machine (sorted by machine), ``kind`` node, exporter or service."""
    jobs: dict[str, dict] = {}
    owner: dict[str, tuple] = {}
    for machine in sorted(machines, key=lambda m: m["name"]):
        if machine["node_exporter"] and machine["node_exporter"]["port"]:
            node = machine["node_exporter"]
            jobs.setdefault(NODE_JOB, {"kind": "node", "groups": []})["groups"].append(
                _group(machine, node["address"], node["port"], None, None))
        for field, kind in (("exporters", "exporter"), ("services", "service")):
            for entry in machine[field]:
                name = entry["name"]
                first = owner.setdefault(name, (kind, machine["name"]))
                if first[0] != kind:
                    problems.append("datacenter %s: %r is %s on host '%s' and %s on host '%s'; a job is one or "
                                    "the other: rename one" % (datacenter, name, _ARTICLED[first[0]], first[1],
                                                               _ARTICLED[kind], machine["name"]))
                    continue
                jobs.setdefault(name, {"kind": kind, "groups": []})["groups"].append(
                    _group(machine, machine["address"], entry["port"], entry, name if kind == "service" else None))
    return dict(sorted(jobs.items()))


def target_file_path(targets_dir: str, job: str) -> str:
    return "%s/%s.json" % (targets_dir.rstrip("/"), job)


def render_target_file(groups: list) -> str:
    """A target file as written: stable JSON, so an unchanged datacenter rewrites nothing."""
    return json.dumps(groups, indent=2, sort_keys=True) + "\n"


def scrape_configs(jobs: dict, targets_dir: str | None, client: dict | None = None) -> list[dict]:
    """One scrape job per watched job: reading its target file (file_sd) when ``targets_dir`` is
    given (a server on a host), else with the targets inline (a server in a cluster, whose
    configuration is a ConfigMap). A service's job keeps its own targets by name, the way the
    seed's custom service does in a cluster. The node_exporters the collection runs are reached with
    ``client`` (the fleet's TLS and basic auth, web.py); other exporters with what their entry says."""
    configs = []
    for name, job in jobs.items():
        config: dict = {"job_name": name}
        if job["kind"] == "node":
            config.update(client or {})
        if targets_dir:
            config["file_sd_configs"] = [{"files": [target_file_path(targets_dir, name)]}]
        else:
            config["static_configs"] = job["groups"]
        if job["kind"] == "service":
            config["relabel_configs"] = [{"source_labels": ["service"], "action": "keep",
                                          "regex": go_quote_meta(name)}]
        configs.append(config)
    return configs


def target_files(jobs: dict, targets_dir: str) -> dict:
    """``{path: target groups}`` of every watched job of a datacenter server on a host."""
    return {target_file_path(targets_dir, name): job["groups"] for name, job in jobs.items()}
