"""site.yml and verify.yml as AWX runs them: receptor -> ansible-runner worker -> podman EE -> SSH to the bed.

The job's project is a checkout of this repository, its inventory AWX's script, the fleet's web password a
survey answer (``!unsafe``), the machine credential the bed's key (ssh-agent in the EE), and the fleet's
CA lives in a host folder the job sees at the same path. What the tests check from outside is what the
fleet serves: the global, over TLS with that CA, has both datacenters' ``up``.
"""

from __future__ import annotations

from bedfleet import GLOBAL, PORT, WEB_PASSWORD, WEB_USER, eventually, query
from testbed import FLEET_SITES

DATACENTERS = sorted(site for site in FLEET_SITES if site != "global")
SERVERS = {host: (site if site != "global" else None) for site, hosts in FLEET_SITES.items() for host in hosts
           if "-prom-" in host or site == "global"}


def federated(bed, fleet_dir) -> set[str]:
    """Datacenters whose own targets' ``up`` the global has, asked over TLS with the fleet CA of the
    mounted folder."""
    result = query("https://%s:%d" % (bed.address(GLOBAL), PORT),
                   'count by (datacenter) (up{datacenter!="", job!~"federate-.+"})',
                   ca=str(fleet_dir / "pki" / "ca.crt"), auth=(WEB_USER, WEB_PASSWORD))
    return {sample["metric"]["datacenter"] for sample in result}


def test_site_job_converges_the_bed_over_ssh_from_the_execution_environment(site_job, bed, fleet_dir):
    assert (site_job.status, site_job.rc) == ("successful", 0), site_job.failures()
    assert set(site_job.stats["ok"]) >= {*(h for hosts in FLEET_SITES.values() for h in hosts), "localhost"}
    assert not site_job.stats.get("failures") and not site_job.stats.get("dark")
    assert eventually(lambda: federated(bed, fleet_dir) == set(DATACENTERS), timeout=60,
                      what="both datacenters' up at the global")


def test_site_job_hands_the_verdict_on_in_the_stats_event_artifact_data(site_job):
    artifacts = site_job.artifact_data
    assert artifacts["promfleet_verdict"] == "verified", site_job.failures()
    assert artifacts["promfleet_datacenters"] == DATACENTERS
    assert artifacts["promfleet_servers"] == {name: {"datacenter": dc, "answered": True}
                                              for name, dc in SERVERS.items()}
    assert set(artifacts["promfleet_ages"]) == {GLOBAL}
    assert set(artifacts["promfleet_ages"][GLOBAL]) == set(DATACENTERS)


def test_site_job_writes_the_fleet_ca_into_the_folder_exposed_to_isolated_jobs(site_job, fleet_dir):
    assert site_job.status == "successful", site_job.failures()
    assert (fleet_dir / "pki" / "ca.crt").read_text().startswith("-----BEGIN CERTIFICATE-----")
    assert any((fleet_dir / "report").iterdir()), "the verdict's report is not in the mounted folder"


def test_second_site_job_changes_nothing(site_job, run_job):
    assert site_job.status == "successful", site_job.failures()
    again = run_job("playbooks/site.yml", "promfleet site", "site job (re-run)")
    assert (again.status, again.rc) == ("successful", 0), again.failures()
    # the stats event counts per host, and leaves out a host with nothing to count
    assert set(again.stats["ok"]) >= set(SERVERS)
    assert not any(again.changed().values()), again.changed()
    assert again.artifact_data["promfleet_verdict"] == "verified"


def test_verify_job_succeeds(site_job, run_job):
    assert site_job.status == "successful", site_job.failures()
    verify = run_job("playbooks/verify.yml", "promfleet verify", "verify job")
    assert (verify.status, verify.rc) == ("successful", 0), verify.failures()
    assert verify.artifact_data["promfleet_verdict"] == "verified"
    assert verify.artifact_data["promfleet_datacenters"] == DATACENTERS
