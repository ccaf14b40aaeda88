"""The settings of a node_exporter no run could succeed with (``host/node_exporter.py``, filter
``node_exporter_problems``), each named by its variable, and the role's description of the daemon."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ansible_collections.promfleet.federation.plugins.filter.node_exporter import FilterModule
from ansible_collections.promfleet.federation.plugins.module_utils.host.node_exporter import (
    collector_problems,
    flag_problems,
    port_problems,
    problems,
)

REPO = Path(__file__).resolve().parents[5]
GOOD = {"node_exporter_collectors_enabled": ["processes", "thermal_zone"],
        "node_exporter_collectors_disabled": ["arp", "wifi"],
        "node_exporter_extra_flags": ["--collector.textfile.directory=/var/lib/node_exporter",
                                      "--web.disable-exporter-metrics"],
        "node_exporter_port": 9100}


def test_good_settings_have_no_problem():
    assert problems(GOOD) == []
    assert problems(dict(GOOD, prometheus_port=9090)) == []


@pytest.mark.parametrize("name", ["Processes", "thermal-zone", "cpu.info", "", "collector.cpu"])
def test_a_collector_name_that_is_not_lower_case_letters_digits_and_underscores_is_refused(name):
    assert collector_problems(["cpu", name], []) == [
        'node_exporter_collectors_enabled[1]: "%s" is not a collector name (lower case letters, digits and _, '
        'e.g. "thermal_zone")' % name]
    assert collector_problems([], [name])[0].startswith('node_exporter_collectors_disabled[0]: "%s"' % name)


def test_a_collector_both_turned_on_and_off_is_refused_once():
    assert collector_problems(["processes", "arp"], ["arp", "processes", "wifi"]) == [
        'node_exporter_collectors_enabled and node_exporter_collectors_disabled both name the collector "arp": '
        "turn it on or off, not both",
        'node_exporter_collectors_enabled and node_exporter_collectors_disabled both name the collector "processes": '
        "turn it on or off, not both"]


@pytest.mark.parametrize("flag", ["--web.listen-address=:9101", "--web.listen-address"])
def test_the_listen_address_flag_is_refused_it_comes_from_address_and_port(flag):
    assert flag_problems(["--log.level=debug", flag]) == [
        "node_exporter_extra_flags[1]: --web.listen-address comes from node_exporter_listen_address and "
        "node_exporter_port; set those instead"]


@pytest.mark.parametrize("flag", ["log.level=debug", "-v", "--", "--Web.x", "collector.cpu"])
def test_an_extra_flag_that_is_no_flag_is_refused(flag):
    assert flag_problems([flag]) == [
        'node_exporter_extra_flags[0]: "%s" is not a flag (--<name> or --<name>=<value>, e.g. '
        '"--collector.textfile.directory=/var/lib/node_exporter")' % flag]


@pytest.mark.parametrize("port", [0, 65536, -1, "9100", None, True])
def test_a_port_outside_1_to_65535_is_refused(port):
    assert port_problems(port) == ["node_exporter_port: %s is not a port (1 to 65535)" % port]


def test_the_port_of_the_hosts_prometheus_is_refused():
    assert port_problems(9090, 9090) == [
        "node_exporter_port: 9090 is prometheus_port of this host too; give node_exporter another port "
        "(9100 by default)"]
    assert port_problems(9100, None) == []


def test_a_list_given_as_a_string_is_refused_not_read_letter_by_letter():
    assert problems(dict(GOOD, node_exporter_collectors_enabled="processes,arp",
                         node_exporter_extra_flags="--log.level=debug")) == [
        'node_exporter_collectors_enabled must be a list (got the string "processes,arp")',
        'node_exporter_extra_flags must be a list (got the string "--log.level=debug")']


def test_problems_come_in_the_order_of_the_fields():
    found = problems({"node_exporter_collectors_enabled": ["Bad"], "node_exporter_collectors_disabled": [],
                      "node_exporter_extra_flags": ["--web.listen-address=:1"], "node_exporter_port": 0})
    assert [problem.split(":")[0] for problem in found] == [
        "node_exporter_collectors_enabled[0]", "node_exporter_extra_flags[0]", "node_exporter_port"]


def test_the_filter_is_the_function():
    assert FilterModule().filters()["node_exporter_problems"](dict(GOOD, node_exporter_port=0)) == [
        "node_exporter_port: 0 is not a port (1 to 65535)"]


# --- the role ------------------------------------------------------------------------------------------

def role_file(*parts: str):
    return yaml.safe_load((REPO / "roles" / "node_exporter" / Path(*parts)).read_text(encoding="utf-8"))


@pytest.mark.parametrize("entry", ["main", "preflight", "teardown"])
def test_every_entry_point_takes_every_variable_of_the_role(entry):
    options = role_file("meta", "argument_specs.yml")["argument_specs"][entry]["options"]
    assert sorted(options) == sorted(role_file("defaults", "main.yml"))


def test_the_service_settings_default_to_those_of_the_hosts_prometheus():
    defaults = role_file("defaults", "main.yml")
    for setting in ("service_manager", "systemd_unit_dir", "supervisord_conf", "supervisord_program_dir",
                    "supervisord_private", "supervisord_run_dir", "log_dir"):
        assert defaults["node_exporter_" + setting].startswith("{{ prometheus_%s | default(" % setting), setting


def test_node_exporter_runs_as_a_daemon_description_that_never_reloads_and_is_ready_at_its_metrics():
    description = role_file("vars", "main.yml")["_node_exporter_daemon"]
    assert description["reload"] == {"method": "none"}
    assert description["ready_path"] == "{{ _node_exporter_ready_path }}"
    assert "config" not in description and "files" not in description
