"""Specification of the verdict verify.yml gives (plugins/module_utils/federation_report.py)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from ansible_collections.promfleet.federation.plugins.module_utils.errors import ReportError
from ansible_collections.promfleet.federation.plugins.module_utils.fleet.report import (
    alertmanager_observation,
    evaluate,
    federation_ages,
    federation_failures,
    job_stats,
    observation,
    render_mermaid,
    render_svg,
    render_table,
)


def server(name: str, port: int) -> dict:
    return {"name": name, "url": "http://10.0.0.1:%d" % port}


TOPOLOGY = {
    "datacenters": [
        {"name": "eu-west-1", "servers": [server("eu-a", 9090), server("eu-b", 9091)]},
        {"name": "us-east-1", "servers": [server("us-a", 9092)]},
    ],
    "globals": [server("global-a", 9093)],
}


def targets(*health: str) -> dict:
    return {"activeTargets": [{"health": h} for h in health]}


def ages(**by_datacenter: float) -> dict:
    """An instant-vector answer to the age query; keyword names use _ for -."""
    return {"resultType": "vector", "result": [
        {"metric": {"datacenter": name.replace("_", "-")}, "value": [1795716000.0, str(age)]}
        for name, age in by_datacenter.items()]}


def healthy(**overrides) -> dict:
    seen = {
        "eu-a": observation(targets("up", "up")),
        "eu-b": observation(targets("up", "down")),
        "us-a": observation(targets("up")),
        "global-a": observation(targets("up", "up", "up"), ages(eu_west_1=3.2, us_east_1=4.9), max_age=60),
    }
    seen.update(overrides)
    return seen


def test_fresh_data_of_every_datacenter_at_every_global_passes():
    report = evaluate(TOPOLOGY, healthy())
    assert report["ok"] and report["failures"] == []


def test_rows_sum_targets_per_datacenter_and_show_the_age_at_each_global():
    rows = {row["datacenter"]: row for row in evaluate(TOPOLOGY, healthy())["rows"]}
    assert rows["eu-west-1"]["targets"] == "3/4"
    assert rows["eu-west-1"]["servers"] == "eu-a, eu-b"
    assert rows["eu-west-1"]["federation"] == {"global-a": "3.2 s"}
    assert rows["(global)"]["targets"] == "3/3"


def test_down_targets_are_shown_but_do_not_fail_the_federation():
    report = evaluate(TOPOLOGY, healthy(**{"us-a": observation(targets("down"))}))
    assert report["ok"]
    assert {row["datacenter"]: row["targets"] for row in report["rows"]}["us-east-1"] == "0/1"


def test_a_datacenter_missing_at_a_global_fails_naming_both():
    report = evaluate(TOPOLOGY, healthy(**{"global-a": observation(targets("up"), ages(eu_west_1=3.0), 60)}))
    assert not report["ok"]
    assert report["failures"] == [
        "global global-a has no `up` of datacenter us-east-1 with its datacenter label"]


def test_data_of_two_intervals_or_older_is_stale():
    report = evaluate(TOPOLOGY, healthy(**{"global-a": observation(
        targets("up"), ages(eu_west_1=60.0, us_east_1=1.0), 60)}))
    assert report["failures"] == [
        "global global-a has data of datacenter eu-west-1, but the newest `up` is 60.0 s old, not under 60.0 s "
        "(2 federation intervals)"]
    assert report["rows"][0]["federation"]["global-a"] == "stale 60.0 s"


def test_a_server_not_reached_in_the_run_fails_naming_it_and_its_datacenter():
    seen = healthy()
    del seen["us-a"]
    report = evaluate(TOPOLOGY, seen)
    assert report["failures"] == [
        "datacenter us-east-1: server us-a was not reached in this run (down, unreachable or failed earlier in "
        "the run)"]
    assert report["rows"][1]["servers"] == "us-a (not reached)"
    assert report["rows"][1]["targets"] == "-"


def test_a_server_that_does_not_answer_fails_with_its_url_and_error():
    report = evaluate(TOPOLOGY, healthy(**{"eu-b": observation(error="connection refused")}))
    assert report["failures"] == ["datacenter eu-west-1: server eu-b (http://10.0.0.1:9091) does not answer: "
                                  "connection refused"]
    assert report["rows"][0]["targets"] == "2/2"


def test_a_global_not_reached_is_one_failure_not_one_per_datacenter():
    seen = healthy()
    del seen["global-a"]
    report = evaluate(TOPOLOGY, seen)
    assert report["failures"] == [
        "global global-a was not reached in this run (down, unreachable or failed earlier in the run)"]
    assert [row["federation"] for row in report["rows"][:2]] == [{"global-a": "no answer"}] * 2


def test_federation_failures_of_one_global():
    assert federation_failures(TOPOLOGY, healthy()["global-a"]) == []
    assert len(federation_failures(TOPOLOGY, observation(targets(), ages(), 60))) == 2


def test_ages_are_read_from_the_instant_vector_and_never_negative():
    assert federation_ages(ages(eu_west_1=-0.2, us_east_1=7)) == {"eu-west-1": 0.0, "us-east-1": 7.0}


def test_an_answer_that_is_not_an_instant_vector_is_an_error():
    with pytest.raises(ReportError, match="not an instant vector sample"):
        federation_ages({"result": [{"metric": {"datacenter": "x"}, "values": [[1, "2"]]}]})


def test_the_table_has_a_column_per_global_and_says_what_failed():
    seen = healthy()
    del seen["us-a"]
    topology = dict(TOPOLOGY, globals=TOPOLOGY["globals"] + [server("global-b", 9094)])
    seen["global-b"] = observation(targets("up"), ages(eu_west_1=1.0, us_east_1=2.0), 60)
    lines = render_table(topology, evaluate(topology, seen)).splitlines()
    assert lines[0].split() == ["DATACENTER", "SERVERS", "WATCHED", "TARGETS", "UP", "AGE", "AT", "global-a", "AGE",
                                "AT", "global-b", "STATUS"]
    assert lines[2].split() == ["us-east-1", "us-a", "(not", "reached)", "-", "-", "4.9", "s", "2.0", "s", "FAILED"]
    assert lines[-2:] == ["federation NOT verified:", "  - datacenter us-east-1: server us-a was not reached in "
                          "this run (down, unreachable or failed earlier in the run)"]


def test_mermaid_has_every_server_and_an_edge_from_each_datacenter_server_to_each_global():
    chart = render_mermaid(TOPOLOGY, evaluate(TOPOLOGY, healthy()))
    assert chart.startswith("flowchart BT\n")
    assert 'subgraph dc_eu_west_1["datacenter eu-west-1"]' in chart
    edges = [line.strip() for line in chart.splitlines() if "-->" in line]
    assert edges == [
        'srv_eu_a -- "/federate 3.2 s" --> srv_global_a',
        'srv_eu_b -- "/federate 3.2 s" --> srv_global_a',
        'srv_us_a -- "/federate 4.9 s" --> srv_global_a',
    ]


def test_svg_is_well_formed_with_a_box_per_server_and_red_edges_where_federation_fails():
    seen = healthy(**{"global-a": observation(targets("up"), ages(eu_west_1=3.0), 60)})
    root = ET.fromstring(render_svg(TOPOLOGY, evaluate(TOPOLOGY, seen)))
    ns = "{http://www.w3.org/2000/svg}"
    texts = [t.text for t in root.iter(ns + "text")]
    for name in ["eu-a", "eu-b", "us-a", "global-a", "datacenter eu-west-1", "datacenter us-east-1"]:
        assert name in texts
    colours = [line.get("stroke") for line in root.iter(ns + "line")]
    assert colours == ["#2e7d32", "#2e7d32", "#c62828"]


def test_svg_escapes_names():
    topology = {"datacenters": [{"name": "a<b", "servers": [server("s&1", 1)]}], "globals": [server("g", 2)]}
    ET.fromstring(render_svg(topology))


def machine(name: str) -> dict:
    return {"name": name, "node_exporter": {"port": 9100}, "exporters": [{"name": "mysqld"}], "services": []}


def watched_topology(*names: str) -> dict:
    eu = dict(TOPOLOGY["datacenters"][0], watched=[machine(n) for n in names],
              jobs={"mysqld": {}, "node": {}} if names else {})
    return dict(TOPOLOGY, datacenters=[eu, TOPOLOGY["datacenters"][1]])


def targets_of(*instances: tuple) -> dict:
    """Active targets as (instance, health) pairs."""
    return {"activeTargets": [{"health": health, "labels": {"instance": name}} for name, health in instances]}


def test_the_watched_column_counts_machines_with_every_target_up_at_some_server_of_their_datacenter():
    topology = watched_topology("web1", "web2", "db1")
    seen = healthy(**{
        "eu-a": observation(targets_of(("web1", "up"), ("web1", "up"), ("web2", "up"), ("web2", "down"))),
        "eu-b": observation(targets_of(("web1", "up"), ("web2", "down"), ("web2", "down"))),
    })
    report = evaluate(topology, seen)
    assert report["rows"][0]["watched"] == "1/3 up"
    assert report["rows"][1]["watched"] == "-"
    assert report["notes"] == ["datacenter eu-west-1: watched machine web2 has 1 of 2 targets up",
                               "datacenter eu-west-1: watched machine db1 has no target at its servers yet"]
    # a machine down is a note, not a failure of the federation
    assert report["ok"]
    assert "note: datacenter eu-west-1: watched machine web2 has 1 of 2 targets up" in render_table(topology, report)


def test_watched_machines_are_not_counted_when_no_server_of_their_datacenter_answered():
    topology = watched_topology("web1")
    report = evaluate(topology, healthy(**{"eu-a": {"error": "refused"}, "eu-b": {"error": "refused"}}))
    assert report["rows"][0]["watched"] == "1 (not asked)" and report["notes"] == []


def test_the_pictures_draw_each_watched_machine_or_their_count_when_there_are_many():
    few = render_mermaid(watched_topology("web1", "web2"))
    assert 'wm_watched_web1(["web1<br/>scraped: node, mysqld"])' in few
    assert "srv_eu_a -. scrape .-> wm_watched_web1" in few and "srv_eu_b -. scrape .-> wm_watched_web2" in few
    many = watched_topology(*("web%d" % n for n in range(20)))
    chart = render_mermaid(many)
    assert 'wm_watched_eu_west_1(["20 watched machines<br/>jobs: mysqld, node"])' in chart
    assert "web3" not in chart
    texts = [t.text for t in ET.fromstring(render_svg(many)).iter("{http://www.w3.org/2000/svg}text")]
    assert "20 watched machines" in texts and "jobs: mysqld, node" in texts


def firing(*alerts: tuple) -> dict:
    """An instant-vector answer to ALERTS{alertstate="firing"}: (alertname, datacenter or None) pairs."""
    return {"resultType": "vector", "result": [
        {"metric": dict({"__name__": "ALERTS", "alertname": name, "alertstate": "firing"},
                        **({"datacenter": dc} if dc else {})), "value": [1795716000.0, "1"]}
        for name, dc in alerts]}


CLUSTERED = dict(TOPOLOGY, clusters={"global": {"members": ["am-a", "am-b"], "targets": [], "peers": {}}},
                 alertmanagers={"am-a": {}, "am-b": {}})


def status(*peers: str) -> dict:
    return {"cluster": {"status": "ready", "peers": [{"name": p, "address": p + ":9094"} for p in peers]}}


def test_firing_alerts_show_per_datacenter_from_its_servers_and_from_the_globals_about_it():
    seen = healthy(**{
        "eu-a": observation(targets("up"), alerts=firing(("TargetDown", "eu-west-1"), ("NodeMemoryLow", "eu-west-1"))),
        "global-a": observation(targets("up"), ages(eu_west_1=1.0, us_east_1=1.0), 60,
                                alerts=firing(("FederationDatacenterDown", "us-east-1"), ("Watchdog", None),
                                              ("GlobalFederationJobsFailing", None))),
    })
    seen.update({"am-a": alertmanager_observation(status("am-a", "am-b")),
                 "am-b": alertmanager_observation(status("am-a", "am-b"))})
    report = evaluate(CLUSTERED, seen)
    assert [row["alerts"] for row in report["rows"][:3]] == [
        "NodeMemoryLow, TargetDown", "FederationDatacenterDown", "GlobalFederationJobsFailing"]
    lines = render_table(CLUSTERED, report).splitlines()
    assert lines[0].split()[5] == "FIRING"
    assert lines[4].split()[:4] == ["(alertmanagers", "global)", "am-a,", "am-b"] and "2/2 in cluster" in lines[4]


def test_an_alertmanager_that_does_not_see_every_peer_or_does_not_answer_fails_naming_it():
    seen = healthy(**{"am-a": alertmanager_observation(status("am-a")),
                      "am-b": alertmanager_observation(error="connection refused")})
    report = evaluate(CLUSTERED, seen)
    assert not report["ok"]
    assert report["failures"] == [
        "Alertmanager am-a of cluster global sees 1 of its 2 peers (ready): notifications may be sent twice",
        "Alertmanager am-b of cluster global does not answer: connection refused"]


def test_without_alertmanagers_the_table_has_no_firing_column():
    assert "FIRING" not in render_table(TOPOLOGY, evaluate(TOPOLOGY, healthy())).splitlines()[0]


def test_job_stats_hand_on_the_verdict_the_datacenters_every_server_and_the_ages_at_each_global():
    seen = healthy()
    stats = job_stats(TOPOLOGY, evaluate(TOPOLOGY, seen), seen)
    assert stats == {
        "promfleet_verdict": "verified",
        "promfleet_datacenters": ["eu-west-1", "us-east-1"],
        "promfleet_servers": {
            "eu-a": {"datacenter": "eu-west-1", "answered": True},
            "eu-b": {"datacenter": "eu-west-1", "answered": True},
            "us-a": {"datacenter": "us-east-1", "answered": True},
            "global-a": {"datacenter": None, "answered": True},
        },
        "promfleet_ages": {"global-a": {"eu-west-1": 3.2, "us-east-1": 4.9}},
        "promfleet_failures": [],
    }


def test_job_stats_of_a_failed_federation_name_the_failures_and_leave_missing_ages_out():
    seen = healthy(**{"global-a": observation(targets("up"), ages(eu_west_1=3.04), 60),
                      "us-a": observation(error="connection refused")})
    report = evaluate(TOPOLOGY, seen)
    stats = job_stats(TOPOLOGY, report, seen)
    assert stats["promfleet_verdict"] == "failed"
    assert stats["promfleet_ages"] == {"global-a": {"eu-west-1": 3.0}}
    assert stats["promfleet_servers"]["us-a"] == {"datacenter": "us-east-1", "answered": False}
    assert stats["promfleet_failures"] == report["failures"] and len(report["failures"]) == 2


def test_job_stats_of_a_global_not_reached_have_no_ages_for_it():
    seen = healthy()
    del seen["global-a"]
    stats = job_stats(TOPOLOGY, evaluate(TOPOLOGY, seen), seen)
    assert stats["promfleet_ages"] == {"global-a": {}}
    assert stats["promfleet_servers"]["global-a"] == {"datacenter": None, "answered": False}
