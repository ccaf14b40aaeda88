"""The inventories shipped with the collection describe valid federations."""

from __future__ import annotations

from fleet import REPO
from inventory import hostvars_for

from ansible_collections.promfleet.federation.plugins.filter.topology import topology


def test_the_local_inventory_is_two_datacenters_and_a_global_on_loopback():
    result = topology(hostvars_for(REPO / "inventories" / "local"))
    assert [(dc["name"], [s["target"] for s in dc["servers"]]) for dc in result["datacenters"]] == [
        ("eu-west-1", ["127.0.0.1:29091"]),
        ("us-east-1", ["127.0.0.1:29092"]),
    ]
    assert [s["target"] for s in result["globals"]] == ["127.0.0.1:29090"]


def test_the_example_inventory_has_three_datacenters_two_replicas_in_one_and_two_globals():
    result = topology(hostvars_for(REPO / "inventories" / "example"))
    assert {dc["name"]: [s["target"] for s in dc["servers"]] for dc in result["datacenters"]} == {
        "ap-south-1": ["prom-a.ap-south-1.example.net:9090"],
        "eu-west-1": ["10.10.0.11:9090", "10.10.0.12:9090"],
        "us-east-1": ["10.20.0.11:9090"],
    }
    assert [s["name"] for s in result["globals"]] == ["prom-global-a.example.net", "prom-global-b.example.net"]


def test_the_two_replicas_of_the_example_differ_by_their_replica_label_only():
    result = topology(hostvars_for(REPO / "inventories" / "example"))
    eu = next(dc for dc in result["datacenters"] if dc["name"] == "eu-west-1")
    assert [s["external_labels"] for s in eu["servers"]] == [
        {"datacenter": "eu-west-1", "replica": "prom-a.eu-west-1.example.net"},
        {"datacenter": "eu-west-1", "replica": "prom-b.eu-west-1.example.net"},
    ]


def test_the_local_inventory_watches_three_node_exporters_on_loopback_ports():
    result = topology(hostvars_for(REPO / "inventories" / "local"))
    assert {dc["name"]: dc["jobs"]["node"]["groups"] for dc in result["datacenters"]} == {
        "eu-west-1": [{"targets": ["127.0.0.1:29100"], "labels": {"instance": "eu-west-1-node-1"}},
                      {"targets": ["127.0.0.1:29101"], "labels": {"instance": "eu-west-1-node-2"}}],
        "us-east-1": [{"targets": ["127.0.0.1:29102"], "labels": {"instance": "us-east-1-node-1"}}],
    }
    assert sorted(result["watched"]) == ["eu-west-1-node-1", "eu-west-1-node-2", "us-east-1-node-1"]


def test_the_example_inventory_watches_machines_with_exporters_and_a_service_of_its_own_path():
    result = topology(hostvars_for(REPO / "inventories" / "example"))
    eu = next(dc for dc in result["datacenters"] if dc["name"] == "eu-west-1")
    assert list(eu["jobs"]) == ["blackbox", "checkout", "mysqld", "node"]
    assert eu["jobs"]["checkout"] == {"kind": "service", "groups": [
        {"targets": ["10.10.1.21:8080"], "labels": {"instance": "web-1.eu-west-1.example.net", "service": "checkout",
                                                    "__metrics_path__": "/internal/metrics"}},
        {"targets": ["10.10.1.22:8080"], "labels": {"instance": "web-2.eu-west-1.example.net", "service": "checkout",
                                                    "__metrics_path__": "/internal/metrics"}},
    ]}
    assert eu["jobs"]["blackbox"]["groups"] == [
        {"targets": ["10.10.1.31:9115"], "labels": {"instance": "db-1.eu-west-1.example.net", "rack": "r12",
                                                    "__metrics_path__": "/probe", "__param_module": "http_2xx"}}]
    us = next(dc for dc in result["datacenters"] if dc["name"] == "us-east-1")
    assert [s["name"] for s in us["servers"]] == ["prom-a.us-east-1.example.net"]
    assert [m["name"] for m in us["watched"]] == ["prom-a-node.us-east-1.example.net", "web-1.us-east-1.example.net"]


def test_the_example_inventory_has_a_global_alertmanager_cluster_and_one_of_eu_west_1():
    result = topology(hostvars_for(REPO / "inventories" / "example"))
    assert {name: cluster["targets"] for name, cluster in result["clusters"].items()} == {
        "eu-west-1": ["10.10.0.31:9093", "10.10.0.32:9093"],
        "global": ["10.0.0.31:9093", "10.0.0.32:9093"],
    }
    sends = {name: [m["static_configs"][0]["targets"][0] for m in server["alerting"]["alertmanagers"]]
             for name, server in result["servers"].items()}
    assert sends["prom-a.eu-west-1.example.net"] == ["10.10.0.31:9093"]
    assert sends["prom-a.us-east-1.example.net"] == sends["prom-global-a.example.net"] == ["10.0.0.31:9093"]


def test_the_local_inventory_has_one_global_alertmanager_cluster_of_two_on_loopback():
    result = topology(hostvars_for(REPO / "inventories" / "local"))
    assert result["clusters"]["global"]["peers"] == {"alertmanager-a": ["127.0.0.1:29096"],
                                                     "alertmanager-b": ["127.0.0.1:29094"]}
