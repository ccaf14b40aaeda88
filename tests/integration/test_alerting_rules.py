"""The default alerting rules of the datacenter and global roles against the real ``promtool`` of every
line the tests run (Debian's 2.42, 2.53 and 3.x): ``promtool check rules`` on the rule file each role
writes, and ``promtool test rules`` with the unit tests of tests/rules/alerting/.

The rule files are rendered at test time by Ansible itself, from the role's defaults and vars
(``_datacenter_rule_files``, ``_global_rule_files``): the annotations keep Prometheus' templates from
Ansible with ``{% raw %}``, and the global's thresholds and ``for`` are templated from its federation
settings, so what promtool reads is what the role writes.
"""

from __future__ import annotations

import json
import shutil
from functools import cache
from pathlib import Path

import promtool
import pytest
import releases
import yaml
from fleet import REPO, run_module

ROLES = ["datacenter", "global"]
# The rule file of its alerts each role writes, and the promtool unit tests that load it.
ALERT_FILES = {"datacenter": "promfleet-alerts.yml", "global": "promfleet-global-alerts.yml"}
RULE_TESTS = {role: REPO / "tests" / "rules" / "alerting" / ("%s_alerting_rules.test.yml" % role) for role in ROLES}
SEVERITIES = {"critical", "warning", "none"}


def render_rule_files(role: str, **variables) -> dict:
    """The rule files (name: content) of ``role`` as Ansible templates them from the role's defaults and
    vars, with ``variables`` set on top."""
    options = ["-e", "@roles/%s/defaults/main.yml" % role, "-e", "@roles/%s/vars/main.yml" % role]
    if variables:
        options += ["-e", json.dumps(variables)]
    name = "_%s_rule_files" % role
    result = run_module("ansible.builtin.debug", {"var": name}, *options)
    assert name in result and not result.get("failed"), result
    return result[name]


@cache
def default_rule_files(role: str) -> dict:
    return render_rule_files(role)


def default_alerts(role: str) -> list[dict]:
    return [rule for group in default_rule_files(role)[ALERT_FILES[role]]["groups"] for rule in group["rules"]]


def alerts(role: str, **variables) -> dict[str, dict]:
    """The alerts of ``role`` by name, as it writes them with ``variables``."""
    rule_files = render_rule_files(role, **variables) if variables else default_rule_files(role)
    return {rule["alert"]: rule for group in rule_files[ALERT_FILES[role]]["groups"] for rule in group["rules"]}


def write_rule_files(role: str, directory: Path) -> None:
    for name, content in default_rule_files(role).items():
        (directory / name).write_text(yaml.safe_dump(content, sort_keys=False), encoding="utf-8")


def alert_cases(role: str) -> list[dict]:
    test_file = yaml.safe_load(RULE_TESTS[role].read_text(encoding="utf-8"))
    return [case for group in test_file["tests"] for case in group.get("alert_rule_test", [])]


@pytest.mark.parametrize("line", releases.MATRIX)
@pytest.mark.parametrize("role", ROLES)
def test_the_default_alerting_rule_file_passes_promtool_check_rules(tmp_path, line, role):
    write_rule_files(role, tmp_path)
    rc, output = promtool.run(line, "check", "rules", ALERT_FILES[role], cwd=tmp_path)
    assert rc == 0, output
    assert "SUCCESS: %d rules found" % len(default_alerts(role)) in output, output


@pytest.mark.parametrize("line", releases.MATRIX)
@pytest.mark.parametrize("role", ROLES)
def test_the_default_alerting_rules_pass_their_promtool_unit_tests(tmp_path, line, role):
    write_rule_files(role, tmp_path)
    shutil.copy(RULE_TESTS[role], tmp_path / RULE_TESTS[role].name)
    rc, output = promtool.run(line, "test", "rules", RULE_TESTS[role].name, cwd=tmp_path)
    assert rc == 0, "promtool %s test rules %s:\n%s" % (line, RULE_TESTS[role].name, output)


@pytest.mark.parametrize("role", ROLES)
def test_the_unit_tests_load_the_alert_file_the_role_writes(role):
    test_file = yaml.safe_load(RULE_TESTS[role].read_text(encoding="utf-8"))
    assert test_file["rule_files"] == [ALERT_FILES[role]]
    assert ALERT_FILES[role] in default_rule_files(role)


@pytest.mark.parametrize("role", ROLES)
def test_every_default_alert_is_seen_firing_and_quiet_by_a_unit_test(role):
    cases = alert_cases(role)
    names = [rule["alert"] for rule in default_alerts(role)]
    assert len(names) == len(set(names)), names
    never_firing = [name for name in names if not any(c["alertname"] == name and c.get("exp_alerts") for c in cases)]
    # the Watchdog is the one alert that is never quiet
    never_quiet = [name for name in names if name != "Watchdog"
                   and not any(c["alertname"] == name and not c.get("exp_alerts") for c in cases)]
    assert not never_firing, "alerts no unit test expects firing: %s" % ", ".join(never_firing)
    assert not never_quiet, "alerts no unit test expects quiet: %s" % ", ".join(never_quiet)


@pytest.mark.parametrize("role", ROLES)
def test_every_default_alert_has_a_for_a_severity_a_summary_and_a_description(role):
    for rule in default_alerts(role):
        assert "for" in rule, rule["alert"]
        assert rule["labels"]["severity"] in SEVERITIES, rule["alert"]
        assert sorted(rule["annotations"]) == ["description", "summary"], rule["alert"]


@pytest.mark.parametrize("role", ROLES)
def test_ansible_writes_the_prometheus_templates_of_the_annotations_verbatim(role):
    text = yaml.safe_dump(default_rule_files(role)[ALERT_FILES[role]])
    assert "{%" not in text, text
    summaries = [rule["annotations"]["summary"] for rule in default_alerts(role)]
    assert all("{{ $" in summary for summary in summaries), summaries


def test_the_datacenter_writes_its_alerts_next_to_its_aggregates():
    assert sorted(default_rule_files("datacenter")) == ["promfleet-aggregates.yml", "promfleet-alerts.yml"]


def test_the_datacenter_appends_extra_alerting_rules_to_its_own():
    extra = {"name": "mine", "rules": [{"alert": "Mine", "expr": "vector(1)"}]}
    groups = render_rule_files("datacenter", datacenter_extra_alerting_rules=[extra])["promfleet-alerts.yml"]["groups"]
    assert [group["name"] for group in groups] == [
        "promfleet_targets_alerts", "promfleet_prometheus_alerts", "promfleet_node_alerts", "mine"]


def test_the_global_writes_its_alerts_and_no_recording_rule_file_by_default():
    assert sorted(default_rule_files("global")) == ["promfleet-global-alerts.yml"]


def test_the_global_writes_no_alert_file_without_alerting_rules():
    assert render_rule_files("global", global_alerting_rules=[]) == {}


def test_the_federation_alerts_wait_3_federation_intervals_by_default():
    written = alerts("global")
    assert written["FederationDatacenterDown"]["for"] == "90s"
    assert "> 90.0\n" in written["FederationDatacenterStale"]["expr"]
    assert written["FederationDatacenterStale"]["for"] == "90s"


def test_the_federation_alerts_follow_the_federation_interval():
    written = alerts("global", global_federation_interval="1m")
    assert written["FederationDatacenterDown"]["for"] == "180s"
    assert "for 180s:" in written["FederationDatacenterDown"]["annotations"]["description"]
    assert "> 180.0\n" in written["FederationDatacenterStale"]["expr"]
    assert written["FederationDatacenterStale"]["for"] == "180s"


def test_the_federation_alerts_wait_as_long_as_global_federation_alert_after():
    written = alerts("global", global_federation_alert_after="2m")
    assert written["FederationDatacenterDown"]["for"] == "2m"
    assert "> 120.0\n" in written["FederationDatacenterStale"]["expr"]
    assert written["FederationDatacenterStale"]["for"] == "2m"


def test_the_scrape_near_timeout_alert_fires_past_80_percent_of_the_federation_timeout():
    assert alerts("global")["FederationScrapeNearTimeout"]["expr"].endswith("> 20.0")
    assert alerts("global", global_federation_timeout="15s")["FederationScrapeNearTimeout"]["expr"].endswith("> 12.0")
