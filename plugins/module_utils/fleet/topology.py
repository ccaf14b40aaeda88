# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""The federation topology, computed from inventory data alone.

Pure functions: the caller passes which hosts sit in which datacenter group and each host's
inventory variables; nothing here reads facts, so the result is the same under ``--limit``.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from ansible_collections.promfleet.federation.plugins.module_utils.errors import ConfigError, TopologyError
from ansible_collections.promfleet.federation.plugins.module_utils.fleet import alerting
from ansible_collections.promfleet.federation.plugins.module_utils.fleet import watched as watching
from ansible_collections.promfleet.federation.plugins.module_utils.fleet import web as web_security
from ansible_collections.promfleet.federation.plugins.module_utils.fleet.addresses import (
    WILDCARD_ADDRESSES,
    port_number,
    url_host,
)
from ansible_collections.promfleet.federation.plugins.module_utils.kube.manifests import DEFAULTS as KUBERNETES_DEFAULTS
from ansible_collections.promfleet.federation.plugins.module_utils.model import versions
from ansible_collections.promfleet.federation.plugins.module_utils.model.durations import parse_duration

# These defaults are also the defaults of the `prometheus` role (a unit test keeps them equal).
DEFAULT_LISTEN_ADDRESS = "0.0.0.0"
DEFAULT_PORT = 9090
DEFAULT_DATACENTERS_GROUP = "datacenters"
DEFAULT_GLOBAL_GROUP = "prometheus_global"
# The default of the global role's global_federation_interval.
DEFAULT_FEDERATION_INTERVAL = "30s"
# A global has fresh data of a datacenter when its newest sample is younger than this many
# federation intervals (one is the normal age, a second allows one slow or missed scrape); a check
# waits up to WAIT_INTERVALS of them, plus start-up, for every datacenter to get there.
FRESHNESS_INTERVALS = 2
WAIT_INTERVALS = 3
WAIT_START_SECONDS = 10
# The default of the datacenter role's datacenter_scrape_interval.
DEFAULT_DATACENTER_SCRAPE_INTERVAL = "15s"
# How long a check waits for a datacenter server to answer and scrape every target once: a new
# target appears at the next discovery update (every 5 s) and is scraped within one interval.
DISCOVERY_UPDATE_SECONDS = 5
DATACENTER_WAIT_SECONDS = 5

_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_INSTANCE_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


HOST = "host"
KUBERNETES = "kubernetes"


def deployment_of(hostvars: dict) -> str:
    """Where the server with these inventory variables runs: in a Kubernetes cluster when it has
    ``prometheus_kubernetes``, else on its host. The only place this is decided: the topology, the
    roles and the teardown all ask here."""
    return KUBERNETES if "prometheus_kubernetes" in hostvars else HOST


def instance_name(inventory_hostname: str) -> str:
    """Service and directory name of the Prometheus that ``inventory_hostname`` stands for."""
    return "promfleet-" + _INSTANCE_UNSAFE.sub("_", inventory_hostname)


def kubernetes_name(inventory_hostname: str) -> str:
    """Default name of a server's Kubernetes objects: its instance name as a DNS label (lower case,
    letters, digits and '-') short enough for a StatefulSet's pod labels (52 characters)."""
    name = re.sub(r"[^a-z0-9-]+", "-", instance_name(inventory_hostname).lower())[:52]
    return name.strip("-")


def machine_key(hostvars: dict) -> str:
    """Identify the machine a host runs on, so host-level steps run once per machine."""
    if hostvars.get("ansible_connection") == "local":
        return "local"
    return str(hostvars.get("ansible_host") or hostvars.get("inventory_hostname"))


def hosts_on_machine(vars_by_host: dict[str, dict], hosts: list[str], host: str) -> list[str]:
    """The hosts among ``hosts`` (order kept) that run on the same machine as ``host``."""
    mine = machine_key(vars_by_host[host])
    return [h for h in hosts if machine_key(vars_by_host[h]) == mine]


def reach_host(hostvars: dict, listen_address: str) -> str:
    """Host name or address other servers use to reach this one."""
    explicit = hostvars.get("prometheus_federation_host")
    if explicit:
        return str(explicit)
    if listen_address not in WILDCARD_ADDRESSES:
        return listen_address
    if hostvars.get("ansible_connection") == "local":
        return "127.0.0.1"
    return str(hostvars.get("ansible_host") or hostvars.get("inventory_hostname"))


def _port(host: str, hostvars: dict, problems: list[str]) -> int | None:
    """The port of ``host``, or None (and a problem) when it is not a TCP port number."""
    return port_number(hostvars.get("prometheus_port", DEFAULT_PORT), "host '%s': prometheus_port" % host, problems)


def _external_labels(host: str, hostvars: dict, own: dict, problems: list[str]) -> dict:
    extra = hostvars.get("prometheus_external_labels") or {}
    if not isinstance(extra, dict):
        problems.append(
            "host '%s': prometheus_external_labels must be a mapping of label name to value, not %s"
            % (host, type(extra).__name__)
        )
        extra = {}
    labels = {str(k): str(v) for k, v in extra.items()}
    for name in sorted(labels):
        if not _LABEL_NAME.fullmatch(name) or name.startswith("__"):
            problems.append(
                "host '%s': external label name %r is not valid; use letters, digits and '_', "
                "not starting with a digit or '__'" % (host, name)
            )
    for name, value in own.items():
        if name in labels and labels[name] != value:
            problems.append(
                "host '%s': prometheus_external_labels sets %r, which the topology owns (%r); "
                "set it through the inventory instead" % (host, name, value)
            )
        labels[name] = value
    return labels


KUBERNETES_DEFAULT_PORT = KUBERNETES_DEFAULTS["port"]


def _federation_url(host: str, kubernetes: object, problems: list[str]) -> tuple:
    """(scheme, host:port, path prefix) of a Kubernetes server's ``federation_url``, the address
    (NodePort, LoadBalancer or Ingress) other servers reach it by; None and a problem when unusable."""
    if not isinstance(kubernetes, dict):
        problems.append("host '%s': prometheus_kubernetes must be a mapping (kubeconfig, context, namespace, "
                        "federation_url, ...), got %s" % (host, type(kubernetes).__name__))
        return None
    raw = kubernetes.get("federation_url")
    parts = urlsplit(str(raw)) if raw else None
    try:
        port = parts.port if parts else None
        port_ok = True
    except ValueError:  # not a number, or out of range
        port, port_ok = None, False
    if (not parts or parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment
            or not port_ok):
        problems.append(
            "host '%s': prometheus_kubernetes.federation_url %r must be the http(s) URL other servers reach this "
            "Prometheus by, such as http://10.0.0.5:30090 (a NodePort) or https://prometheus.eu.example.com "
            "(an Ingress)" % (host, raw))
        return None
    port = port or (443 if parts.scheme == "https" else 80)
    return parts.scheme, "%s:%d" % (url_host(parts.hostname), port), parts.path.rstrip("/")


def _server(host: str, hostvars: dict, role: str, group: str, datacenter: str | None,
            problems: list[str], scheme: str = "http") -> dict:
    listen = str(hostvars.get("prometheus_listen_address", DEFAULT_LISTEN_ADDRESS))
    port = _port(host, hostvars, problems)
    replica = str(hostvars.get("prometheus_replica") or host)
    own = {"datacenter": datacenter, "replica": replica} if datacenter else {"replica": replica}
    target = "%s:%s" % (url_host(reach_host(hostvars, listen)), port)
    server = {
        "name": host,
        "instance": instance_name(host),
        "role": role,
        "group": group,
        "datacenter": datacenter,
        "deployment": HOST,
        "listen_address": listen,
        "port": port,
        "scheme": scheme,
        "path_prefix": "",
        "target": target,
        # what the server's own `prometheus` job scrapes
        "self_target": target,
        "url": "%s://%s" % (scheme, target),
        "machine": machine_key(hostvars),
        # where its web files are (the prometheus role's default), for tasks that ask it from its machine
        "config_dir": str(hostvars.get("prometheus_config_dir") or "/etc/promfleet/%s" % instance_name(host)),
        "external_labels": _external_labels(host, hostvars, own, problems),
        "verify": _verify_limits(host, hostvars, role, problems),
        "release": _release(host, hostvars, problems),
    }
    if deployment_of(hostvars) == KUBERNETES:
        reached = _federation_url(host, hostvars["prometheus_kubernetes"], problems)
        if reached:
            scheme, target, prefix = reached
            kubernetes = hostvars["prometheus_kubernetes"]
            server.update(
                # the name the kubernetes role gives the server's objects
                deployment=KUBERNETES, kubernetes_name=str(kubernetes.get("name") or kubernetes_name(host)),
                scheme=scheme, path_prefix=prefix, target=target,
                # in its pod the server scrapes itself on its own port, not through the federation address
                self_target="localhost:%s" % (kubernetes.get("port") or KUBERNETES_DEFAULT_PORT),
                url="%s://%s%s" % (scheme, target, prefix),
                # a cluster namespace, not a machine: no machine-wide steps, no port clash on a host
                machine="kubernetes:%s/%s/%s" % (kubernetes.get("kubeconfig") or "in-cluster",
                                                 kubernetes.get("context") or "", kubernetes.get("namespace") or ""),
                port=None,
            )
    return server


def _release(host: str, hostvars: dict, problems: list[str]) -> str:
    """The Prometheus release the host runs (``prometheus_version``, the roles' default when unset),
    which must be one the engine models."""
    release = str(hostvars.get("prometheus_version") or versions.LTS_RELEASE)
    try:
        versions.release_tuple(release)
        versions.check_version(release)
    except ConfigError as exc:
        problems.append("host '%s': prometheus_version %s: %s" % (host, release, exc))
    return release


def mixed_versions(servers: list[dict]) -> dict | None:
    """When 2.x and 3.x servers federate together, how the 3.x globals pin metric name escaping so
    that a UTF-8 name from a 3.x datacenter arrives under one name at every global (a 2.x global
    can only receive it escaped); None when every server runs the same major version."""
    majors = {s["name"]: versions.release_tuple(s["release"])[0] for s in servers if _known(s["release"])}
    if len(set(majors.values())) < 2:
        return None
    old = sorted(name for name, major in majors.items() if major < 3)
    return {
        "escaping": "underscores",
        "note": "the fleet mixes Prometheus 2.x (%s) and 3.x servers: the 3.x globals federate with "
                "metric_name_validation_scheme legacy and metric_name_escaping_scheme underscores, so a UTF-8 "
                "name from a 3.x datacenter arrives escaped (app.requests as app_requests) at every global, as a "
                "2.x global can only receive it; lifted once every server runs 3.x" % ", ".join(old),
    }


def _known(release: str) -> bool:
    try:
        versions.check_version(release)
        return True
    except ConfigError:
        return False


def _verify_limits(host: str, hostvars: dict, role: str, problems: list[str]) -> dict:
    """How a check of this server judges and waits: a global's data of a datacenter must be younger
    than FRESHNESS_INTERVALS federation intervals (``max_age``, seconds; 0 for a datacenter server,
    which federates nothing), and the check waits up to ``wait`` seconds for it."""
    if role != "global":
        try:
            scrape = parse_duration(str(hostvars.get("datacenter_scrape_interval",
                                                     DEFAULT_DATACENTER_SCRAPE_INTERVAL))) / 1000.0
        except ValueError:
            scrape = 0.0  # the engine refuses it in the server's plan, naming the job
        return {"max_age": 0.0, "wait": int(DATACENTER_WAIT_SECONDS + DISCOVERY_UPDATE_SECONDS + scrape)}
    raw = hostvars.get("global_federation_interval", DEFAULT_FEDERATION_INTERVAL)
    try:
        interval = parse_duration(str(raw)) / 1000.0
    except ValueError:
        interval = 0.0
    if interval <= 0:
        problems.append("host '%s': global_federation_interval is %r; it must be a Prometheus duration such as 30s"
                        % (host, raw))
        return {"max_age": 0.0, "wait": 0}
    return {"max_age": FRESHNESS_INTERVALS * interval,
            "wait": int(WAIT_INTERVALS * interval + WAIT_START_SECONDS)}


def _vars_of(hostvars: dict[str, dict], host: str) -> dict:
    return {"inventory_hostname": host, **hostvars.get(host, {})}


def build_topology(
    datacenter_groups: dict[str, list[str]],
    global_hosts: list[str],
    hostvars: dict[str, dict],
    datacenters_group: str = DEFAULT_DATACENTERS_GROUP,
    global_group: str = DEFAULT_GLOBAL_GROUP,
    loose_hosts: tuple = (),
    watched_group: str = watching.DEFAULT_WATCHED_GROUP,
    watched_hosts: tuple = (),
    alertmanagers_group: str = alerting.DEFAULT_ALERTMANAGERS_GROUP,
    alertmanager_hosts: tuple = (),
) -> dict:
    """Turn inventory groups and variables into the federation topology.

    ``datacenter_groups`` maps each child group of ``datacenters_group`` to its hosts (including
    hosts of nested groups); ``hostvars`` maps every host to its inventory variables;
    ``loose_hosts`` are hosts placed directly in ``datacenters_group`` (an error);
    ``watched_hosts`` are the members of ``watched_group``: in a datacenter's group they are the
    machines it watches, every other host of the group is one of its Prometheus servers;
    ``alertmanager_hosts`` are the members of ``alertmanagers_group``: Alertmanager instances, of
    their datacenter's cluster when in a datacenter's group, else of the global cluster
    (``alerting.py``). Raises TopologyError listing every problem found; otherwise returns plain data::

        {"datacenters_group": ..., "global_group": ..., "watched_group": ..., "alertmanagers_group": ...,
         "datacenters": [{"name", "group", "servers": [server, ...],          # sorted by name
                          "watched": [machine, ...], "jobs": {job: {"kind", "groups"}}}, ...],
         "globals": [server, ...],
         "servers": {inventory_hostname: server},          # each with its "alerting" section
         "watched": {inventory_hostname: machine},
         "alertmanagers": {inventory_hostname: instance},
         "clusters": {cluster: {"members", "targets", "peers"}},
         "web": {"tls", "auth", "user"}}                   # fleet-wide (web.py)
    """
    problems: list[str] = []
    fleet_hosts = set(global_hosts) | set(watched_hosts) | set(alertmanager_hosts)
    fleet_hosts |= {h for hosts in datacenter_groups.values() for h in hosts}
    web = web_security.fleet_settings({h: hostvars.get(h, {}) for h in fleet_hosts}, problems)
    scheme = web_security.scheme(web)
    watched_set = set(watched_hosts)
    alertmanager_set = set(alertmanager_hosts)
    dc_of_host: dict[str, str] = {}
    group_of_datacenter: dict[str, str] = {}
    datacenters = []

    for host in loose_hosts:
        problems.append(
            "host '%s' is directly in '%s'; put it in a child group that stands for its datacenter"
            % (host, datacenters_group)
        )
    groups_of_host: dict[str, list[str]] = {}
    for group in sorted(datacenter_groups):
        for host in datacenter_groups[group]:
            groups_of_host.setdefault(host, []).append(group)
    shared = {h: g for h, g in groups_of_host.items() if len(g) > 1}
    for host in sorted(shared):
        problems.append(
            "host '%s' is in several datacenter groups (%s); a %s belongs to one datacenter"
            % (host, ", ".join("'%s'" % g for g in shared[host]),
               "watched machine" if host in watched_set else
               "datacenter's Alertmanager" if host in alertmanager_set else "server")
        )
    for host in sorted(watched_set & alertmanager_set):
        problems.append(
            "host '%s' is both in '%s' and in '%s'; an Alertmanager instance is not a watched machine: use a "
            "separate inventory host for the machine (it may share the machine)" % (host, watched_group,
                                                                                    alertmanagers_group)
        )
    for host in sorted(watched_set - set(groups_of_host)):
        problems.append(
            "host '%s' is in '%s' but in no datacenter group; add it to the group of the datacenter that "
            "watches it" % (host, watched_group)
        )

    watched_by_host: dict[str, dict] = {}
    instances: list[dict] = []
    for group in sorted(datacenter_groups):
        members = [h for h in datacenter_groups[group] if h not in shared]
        hosts = [h for h in members if h not in watched_set and h not in alertmanager_set]
        machines = sorted(h for h in members if h in watched_set and h not in alertmanager_set)
        managers = sorted(h for h in members if h in alertmanager_set and h not in watched_set)
        if not members and datacenter_groups[group]:
            continue
        if not hosts:
            problems.append(
                "datacenter group '%s' has no server: add at least one host to it that is not in '%s' or '%s', or "
                "remove it from '%s'" % (group, watched_group, alertmanagers_group, datacenters_group)
                if machines or managers else
                "datacenter group '%s' has no server: add at least one host to it, or remove it from '%s'"
                % (group, datacenters_group)
            )
            continue
        values = {h: hostvars.get(h, {}).get("datacenter") for h in hosts + machines + managers}
        missing = sorted(h for h, v in values.items() if v in (None, ""))
        if missing:
            problems.append(
                "datacenter group '%s' does not set the variable 'datacenter' (missing for %s): "
                "set it in the group's vars to the label value, e.g. datacenter: eu-west-1"
                % (group, ", ".join(missing))
            )
            continue
        distinct = sorted({str(v) for v in values.values()})
        if len(distinct) > 1:
            problems.append(
                "datacenter group '%s': its hosts disagree on 'datacenter' (%s); set it once, in the group's vars"
                % (group, ", ".join(distinct))
            )
            continue
        name = distinct[0]
        if name in group_of_datacenter:
            problems.append(
                "datacenter groups '%s' and '%s' both set datacenter: %s; every datacenter needs its own value"
                % (group_of_datacenter[name], group, name)
            )
            continue
        group_of_datacenter[name] = group
        servers = []
        for host in hosts:
            dc_of_host[host] = group
            servers.append(_server(host, _vars_of(hostvars, host), "datacenter", group, name, problems,
                                   scheme))
        watched = []
        for host in machines:
            host_vars = _vars_of(hostvars, host)
            watched.append(watching.watched_machine(host, host_vars, name, machine_key(host_vars), problems))
            watched_by_host[host] = watched[-1]
        for host in managers:
            dc_of_host[host] = group
            host_vars = _vars_of(hostvars, host)
            instances.append(alerting.alertmanager(host, host_vars, name, machine_key(host_vars), problems))
        datacenters.append({"name": name, "group": group, "servers": servers, "watched": watched,
                            "jobs": watching.datacenter_jobs(watched, problems, name)})

    global_set = set(global_hosts)
    for host in sorted(alertmanager_set - set(groups_of_host) - watched_set):
        if host in global_set:
            problems.append(
                "host '%s' is both in '%s' and in '%s'; a global server is not an Alertmanager: use a separate "
                "inventory host for the Alertmanager (it may share the machine)" % (host, alertmanagers_group,
                                                                                    global_group))
            continue
        host_vars = _vars_of(hostvars, host)
        instances.append(alerting.alertmanager(host, host_vars, alerting.GLOBAL_CLUSTER, machine_key(host_vars),
                                               problems))

    globals_ = []
    for host in global_hosts:
        if host in alertmanager_set:
            continue
        if host in watched_set:
            problems.append(
                "host '%s' is both in '%s' and in '%s'; a global server is not a watched machine: use a separate "
                "inventory host for the machine (it may share the machine)" % (host, watched_group, global_group)
            )
            continue
        if host in dc_of_host:
            problems.append(
                "host '%s' is both in datacenter group '%s' and in '%s'; a global server federates "
                "datacenters and cannot be one: use a separate inventory host (it may share the machine)"
                % (host, dc_of_host[host], global_group)
            )
            continue
        globals_.append(_server(host, _vars_of(hostvars, host), "global", global_group, None, problems, scheme))

    if datacenters and not global_hosts:
        problems.append(
            "datacenters exist (%s) but group '%s' has no server: add at least one global Prometheus "
            "host to '%s'" % (", ".join(sorted(dc["name"] for dc in datacenters)), global_group, global_group)
        )

    servers = [s for dc in datacenters for s in dc["servers"]] + globals_
    clusters = alerting.clusters_of(instances)
    for server in servers:
        server["alerting"] = alerting.alerting_config(
            clusters, alerting.clusters_of_server(server["role"], server["datacenter"], clusters))
    _check_unique_labels(servers, problems)
    _check_unique_listeners(servers, list(watched_by_host.values()), instances, problems)
    if problems:
        raise TopologyError(problems)
    datacenters.sort(key=lambda dc: dc["name"])
    return {
        "datacenters_group": datacenters_group,
        "global_group": global_group,
        "watched_group": watched_group,
        "datacenters": datacenters,
        "globals": globals_,
        "servers": {s["name"]: s for s in servers},
        "watched": watched_by_host,
        "alertmanagers_group": alertmanagers_group,
        "alertmanagers": {i["name"]: i for i in sorted(instances, key=lambda i: i["name"])},
        "clusters": clusters,
        "mixed_versions": mixed_versions(servers),
        "web": web,
    }


def _check_unique_labels(servers: list[dict], problems: list[str]) -> None:
    seen: dict[tuple, str] = {}
    for server in servers:
        key = tuple(sorted(server["external_labels"].items()))
        if key in seen:
            problems.append(
                "hosts '%s' and '%s' would carry the same external labels %s; the global would merge their "
                "series silently: give each server its own prometheus_replica"
                % (seen[key], server["name"], _format_labels(server["external_labels"]))
            )
        else:
            seen[key] = server["name"]


def _check_unique_listeners(servers: list[dict], machines: list[dict], instances: list[dict],
                            problems: list[str]) -> None:
    """No two things on one machine listen on one port: servers (prometheus_port), the
    node_exporter, exporters and services of watched machines, and Alertmanagers (HTTP and cluster)."""
    listeners = [(server["machine"], server["port"], server["name"], "prometheus_port") for server in servers
                 if server["port"] is not None]
    listeners += [(machine["machine"], port, machine["name"], what) for machine in machines
                  for port, what in watching.ports_of(machine)]
    listeners += [(instance["machine"], port, instance["name"], what) for instance in instances
                  for port, what in alerting.ports_of(instance)]
    seen: dict[tuple, tuple] = {}
    for machine, port, host, what in listeners:
        key = (machine, port)
        if key not in seen:
            seen[key] = (host, what)
            continue
        first_host, first_what = seen[key]
        if first_what == what == "prometheus_port":
            problems.append(
                "hosts '%s' and '%s' run on the same machine and both listen on port %d; give one of them "
                "another prometheus_port" % (first_host, host, port)
            )
        elif first_host == host:
            problems.append("host '%s': %s and %s both use port %d; give one of them another port"
                            % (host, first_what, what, port))
        else:
            problems.append(
                "hosts '%s' (%s) and '%s' (%s) run on the same machine and both use port %d; give one of them "
                "another port" % (first_host, first_what, host, what, port)
            )


def _format_labels(labels: dict) -> str:
    return "{%s}" % ", ".join('%s="%s"' % item for item in sorted(labels.items()))
