"""Versions across a fleet: every server's release comes from the inventory, a fleet that mixes 2.x
and 3.x pins metric name escaping at its 3.x globals, and preflight refuses what a release cannot run."""

from __future__ import annotations

import pytest

from ansible_collections.promfleet.federation.plugins.module_utils.errors import ConfigError, TopologyError
from ansible_collections.promfleet.federation.plugins.module_utils.fleet.federation import federation_scrape_configs
from ansible_collections.promfleet.federation.plugins.module_utils.fleet.plan import host_problems, release_problems
from ansible_collections.promfleet.federation.plugins.module_utils.fleet.topology import build_topology


def fleet(dc_release: str | None, global_release: str | None) -> dict:
    hostvars = {
        "dc1": {"inventory_hostname": "dc1", "datacenter": "eu", "ansible_host": "10.0.0.1"},
        "g1": {"inventory_hostname": "g1", "ansible_host": "10.9.0.1"},
    }
    if dc_release:
        hostvars["dc1"]["prometheus_version"] = dc_release
    if global_release:
        hostvars["g1"]["prometheus_version"] = global_release
    return build_topology({"dc_eu": ["dc1"]}, ["g1"], hostvars)


def test_a_server_without_prometheus_version_runs_the_roles_default_lts():
    topology = fleet(None, None)
    assert {s["release"] for s in topology["servers"].values()} == {"3.13.0"}
    assert topology["mixed_versions"] is None


def test_a_fleet_on_one_major_version_pins_nothing():
    topology = fleet("2.42.0", "2.53.3")
    assert topology["mixed_versions"] is None
    (job,) = federation_scrape_configs(topology, ["up"], "5s", "4s", release="2.53.3")
    assert "metric_name_validation_scheme" not in job


def test_a_mixed_fleet_says_which_servers_run_2_x_and_what_the_3_x_globals_do():
    topology = fleet("2.42.0", "3.5.3")
    note = topology["mixed_versions"]["note"]
    assert "the fleet mixes Prometheus 2.x (dc1) and 3.x servers" in note
    assert "metric_name_escaping_scheme underscores" in note and "lifted once every server runs 3.x" in note


@pytest.mark.parametrize(("global_release", "pinned"), [
    ("3.5.3", {"metric_name_validation_scheme": "legacy", "metric_name_escaping_scheme": "underscores"}),
    # 3.0 to 3.3 have no escaping field: legacy validation escapes with underscores
    ("3.2.0", {"metric_name_validation_scheme": "legacy"}),
    ("2.53.3", {}),
])
def test_in_a_mixed_fleet_the_3_x_globals_federate_with_the_escaping_of_a_2_x_global(global_release, pinned):
    topology = fleet("2.42.0", "3.5.3")
    (job,) = federation_scrape_configs(topology, ["up"], "5s", "4s", release=global_release)
    assert {k: job[k] for k in ("metric_name_validation_scheme", "metric_name_escaping_scheme") if k in job} == pinned


def test_a_release_the_engine_does_not_model_is_refused_naming_the_host():
    with pytest.raises(TopologyError) as caught:
        fleet("3.14.0", None)
    assert "host 'dc1': prometheus_version 3.14.0: Prometheus version 3.14.0 is not modelled by the engine" in str(
        caught.value)


def test_release_problems_name_the_flag_the_release_and_what_to_use():
    problems = release_problems("3.5.3", "3.5", ["--config.file=/x", "--storage.tsdb.retention=15d"])
    assert problems == ["flag --storage.tsdb.retention was removed in Prometheus 3.0 (3.5.3 refuses to start with "
                        "it); use --storage.tsdb.retention.time"]
    assert release_problems("2.53.3", "2.53", ["--storage.tsdb.retention=15d"]) == []


def test_a_schema_newer_than_the_release_is_refused():
    (problem,) = release_problems("3.5.3", "3.13", [])
    assert problem.startswith("prometheus_schema_version 3.13 is newer than the release 3.5.3")


def test_host_problems_carry_the_release_problems_with_the_host():
    daemon = {"install": {"method": "binary"}, "flags": ["--agent"]}
    with pytest.raises(ConfigError) as caught:
        host_problems("dc1", daemon, [], "127.0.0.1", 9090, "2.42.0", "2.42")
    assert str(caught.value) == "host 'dc1': flag --agent needs Prometheus 3.0 or newer, the server runs 2.42.0"
