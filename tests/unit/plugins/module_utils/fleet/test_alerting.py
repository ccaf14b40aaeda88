"""Specification of where alerts go (plugins/module_utils/fleet/alerting.py through
topology.build_topology): Alertmanager clusters from the inventory, and the alerting section of
every server."""

from __future__ import annotations

import pytest

from ansible_collections.promfleet.federation.plugins.module_utils.errors import TopologyError
from ansible_collections.promfleet.federation.plugins.module_utils.fleet.topology import build_topology
from ansible_collections.promfleet.federation.plugins.module_utils.model.promconfig import normalize_config

HOSTVARS = {
    "eu1": {"datacenter": "eu", "ansible_host": "10.1.0.1"},
    "eu2": {"datacenter": "eu", "ansible_host": "10.1.0.2"},
    "us1": {"datacenter": "us", "ansible_host": "10.2.0.1"},
    "g1": {"ansible_host": "10.9.0.1"},
    "am-eu-a": {"datacenter": "eu", "ansible_host": "10.1.0.11"},
    "am-eu-b": {"datacenter": "eu", "ansible_host": "10.1.0.12", "alertmanager_port": 9193},
    "am-g-a": {"ansible_host": "10.9.0.11"},
    "am-g-b": {"ansible_host": "10.9.0.12"},
}
REPLICA_DROPPED = [{"action": "labeldrop", "regex": "replica"}]


def build(groups: dict, managers: tuple, hostvars: dict | None = None) -> dict:
    return build_topology(groups, ["g1"], dict(HOSTVARS, **(hostvars or {})), alertmanager_hosts=managers)


def test_alertmanagers_in_no_datacenter_group_are_the_global_cluster_that_every_server_sends_to():
    result = build({"dc_eu": ["eu1"], "dc_us": ["us1"]}, ("am-g-a", "am-g-b"))
    assert result["clusters"] == {"global": {
        "members": ["am-g-a", "am-g-b"],
        "targets": ["10.9.0.11:9093", "10.9.0.12:9093"],
        "peers": {"am-g-a": ["10.9.0.12:9094"], "am-g-b": ["10.9.0.11:9094"]},
    }}
    expected = {"alert_relabel_configs": REPLICA_DROPPED, "alertmanagers": [
        {"api_version": "v2", "static_configs": [{"targets": ["10.9.0.11:9093", "10.9.0.12:9093"]}]}]}
    assert {name: server["alerting"] for name, server in result["servers"].items()} == {
        "eu1": expected, "us1": expected, "g1": expected}
    assert sorted(result["alertmanagers"]) == ["am-g-a", "am-g-b"]


def test_a_datacenters_own_cluster_takes_its_servers_alerts_the_others_go_to_the_global_cluster():
    result = build({"dc_eu": ["eu1", "eu2", "am-eu-a", "am-eu-b"], "dc_us": ["us1"]},
                   ("am-eu-a", "am-eu-b", "am-g-a"))
    eu = result["datacenters"][0]
    assert [s["name"] for s in eu["servers"]] == ["eu1", "eu2"]
    assert result["clusters"]["eu"]["targets"] == ["10.1.0.11:9093", "10.1.0.12:9193"]
    targets = {name: [m["static_configs"][0]["targets"] for m in server["alerting"]["alertmanagers"]]
               for name, server in result["servers"].items()}
    assert targets == {"eu1": [["10.1.0.11:9093", "10.1.0.12:9193"]], "eu2": [["10.1.0.11:9093", "10.1.0.12:9193"]],
                       "us1": [["10.9.0.11:9093"]], "g1": [["10.9.0.11:9093"]]}


def test_without_a_global_cluster_a_global_sends_to_every_datacenters_cluster_and_others_send_nowhere():
    result = build({"dc_eu": ["eu1", "am-eu-a"], "dc_us": ["us1"]}, ("am-eu-a",))
    assert [m["static_configs"][0]["targets"] for m in result["servers"]["g1"]["alerting"]["alertmanagers"]] == [
        ["10.1.0.11:9093"]]
    assert result["servers"]["us1"]["alerting"] == {}


def test_without_alertmanagers_no_server_has_an_alerting_section():
    result = build({"dc_eu": ["eu1"]}, ())
    assert result["clusters"] == {} and result["servers"]["eu1"]["alerting"] == {}


def test_the_alerting_section_is_one_the_engine_accepts_on_every_line():
    result = build({"dc_eu": ["eu1", "am-eu-a"]}, ("am-eu-a", "am-g-a"))
    for version in ("2.42", "2.53", "3.5"):
        config = normalize_config({"alerting": result["servers"]["eu1"]["alerting"]}, version)
        assert config["alerting"]["alertmanagers"][0]["api_version"] == "v2"


def test_a_local_instance_is_reached_on_loopback_and_a_specific_listen_address_as_given():
    result = build({"dc_eu": ["eu1"]}, ("am-g-a", "am-g-b"),
                   {"am-g-a": {"ansible_connection": "local"},
                    "am-g-b": {"alertmanager_listen_address": "10.9.9.9",
                               "alertmanager_cluster_listen_address": "10.8.8.8"}})
    assert result["clusters"]["global"]["targets"] == ["127.0.0.1:9093", "10.9.9.9:9093"]
    assert result["clusters"]["global"]["peers"] == {"am-g-a": ["10.8.8.8:9094"], "am-g-b": ["127.0.0.1:9094"]}


def problems(groups: dict, managers: tuple, hostvars: dict | None = None, watched: tuple = ()) -> list:
    with pytest.raises(TopologyError) as caught:
        build_topology(groups, ["g1"], dict(HOSTVARS, **(hostvars or {})), alertmanager_hosts=managers,
                       watched_hosts=watched)
    return caught.value.problems


def test_an_alertmanager_that_is_also_a_global_server_is_refused():
    assert problems({"dc_eu": ["eu1"]}, ("g1",)) == [
        "host 'g1' is both in 'alertmanagers' and in 'prometheus_global'; a global server is not an Alertmanager: use "
        "a separate inventory host for the Alertmanager (it may share the machine)"]


def test_an_alertmanager_that_is_also_a_watched_machine_is_refused():
    found = problems({"dc_eu": ["eu1", "am-eu-a"]}, ("am-eu-a",), watched=("am-eu-a",))
    assert found[0].startswith("host 'am-eu-a' is both in 'watched' and in 'alertmanagers'")


def test_two_instances_on_one_machine_need_their_own_ports_and_bad_ports_name_host_and_field():
    found = problems({"dc_eu": ["eu1"]}, ("am-g-a", "am-g-b"),
                     {"am-g-b": {"ansible_host": "10.9.0.11", "alertmanager_cluster_port": "gossip"}})
    assert found == ["host 'am-g-b': alertmanager_cluster_port is 'gossip'; it must be a TCP port number from 1 to "
                     "65535",
                     "hosts 'am-g-a' (alertmanager_port) and 'am-g-b' (alertmanager_port) run on the same machine and "
                     "both use port 9093; give one of them another port"]


def test_a_datacenter_of_alertmanagers_only_has_no_server():
    assert problems({"dc_eu": ["am-eu-a"]}, ("am-eu-a",)) == [
        "datacenter group 'dc_eu' has no server: add at least one host to it that is not in 'watched' or "
        "'alertmanagers', or remove it from 'datacenters'"]
