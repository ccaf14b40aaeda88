# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""Filters that turn the inventory into the federation topology (docs: topology.yml, federation_scrape_configs.yml)."""

from __future__ import annotations

import re

from ansible.errors import AnsibleFilterError
from ansible.utils.display import Display

from ansible_collections.promfleet.federation.plugins.module_utils.errors import PromfleetError
from ansible_collections.promfleet.federation.plugins.module_utils.fleet import alerting, watched
from ansible_collections.promfleet.federation.plugins.module_utils.fleet.federation import (
    federation_match_findings,
    federation_scrape_configs,
)
from ansible_collections.promfleet.federation.plugins.module_utils.fleet.topology import (
    DEFAULT_DATACENTERS_GROUP,
    DEFAULT_GLOBAL_GROUP,
    build_topology,
    hosts_on_machine,
    instance_name,
    kubernetes_name,
)

# Inventory variables the topology reads; nothing else of a host is touched (no facts).
_TOPOLOGY_VARS = (
    "datacenter",
    "prometheus_listen_address",
    "prometheus_port",
    "prometheus_replica",
    "prometheus_external_labels",
    "prometheus_federation_host",
    "prometheus_kubernetes",
    "prometheus_version",
    "global_federation_interval",
    "datacenter_scrape_interval",
    "node_exporter_enabled",
    "node_exporter_port",
    "node_exporter_listen_address",
    "watched_address",
    "watched_labels",
    "watched_exporters",
    "watched_services",
    "alertmanager_listen_address",
    "alertmanager_port",
    "alertmanager_cluster_port",
    "alertmanager_cluster_listen_address",
    "promfleet_tls",
    "promfleet_web_auth",
    "promfleet_web_user",
    "ansible_connection",
    "ansible_host",
    "inventory_hostname",
)


def _members(inventory, group: str) -> list:
    found = inventory.groups.get(group)
    return [h.name for h in found.get_hosts()] if found is not None else []


def _inventory_groups(hostvars, datacenters_group: str, global_group: str) -> tuple[dict, list, list, object]:
    """Child groups of ``datacenters_group`` with their hosts, the hosts of ``global_group``, hosts
    placed directly in ``datacenters_group``, and the inventory itself.

    Template variables expose group membership (``groups``) but not the group tree, which the
    topology needs (an empty datacenter group is an error, not an absence); the inventory the
    ``hostvars`` mapping wraps has both.
    """
    inventory = getattr(hostvars, "_inventory", None)
    if inventory is None:
        raise AnsibleFilterError("promfleet.federation.topology expects the 'hostvars' variable as its input")
    parent = inventory.groups.get(datacenters_group)
    children = parent.child_groups if parent is not None else []
    loose_hosts = [h.name for h in parent.hosts] if parent is not None else []
    datacenter_groups = {child.name: [h.name for h in child.get_hosts()] for child in children}
    return datacenter_groups, _members(inventory, global_group), loose_hosts, inventory


# prometheus_config_dir usually names a default of the prometheus role, which hostvars cannot resolve.
_INSTANCE_REFERENCE = re.compile(r"\{\{\s*prometheus_instance\s*\}\}")


def _topology_vars(hostvars, host: str) -> dict:
    variables = hostvars[host]
    found = {name: variables[name] for name in _TOPOLOGY_VARS if name in variables}
    # Read raw: a reference to the prometheus role's default prometheus_instance is resolved by name;
    # a value templated otherwise is left to the role (the topology then assumes the default).
    raw = hostvars.raw_get(host).get("prometheus_config_dir")
    if isinstance(raw, str):
        resolved = _INSTANCE_REFERENCE.sub(instance_name(host), raw)
        if "{{" not in resolved and "{%" not in resolved:
            found["prometheus_config_dir"] = resolved
    return found


def topology(hostvars, datacenters_group: str = DEFAULT_DATACENTERS_GROUP,
             global_group: str = DEFAULT_GLOBAL_GROUP, watched_group: str = watched.DEFAULT_WATCHED_GROUP,
             alertmanagers_group: str = alerting.DEFAULT_ALERTMANAGERS_GROUP) -> dict:
    """The federation topology of the inventory behind ``hostvars``."""
    datacenter_groups, global_hosts, loose_hosts, inventory = _inventory_groups(
        hostvars, datacenters_group, global_group)
    watched_hosts = _members(inventory, watched_group)
    alertmanager_hosts = _members(inventory, alertmanagers_group)
    hosts = ({h for members in datacenter_groups.values() for h in members} | set(global_hosts) | set(watched_hosts)
             | set(alertmanager_hosts))
    try:
        return build_topology(
            datacenter_groups,
            global_hosts,
            {h: _topology_vars(hostvars, h) for h in sorted(hosts)},
            datacenters_group=datacenters_group,
            global_group=global_group,
            loose_hosts=tuple(loose_hosts),
            watched_group=watched_group,
            watched_hosts=tuple(watched_hosts),
            alertmanagers_group=alertmanagers_group,
            alertmanager_hosts=tuple(alertmanager_hosts),
        )
    except PromfleetError as exc:
        raise AnsibleFilterError(str(exc)) from exc


def federation_jobs(topology_data: dict, match: list, interval: str = "30s", timeout: str = "25s",
                    scheme: str = "http", release: str | None = None, client: dict | None = None) -> list:
    """Federation scrape jobs for a global server; warns about selectors that copy everything."""
    errors, warnings = federation_match_findings(match)
    if errors:
        raise AnsibleFilterError("invalid federation selectors:\n- " + "\n- ".join(errors))
    for warning in warnings:
        Display().warning(warning)
    return federation_scrape_configs(topology_data, match, interval, timeout, scheme, release, client)


def _datacenter(topology_data: dict, datacenter: str) -> dict:
    found = next((dc for dc in topology_data.get("datacenters", []) if dc["name"] == datacenter), None)
    if found is None:
        raise AnsibleFilterError("datacenter %r is not in the topology (it has %s)"
                                 % (datacenter, ", ".join(dc["name"] for dc in topology_data.get("datacenters", []))
                                    or "none"))
    return found


def watched_scrape_configs(topology_data: dict, datacenter: str, targets_dir: str | None = None,
                           client: dict | None = None) -> list:
    """The scrape jobs of what ``datacenter`` watches: reading target files in ``targets_dir`` (a
    server on a host), or with the targets inline when it is empty (a server in a cluster); the
    node_exporters reached with ``client``."""
    return watched.scrape_configs(_datacenter(topology_data, datacenter).get("jobs", {}), targets_dir or None,
                                  client)


def watched_target_files(topology_data: dict, datacenter: str, targets_dir: str) -> dict:
    """``{path: target groups}``: the target file of every watched job of ``datacenter``."""
    return watched.target_files(_datacenter(topology_data, datacenter).get("jobs", {}), targets_dir)


def same_machine(hostvars, hosts: list, host: str) -> list:
    """The hosts among ``hosts`` that run on the same machine as ``host`` (order kept)."""
    wanted = set(hosts) | {host}
    return hosts_on_machine({h: _topology_vars(hostvars, h) for h in wanted}, list(hosts), host)


class FilterModule:
    """promfleet.federation topology filters."""

    def filters(self) -> dict:
        return {
            "topology": topology,
            "federation_jobs": federation_jobs,
            "same_machine": same_machine,
            "watched_scrape_configs": watched_scrape_configs,
            "watched_target_files": watched_target_files,
            "instance_name": instance_name,
            "kubernetes_name": kubernetes_name,
        }
