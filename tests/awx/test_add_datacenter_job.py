"""The job templates that change the fleet's shape. "add a datacenter": its survey names a group, a label
and a server the inventory does not have; one job converges the new datacenter and the global federates
it. "teardown": a limit and a survey answer. Last in the session: the jobs before them need the whole
fleet, and the inventory of the jobs does not have the new datacenter."""

from __future__ import annotations

from awx import NEW_SITE
from bedfleet import GLOBAL, UNIT, eventually
from test_site_job import DATACENTERS, federated

SITE = next(iter(NEW_SITE))
SERVER = NEW_SITE[SITE][0]


def test_add_a_datacenter_job_converges_it_and_the_global_federates_it(site_job, run_job, bed, fleet_dir):
    assert site_job.status == "successful", site_job.failures()
    added = run_job("playbooks/add_datacenter.yml", "promfleet add a datacenter", "add-a-datacenter job",
                    answers={"datacenter_group": "dc_" + SITE, "datacenter_label": SITE,
                             "datacenter_hosts": "%s=%s" % (SERVER, bed.address(SERVER))})
    assert (added.status, added.rc) == ("successful", 0), added.failures()
    assert added.changed().get(SERVER), "the new server was not converged: %s" % added.changed()
    assert added.artifact_data["promfleet_verdict"] == "verified"
    assert added.artifact_data["promfleet_datacenters"] == sorted([*DATACENTERS, SITE])
    assert added.artifact_data["promfleet_servers"][SERVER] == {"datacenter": SITE, "answered": True}
    assert eventually(lambda: federated(bed, fleet_dir) == {*DATACENTERS, SITE}, timeout=60,
                      what="the new datacenter's up at the global")


def test_add_a_datacenter_job_refuses_bad_answers_naming_the_field_before_any_change(site_job, run_job, bed):
    assert site_job.status == "successful", site_job.failures()
    refused = run_job("playbooks/add_datacenter.yml", "promfleet add a datacenter", "add-a-datacenter job (refused)",
                      answers={"datacenter_group": "dc-4", "datacenter_label": DATACENTERS[0],
                               "datacenter_hosts": "dc4-prom-a=10.0.0.1 $(id)"})
    assert refused.status == "failed" and refused.rc != 0
    for phrase in ("datacenter_group 'dc-4' is not a group name",
                   "datacenter_label '%s' is already the label of another datacenter" % DATACENTERS[0],
                   "datacenter_hosts: '$(id)' is not `name` or `name=address`"):
        assert phrase in refused.stdout, refused.stdout[-3000:]
    assert set(refused.stats.get("failures") or {}) == {"localhost"}
    assert not any(refused.changed().values())


def test_teardown_job_with_a_limit_removes_only_that_datacenter_and_keeps_its_data_when_the_survey_says_so(
        site_job, run_job, bed):
    """The teardown job template asks for a limit and, in a survey, whether to keep the data: the answer
    arrives as a string, "true" or "false" (every survey answer is a string)."""
    assert site_job.status == "successful", site_job.failures()
    gone, kept = "dc2-prom-a", "dc1-prom-a"
    torn = run_job("playbooks/teardown.yml", "promfleet teardown", "teardown job (dc_dc2, keep data)",
                   answers={"prometheus_teardown_keep_data": "true"}, limit="dc_dc2")
    assert (torn.status, torn.rc) == ("successful", 0), torn.failures()
    assert set(torn.changed()) == {gone}, torn.changed()
    assert bed.run(gone, ["systemctl", "is-active", UNIT[gone]], check=False).stdout.strip() == "inactive"
    assert not exists(bed, gone, "/etc/systemd/system/%s.service" % UNIT[gone])
    assert not exists(bed, gone, "/etc/promfleet/" + UNIT[gone])
    assert exists(bed, gone, "/var/lib/promfleet/%s/wal" % UNIT[gone]), "the data was removed"
    assert bed.run(kept, ["systemctl", "is-active", UNIT[kept]], check=False).stdout.strip() == "active"


def test_teardown_job_whose_survey_says_false_removes_the_data(site_job, run_job, bed):
    assert site_job.status == "successful", site_job.failures()
    assert exists(bed, GLOBAL, "/var/lib/promfleet/%s/wal" % UNIT[GLOBAL])
    torn = run_job("playbooks/teardown.yml", "promfleet teardown", "teardown job (global-a)",
                   answers={"prometheus_teardown_keep_data": "false"}, limit=GLOBAL)
    assert (torn.status, torn.rc) == ("successful", 0), torn.failures()
    assert set(torn.changed()) == {GLOBAL}, torn.changed()
    assert not exists(bed, GLOBAL, "/var/lib/promfleet/" + UNIT[GLOBAL]), "the data is still there"


def exists(bed, host: str, path: str) -> bool:
    return bed.run(host, ["test", "-e", path], check=False).returncode == 0
