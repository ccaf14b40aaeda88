"""playbooks/verify.yml on the shared federation: the table, the pictures, and failing by name.

Also run at the end of site.yml; here it runs on its own, as a user runs it after a change.
"""

from __future__ import annotations

import re
import subprocess
import xml.etree.ElementTree as ET

import pytest
from fleet import FAST_INTERVALS, federated_datacenters, query, wait_for
from it_support import assert_failed, assert_succeeded, says, table_lines


def verify(federation):
    return federation.fleet.run("playbooks/verify.yml", federation.inventory, check=False)


def test_a_healthy_federation_is_verified_with_one_row_per_datacenter_and_global(federation):
    run = verify(federation)
    assert_succeeded(run)
    rows = {line.split()[0]: line.split() for line in table_lines(run)}
    assert rows["DATACENTER"][-1] == "STATUS"
    for dc in federation.fleet.datacenters:
        assert rows[dc][1] == federation.fleet.server_of(dc)
        assert rows[dc][-1] == "ok"
    assert rows["(global)"][1] == "global-a"
    assert says(run, "federation verified: every global has fresh data of every datacenter")
    assert run.changed() == 0


def test_the_topology_is_written_as_svg_and_mermaid(federation):
    assert_succeeded(verify(federation))
    report = federation.fleet.root / "report"
    svg = ET.parse(report / "topology.svg").getroot()
    texts = {t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")}
    assert set(federation.fleet.hosts()) <= texts
    markdown = (report / "topology.md").read_text()
    for dc in federation.fleet.datacenters:
        server = federation.fleet.server_of(dc).replace("-", "_")
        assert "srv_%s -- \"/federate " % server in markdown
    assert "```mermaid\nflowchart BT\n" in markdown


def age_at_global(global_url: str, datacenter: str) -> float:
    """Seconds since the newest federated `up` of ``datacenter`` at the global; infinite when it has none."""
    found = query(global_url, 'time() - max(timestamp(up{datacenter="%s", job!~"federate-.+"}))' % datacenter)
    return float(found[0]["value"][1]) if found else float("inf")


@pytest.fixture
def stopped_server(federation):
    """us-east-1's server stopped through the private supervisord, started again afterwards."""
    fleet = federation.fleet
    server = fleet.server_of("us-east-1")
    program = "promfleet-%s" % server
    supervisorctl = ["supervisorctl", "-c", str(fleet.supervisord_conf)]
    subprocess.run(supervisorctl + ["stop", program], check=True, capture_output=True, timeout=60)
    try:
        # Federated samples carry their own timestamps, so no staleness marker removes them: the
        # global's data of us-east-1 only ages. Until it is older than verify.yml's limit, the
        # global rightly still calls it fresh.
        limit = 2 * float(FAST_INTERVALS["global_federation_interval"].rstrip("s"))
        wait_for(lambda: age_at_global(federation.global_url, "us-east-1") > limit, timeout=60,
                 what="the global's data of us-east-1 to be older than %g s" % limit)
        yield server
    finally:
        subprocess.run(supervisorctl + ["start", program], check=True, capture_output=True, timeout=60)
        expected = set(fleet.datacenters)
        wait_for(lambda: federated_datacenters(federation.global_url) == expected, timeout=60,
                 what="every datacenter federated again")


def test_a_stopped_datacenter_server_fails_verification_naming_it_and_its_datacenter(federation, stopped_server):
    run = verify(federation)
    assert_failed(run)
    url = federation.fleet.url(stopped_server)
    assert says(run, "datacenter us-east-1: server %s (%s) does not answer" % (stopped_server, url)), \
        run.output[-4000:]
    # The fixture waited until the data is older than the limit; after five minutes it is gone.
    assert re.search(r"global global-a has (no `up` of datacenter us-east-1|data of datacenter us-east-1, but)",
                     " ".join(run.output.split())), run.output[-4000:]
    rows = {line.split()[0]: line for line in table_lines(run)}
    assert rows["us-east-1"].endswith("FAILED")
    assert rows["eu-west-1"].endswith("ok")
