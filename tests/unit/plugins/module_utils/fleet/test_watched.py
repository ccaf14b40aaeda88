"""Specification of what each datacenter watches: the machines of its group that are in the watched
group, their node_exporter, exporters and services, and the jobs and target files that follow
(plugins/module_utils/fleet/watched.py through topology.build_topology)."""

from __future__ import annotations

import json

import pytest

from ansible_collections.promfleet.federation.plugins.module_utils.errors import TopologyError
from ansible_collections.promfleet.federation.plugins.module_utils.fleet import watched
from ansible_collections.promfleet.federation.plugins.module_utils.fleet.topology import build_topology

GLOBALS = ["g1"]


def inventory(**machines: dict) -> tuple:
    """One datacenter (group dc_eu, label eu-west) with server prom-eu and the given watched machines."""
    hostvars = {"prom-eu": {"datacenter": "eu-west", "ansible_host": "10.0.0.1"},
                "g1": {"ansible_host": "10.9.0.1"}}
    for name, variables in machines.items():
        hostvars[name] = {"datacenter": "eu-west", "ansible_host": "10.0.1.%d" % (len(hostvars)), **variables}
    return {"dc_eu": ["prom-eu", *machines]}, hostvars


def topology_of(**machines: dict) -> dict:
    groups, hostvars = inventory(**machines)
    return build_topology(groups, GLOBALS, hostvars, watched_hosts=tuple(machines))


def problems_of(**machines: dict) -> list:
    groups, hostvars = inventory(**machines)
    with pytest.raises(TopologyError) as caught:
        build_topology(groups, GLOBALS, hostvars, watched_hosts=tuple(machines))
    return caught.value.problems


def test_hosts_of_a_datacenter_group_in_the_watched_group_are_machines_the_others_servers():
    result = topology_of(web1={}, web2={})
    eu = result["datacenters"][0]
    assert [s["name"] for s in eu["servers"]] == ["prom-eu"]
    assert [m["name"] for m in eu["watched"]] == ["web1", "web2"]
    assert sorted(result["servers"]) == ["g1", "prom-eu"]
    assert sorted(result["watched"]) == ["web1", "web2"]


def test_every_watched_machine_gets_a_node_target_named_by_its_inventory_name():
    eu = topology_of(web1={}, web2={"node_exporter_port": 9200})["datacenters"][0]
    assert eu["jobs"] == {"node": {"kind": "node", "groups": [
        {"targets": ["10.0.1.2:9100"], "labels": {"instance": "web1"}},
        {"targets": ["10.0.1.3:9200"], "labels": {"instance": "web2"}},
    ]}}


def test_a_specific_listen_address_is_where_node_exporter_is_scraped_and_watched_address_overrides_it():
    eu = topology_of(a={"node_exporter_listen_address": "192.168.5.5"},
                     b={"node_exporter_listen_address": "192.168.5.6", "watched_address": "b.eu.example.net"},
                     c={"ansible_connection": "local"})["datacenters"][0]
    assert [g["targets"] for g in eu["jobs"]["node"]["groups"]] == [
        ["192.168.5.5:9100"], ["b.eu.example.net:9100"], ["127.0.0.1:9100"]]


def test_a_machine_without_node_exporter_is_scraped_only_for_what_it_declares():
    eu = topology_of(db={"node_exporter_enabled": False, "watched_exporters": [{"name": "mysqld", "port": 9104}]}
                     )["datacenters"][0]
    assert list(eu["jobs"]) == ["mysqld"]
    assert eu["watched"][0]["node_exporter"] is None


def test_exporter_path_scheme_params_and_labels_are_per_target_so_machines_may_differ():
    eu = topology_of(
        a={"watched_exporters": [{"name": "probe", "port": 9115, "metrics_path": "/probe", "scheme": "https",
                                  "params": {"module": ["http_2xx"]}, "labels": {"team": "web"}}],
           "watched_labels": {"rack": "r1"}},
        b={"watched_exporters": [{"name": "probe", "port": 9115}]},
    )["datacenters"][0]
    assert eu["jobs"]["probe"] == {"kind": "exporter", "groups": [
        {"targets": ["10.0.1.2:9115"], "labels": {"instance": "a", "rack": "r1", "team": "web",
                                                  "__metrics_path__": "/probe", "__scheme__": "https",
                                                  "__param_module": "http_2xx"}},
        {"targets": ["10.0.1.3:9115"], "labels": {"instance": "b"}},
    ]}


def test_a_service_job_carries_the_service_label_and_keeps_its_targets_by_name():
    eu = topology_of(web={"watched_services": [{"name": "checkout", "port": 8080,
                                                "metrics_path": "/internal/metrics"}]})["datacenters"][0]
    assert eu["jobs"]["checkout"]["groups"] == [
        {"targets": ["10.0.1.2:8080"], "labels": {"instance": "web", "service": "checkout",
                                                  "__metrics_path__": "/internal/metrics"}}]
    configs = watched.scrape_configs(eu["jobs"], "/etc/p/targets")
    assert configs == [
        {"job_name": "checkout", "file_sd_configs": [{"files": ["/etc/p/targets/checkout.json"]}],
         "relabel_configs": [{"source_labels": ["service"], "action": "keep", "regex": "checkout"}]},
        {"job_name": "node", "file_sd_configs": [{"files": ["/etc/p/targets/node.json"]}]},
    ]


def test_in_a_cluster_the_targets_are_inline_and_there_are_no_target_files_to_write():
    eu = topology_of(web={})["datacenters"][0]
    assert watched.scrape_configs(eu["jobs"], None) == [
        {"job_name": "node", "static_configs": [{"targets": ["10.0.1.2:9100"], "labels": {"instance": "web"}}]}]


def test_target_files_are_one_per_job_rendered_as_stable_json():
    eu = topology_of(web={})["datacenters"][0]
    files = watched.target_files(eu["jobs"], "/etc/p/targets/")
    assert list(files) == ["/etc/p/targets/node.json"]
    text = watched.render_target_file(files["/etc/p/targets/node.json"])
    assert json.loads(text) == eu["jobs"]["node"]["groups"]
    assert text == watched.render_target_file(json.loads(text)) and text.endswith("\n")


def test_a_datacenter_without_watched_machines_has_no_jobs():
    assert topology_of()["datacenters"][0]["jobs"] == {}


# --- bad input: each refused naming the host and the field --------------------------------------

@pytest.mark.parametrize("variables, expected", [
    ({"node_exporter_port": 70000},
     "host 'web': node_exporter_port is 70000; it must be a TCP port number from 1 to 65535"),
    ({"node_exporter_port": "http"},
     "host 'web': node_exporter_port is 'http'; it must be a TCP port number from 1 to 65535"),
    ({"node_exporter_enabled": "maybe"}, "host 'web': node_exporter_enabled is 'maybe'; it must be true or false"),
    ({"watched_exporters": {"name": "x"}},
     "host 'web': watched_exporters must be a list of {name, port, metrics_path, scheme, params, labels}, not dict"),
    ({"watched_exporters": ["mysqld"]},
     "host 'web': watched_exporters[0] must be a mapping with name and port"),
    ({"watched_exporters": [{"name": "my-sql", "port": 9104}]},
     "host 'web': watched_exporters[0].name is 'my-sql'; it names the scrape job, so it must be an identifier"),
    ({"watched_services": [{"name": "9lives", "port": 80}]},
     "host 'web': watched_services[0].name is '9lives'; it names the scrape job, so it must be an identifier"),
    ({"watched_exporters": [{"name": "prometheus", "port": 9104}]},
     "host 'web': watched_exporters[0].name 'prometheus' is the job of the server itself; choose another name"),
    ({"watched_exporters": [{"name": "node", "port": 9104}]},
     "host 'web': watched_exporters[0].name 'node' is the job of node_exporter; choose another name"),
    ({"watched_exporters": [{"name": "mysqld"}]},
     "host 'web': watched_exporters[0].port is missing; it is the port the exporter listens on"),
    ({"watched_services": [{"name": "api", "port": 0}]},
     "host 'web': watched_services[0].port is 0; it must be a TCP port number from 1 to 65535"),
    ({"watched_exporters": [{"name": "mysqld", "port": 9104, "path": "/m"}]},
     "host 'web': watched_exporters[0]: unknown field path; the fields are name, port, metrics_path, scheme, "
     "params, labels"),
    ({"watched_exporters": [{"name": "mysqld", "port": 9104, "metrics_path": "metrics"}]},
     "host 'web': watched_exporters[0].metrics_path is 'metrics'; it must be a path starting with '/'"),
    ({"watched_exporters": [{"name": "mysqld", "port": 9104, "scheme": "ftp"}]},
     "host 'web': watched_exporters[0].scheme is 'ftp'; use http or https"),
    ({"watched_exporters": [{"name": "probe", "port": 9115, "params": {"module": ["a", "b"]}}]},
     "host 'web': watched_exporters[0].params.module is ['a', 'b']; a watched target takes one value per parameter"),
    ({"watched_exporters": [{"name": "probe", "port": 9115, "params": ["module"]}]},
     "host 'web': watched_exporters[0].params must be a mapping of parameter name to a value"),
    ({"watched_exporters": [{"name": "probe", "port": 9115, "labels": {"job": "x"}}]},
     "host 'web': watched_exporters[0].labels: label 'job' is set by the collection"),
    ({"watched_exporters": [{"name": "probe", "port": 9115, "labels": {"__address__": "x"}}]},
     "host 'web': watched_exporters[0].labels: label name '__address__' is not valid"),
    ({"watched_labels": {"instance": "x"}}, "host 'web': watched_labels: label 'instance' is set by the collection"),
    ({"watched_labels": {"rack": {"row": 1}}}, "host 'web': watched_labels: the value of 'rack' must be a string"),
    ({"watched_labels": ["rack"]}, "host 'web': watched_labels must be a mapping of label name to value, not list"),
    ({"watched_exporters": [{"name": "mysqld", "port": 9104}, {"name": "mysqld", "port": 9105}]},
     "host 'web': watched_exporters declares 'mysqld' twice; one machine has one target per job"),
])
def test_bad_input_of_a_watched_machine_is_refused_naming_host_and_field(variables, expected):
    problems = problems_of(web=variables)
    assert any(problem.startswith(expected) for problem in problems), problems


def test_a_port_clash_on_one_machine_names_both_listeners():
    problems = problems_of(web={"watched_exporters": [{"name": "mysqld", "port": 9100}]})
    assert problems == ["host 'web': node_exporter_port and watched_exporters mysqld both use port 9100; give one of "
                        "them another port"]


def test_a_port_clash_between_a_server_and_a_machine_on_one_machine_names_both_hosts():
    groups, hostvars = inventory(web={"ansible_host": "10.0.0.1", "node_exporter_port": 9090})
    with pytest.raises(TopologyError) as caught:
        build_topology(groups, GLOBALS, hostvars, watched_hosts=("web",))
    assert caught.value.problems == [
        "hosts 'prom-eu' (prometheus_port) and 'web' (node_exporter_port) run on the same machine and both use port "
        "9090; give one of them another port"]


def test_machines_of_different_addresses_may_use_the_same_ports():
    assert topology_of(a={}, b={})["datacenters"][0]["jobs"]["node"]["groups"][1]["targets"] == ["10.0.1.3:9100"]


def test_a_watched_machine_in_two_datacenters_is_refused_naming_both_groups():
    hostvars = {"p1": {"datacenter": "eu"}, "p2": {"datacenter": "us"}, "web": {"ansible_host": "10.0.1.1"},
                "g1": {}}
    with pytest.raises(TopologyError) as caught:
        build_topology({"dc_eu": ["p1", "web"], "dc_us": ["p2", "web"]}, GLOBALS, hostvars, watched_hosts=("web",))
    assert caught.value.problems == [
        "host 'web' is in several datacenter groups ('dc_eu', 'dc_us'); a watched machine belongs to one datacenter"]


def test_a_watched_machine_in_no_datacenter_group_is_refused():
    groups, hostvars = inventory()
    hostvars["lost"] = {}
    with pytest.raises(TopologyError) as caught:
        build_topology(groups, GLOBALS, hostvars, watched_hosts=("lost",))
    assert caught.value.problems == [
        "host 'lost' is in 'watched' but in no datacenter group; add it to the group of the datacenter that watches it"]


def test_a_global_server_cannot_be_a_watched_machine():
    groups, hostvars = inventory()
    with pytest.raises(TopologyError) as caught:
        build_topology(groups, GLOBALS, hostvars, watched_hosts=("g1",))
    assert any(p.startswith("host 'g1' is both in 'watched' and in 'prometheus_global'") for p in caught.value.problems)


def test_a_datacenter_of_watched_machines_only_has_no_server():
    hostvars = {"web": {"datacenter": "eu"}, "g1": {}}
    with pytest.raises(TopologyError) as caught:
        build_topology({"dc_eu": ["web"]}, GLOBALS, hostvars, watched_hosts=("web",))
    assert caught.value.problems == [
        "datacenter group 'dc_eu' has no server: add at least one host to it that is not in 'watched' or "
        "'alertmanagers', or remove it from 'datacenters'"]


def test_one_name_as_an_exporter_on_one_machine_and_a_service_on_another_is_refused():
    problems = problems_of(a={"watched_exporters": [{"name": "api", "port": 8080}]},
                           b={"watched_services": [{"name": "api", "port": 8080}]})
    assert problems == ["datacenter eu-west: 'api' is an exporter on host 'a' and a service on host 'b'; a job is one "
                        "or the other: rename one"]
