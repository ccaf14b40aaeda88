"""The filters of verify.yml over registered prometheus_info results (plugins/filter/federation_report.py)."""

from __future__ import annotations

from ansible_collections.promfleet.federation.plugins.filter.federation_report import (
    alertmanager_observation,
    federation_fresh,
    federation_observation,
    federation_report,
)

TOPOLOGY = {
    "datacenters": [{"name": "eu-west-1", "servers": [{"name": "eu-a", "url": "http://eu-a:9090"}]}],
    "globals": [{"name": "global-a", "url": "http://global-a:9090"}],
    "servers": {"eu-a": {}, "global-a": {}},
}
UP = {"activeTargets": [{"health": "up"}]}


def age_answer(age: str) -> dict:
    return {"resultType": "vector", "result": [{"metric": {"datacenter": "eu-west-1"}, "value": [1.0, age]}]}


def test_an_info_task_without_targets_is_an_observation_with_its_message():
    # failed_when: false clears `failed`, so the missing targets are what tells
    assert federation_observation({"failed": False, "msg": "Connection refused"}) == {"error": "Connection refused"}


def test_an_info_task_that_ran_out_of_retries_still_counts_what_it_read():
    # `until` not met: the result is marked failed, yet the server answered
    info = {"failed": True, "msg": "Unknown error.", "targets": UP, "queries": [age_answer("30")]}
    assert federation_observation(info, 10.0)["federation_ages"] == {"eu-west-1": 30.0}


def test_a_datacenter_server_observation_counts_its_targets():
    assert federation_observation({"targets": UP}) == {"targets_up": 1, "targets_total": 1,
                                                       "instances": {"": [1, 1]}}


def test_a_global_observation_carries_the_ages_and_the_limit():
    seen = federation_observation({"targets": UP, "queries": [age_answer("2.5")]}, 10.0)
    assert seen["federation_ages"] == {"eu-west-1": 2.5} and seen["max_age"] == 10.0
    assert federation_fresh(seen, TOPOLOGY)
    stale = federation_observation({"targets": UP, "queries": [age_answer("11")]}, 10.0)
    assert not federation_fresh(stale, TOPOLOGY)


def test_the_report_reads_the_fact_of_every_server_in_hostvars():
    hostvars = {
        "eu-a": {"prometheus_verify": federation_observation({"targets": UP})},
        "global-a": {"prometheus_verify": federation_observation({"targets": UP, "queries": [age_answer("1")]}, 10)},
        "elsewhere": {"prometheus_verify": {"error": "not part of the topology"}},
    }
    report = federation_report(TOPOLOGY, hostvars)
    assert report["ok"], report["failures"]
    assert "eu-west-1" in report["table"] and report["svg"].startswith("<svg") and "flowchart" in report["mermaid"]
    del hostvars["eu-a"]
    assert federation_report(TOPOLOGY, hostvars)["failures"] == [
        "datacenter eu-west-1: server eu-a was not reached in this run "
        "(down, unreachable or failed earlier in the run)"]


FIRING = {"resultType": "vector", "result": [
    {"metric": {"alertname": "TargetDown", "alertstate": "firing", "datacenter": "eu-west-1"}, "value": [1, "1"]}]}


def test_the_firing_alerts_come_after_a_globals_age_query_and_first_at_a_datacenter_server():
    at_global = federation_observation({"targets": UP, "queries": [age_answer("1"), FIRING]}, 10.0)
    at_datacenter = federation_observation({"targets": UP, "queries": [FIRING]})
    assert at_global["federation_ages"] == {"eu-west-1": 1.0}
    assert at_global["alerts"] == at_datacenter["alerts"] == [{"alertname": "TargetDown", "datacenter": "eu-west-1"}]
    assert "federation_ages" not in at_datacenter


def test_an_alertmanager_observation_lists_the_peers_it_sees_or_says_why_it_did_not_answer():
    answer = {"status": 200, "json": {"cluster": {"status": "ready", "peers": [{"name": "B"}, {"name": "A"}]}}}
    assert alertmanager_observation(answer) == {"peers": ["A", "B"], "cluster_status": "ready"}
    assert alertmanager_observation({"status": -1, "msg": "Connection refused"}) == {"error": "Connection refused"}
