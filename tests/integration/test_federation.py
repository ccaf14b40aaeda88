"""One converged federation (two datacenters, one global): what it serves, and how re-runs behave.

The fleet is the session fixture `federation` (conftest.py). Tests that change it put it back.
"""

from __future__ import annotations

import json

import pytest
from fleet import Fleet, federated_datacenters, query, wait_for
from it_support import assert_nothing_runs, assert_succeeded, config_files, says, scratch_root, server_readings

# A rule group of the user's own; its `job:` series is one the global federates by default.
EXTRA_RULE = "job:it_probe_up:max"
EXTRA_RULES = {"datacenter_extra_recording_rules": [
    {"name": "it_probe", "rules": [{"record": EXTRA_RULE, "expr": "max by (job) (up)"}]},
]}


def datacenters_of(samples: list[dict]) -> set[str]:
    return {sample["metric"].get("datacenter") for sample in samples}


def test_global_receives_every_datacenter(federation):
    expected = set(federation.fleet.datacenters)
    assert wait_for(lambda: federated_datacenters(federation.global_url) == expected, timeout=30,
                    what="count by (datacenter) (up) at the global to show %s" % sorted(expected))


def test_federated_up_series_carry_datacenter_and_replica_labels(federation):
    samples = wait_for(lambda: query(federation.global_url, 'up{job!~"federate-.+", datacenter!=""}'),
                       timeout=30, what="federated `up` series at the global")
    labels = {(s["metric"].get("datacenter"), s["metric"].get("replica")) for s in samples}
    assert labels == {(dc, federation.fleet.server_of(dc)) for dc in federation.fleet.datacenters}


def test_recording_rule_of_every_datacenter_is_federated(federation):
    expected = set(federation.fleet.datacenters)
    assert wait_for(lambda: datacenters_of(query(federation.global_url, "job:up:sum")) == expected,
                    timeout=30, what="job:up:sum of every datacenter at the global")


def test_second_run_changes_nothing(federation):
    run = federation.run()
    assert_succeeded(run)
    assert run.changed() == 0, "a second run changed something: %s\n%s" % (run.recap(), run.output[-6000:])


def test_check_diff_on_a_fleet_never_converged_shows_what_it_would_create_and_creates_nothing():
    fleet = Fleet(scratch_root("never-converged"), datacenters=["eu-west-1"])
    inventory = fleet.write_inventory()
    run = fleet.run("playbooks/site.yml", inventory, "--check", "--diff", check=False)
    assert_succeeded(run)
    assert set(run.recap()) == {"eu-west-1-prom-a", "global-a", "localhost"}
    assert all(counts["changed"] == 1 for host, counts in run.recap().items() if host != "localhost")
    for host in fleet.hosts():
        config = fleet.root / "etc" / ("promfleet-" + host) / "prometheus.yml"
        program = fleet.root / "supervisor" / "programs" / ("promfleet-%s.conf" % host)
        assert says(run, "+++ after: %s (secrets redacted)" % config), run.output[-6000:]
        assert says(run, "+++ after: %s" % program)
        assert says(run, "- job_name: prometheus")
        assert says(run, "+++ after: promfleet-%s (supervisord)" % host)
        assert says(run, "started: it did not run")
    assert says(run, "+++ after: %s" % fleet.supervisord_conf)
    assert says(run, "check mode: this run started and changed nothing")
    # Nothing was created: the root holds the inventory only; no process, no listening port.
    assert sorted(p.name for p in fleet.root.iterdir()) == ["inventory"]
    assert_nothing_runs(fleet)


def test_check_diff_on_the_converged_fleet_reports_no_change_and_changes_nothing(federation):
    files_before, servers_before = config_files(federation.fleet), server_readings(federation.fleet)
    run = federation.run("--check", "--diff")
    assert_succeeded(run)
    assert run.changed() == 0, "--check --diff reports changes: %s\n%s" % (run.recap(), run.output[-6000:])
    assert config_files(federation.fleet) == files_before
    assert server_readings(federation.fleet) == servers_before, "a server restarted or reloaded"


def test_check_with_a_config_change_reports_it_but_leaves_the_files_alone(federation):
    files_before = config_files(federation.fleet)
    run = federation.run("--check", "-e", json.dumps(EXTRA_RULES))
    assert_succeeded(run)
    changed = {host for host, counts in run.recap().items() if counts.get("changed")}
    assert changed == set(federation.datacenter_servers), run.output[-6000:]
    assert config_files(federation.fleet) == files_before


@pytest.fixture(scope="class")
def config_change(federation):
    """site.yml with EXTRA_RULES; each server's start time and last reload before and after.
    The next run without it (at the end of the class) puts the federation back."""
    before = server_readings(federation.fleet)
    run = federation.run("-e", json.dumps(EXTRA_RULES))
    yield {"run": run, "before": before, "after": server_readings(federation.fleet)}
    assert_succeeded(federation.run())


class TestConfigOnlyChange:
    """A rule group added with -e datacenter_extra_recording_rules is reloaded, never restarted."""

    def test_run_succeeds_and_changes_only_the_datacenter_servers(self, federation, config_change):
        assert_succeeded(config_change["run"])
        changed = {host for host, counts in config_change["run"].recap().items() if counts.get("changed")}
        assert changed == set(federation.datacenter_servers)

    def test_no_server_restarts(self, config_change):
        started_before = {host: reading["started"] for host, reading in config_change["before"].items()}
        started_after = {host: reading["started"] for host, reading in config_change["after"].items()}
        assert started_after == started_before

    def test_changed_servers_reload_their_configuration(self, federation, config_change):
        for host in federation.datacenter_servers:
            before, after = config_change["before"][host]["reloaded"], config_change["after"][host]["reloaded"]
            assert after > before, "%s did not reload (last reload at %s, before the run %s)" % (host, after, before)

    def test_new_rule_series_appears_in_every_datacenter(self, federation, config_change):
        for host in federation.datacenter_servers:
            assert wait_for(lambda h=host: query(federation.fleet.url(h), EXTRA_RULE), timeout=30,
                            what="%s on %s" % (EXTRA_RULE, host))

    def test_new_rule_series_is_federated_to_the_global(self, federation, config_change):
        expected = set(federation.fleet.datacenters)
        assert wait_for(lambda: datacenters_of(query(federation.global_url, EXTRA_RULE)) == expected,
                        timeout=30, what="%s of every datacenter at the global" % EXTRA_RULE)
