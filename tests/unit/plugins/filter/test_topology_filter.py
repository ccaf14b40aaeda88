"""Specification of the topology filters against a real Ansible inventory (no mocks).

Each test writes a YAML inventory, loads it with Ansible's own InventoryManager and hands the
filters the same ``hostvars`` object a play would.
"""

from __future__ import annotations

import textwrap

import pytest
from ansible.errors import AnsibleFilterError
from ansible.vars.hostvars import HostVars
from inventory import hostvars_for

from ansible_collections.promfleet.federation.plugins.filter.topology import (
    FilterModule,
    federation_jobs,
    same_machine,
    topology,
    watched_scrape_configs,
    watched_target_files,
)
from ansible_collections.promfleet.federation.plugins.module_utils.fleet.topology import (
    instance_name,
    kubernetes_name,
)


def load_hostvars(path, inventory_yaml: str) -> HostVars:
    """Write ``inventory_yaml`` to ``path`` and return the ``hostvars`` of a play over it."""
    path.write_text(textwrap.dedent(inventory_yaml))
    return hostvars_for(path)


@pytest.fixture
def hostvars_of(tmp_path):
    """Turn YAML inventory text into the ``hostvars`` of a play over that inventory."""
    return lambda inventory_yaml: load_hostvars(tmp_path / "inventory.yml", inventory_yaml)


TWO_DATACENTERS = """
    all:
      children:
        datacenters:
          children:
            dc_eu:
              vars: {datacenter: eu-west}
              hosts:
                eu1: {ansible_host: 10.0.1.1}
                eu2: {ansible_host: 10.0.1.2}
            dc_us:
              vars: {datacenter: us-east}
              hosts:
                us1: {ansible_host: 10.0.2.1, prometheus_port: 9191}
        prometheus_global:
          hosts:
            g1: {ansible_host: 10.0.9.1}
        unrelated:
          hosts:
            web1: {ansible_host: 10.0.7.1}
"""


@pytest.fixture(scope="module")
def two_datacenters(tmp_path_factory):
    """hostvars of TWO_DATACENTERS, loaded once for the tests that only read it."""
    return load_hostvars(tmp_path_factory.mktemp("two_datacenters") / "inventory.yml", TWO_DATACENTERS)


def test_a_valid_inventory_gives_each_datacenter_its_servers_and_the_globals(two_datacenters):
    result = topology(two_datacenters)
    assert [(dc["name"], dc["group"], sorted(s["name"] for s in dc["servers"]))
            for dc in result["datacenters"]] == [
        ("eu-west", "dc_eu", ["eu1", "eu2"]),
        ("us-east", "dc_us", ["us1"]),
    ]
    assert [s["name"] for s in result["globals"]] == ["g1"]
    assert sorted(result["servers"]) == ["eu1", "eu2", "g1", "us1"]


def test_a_server_reads_its_inventory_variables_through_hostvars(two_datacenters):
    result = topology(two_datacenters)
    assert result["servers"]["us1"] == {
        "name": "us1",
        "instance": "promfleet-us1",
        "role": "datacenter",
        "group": "dc_us",
        "datacenter": "us-east",
        "deployment": "host",
        "listen_address": "0.0.0.0",
        "port": 9191,
        "scheme": "https",
        "path_prefix": "",
        "target": "10.0.2.1:9191",
        "self_target": "10.0.2.1:9191",
        "url": "https://10.0.2.1:9191",
        "machine": "10.0.2.1",
        "config_dir": "/etc/promfleet/promfleet-us1",
        "external_labels": {"datacenter": "us-east", "replica": "us1"},
        "verify": {"max_age": 0.0, "wait": 25},
        "release": "3.13.0",
        "alerting": {},
    }


def test_hosts_of_nested_child_groups_count_as_hosts_of_their_datacenter(hostvars_of):
    result = topology(hostvars_of("""
        all:
          children:
            datacenters:
              children:
                dc_eu:
                  vars: {datacenter: eu-west}
                  children:
                    dc_eu_rack1:
                      hosts:
                        eu1: {ansible_host: 10.0.1.1}
                    dc_eu_rack2:
                      children:
                        dc_eu_rack2_row1:
                          hosts:
                            eu2: {ansible_host: 10.0.1.2}
            prometheus_global:
              hosts:
                g1: {ansible_host: 10.0.9.1}
    """))
    assert [(dc["name"], dc["group"], sorted(s["name"] for s in dc["servers"]))
            for dc in result["datacenters"]] == [("eu-west", "dc_eu", ["eu1", "eu2"])]
    assert {result["servers"][h]["group"] for h in ("eu1", "eu2")} == {"dc_eu"}


def test_an_empty_child_group_of_datacenters_is_reported(hostvars_of):
    hostvars = hostvars_of("""
        all:
          children:
            datacenters:
              children:
                dc_eu:
                  vars: {datacenter: eu-west}
                  hosts:
                    eu1: {ansible_host: 10.0.1.1}
                dc_planned: {}
            prometheus_global:
              hosts:
                g1: {ansible_host: 10.0.9.1}
    """)
    with pytest.raises(AnsibleFilterError) as caught:
        topology(hostvars)
    assert str(caught.value) == (
        "the inventory does not describe a valid federation:\n"
        "- datacenter group 'dc_planned' has no server: add at least one host to it, "
        "or remove it from 'datacenters'"
    )


def test_overridden_group_names_select_the_datacenters_and_the_globals(hostvars_of):
    hostvars = hostvars_of("""
        all:
          children:
            sites:
              children:
                site_eu:
                  vars: {datacenter: eu-west}
                  hosts:
                    eu1: {ansible_host: 10.0.1.1}
            top:
              hosts:
                g1: {ansible_host: 10.0.9.1}
            datacenters:
              children:
                ignored_dc: {}
            prometheus_global:
              hosts:
                ignored_global: {ansible_host: 10.0.9.9}
    """)
    result = topology(hostvars, datacenters_group="sites", global_group="top")
    assert (result["datacenters_group"], result["global_group"]) == ("sites", "top")
    assert [(dc["name"], dc["group"]) for dc in result["datacenters"]] == [("eu-west", "site_eu")]
    assert [(s["name"], s["group"]) for s in result["globals"]] == [("g1", "top")]
    assert sorted(result["servers"]) == ["eu1", "g1"]


def test_an_inventory_without_the_topology_groups_is_an_empty_topology(hostvars_of):
    hostvars = hostvars_of("""
        all:
          hosts:
            web1: {ansible_host: 10.0.7.1}
    """)
    assert topology(hostvars) == {
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


def test_topology_errors_surface_as_an_ansible_filter_error_with_every_problem(hostvars_of):
    hostvars = hostvars_of("""
        all:
          children:
            datacenters:
              children:
                dc_eu:
                  vars: {datacenter: eu-west}
                  hosts:
                    eu1: {ansible_host: 10.0.1.1}
                dc_eu_old:
                  vars: {datacenter: eu-west}
                  hosts:
                    eu9: {ansible_host: 10.0.1.9}
    """)
    with pytest.raises(AnsibleFilterError) as caught:
        topology(hostvars)
    assert str(caught.value) == (
        "the inventory does not describe a valid federation:\n"
        "- datacenter groups 'dc_eu' and 'dc_eu_old' both set datacenter: eu-west; "
        "every datacenter needs its own value\n"
        "- datacenters exist (eu-west) but group 'prometheus_global' has no server: add at least one "
        "global Prometheus host to 'prometheus_global'"
    )


def test_a_host_in_two_datacenter_groups_is_reported_by_name(hostvars_of):
    hostvars = hostvars_of("""
        all:
          children:
            datacenters:
              children:
                dc_eu:
                  vars: {datacenter: eu-west}
                  hosts:
                    eu1: {ansible_host: 10.0.1.1}
                    shared: {ansible_host: 10.0.5.5}
                dc_us:
                  vars: {datacenter: us-east}
                  hosts:
                    us1: {ansible_host: 10.0.2.1}
                    shared: {}
            prometheus_global:
              hosts:
                g1: {ansible_host: 10.0.9.1}
    """)
    with pytest.raises(AnsibleFilterError) as caught:
        topology(hostvars)
    assert ("- host 'shared' is in several datacenter groups ('dc_eu', 'dc_us'); "
            "a server belongs to one datacenter") in str(caught.value)


def test_templated_group_vars_are_resolved_through_hostvars(hostvars_of):
    hostvars = hostvars_of("""
        all:
          children:
            datacenters:
              children:
                dc_eu:
                  vars:
                    datacenter: "{{ 'eu-' + 'west' }}"
                    base_port: 9000
                  hosts:
                    eu1:
                      ansible_host: 10.0.1.1
                      prometheus_port: "{{ base_port + 100 }}"
            prometheus_global:
              hosts:
                g1: {ansible_host: 10.0.9.1}
    """)
    server = topology(hostvars)["servers"]["eu1"]
    assert (server["datacenter"], server["port"], server["target"], server["external_labels"]) == (
        "eu-west", 9100, "10.0.1.1:9100", {"datacenter": "eu-west", "replica": "eu1"})


def test_topology_refuses_an_input_that_is_not_hostvars():
    with pytest.raises(AnsibleFilterError) as caught:
        topology({"eu1": {"datacenter": "eu-west"}})
    assert str(caught.value) == "promfleet.federation.topology expects the 'hostvars' variable as its input"


# --- federation_jobs --------------------------------------------------------------------------

def test_federation_jobs_for_valid_selectors_are_one_job_per_datacenter(two_datacenters):
    result = topology(two_datacenters)
    jobs = federation_jobs(result, ['{__name__=~"job:.+"}', '{__name__="up"}'])
    assert [(job["job_name"], job["scrape_interval"], job["scrape_timeout"], job["scheme"],
             job["params"], job["static_configs"]) for job in jobs] == [
        ("federate-eu-west", "30s", "25s", "http",
         {"match[]": ['{__name__=~"job:.+"}', '{__name__="up"}']},
         [{"targets": ["10.0.1.1:9090", "10.0.1.2:9090"], "labels": {"datacenter": "eu-west"}}]),
        ("federate-us-east", "30s", "25s", "http",
         {"match[]": ['{__name__=~"job:.+"}', '{__name__="up"}']},
         [{"targets": ["10.0.2.1:9191"], "labels": {"datacenter": "us-east"}}]),
    ]


def test_federation_jobs_pass_interval_timeout_and_scheme_on(two_datacenters):
    result = topology(two_datacenters)
    jobs = federation_jobs(result, ["up"], "1m", "50s", "https")
    assert {(job["scrape_interval"], job["scrape_timeout"], job["scheme"]) for job in jobs} == {
        ("1m", "50s", "https")}


def test_federation_jobs_refuses_the_empty_selector(two_datacenters):
    result = topology(two_datacenters)
    with pytest.raises(AnsibleFilterError) as caught:
        federation_jobs(result, ["{}"])
    assert str(caught.value) == (
        "invalid federation selectors:\n"
        "- global_federation_match[0] '{}': an empty selector matches nothing at /federate "
        "(Prometheus answers an empty body); name a metric or a label matcher"
    )


def test_federation_jobs_warns_about_a_match_everything_selector_but_still_returns_the_jobs(two_datacenters, capfd):
    result = topology(two_datacenters)
    jobs = federation_jobs(result, ['{job=~".+"}'])
    assert [job["params"] for job in jobs] == [{"match[]": ['{job=~".+"}']}] * 2
    assert "matches every series: the global will copy whole datacenters" in capfd.readouterr().err


# --- same_machine -----------------------------------------------------------------------------

def test_same_machine_lists_the_given_hosts_on_the_machine_of_host_in_the_given_order(hostvars_of):
    hostvars = hostvars_of("""
        all:
          hosts:
            a: {ansible_host: 10.0.0.1}
            b: {ansible_host: 10.0.0.2}
            c: {ansible_host: 10.0.0.1}
            d: {ansible_connection: local}
            e: {ansible_connection: local, ansible_host: 10.0.0.1}
    """)
    assert same_machine(hostvars, ["c", "b", "a", "d", "e"], "a") == ["c", "a"]
    assert same_machine(hostvars, ["c", "b", "a", "d", "e"], "e") == ["d", "e"]


def test_same_machine_works_for_a_host_not_in_the_list(hostvars_of):
    hostvars = hostvars_of("""
        all:
          hosts:
            a: {ansible_host: 10.0.0.1}
            b: {ansible_host: 10.0.0.2}
            c: {ansible_host: 10.0.0.1}
    """)
    assert same_machine(hostvars, ["b", "c"], "a") == ["c"]


# --- the plugin -------------------------------------------------------------------------------

def test_the_filter_module_exposes_topology_federation_jobs_same_machine_and_the_names():
    assert FilterModule().filters() == {
        "topology": topology,
        "federation_jobs": federation_jobs,
        "same_machine": same_machine,
        "watched_scrape_configs": watched_scrape_configs,
        "watched_target_files": watched_target_files,
        "instance_name": instance_name,
        "kubernetes_name": kubernetes_name,
    }


def test_prometheus_kubernetes_of_a_datacenter_group_makes_its_servers_kubernetes_ones(hostvars_of):
    result = topology(hostvars_of("""
        all:
          children:
            datacenters:
              children:
                dc_eu:
                  vars:
                    datacenter: eu-west
                    prometheus_kubernetes: {context: eu, namespace: monitoring, federation_url: "http://10.0.0.5:30090"}
                  hosts:
                    eu-k8s: {ansible_connection: local}
                dc_us:
                  vars:
                    datacenter: us-east
                    prometheus_kubernetes: {context: us, namespace: monitoring, federation_url: "http://10.0.1.5:30090"}
                  hosts:
                    us-k8s: {ansible_connection: local}
            prometheus_global:
              hosts:
                g1: {ansible_host: 10.0.9.1}
    """))
    assert {name: (s["deployment"], s["target"]) for name, s in result["servers"].items()} == {
        "eu-k8s": ("kubernetes", "10.0.0.5:30090"),
        "us-k8s": ("kubernetes", "10.0.1.5:30090"),
        "g1": ("host", "10.0.9.1:9090"),
    }
