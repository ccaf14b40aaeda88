"""Specification of the federation topology (plugins/module_utils/topology.py).

The inputs are what the filter hands over: the hosts of every child group of the datacenters
group, the hosts of the global group, and per host the inventory variables the topology reads
(including ``inventory_hostname``, which Ansible always provides).
"""

from __future__ import annotations

import pytest

from ansible_collections.promfleet.federation.plugins.module_utils.errors import TopologyError
from ansible_collections.promfleet.federation.plugins.module_utils.fleet.federation import (
    federation_match_findings,
    federation_scrape_configs,
)
from ansible_collections.promfleet.federation.plugins.module_utils.fleet.topology import (
    DEFAULT_DATACENTERS_GROUP,
    DEFAULT_GLOBAL_GROUP,
    DEFAULT_LISTEN_ADDRESS,
    DEFAULT_PORT,
    build_topology,
    hosts_on_machine,
    instance_name,
    kubernetes_name,
    machine_key,
    reach_host,
)


def host(name: str, **variables) -> dict:
    """Inventory variables of one host, as Ansible gives them (inventory_hostname included)."""
    return {"inventory_hostname": name, **variables}


def problems_of(datacenter_groups, global_hosts, hostvars, **kwargs) -> list[str]:
    with pytest.raises(TopologyError) as caught:
        build_topology(datacenter_groups, global_hosts, hostvars, **kwargs)
    return caught.value.problems


# A global on its own machine, for the cases that are about datacenters only.
GLOBAL = {"g1": host("g1", ansible_host="10.9.0.1")}


# --- a valid inventory ------------------------------------------------------------------------

# Group names and datacenter names sort in opposite orders, so "sorted by name" is visible.
VALID_GROUPS = {
    "dc_a_first": ["us1", "us2"],
    "dc_b_second": ["eu1"],
}
VALID_GLOBALS = ["g1"]
VALID_HOSTVARS = {
    "us1": host("us1", datacenter="us-east", ansible_host="10.1.0.1"),
    "us2": host("us2", datacenter="us-east", ansible_host="10.1.0.2", prometheus_port=9191,
                prometheus_external_labels={"env": "prod"}),
    "eu1": host("eu1", datacenter="eu-west", ansible_host="eu1.example.net"),
    "g1": host("g1", ansible_host="10.9.0.1"),
}

US1 = {
    "name": "us1",
    "instance": "promfleet-us1",
    "role": "datacenter",
    "group": "dc_a_first",
    "datacenter": "us-east",
    "deployment": "host",
    "listen_address": "0.0.0.0",
    "port": 9090,
    "scheme": "https",
    "path_prefix": "",
    "target": "10.1.0.1:9090",
    "self_target": "10.1.0.1:9090",
    "url": "https://10.1.0.1:9090",
    "machine": "10.1.0.1",
    "config_dir": "/etc/promfleet/promfleet-us1",
    "external_labels": {"datacenter": "us-east", "replica": "us1"},
    "verify": {"max_age": 0.0, "wait": 25},
    "release": "3.13.0",
    # no Alertmanager in the inventory: nowhere to send alerts
    "alerting": {},
}
US2 = {
    "name": "us2",
    "instance": "promfleet-us2",
    "role": "datacenter",
    "group": "dc_a_first",
    "datacenter": "us-east",
    "deployment": "host",
    "listen_address": "0.0.0.0",
    "port": 9191,
    "scheme": "https",
    "path_prefix": "",
    "target": "10.1.0.2:9191",
    "self_target": "10.1.0.2:9191",
    "url": "https://10.1.0.2:9191",
    "machine": "10.1.0.2",
    "config_dir": "/etc/promfleet/promfleet-us2",
    "external_labels": {"env": "prod", "datacenter": "us-east", "replica": "us2"},
    "verify": {"max_age": 0.0, "wait": 25},
    "release": "3.13.0",
    # no Alertmanager in the inventory: nowhere to send alerts
    "alerting": {},
}
EU1 = {
    "name": "eu1",
    "instance": "promfleet-eu1",
    "role": "datacenter",
    "group": "dc_b_second",
    "datacenter": "eu-west",
    "deployment": "host",
    "listen_address": "0.0.0.0",
    "port": 9090,
    "scheme": "https",
    "path_prefix": "",
    "target": "eu1.example.net:9090",
    "self_target": "eu1.example.net:9090",
    "url": "https://eu1.example.net:9090",
    "machine": "eu1.example.net",
    "config_dir": "/etc/promfleet/promfleet-eu1",
    "external_labels": {"datacenter": "eu-west", "replica": "eu1"},
    "verify": {"max_age": 0.0, "wait": 25},
    "release": "3.13.0",
    # no Alertmanager in the inventory: nowhere to send alerts
    "alerting": {},
}
G1 = {
    "name": "g1",
    "instance": "promfleet-g1",
    "role": "global",
    "group": "prometheus_global",
    "datacenter": None,
    "deployment": "host",
    "listen_address": "0.0.0.0",
    "port": 9090,
    "scheme": "https",
    "path_prefix": "",
    "target": "10.9.0.1:9090",
    "self_target": "10.9.0.1:9090",
    "url": "https://10.9.0.1:9090",
    "machine": "10.9.0.1",
    "config_dir": "/etc/promfleet/promfleet-g1",
    "external_labels": {"replica": "g1"},
    # two federation intervals (30 s by default) fresh, waited for up to three plus 10 s
    "verify": {"max_age": 60.0, "wait": 100},
    "release": "3.13.0",
    # no Alertmanager in the inventory: nowhere to send alerts
    "alerting": {},
}


def test_two_datacenters_and_one_global_give_the_full_topology_with_datacenters_sorted_by_name():
    assert build_topology(VALID_GROUPS, VALID_GLOBALS, VALID_HOSTVARS) == {
        "datacenters_group": "datacenters",
        "global_group": "prometheus_global",
        "datacenters": [
            {"name": "eu-west", "group": "dc_b_second", "servers": [EU1], "watched": [], "jobs": {}},
            {"name": "us-east", "group": "dc_a_first", "servers": [US1, US2], "watched": [], "jobs": {}},
        ],
        "globals": [G1],
        "servers": {"us1": US1, "us2": US2, "eu1": EU1, "g1": G1},
        "mixed_versions": None,
        "watched_group": "watched",
        "watched": {},
        "alertmanagers_group": "alertmanagers",
        "alertmanagers": {},
        "clusters": {},
        "web": {"tls": True, "auth": True, "user": "promfleet"},
    }


def test_overridden_group_names_are_echoed_in_the_topology_and_in_the_global_servers():
    result = build_topology(VALID_GROUPS, VALID_GLOBALS, VALID_HOSTVARS,
                            datacenters_group="dcs", global_group="top")
    assert result["datacenters_group"] == "dcs"
    assert result["global_group"] == "top"
    assert result["globals"][0]["group"] == "top"
    assert result["servers"]["eu1"]["group"] == "dc_b_second"


def test_external_labels_of_a_datacenter_server_are_its_own_extra_labels_plus_datacenter_and_replica():
    result = build_topology(VALID_GROUPS, VALID_GLOBALS, VALID_HOSTVARS)
    assert result["servers"]["us2"]["external_labels"] == {
        "env": "prod", "datacenter": "us-east", "replica": "us2"}


def test_external_labels_of_a_global_server_are_only_replica():
    result = build_topology(VALID_GROUPS, VALID_GLOBALS, VALID_HOSTVARS)
    assert result["servers"]["g1"]["external_labels"] == {"replica": "g1"}


def test_an_inventory_with_no_datacenters_and_no_globals_is_an_empty_topology_not_an_error():
    assert build_topology({}, [], {}) == {
        "datacenters_group": "datacenters",
        "global_group": "prometheus_global",
        "datacenters": [],
        "globals": [],
        "servers": {},
        "mixed_versions": None,
        "watched_group": "watched",
        "watched": {},
        "alertmanagers_group": "alertmanagers",
        "alertmanagers": {},
        "clusters": {},
        "web": {"tls": True, "auth": True, "user": "promfleet"},
    }


def test_a_numeric_datacenter_value_becomes_a_string_label():
    result = build_topology({"dc_1": ["h1"]}, ["g1"], {"h1": host("h1", datacenter=1), **GLOBAL})
    assert result["datacenters"][0]["name"] == "1"
    assert result["servers"]["h1"]["external_labels"] == {"datacenter": "1", "replica": "h1"}


# --- defaults -----------------------------------------------------------------------------------

def test_defaults_are_port_9090_listen_on_all_addresses_and_replica_is_the_inventory_hostname():
    server = build_topology({"dc_eu": ["eu1"]}, ["g1"],
                            {"eu1": host("eu1", datacenter="eu-west"), **GLOBAL})["servers"]["eu1"]
    assert (server["port"], server["listen_address"], server["external_labels"]["replica"]) == (
        9090, "0.0.0.0", "eu1")


def test_prometheus_replica_replaces_the_inventory_hostname_in_the_replica_label():
    server = build_topology({"dc_eu": ["eu1"]}, ["g1"],
                            {"eu1": host("eu1", datacenter="eu-west", prometheus_replica="a"),
                             **GLOBAL})["servers"]["eu1"]
    assert server["external_labels"] == {"datacenter": "eu-west", "replica": "a"}


def test_a_port_given_as_a_digit_string_is_used_as_a_number():
    # INI inventories give every variable as a string.
    server = build_topology({"dc_eu": ["eu1"]}, ["g1"],
                            {"eu1": host("eu1", datacenter="eu-west", prometheus_port="9091"),
                             **GLOBAL})["servers"]["eu1"]
    assert (server["port"], server["target"]) == (9091, "eu1:9091")


def test_a_host_without_ansible_host_is_reached_by_its_inventory_hostname():
    server = build_topology({"dc_eu": ["eu1"]}, ["g1"],
                            {"eu1": host("eu1", datacenter="eu-west"), **GLOBAL})["servers"]["eu1"]
    assert (server["target"], server["machine"]) == ("eu1:9090", "eu1")


def test_a_host_whose_vars_lack_inventory_hostname_is_reached_by_its_name_in_the_groups():
    # build_topology is told each host's name by the groups; it should not need the name again
    # in the variables (otherwise the host is reached at "None" and all such hosts share a machine).
    result = build_topology({"dc_eu": ["eu1", "eu2"]}, ["g1"],
                            {"eu1": {"datacenter": "eu-west"}, "eu2": {"datacenter": "eu-west"},
                             "g1": {}})
    assert [result["servers"][h]["target"] for h in ("eu1", "eu2", "g1")] == [
        "eu1:9090", "eu2:9090", "g1:9090"]


def test_a_local_connection_host_listening_everywhere_is_reached_at_127_0_0_1():
    server = build_topology({"dc_eu": ["eu1"]}, ["g1"],
                            {"eu1": host("eu1", datacenter="eu-west", ansible_connection="local"),
                             **GLOBAL})["servers"]["eu1"]
    assert (server["target"], server["url"], server["machine"]) == (
        "127.0.0.1:9090", "https://127.0.0.1:9090", "local")


def test_an_ipv6_listen_address_is_bracketed_in_target_and_url():
    server = build_topology({"dc_eu": ["eu1"]}, ["g1"],
                            {"eu1": host("eu1", datacenter="eu-west", prometheus_listen_address="::1"),
                             **GLOBAL})["servers"]["eu1"]
    assert (server["listen_address"], server["target"], server["url"]) == (
        "::1", "[::1]:9090", "https://[::1]:9090")


def test_an_ipv6_ansible_host_is_bracketed_in_target_and_url():
    server = build_topology({"dc_eu": ["eu1"]}, ["g1"],
                            {"eu1": host("eu1", datacenter="eu-west", ansible_host="2001:db8::5"),
                             **GLOBAL})["servers"]["eu1"]
    assert (server["target"], server["url"], server["machine"]) == (
        "[2001:db8::5]:9090", "https://[2001:db8::5]:9090", "2001:db8::5")


def test_an_already_bracketed_ipv6_federation_host_is_not_bracketed_twice():
    server = build_topology({"dc_eu": ["eu1"]}, ["g1"],
                            {"eu1": host("eu1", datacenter="eu-west",
                                         prometheus_federation_host="[2001:db8::7]"),
                             **GLOBAL})["servers"]["eu1"]
    assert server["target"] == "[2001:db8::7]:9090"


def test_reach_host_prefers_an_explicit_prometheus_federation_host_over_everything():
    assert reach_host(host("eu1", prometheus_federation_host="prom.eu.example.net",
                           ansible_connection="local", ansible_host="10.0.0.1"),
                      "10.0.0.2") == "prom.eu.example.net"


def test_reach_host_uses_a_specific_listen_address_before_the_connection_details():
    assert reach_host(host("eu1", ansible_connection="local", ansible_host="10.0.0.1"),
                      "192.168.5.5") == "192.168.5.5"


@pytest.mark.parametrize("wildcard", ["0.0.0.0", "::", "[::]", ""])
def test_reach_host_reaches_a_local_connection_host_listening_on_a_wildcard_at_127_0_0_1(wildcard):
    assert reach_host(host("eu1", ansible_connection="local", ansible_host="10.0.0.1"),
                      wildcard) == "127.0.0.1"


def test_reach_host_uses_ansible_host_when_listening_everywhere():
    assert reach_host(host("eu1", ansible_host="10.0.0.1"), "0.0.0.0") == "10.0.0.1"


def test_reach_host_falls_back_to_the_inventory_hostname():
    assert reach_host(host("eu1.example.net"), "0.0.0.0") == "eu1.example.net"


def test_reach_host_ignores_an_empty_prometheus_federation_host():
    assert reach_host(host("eu1", prometheus_federation_host="", ansible_host="10.0.0.1"),
                      "0.0.0.0") == "10.0.0.1"


# --- instance_name, machine_key, hosts_on_machine -------------------------------------------------

def test_instance_name_prefixes_the_inventory_hostname_with_promfleet():
    assert instance_name("eu1.example.net") == "promfleet-eu1.example.net"


def test_instance_name_replaces_characters_unsafe_in_service_and_directory_names_by_underscores():
    assert instance_name("dc/eu 1@rack:2") == "promfleet-dc_eu_1_rack_2"


def test_machine_key_of_a_local_connection_host_is_local_whatever_its_ansible_host():
    assert machine_key(host("eu1", ansible_connection="local", ansible_host="10.0.0.1")) == "local"


def test_machine_key_is_ansible_host_when_set():
    assert machine_key(host("eu1", ansible_host="10.0.0.1")) == "10.0.0.1"


def test_machine_key_falls_back_to_the_inventory_hostname():
    assert machine_key(host("eu1")) == "eu1"


def test_hosts_on_machine_lists_the_hosts_sharing_the_machine_in_the_given_order():
    vars_by_host = {
        "a": host("a", ansible_host="10.0.0.1"),
        "b": host("b", ansible_host="10.0.0.2"),
        "c": host("c", ansible_host="10.0.0.1"),
        "d": host("d", ansible_connection="local"),
    }
    assert hosts_on_machine(vars_by_host, ["c", "b", "a", "d"], "a") == ["c", "a"]


def test_hosts_on_machine_groups_local_connection_hosts_together():
    vars_by_host = {
        "a": host("a", ansible_connection="local"),
        "b": host("b", ansible_connection="local", ansible_host="10.0.0.9"),
        "c": host("c"),
    }
    assert hosts_on_machine(vars_by_host, ["a", "b", "c"], "b") == ["a", "b"]


# --- preflight errors -------------------------------------------------------------------------

def test_a_datacenter_group_with_no_server_is_an_error_naming_the_group_and_the_parent_group():
    assert problems_of({"dc_eu": ["eu1"], "dc_empty": []}, ["g1"],
                       {"eu1": host("eu1", datacenter="eu-west"), **GLOBAL}) == [
        "datacenter group 'dc_empty' has no server: add at least one host to it, "
        "or remove it from 'datacenters'"
    ]


def test_the_empty_datacenter_group_error_names_an_overridden_datacenters_group():
    assert problems_of({"dc_empty": []}, ["g1"], GLOBAL, datacenters_group="dcs") == [
        "datacenter group 'dc_empty' has no server: add at least one host to it, or remove it from 'dcs'"
    ]


def test_a_datacenter_group_without_the_datacenter_variable_is_an_error_naming_the_hosts():
    assert problems_of({"dc_eu": ["eu2", "eu1"]}, ["g1"],
                       {"eu1": host("eu1"), "eu2": host("eu2"), **GLOBAL}) == [
        "datacenter group 'dc_eu' does not set the variable 'datacenter' (missing for eu1, eu2): "
        "set it in the group's vars to the label value, e.g. datacenter: eu-west-1"
    ]


def test_an_empty_string_datacenter_counts_as_not_set():
    assert problems_of({"dc_eu": ["eu1", "eu2"]}, ["g1"],
                       {"eu1": host("eu1", datacenter=""), "eu2": host("eu2", datacenter="eu-west"),
                        **GLOBAL}) == [
        "datacenter group 'dc_eu' does not set the variable 'datacenter' (missing for eu1): "
        "set it in the group's vars to the label value, e.g. datacenter: eu-west-1"
    ]


def test_hosts_of_one_group_disagreeing_on_datacenter_is_an_error_listing_the_values():
    assert problems_of({"dc_eu": ["eu1", "eu2", "eu3"]}, ["g1"],
                       {"eu1": host("eu1", datacenter="eu-west"),
                        "eu2": host("eu2", datacenter="eu-central"),
                        "eu3": host("eu3", datacenter="eu-west"), **GLOBAL}) == [
        "datacenter group 'dc_eu': its hosts disagree on 'datacenter' (eu-central, eu-west); "
        "set it once, in the group's vars"
    ]


def test_two_groups_sharing_a_datacenter_value_is_an_error_naming_both_groups():
    assert problems_of({"dc_eu_old": ["eu9"], "dc_eu": ["eu1"]}, ["g1"],
                       {"eu1": host("eu1", datacenter="eu-west"),
                        "eu9": host("eu9", datacenter="eu-west"), **GLOBAL}) == [
        "datacenter groups 'dc_eu' and 'dc_eu_old' both set datacenter: eu-west; "
        "every datacenter needs its own value"
    ]


def test_two_replicas_of_one_datacenter_with_the_same_prometheus_replica_is_an_error_showing_the_labels():
    assert problems_of({"dc_eu": ["eu1", "eu2"]}, ["g1"],
                       {"eu1": host("eu1", datacenter="eu-west", prometheus_replica="a"),
                        "eu2": host("eu2", datacenter="eu-west", prometheus_replica="a"),
                        **GLOBAL}) == [
        "hosts 'eu1' and 'eu2' would carry the same external labels "
        "{datacenter=\"eu-west\", replica=\"a\"}; the global would merge their series silently: "
        "give each server its own prometheus_replica"
    ]


def test_two_globals_with_the_same_prometheus_replica_is_an_error():
    assert problems_of({}, ["g1", "g2"],
                       {"g1": host("g1", prometheus_replica="a"),
                        "g2": host("g2", prometheus_replica="a")}) == [
        "hosts 'g1' and 'g2' would carry the same external labels {replica=\"a\"}; the global would "
        "merge their series silently: give each server its own prometheus_replica"
    ]


def test_the_same_prometheus_replica_in_two_datacenters_is_fine():
    result = build_topology({"dc_eu": ["eu1"], "dc_us": ["us1"]}, ["g1"],
                            {"eu1": host("eu1", datacenter="eu-west", prometheus_replica="a"),
                             "us1": host("us1", datacenter="us-east", prometheus_replica="a"),
                             **GLOBAL})
    assert [dc["name"] for dc in result["datacenters"]] == ["eu-west", "us-east"]


def test_a_host_in_a_datacenter_group_and_the_global_group_is_an_error():
    assert problems_of({"dc_eu": ["eu1"]}, ["g1", "eu1"],
                       {"eu1": host("eu1", datacenter="eu-west"), **GLOBAL}) == [
        "host 'eu1' is both in datacenter group 'dc_eu' and in 'prometheus_global'; a global server "
        "federates datacenters and cannot be one: use a separate inventory host (it may share the machine)"
    ]


def test_datacenters_without_a_global_server_is_an_error_listing_the_datacenters():
    assert problems_of({"dc_eu": ["eu1"], "dc_us": ["us1"]}, [],
                       {"eu1": host("eu1", datacenter="eu-west"),
                        "us1": host("us1", datacenter="us-east")}) == [
        "datacenters exist (eu-west, us-east) but group 'prometheus_global' has no server: add at least "
        "one global Prometheus host to 'prometheus_global'"
    ]


def test_the_missing_global_error_names_an_overridden_global_group():
    assert problems_of({"dc_eu": ["eu1"]}, [], {"eu1": host("eu1", datacenter="eu-west")},
                       global_group="top") == [
        "datacenters exist (eu-west) but group 'top' has no server: add at least one global "
        "Prometheus host to 'top'"
    ]


def test_a_host_in_two_datacenter_groups_is_an_error_naming_the_host_and_both_groups():
    # Ansible merges group vars, so the shared host has ONE datacenter value: the one of the
    # group that wins precedence (dc_us, alphabetically last at the same depth).
    problems = problems_of({"dc_eu": ["eu1", "shared"], "dc_us": ["us1", "shared"]}, ["g1"],
                           {"eu1": host("eu1", datacenter="eu-west"),
                            "us1": host("us1", datacenter="us-east"),
                            "shared": host("shared", datacenter="us-east"), **GLOBAL})
    assert ("host 'shared' is in several datacenter groups ('dc_eu', 'dc_us'); "
            "a server belongs to one datacenter") in problems


@pytest.mark.parametrize("port, shown", [("abc", "'abc'"), (0, "0"), (70000, "70000"), (True, "True")],
                         ids=["string_abc", "zero", "70000", "true"])
def test_a_prometheus_port_that_is_not_a_tcp_port_number_is_an_error(port, shown):
    assert problems_of({"dc_eu": ["eu1"]}, ["g1"],
                       {"eu1": host("eu1", datacenter="eu-west", prometheus_port=port), **GLOBAL}) == [
        "host 'eu1': prometheus_port is %s; it must be a TCP port number from 1 to 65535" % shown
    ]


def test_a_prometheus_port_with_a_fractional_part_is_an_error_not_truncated():
    assert problems_of({"dc_eu": ["eu1"]}, ["g1"],
                       {"eu1": host("eu1", datacenter="eu-west", prometheus_port=9090.5), **GLOBAL}) == [
        "host 'eu1': prometheus_port is 9090.5; it must be a TCP port number from 1 to 65535"
    ]


def test_an_invalid_port_is_reported_alone_not_also_as_a_clash_with_a_default_port_on_the_machine():
    assert problems_of({"dc_eu": ["eu1"]}, ["g1"],
                       {"eu1": host("eu1", datacenter="eu-west", prometheus_port="abc",
                                    ansible_connection="local"),
                        "g1": host("g1", ansible_connection="local")}) == [
        "host 'eu1': prometheus_port is 'abc'; it must be a TCP port number from 1 to 65535"
    ]


def test_two_local_connection_servers_on_the_same_port_is_an_error():
    assert problems_of({"dc_eu": ["eu1"]}, ["g1"],
                       {"eu1": host("eu1", datacenter="eu-west", ansible_connection="local"),
                        "g1": host("g1", ansible_connection="local")}) == [
        "hosts 'eu1' and 'g1' run on the same machine and both listen on port 9090; "
        "give one of them another prometheus_port"
    ]


def test_two_servers_with_the_same_ansible_host_on_the_same_port_is_an_error():
    assert problems_of({"dc_eu": ["eu1", "eu2"]}, ["g1"],
                       {"eu1": host("eu1", datacenter="eu-west", ansible_host="10.0.0.5",
                                    prometheus_port=9100),
                        "eu2": host("eu2", datacenter="eu-west", ansible_host="10.0.0.5",
                                    prometheus_port="9100"),
                        **GLOBAL}) == [
        "hosts 'eu1' and 'eu2' run on the same machine and both listen on port 9100; "
        "give one of them another prometheus_port"
    ]


def test_servers_sharing_a_machine_on_different_ports_are_fine():
    result = build_topology({"dc_eu": ["eu1"], "dc_us": ["us1"]}, ["g1"],
                            {"eu1": host("eu1", datacenter="eu-west", ansible_connection="local",
                                         prometheus_port=9091),
                             "us1": host("us1", datacenter="us-east", ansible_connection="local",
                                         prometheus_port=9092),
                             "g1": host("g1", ansible_connection="local")})
    assert [result["servers"][h]["target"] for h in ("eu1", "us1", "g1")] == [
        "127.0.0.1:9091", "127.0.0.1:9092", "127.0.0.1:9090"]


def test_invalid_external_label_names_are_errors_one_per_name_in_sorted_order():
    assert problems_of({"dc_eu": ["eu1"]}, ["g1"],
                       {"eu1": host("eu1", datacenter="eu-west", prometheus_external_labels={
                           "env-name": "x", "ok_name": "y", "__meta": "z", "1st": "w"}),
                        **GLOBAL}) == [
        "host 'eu1': external label name '1st' is not valid; use letters, digits and '_', "
        "not starting with a digit or '__'",
        "host 'eu1': external label name '__meta' is not valid; use letters, digits and '_', "
        "not starting with a digit or '__'",
        "host 'eu1': external label name 'env-name' is not valid; use letters, digits and '_', "
        "not starting with a digit or '__'",
    ]


def test_an_external_label_name_with_a_trailing_newline_is_invalid():
    assert problems_of({"dc_eu": ["eu1"]}, ["g1"],
                       {"eu1": host("eu1", datacenter="eu-west",
                                    prometheus_external_labels={"env\n": "prod"}), **GLOBAL}) == [
        "host 'eu1': external label name 'env\\n' is not valid; use letters, digits and '_', "
        "not starting with a digit or '__'"
    ]


def test_external_labels_that_are_not_a_mapping_are_an_error():
    assert problems_of({"dc_eu": ["eu1"]}, ["g1"],
                       {"eu1": host("eu1", datacenter="eu-west",
                                    prometheus_external_labels=["env=prod"]), **GLOBAL}) == [
        "host 'eu1': prometheus_external_labels must be a mapping of label name to value, not list"
    ]


def test_external_labels_overriding_datacenter_is_an_error():
    assert problems_of({"dc_eu": ["eu1"]}, ["g1"],
                       {"eu1": host("eu1", datacenter="eu-west",
                                    prometheus_external_labels={"datacenter": "elsewhere"}),
                        **GLOBAL}) == [
        "host 'eu1': prometheus_external_labels sets 'datacenter', which the topology owns ('eu-west'); "
        "set it through the inventory instead"
    ]


def test_external_labels_overriding_replica_is_an_error():
    assert problems_of({}, ["g1"],
                       {"g1": host("g1", prometheus_external_labels={"replica": "other"})}) == [
        "host 'g1': prometheus_external_labels sets 'replica', which the topology owns ('g1'); "
        "set it through the inventory instead"
    ]


def test_several_problems_are_reported_together_in_one_topology_error():
    with pytest.raises(TopologyError) as caught:
        build_topology({"dc_empty": [], "dc_eu": ["eu1"]}, [],
                       {"eu1": host("eu1", datacenter="eu-west", prometheus_port=0)})
    expected = [
        "datacenter group 'dc_empty' has no server: add at least one host to it, "
        "or remove it from 'datacenters'",
        "host 'eu1': prometheus_port is 0; it must be a TCP port number from 1 to 65535",
        "datacenters exist (eu-west) but group 'prometheus_global' has no server: add at least "
        "one global Prometheus host to 'prometheus_global'",
    ]
    assert caught.value.problems == expected
    assert str(caught.value) == (
        "the inventory does not describe a valid federation:\n- " + "\n- ".join(expected))


def test_topology_error_is_a_value_error():
    assert issubclass(TopologyError, ValueError)


def test_module_defaults_are_port_9090_all_addresses_and_the_documented_group_names():
    assert (DEFAULT_PORT, DEFAULT_LISTEN_ADDRESS, DEFAULT_DATACENTERS_GROUP, DEFAULT_GLOBAL_GROUP) == (
        9090, "0.0.0.0", "datacenters", "prometheus_global")


# --- federation_match_findings ----------------------------------------------------------------

EMPTY_SELECTOR_ERROR = ("global_federation_match[0] '{}': an empty selector matches nothing at "
                        "/federate (Prometheus answers an empty body); name a metric or a label matcher")


def test_the_default_selectors_are_fine():
    assert federation_match_findings(['{__name__=~"job:.+"}', '{__name__="up"}']) == ([], [])


@pytest.mark.parametrize("selector", ["up", "job:up:sum", 'up{job="node"}', '{job="node", instance!=""}',
                                      '{ job = "node" }'])
def test_selectors_naming_a_metric_or_a_non_empty_matcher_are_fine(selector):
    assert federation_match_findings([selector]) == ([], [])


@pytest.mark.parametrize("selector", ['{job=~".+"}', '{__name__=~".+"}'])
def test_a_selector_matching_every_series_is_a_warning(selector):
    assert federation_match_findings([selector]) == ([], [
        "global_federation_match[0] %r matches every series: the global will copy whole datacenters, "
        "which does not scale; federate recording-rule aggregates (e.g. '{__name__=~\"job:.+\"}') instead"
        % selector
    ])


def test_the_match_all_warning_names_the_selector_index():
    errors, warnings = federation_match_findings(["up", '{job!=""}'])
    assert (errors, warnings) == ([], [
        "global_federation_match[1] '{job!=\"\"}' matches every series: the global will copy whole "
        "datacenters, which does not scale; federate recording-rule aggregates "
        "(e.g. '{__name__=~\"job:.+\"}') instead"
    ])


def test_an_empty_selector_is_an_error():
    assert federation_match_findings(["{}"]) == ([EMPTY_SELECTOR_ERROR], [])


@pytest.mark.parametrize("selector", ['{job=~".*"}', '{job=""}', '{job!="node", env=~"p?"}'])
def test_a_selector_whose_every_matcher_matches_the_empty_string_is_an_error(selector):
    assert federation_match_findings([selector]) == ([
        "global_federation_match[0] %r: every matcher also matches the empty string, which Prometheus "
        "refuses; add one that does not, e.g. a metric name or job=~\".+\"" % selector
    ], [])


@pytest.mark.parametrize("selectors", [[], None, "up", {"up": True}], ids=["empty_list", "none", "string", "dict"])
def test_selectors_that_are_not_a_non_empty_list_are_an_error(selectors):
    assert federation_match_findings(selectors) == ([
        "global_federation_match must be a non-empty list of series selectors, "
        "e.g. ['{__name__=~\"job:.+\"}', 'up']"
    ], [])


@pytest.mark.parametrize("item, shown", [(42, "42"), (None, "None"), ("  ", "'  '")],
                         ids=["int", "none", "blank"])
def test_a_selector_that_is_not_a_non_blank_string_is_an_error(item, shown):
    assert federation_match_findings(["up", item]) == ([
        "global_federation_match[1] %s: must be a series selector string such as 'up' or "
        "'{__name__=~\"job:.+\"}'" % shown
    ], [])


@pytest.mark.parametrize("selector", ['{job="a"', 'up{job="a"}x', "{job=a}", 'up job="a"', '{job="a" x}'])
def test_an_unparsable_selector_is_an_error(selector):
    assert federation_match_findings([selector]) == ([
        "global_federation_match[0] %r: is not a series selector; write metric{label=\"value\", ...}" % selector
    ], [])


def test_a_selector_with_a_leading_space_and_a_trailing_bare_word_is_not_a_series_selector():
    selector = '{ job="a",x}'
    assert federation_match_findings([selector]) == ([
        "global_federation_match[0] %r: is not a series selector; write metric{label=\"value\", ...}" % selector
    ], [])


def test_every_bad_selector_is_reported_and_warnings_are_kept_apart():
    assert federation_match_findings(["{}", '{job=~".+"}', '{job=""}']) == (
        [
            EMPTY_SELECTOR_ERROR,
            "global_federation_match[2] '{job=\"\"}': every matcher also matches the empty string, which "
            "Prometheus refuses; add one that does not, e.g. a metric name or job=~\".+\"",
        ],
        [
            "global_federation_match[1] '{job=~\".+\"}' matches every series: the global will copy whole "
            "datacenters, which does not scale; federate recording-rule aggregates "
            "(e.g. '{__name__=~\"job:.+\"}') instead",
        ],
    )


# --- federation_scrape_configs ----------------------------------------------------------------

MATCH = ['{__name__=~"job:.+"}', '{__name__="up"}']


def test_federation_scrape_configs_has_one_job_per_datacenter_targeting_all_its_replicas():
    topology = build_topology(VALID_GROUPS, VALID_GLOBALS, VALID_HOSTVARS)
    assert federation_scrape_configs(topology, MATCH, "30s", "25s") == [
        {
            "job_name": "federate-eu-west",
            "honor_labels": True,
            "metrics_path": "/federate",
            "scheme": "http",
            "scrape_interval": "30s",
            "scrape_timeout": "25s",
            "params": {"match[]": ['{__name__=~"job:.+"}', '{__name__="up"}']},
            "static_configs": [{"targets": ["eu1.example.net:9090"], "labels": {"datacenter": "eu-west"}}],
        },
        {
            "job_name": "federate-us-east",
            "honor_labels": True,
            "metrics_path": "/federate",
            "scheme": "http",
            "scrape_interval": "30s",
            "scrape_timeout": "25s",
            "params": {"match[]": ['{__name__=~"job:.+"}', '{__name__="up"}']},
            "static_configs": [{"targets": ["10.1.0.1:9090", "10.1.0.2:9191"],
                                "labels": {"datacenter": "us-east"}}],
        },
    ]


def test_federation_scrape_configs_use_the_given_scheme_interval_and_timeout():
    topology = build_topology({"dc_eu": ["eu1"]}, ["g1"],
                              {"eu1": host("eu1", datacenter="eu-west"), **GLOBAL})
    [job] = federation_scrape_configs(topology, ["up"], "1m", "50s", scheme="https")
    assert (job["scheme"], job["scrape_interval"], job["scrape_timeout"], job["params"]) == (
        "https", "1m", "50s", {"match[]": ["up"]})


def test_federation_scrape_configs_copy_the_match_list():
    topology = build_topology({"dc_eu": ["eu1"]}, ["g1"],
                              {"eu1": host("eu1", datacenter="eu-west"), **GLOBAL})
    match = ["up"]
    [job] = federation_scrape_configs(topology, match, "30s", "25s")
    match.append("other")
    assert job["params"]["match[]"] == ["up"]


def test_federation_scrape_configs_of_a_topology_without_datacenters_is_empty():
    assert federation_scrape_configs(build_topology({}, ["g1"], GLOBAL), MATCH, "30s", "25s") == []


def test_a_host_placed_directly_in_the_datacenters_group_is_an_error_naming_it():
    problems = problems_of({"dc_eu": ["eu1"]}, ["g1"],
                           {"eu1": host("eu1", datacenter="eu-west"), **GLOBAL},
                           loose_hosts=("stray",))
    assert problems == ["host 'stray' is directly in 'datacenters'; put it in a child group that stands "
                        "for its datacenter"]


# --- servers in Kubernetes ------------------------------------------------------------------------


def in_cluster(name: str, datacenter: str, url: object, **kubernetes) -> dict:
    """A datacenter server deployed into a cluster: prometheus_kubernetes with its federation_url."""
    options = {"kubeconfig": "/etc/kube/%s.conf" % datacenter, "context": datacenter, "namespace": "monitoring",
               "federation_url": url, **kubernetes}
    return host(name, datacenter=datacenter, ansible_connection="local", prometheus_kubernetes=options)


def test_a_server_in_kubernetes_is_reached_by_its_federation_url():
    topology = build_topology({"dc_eu": ["eu-k8s"]}, ["g1"],
                              {"eu-k8s": in_cluster("eu-k8s", "eu-west", "http://10.0.0.5:30090"), **GLOBAL})
    server = topology["servers"]["eu-k8s"]
    assert (server["deployment"], server["target"], server["url"], server["scheme"]) == (
        "kubernetes", "10.0.0.5:30090", "http://10.0.0.5:30090", "http")
    assert server["machine"] == "kubernetes:/etc/kube/eu-west.conf/eu-west/monitoring"
    assert server["port"] is None
    assert server["kubernetes_name"] == "promfleet-eu-k8s"


def test_a_server_in_kubernetes_scrapes_itself_on_its_port_in_the_pod():
    topology = build_topology({"dc_eu": ["eu-k8s", "eu-k8s-b"]}, ["g1"], {
        "eu-k8s": in_cluster("eu-k8s", "eu-west", "http://10.0.0.5:30090"),
        "eu-k8s-b": in_cluster("eu-k8s-b", "eu-west", "http://10.0.0.6:30090", port=9095), **GLOBAL})
    assert topology["servers"]["eu-k8s"]["self_target"] == "localhost:9090"
    assert topology["servers"]["eu-k8s-b"]["self_target"] == "localhost:9095"


def test_the_kubernetes_name_is_a_dns_label_of_at_most_52_characters():
    assert kubernetes_name("EU_West.1-prom-a") == "promfleet-eu-west-1-prom-a"
    assert kubernetes_name("x" * 80) == "promfleet-" + "x" * 42


def test_an_ingress_url_gives_the_default_port_and_a_path_prefix_for_the_federation_job():
    topology = build_topology({"dc_eu": ["eu-k8s"]}, ["g1"], {
        "eu-k8s": in_cluster("eu-k8s", "eu-west", "https://prometheus.eu.example.com/eu/"), **GLOBAL})
    [job] = federation_scrape_configs(topology, ["up"], "30s", "25s")
    assert (job["scheme"], job["metrics_path"], job["static_configs"][0]["targets"]) == (
        "https", "/eu/federate", ["prometheus.eu.example.com:443"])


def test_host_servers_keep_the_scheme_given_to_the_federation_jobs():
    topology = build_topology({"dc_eu": ["eu-k8s"], "dc_us": ["us1"]}, ["g1"], {
        "eu-k8s": in_cluster("eu-k8s", "eu-west", "http://10.0.0.5:30090"),
        "us1": host("us1", datacenter="us-east", ansible_host="10.1.0.1"), **GLOBAL})
    jobs = {job["job_name"]: job for job in federation_scrape_configs(topology, ["up"], "30s", "25s", "https")}
    assert (jobs["federate-us-east"]["scheme"], jobs["federate-eu-west"]["scheme"]) == ("https", "http")


def test_two_clusters_on_the_same_controller_do_not_clash_on_a_port():
    topology = build_topology({"dc_eu": ["eu-k8s"], "dc_us": ["us-k8s"]}, ["g1"], {
        "eu-k8s": in_cluster("eu-k8s", "eu-west", "http://10.0.0.5:30090"),
        "us-k8s": in_cluster("us-k8s", "us-east", "http://10.0.1.5:30090"), **GLOBAL})
    assert sorted(topology["servers"]) == ["eu-k8s", "g1", "us-k8s"]


@pytest.mark.parametrize("url", [None, "", "10.0.0.5:30090", "ftp://x:1", "http://", "http://x:99999",
                                 "http://x:1/?q=1"])
def test_a_missing_or_unusable_federation_url_is_refused_naming_the_host(url):
    assert problems_of({"dc_eu": ["eu-k8s"]}, ["g1"], {"eu-k8s": in_cluster("eu-k8s", "eu-west", url), **GLOBAL}) == [
        "host 'eu-k8s': prometheus_kubernetes.federation_url %r must be the http(s) URL other servers reach this "
        "Prometheus by, such as http://10.0.0.5:30090 (a NodePort) or https://prometheus.eu.example.com "
        "(an Ingress)" % (url,)]


def test_prometheus_kubernetes_must_be_a_mapping():
    hostvars = {"eu-k8s": host("eu-k8s", datacenter="eu-west", prometheus_kubernetes="yes"), **GLOBAL}
    assert problems_of({"dc_eu": ["eu-k8s"]}, ["g1"], hostvars) == [
        "host 'eu-k8s': prometheus_kubernetes must be a mapping (kubeconfig, context, namespace, federation_url, "
        "...), got str"]


def test_a_datacenter_server_is_waited_for_long_enough_to_scrape_a_new_target_once():
    # answer (5 s) + the next discovery update (5 s) + one scrape interval
    hostvars = {"h1": host("h1", datacenter="dc", datacenter_scrape_interval="2s"), **GLOBAL}
    result = build_topology({"dc_1": ["h1"]}, ["g1"], hostvars)
    assert result["servers"]["h1"]["verify"] == {"max_age": 0.0, "wait": 12}
