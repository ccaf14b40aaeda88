"""The version matrix end to end: a federation with a reload on each older line (2.42, 2.53), mixed
fleets (2.x datacenters into a 3.x global, a 3.x datacenter into a 2.x global), and what preflight
refuses about versions before anything changes. The whole rest of the suite runs on the 3.x release.
"""

from __future__ import annotations

import json

import pytest
import releases
from fleet import Fleet, federated_datacenters, metric, open_url, wait_for
from it_support import assert_failed, assert_nothing_runs, assert_succeeded, says, scratch_root, tear_down


def buildinfo(url: str) -> str:
    with open_url(url + "/api/v1/status/buildinfo") as answer:  # noqa: S310 - loopback
        return json.load(answer)["data"]["version"]


def converge(fleet: Fleet, inventory, **extra) -> None:
    run = fleet.run("playbooks/site.yml", inventory, "-e", json.dumps(extra), check=False) if extra else \
        fleet.run("playbooks/site.yml", inventory, check=False)
    assert_succeeded(run)
    return run


@pytest.mark.parametrize("line", [line for line in releases.MATRIX if line != releases.DEFAULT_LINE])
def test_a_federation_on_an_older_line_converges_and_reloads_without_restarting(line):
    fleet = Fleet(scratch_root("line-%s" % line), datacenters=["eu-west-1"], release=line)
    inventory = fleet.write_inventory()
    try:
        converge(fleet, inventory)
        assert wait_for(lambda: federated_datacenters(fleet.url("global-a")) == {"eu-west-1"}, timeout=40,
                        what="the datacenter federated at the global")
        for host in fleet.hosts():
            assert buildinfo(fleet.url(host)).startswith(releases.release(line)["version"])
        before = {h: (metric(fleet.url(h), "process_start_time_seconds"),
                      metric(fleet.url(h), "prometheus_config_last_reload_success_timestamp_seconds"))
                  for h in fleet.hosts()}
        # A changed evaluation interval changes every prometheus.yml: a reload, not a restart.
        converge(fleet, inventory, datacenter_evaluation_interval="3s", global_evaluation_interval="3s")
        for host, (started, reloaded) in before.items():
            assert metric(fleet.url(host), "process_start_time_seconds") == started, host
            assert metric(fleet.url(host), "prometheus_config_last_reload_success_timestamp_seconds") > reloaded, host
            assert metric(fleet.url(host), "prometheus_config_last_reload_successful") == 1, host
    finally:
        tear_down(fleet, inventory)


def test_datacenters_on_2_x_federate_into_a_3_x_global():
    old = [line for line in releases.MATRIX if line.startswith("2.")]
    datacenters = ["dc-%s" % line.replace(".", "-") for line in old]
    fleet = Fleet(scratch_root("mixed-into-3"), datacenters=datacenters,
                  host_releases={Fleet.server_of(dc): line for dc, line in zip(datacenters, old, strict=True)})
    inventory = fleet.write_inventory()
    try:
        run = converge(fleet, inventory)
        assert says(run, "the fleet mixes Prometheus 2.x"), run.output[-4000:]
        assert wait_for(lambda: federated_datacenters(fleet.url("global-a")) == set(datacenters), timeout=40,
                        what="both 2.x datacenters federated at the 3.x global")
        assert buildinfo(fleet.url("global-a")).startswith("3.")
        # The 3.x global pins the escaping a 2.x global would get.
        config = (fleet.root / "etc" / "promfleet-global-a" / "prometheus.yml").read_text()
        assert "metric_name_escaping_scheme: underscores" in config
    finally:
        tear_down(fleet, inventory)


def test_a_3_x_datacenter_federates_into_a_2_x_global():
    fleet = Fleet(scratch_root("three-into-2"), datacenters=["eu-west-1"], host_releases={"global-a": "2.53"})
    inventory = fleet.write_inventory()
    try:
        converge(fleet, inventory)
        assert wait_for(lambda: federated_datacenters(fleet.url("global-a")) == {"eu-west-1"}, timeout=40,
                        what="the 3.x datacenter federated at the 2.53 global")
        assert buildinfo(fleet.url("global-a")).startswith("2.53")
    finally:
        tear_down(fleet, inventory)


@pytest.mark.parametrize(
    ("settings", "phrases"),
    [
        ({"prometheus_extra_flags": ["--storage.tsdb.retention=15d"]},
         ["host 'eu-west-1-prom-a'", "flag --storage.tsdb.retention was removed in Prometheus 3.0",
          "use --storage.tsdb.retention.time"]),
        ({"prometheus_extra_flags": ["--enable-feature=agent"]},
         ["host 'eu-west-1-prom-a'", "--enable-feature=agent is ignored by Prometheus", "use --agent"]),
        ({"prometheus_version": "3.14.0"},
         ["host 'eu-west-1-prom-a'", "prometheus_version 3.14.0", "not modelled by the engine"]),
        ({"prometheus_schema_version": "3.13"},
         ["host 'eu-west-1-prom-a'", "prometheus_schema_version 3.13 is newer than the release 3.5."]),
    ],
    ids=["flag-removed-in-3", "feature-ignored-by-3", "release-not-modelled", "schema-newer-than-release"],
)
def test_preflight_refuses_what_the_release_cannot_run_and_changes_nothing(settings, phrases):
    fleet = Fleet(scratch_root("version-refusals"), datacenters=["eu-west-1"])
    data = fleet.inventory()
    Fleet.datacenter_host(data, "eu-west-1").update(settings)
    inventory = fleet.write_inventory(data=data)
    run = fleet.run("playbooks/site.yml", inventory, check=False)
    assert_failed(run)
    for phrase in phrases:
        assert says(run, phrase), "%r not in:\n%s" % (phrase, run.output[-4000:])
    assert_nothing_runs(fleet)
    assert not (fleet.root / "etc").exists()
