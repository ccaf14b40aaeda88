"""site.yml on real machines: fresh Debian hosts booting systemd, reached over SSH.

Two datacenters, ``dc1`` (a Prometheus server ``dc1-prom-a`` and a machine it watches,
``dc1-web-1``, a node_exporter) and ``dc2`` (``dc2-prom-a``), and a global (``global-a``), each in
a subnet of its own. The hosts are a minimal Debian install: the collection installs what it needs
itself. They download the release tarballs from this machine (the releases cache served over
HTTP), never from the internet. Every endpoint serves TLS with the fleet CA and asks for the
fleet's user. The tests run in order on one converged federation: converge, look, re-run, change,
tear down (last of the session).
"""

from __future__ import annotations

import pytest
from bedfleet import (
    DATACENTERS,
    GLOBAL,
    HOSTS,
    MACHINE,
    NODE_EXPORTER_PORT,
    SERVER,
    UNIT,
    eventually,
    get,
    metric,
    unit_state,
)


def test_site_converges_fresh_hosts_over_ssh(converged):
    recap = converged.first_run.recap()
    assert set(recap) >= set(HOSTS)
    assert all(counts.get("failed", 0) == 0 and counts.get("unreachable", 0) == 0 for counts in recap.values())


@pytest.mark.parametrize("host", HOSTS)
def test_the_collection_installs_pyyaml_on_a_fresh_host(converged, host):
    # The image lacks it (scripts/testbed_image.sh); the daemon module installs it with apt.
    status = converged.bed.run(host, ["dpkg-query", "-W", "-f", "${Status}", "python3-yaml"], check=False)
    assert status.stdout.strip() == "install ok installed", status.stdout + status.stderr


def test_the_run_made_the_fleet_ca_and_every_endpoint_serves_tls_with_auth(converged):
    assert converged.ca.is_file()
    for host in (SERVER, GLOBAL):
        assert get(converged.url(host) + "/-/ready", **converged.http)
    assert get(converged.url(MACHINE, NODE_EXPORTER_PORT) + "/metrics", **converged.http).startswith(b"# HELP")


@pytest.mark.parametrize("host", HOSTS)
def test_each_daemon_runs_as_a_systemd_unit(converged, host):
    bed = converged.bed
    state = unit_state(bed, host)
    assert state["ActiveState"] == "active"
    assert state["FragmentPath"] == "/etc/systemd/system/%s.service" % UNIT[host]
    assert int(state["MainPID"]) > 0
    assert bed.run(host, ["systemctl", "is-enabled", UNIT[host]]).stdout.strip() == "enabled"


def test_the_datacenter_scrapes_the_watched_machine_across_the_network(converged):
    bed = converged.bed

    def machine_up() -> list[dict]:
        return [sample for sample in converged.query(SERVER, "up == 1")
                if sample["metric"].get("instance", "").startswith(bed.address(MACHINE) + ":")
                or MACHINE in sample["metric"].values()]

    assert eventually(machine_up, what="the machine's node_exporter up at the datacenter")


def test_the_global_federates_both_datacenters_each_in_a_subnet_of_its_own(converged):
    subnets = {converged.bed.sites[site].subnet for site in [*DATACENTERS, "global"]}
    assert len(subnets) == len(DATACENTERS) + 1

    def both() -> bool:
        return converged.federated_datacenters() == set(DATACENTERS)

    eventually(both, what="dc1 and dc2 at the global")


def test_a_second_run_changes_nothing(converged):
    done = converged.run(timing="site.yml re-run")
    assert done.changed() == 0, done.output[-4000:]


def test_a_configuration_change_reloads_without_a_restart(converged):
    bed = converged.bed

    def last_reload() -> float:
        return metric(converged.url(SERVER), "prometheus_config_last_reload_success_timestamp_seconds",
                      **converged.http)

    before, reloaded_at = unit_state(bed, SERVER), last_reload()
    converged.server_vars["prometheus_external_labels"] = {"rack": "r12"}
    converged.run()
    after = unit_state(bed, SERVER)
    assert (after["MainPID"], after["NRestarts"]) == (before["MainPID"], before["NRestarts"])
    assert last_reload() > reloaded_at
    config = converged.get_json(SERVER, "/api/v1/status/config")["data"]["yaml"]
    assert "rack: r12" in config


def test_a_flag_change_restarts_the_service(converged):
    bed = converged.bed
    before = unit_state(bed, SERVER)
    converged.server_vars["prometheus_retention_time"] = "2d"
    converged.run()
    after = unit_state(bed, SERVER)
    assert after["ActiveState"] == "active"
    assert after["MainPID"] != before["MainPID"]
    flags = converged.get_json(SERVER, "/api/v1/status/flags")["data"]
    assert flags["storage.tsdb.retention.time"] == "2d"


@pytest.mark.teardown
def test_teardown_removes_the_units(converged):
    bed = converged.bed
    converged.run("playbooks/teardown.yml", timing="teardown.yml")
    for host in HOSTS:
        assert bed.run(host, ["test", "-e", "/etc/systemd/system/%s.service" % UNIT[host]], check=False).returncode == 1
        assert bed.run(host, ["systemctl", "is-active", UNIT[host]], check=False).stdout.strip() == "inactive"
