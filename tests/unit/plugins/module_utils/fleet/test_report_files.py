"""What verify.yml leaves for a person (``fleet/report.py``): observations read from the servers'
facts, and the pictures written atomically."""

from __future__ import annotations

from ansible_collections.promfleet.federation.plugins.module_utils.fleet import report

TOPOLOGY = {
    "datacenters": [{"name": "eu", "servers": [{"name": "eu-a", "url": "http://10.0.0.1:9090"}]}],
    "globals": [{"name": "g-a", "url": "http://10.0.0.9:9090"}],
    "servers": {"eu-a": {}, "g-a": {}},
}
SEEN = {"eu-a": {"prometheus_verify": {"targets_up": 1, "targets_total": 1}},
        "g-a": {"prometheus_verify": {"targets_up": 2, "targets_total": 2, "federation_ages": {"eu": 3.0},
                                      "max_age": 60.0}},
        "other": {"prometheus_verify": {"targets_up": 0, "targets_total": 0}}}


def test_observations_are_the_facts_of_the_servers_of_the_topology():
    assert report.observations_of(TOPOLOGY, SEEN) == {"eu-a": SEEN["eu-a"]["prometheus_verify"],
                                                      "g-a": SEEN["g-a"]["prometheus_verify"]}


def test_a_server_without_the_fact_was_not_reached():
    verdict = report.verdict(TOPOLOGY, report.observations_of(TOPOLOGY, {"g-a": SEEN["g-a"]}))
    assert verdict["ok"] is False
    assert verdict["failures"] == ["datacenter eu: server eu-a was not reached in this run (down, unreachable or "
                                   "failed earlier in the run)"]


def test_the_pictures_are_written_into_the_report_directory(tmp_path):
    verdict = report.verdict(TOPOLOGY, report.observations_of(TOPOLOGY, SEEN))
    written = report.write_report(str(tmp_path / "report"), verdict)
    assert written == [str(tmp_path / "report" / "topology.svg"), str(tmp_path / "report" / "topology.md")]
    assert (tmp_path / "report" / "topology.svg").read_text() == verdict["svg"]
    markdown = (tmp_path / "report" / "topology.md").read_text()
    assert markdown.startswith("# promfleet federation\n\n```mermaid\nflowchart BT\n")
    assert verdict["table"] in markdown
    assert sorted(p.name for p in (tmp_path / "report").iterdir()) == ["topology.md", "topology.svg"]
