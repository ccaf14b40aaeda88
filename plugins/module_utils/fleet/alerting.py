# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""Where alerts go, from inventory data alone: the Alertmanager clusters and what each Prometheus
server sends to.

Hosts of the alertmanagers group are Alertmanager instances. One that is also in a datacenter's
group belongs to that datacenter's cluster; one in no datacenter group to the global cluster.
Every instance of a cluster peers with every other one. A datacenter server sends to its
datacenter's cluster, or to the global cluster when its datacenter has none; a global server sends
to the global cluster, or, when there is none, to every datacenter's cluster. Each server sends to
every instance of a cluster (no load balancer in between: Alertmanagers deduplicate among
themselves), and drops the ``replica`` label first, so a pair of replicas makes one notification.
"""

from __future__ import annotations

from ansible_collections.promfleet.federation.plugins.module_utils.fleet.addresses import (
    WILDCARD_ADDRESSES,
    port_number,
    url_host,
)

DEFAULT_ALERTMANAGERS_GROUP = "alertmanagers"
# These defaults are also the alertmanager role's (a unit test keeps them equal).
DEFAULT_ALERTMANAGER_PORT = 9093
DEFAULT_ALERTMANAGER_CLUSTER_PORT = 9094
DEFAULT_ALERTMANAGER_LISTEN_ADDRESS = "0.0.0.0"
GLOBAL_CLUSTER = "global"
# The label that tells replicas apart: dropped from alerts, so replicas' alerts are one.
REPLICA_LABEL = "replica"


def _reach(hostvars: dict, listen: str) -> str:
    if listen not in WILDCARD_ADDRESSES:
        return listen
    if hostvars.get("ansible_connection") == "local":
        return "127.0.0.1"
    return str(hostvars.get("ansible_host") or hostvars.get("inventory_hostname"))


def alertmanager(host: str, hostvars: dict, cluster: str, machine: str, problems: list) -> dict:
    """One Alertmanager instance of ``cluster``: where it listens and where others reach it."""
    listen = str(hostvars.get("alertmanager_listen_address", DEFAULT_ALERTMANAGER_LISTEN_ADDRESS))
    address = _reach(hostvars, listen)
    gossip = _reach(hostvars, str(hostvars.get("alertmanager_cluster_listen_address") or listen))
    port = port_number(hostvars.get("alertmanager_port", DEFAULT_ALERTMANAGER_PORT),
                       "host '%s': alertmanager_port" % host, problems)
    cluster_port = port_number(hostvars.get("alertmanager_cluster_port", DEFAULT_ALERTMANAGER_CLUSTER_PORT),
                               "host '%s': alertmanager_cluster_port" % host, problems)
    return {
        "name": host,
        "cluster": cluster,
        "machine": machine,
        "address": address,
        "port": port,
        "cluster_port": cluster_port,
        "target": "%s:%s" % (url_host(address), port),
        "peer": "%s:%s" % (url_host(gossip), cluster_port),
    }


def ports_of(instance: dict) -> list[tuple[int, str]]:
    """(port, what) of everything the instance listens on."""
    return [(port, what) for port, what in ((instance["port"], "alertmanager_port"),
                                            (instance["cluster_port"], "alertmanager_cluster_port")) if port]


def clusters_of(instances: list[dict]) -> dict:
    """``{cluster: {"members": [name, ...], "targets": [...], "peers": {name: [other members' peers]}}}``."""
    clusters: dict[str, dict] = {}
    for instance in sorted(instances, key=lambda i: i["name"]):
        cluster = clusters.setdefault(instance["cluster"], {"members": [], "targets": [], "peers": {}})
        cluster["members"].append(instance["name"])
        cluster["targets"].append(instance["target"])
    by_name = {i["name"]: i for i in instances}
    for cluster in clusters.values():
        for name in cluster["members"]:
            cluster["peers"][name] = [by_name[other]["peer"] for other in cluster["members"] if other != name]
    return dict(sorted(clusters.items()))


def clusters_of_server(role: str, datacenter: str | None, clusters: dict) -> list[str]:
    """The clusters a server sends its alerts to (see the module's docstring)."""
    if role == "datacenter" and datacenter in clusters:
        return [datacenter]
    if GLOBAL_CLUSTER in clusters:
        return [GLOBAL_CLUSTER]
    if role == "global":
        return [name for name in clusters if name != GLOBAL_CLUSTER]
    return []


def alerting_config(clusters: dict, names: list[str]) -> dict:
    """The ``alerting`` section of a server's prometheus.yml: API v2 to every instance of each of
    ``names``, the replica label dropped; empty when there is no Alertmanager."""
    if not names:
        return {}
    return {
        "alert_relabel_configs": [{"action": "labeldrop", "regex": REPLICA_LABEL}],
        "alertmanagers": [{"api_version": "v2", "static_configs": [{"targets": list(clusters[name]["targets"])}]}
                          for name in names],
    }
