"""Specification of an Alertmanager's settings (plugins/module_utils/host/alertmanager.py, filters
``alertmanager_config`` and ``alertmanager_problems``): alertmanager.yml built from the role's
variables and checked by the engine, and the settings no run could succeed with, named in the role's
variable names."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.promfleet.federation.plugins.filter.alertmanager_config import (
    alertmanager_config,
    alertmanager_problems,
)
from ansible_collections.promfleet.federation.plugins.module_utils.errors import AlertmanagerConfigError
from ansible_collections.promfleet.federation.plugins.module_utils.host import alertmanager

REPO = Path(__file__).resolve().parents[5]
TEMPLATES_DIR = "/etc/promfleet/promfleet-alertmanager-am-a/templates"


def role_defaults() -> dict:
    return yaml.safe_load((REPO / "roles" / "alertmanager" / "defaults" / "main.yml").read_text(encoding="utf-8"))


def settings(**overrides) -> dict:
    """The role's defaults as the role passes them (templated), for the package of bookworm."""
    defaults = role_defaults()
    values = {name: defaults[name] for name in (
        "alertmanager_global", "alertmanager_route", "alertmanager_receivers", "alertmanager_inhibit_rules",
        "alertmanager_time_intervals", "alertmanager_templates", "alertmanager_listen_address",
        "alertmanager_port", "alertmanager_cluster_port", "alertmanager_cluster_peers",
        "alertmanager_cluster_advertise_address", "alertmanager_extra_flags")}
    values.update(alertmanager_version="0.25.0", alertmanager_cluster_listen_address="0.0.0.0")
    values.update(overrides)
    return values


# --- alertmanager.yml from the variables ------------------------------------------------------------------

def test_the_default_configuration_routes_everything_to_a_receiver_that_drops_it():
    assert alertmanager.build_config(settings(), TEMPLATES_DIR) == {
        "route": {"receiver": "default", "group_by": ["alertname", "datacenter"], "group_wait": "30s",
                  "group_interval": "5m", "repeat_interval": "4h"},
        "receivers": [{"name": "default"}],
    }


def test_the_default_configuration_passes_the_engine():
    assert alertmanager.problems(settings(), TEMPLATES_DIR) == []


def test_every_section_given_is_written_in_alertmanager_yml_order():
    config = alertmanager.build_config(settings(
        alertmanager_global={"resolve_timeout": "5m"},
        alertmanager_inhibit_rules=[{"source_matchers": ['severity="critical"'], "target_matchers": [
            'severity="warning"'], "equal": ["alertname"]}],
        alertmanager_time_intervals=[{"name": "nights", "time_intervals": [{"times": [
            {"start_time": "22:00", "end_time": "24:00"}]}]}],
        alertmanager_templates={"slack.tmpl": "a", "email.tmpl": "b"}), TEMPLATES_DIR)
    assert list(config) == ["global", "templates", "route", "receivers", "inhibit_rules", "time_intervals"]


def test_templates_are_listed_one_by_one_by_their_paths_sorted_by_name():
    config = alertmanager.build_config(settings(alertmanager_templates={"slack.tmpl": "a", "email.tmpl": "b"}),
                                       TEMPLATES_DIR)
    assert config["templates"] == [TEMPLATES_DIR + "/email.tmpl", TEMPLATES_DIR + "/slack.tmpl"]


def test_the_checked_configuration_is_the_built_one():
    built = alertmanager.build_config(settings(), TEMPLATES_DIR)
    assert alertmanager.checked_config(settings(), TEMPLATES_DIR) == built


@pytest.mark.parametrize("route, message", [
    ({"receiver": "default", "routes": [{"receiver": "pager", "matchers": ['severity="page"']}]},
     "alertmanager.yml: route.routes[0].receiver: 'pager' is not a receiver; the receivers are 'default'"),
    ({"receiver": "default", "routes": [{"receiver": "default", "matchers": ['severity="page"'],
                                         "group_wait": "5 minutes"}]},
     "alertmanager.yml: route.routes[0].group_wait: '5 minutes' is not a duration; use e.g. 30s, 5m or 1h30m "
     "(units y w d h m s ms, largest first)"),
], ids=["unknown-receiver", "bad-duration"])
def test_a_configuration_the_engine_refuses_is_a_problem_with_its_message(route, message):
    assert alertmanager.problems(settings(alertmanager_route=route), TEMPLATES_DIR) == [message]


def test_the_engine_checks_the_fields_of_the_line_of_the_version():
    # msteams_configs came with 0.26.
    receivers = [{"name": "default"}, {"name": "teams", "msteams_configs": [{"webhook_url": "https://x.example/"}]}]
    route = {"receiver": "teams"}
    assert alertmanager.problems(settings(alertmanager_receivers=receivers, alertmanager_route=route,
                                          alertmanager_version="0.28.1"), TEMPLATES_DIR) == []
    problems = alertmanager.problems(settings(alertmanager_receivers=receivers, alertmanager_route=route),
                                     TEMPLATES_DIR)
    assert len(problems) == 1 and "msteams_configs" in problems[0] and "0.26" in problems[0]


@pytest.mark.parametrize("version, message", [
    ("0.25.0-1+b4", None),
    ("0.24.0", "alertmanager_version: Alertmanager version 0.24 is not modelled by the engine; use one of 0.25, "
               "0.26, 0.27, 0.28"),
    ("latest", 'alertmanager_version: "latest" is not an Alertmanager release such as 0.28.1'),
])
def test_the_version_must_be_a_release_of_a_line_the_engine_models(version, message):
    expected = [message] if message else []
    assert alertmanager.problems(settings(alertmanager_version=version), TEMPLATES_DIR) == expected


# --- ports and the cluster ------------------------------------------------------------------------------------

@pytest.mark.parametrize("overrides, message", [
    ({"alertmanager_port": 0}, "alertmanager_port: 0 is not a port (1 to 65535)"),
    ({"alertmanager_cluster_port": 70000},
     "alertmanager_cluster_port: 70000 is not a port (1 to 65535, or 0 for no cluster)"),
    ({"alertmanager_cluster_port": 9093},
     "alertmanager_cluster_port: 9093 is alertmanager_port too; give the cluster another port (9094 by default)"),
], ids=["port", "cluster-port", "same-port"])
def test_ports_must_be_ports_and_the_cluster_needs_its_own(overrides, message):
    assert alertmanager.problems(settings(**overrides), TEMPLATES_DIR) == [message]


def test_ports_given_as_digits_are_ports():
    # -e alertmanager_port=9093 gives a string; the argument spec accepts it.
    assert alertmanager.port_problems(settings(alertmanager_port="9093", alertmanager_cluster_port="0")) == []
    assert alertmanager.port_problems(settings(alertmanager_port="9093", alertmanager_cluster_port="9093")) == [
        "alertmanager_cluster_port: 9093 is alertmanager_port too; give the cluster another port (9094 by default)"]


def test_the_cluster_may_share_the_port_number_on_another_address():
    assert alertmanager.port_problems(settings(alertmanager_listen_address="127.0.0.1", alertmanager_port=9094,
                                               alertmanager_cluster_listen_address="127.0.0.2")) == []


def test_cluster_port_zero_is_no_cluster():
    assert alertmanager.problems(settings(alertmanager_cluster_port=0), TEMPLATES_DIR) == []


@pytest.mark.parametrize("peer", ["am-b.example.com:9094", "10.0.0.2:9094", "[fd00::2]:9094", "am_b:1"])
def test_a_peer_is_a_host_and_a_port(peer):
    assert alertmanager.cluster_problems(settings(alertmanager_cluster_peers=[peer])) == []


@pytest.mark.parametrize("peer", ["am-b", "am-b:", "am-b:0", "am-b:65536", "fd00::2:9094", "[nope]:9094",
                                  "http://am-b:9094", ":9094"])
def test_a_peer_without_a_host_and_a_port_is_refused_naming_its_index(peer):
    assert alertmanager.cluster_problems(settings(alertmanager_cluster_peers=["am-a:9094", peer])) == [
        'alertmanager_cluster_peers[1]: "%s" is not a peer; write <host>:<cluster port>, e.g. "am-b.example.com:9094" '
        'or "[fd00::2]:9094"' % peer]


@pytest.mark.parametrize("address", ["10.0.0.1", "fd00::2", "[fd00::2]"])
def test_the_advertise_address_is_an_ip_address(address):
    assert alertmanager.cluster_problems(settings(alertmanager_cluster_advertise_address=address)) == []


def test_an_advertise_address_that_is_a_name_is_refused():
    assert alertmanager.cluster_problems(settings(alertmanager_cluster_advertise_address="am-a.example.com")) == [
        'alertmanager_cluster_advertise_address: "am-a.example.com" is not an IP address; Alertmanager advertises an '
        'IP address to its peers (the cluster port is added)']


def test_peers_without_a_cluster_are_refused():
    assert alertmanager.cluster_problems(settings(alertmanager_cluster_port=0,
                                                  alertmanager_cluster_peers=["am-b:9094"])) == [
        "alertmanager_cluster_peers is set, but alertmanager_cluster_port is 0 (no cluster); give the cluster a port "
        "(9094 by default) or leave alertmanager_cluster_peers empty"]


# --- flags and templates ------------------------------------------------------------------------------------

@pytest.mark.parametrize("flag, variable", [
    ("--config.file=/etc/alertmanager.yml", "alertmanager_config_dir"),
    ("--storage.path=/tmp", "alertmanager_data_dir"),
    ("--web.listen-address=:9093", "alertmanager_listen_address and alertmanager_port"),
    ("--cluster.listen-address=", "alertmanager_cluster_listen_address and alertmanager_cluster_port"),
    ("--cluster.peer=am-b:9094", "alertmanager_cluster_peers"),
    ("--cluster.advertise-address=10.0.0.1:9094", "alertmanager_cluster_advertise_address"),
])
def test_a_flag_the_role_builds_is_refused_naming_the_variable_that_sets_it(flag, variable):
    assert alertmanager.flag_problems(["--log.level=debug", flag]) == [
        "alertmanager_extra_flags[1]: %s comes from %s; set that instead" % (flag.split("=")[0], variable)]


def test_an_extra_flag_that_is_no_flag_is_refused():
    assert alertmanager.flag_problems(["log.level=debug"]) == [
        'alertmanager_extra_flags[0]: "log.level=debug" is not a flag (--<name> or --<name>=<value>, e.g. '
        '"--log.level=debug")']


@pytest.mark.parametrize("name", ["../x.tmpl", ".hidden.tmpl", "a/b.tmpl", "", "a b.tmpl"])
def test_a_template_name_that_is_no_plain_file_name_is_refused(name):
    assert alertmanager.problems(settings(alertmanager_templates={name: "x"}), TEMPLATES_DIR) == [
        'alertmanager_templates: "%s" is not a file name (letters, digits, _, . and -, not starting with ., e.g. '
        '"slack.tmpl")' % name]


def test_a_template_that_is_no_text_is_refused():
    assert alertmanager.template_problems({"a.tmpl": {"define": "x"}}) == [
        'alertmanager_templates["a.tmpl"]: the template must be text, got dict']


@pytest.mark.parametrize("field", ["alertmanager_cluster_peers", "alertmanager_extra_flags"])
def test_a_list_given_as_a_string_is_refused(field):
    assert alertmanager.problems(settings(**{field: "a,b"}), TEMPLATES_DIR) == [
        '%s must be a list (got the string "a,b")' % field]


# --- the filters ---------------------------------------------------------------------------------------------

def test_the_config_filter_returns_the_checked_configuration():
    assert alertmanager_config(settings(), TEMPLATES_DIR) == alertmanager.build_config(settings(), TEMPLATES_DIR)


def test_the_config_filter_fails_with_the_engines_message():
    with pytest.raises(AnsibleFilterError, match=r"route.receiver: 'nobody' is not a receiver"):
        alertmanager_config(settings(alertmanager_route={"receiver": "nobody"}), TEMPLATES_DIR)


def test_the_problems_filter_lists_the_problems():
    assert alertmanager_problems(settings(alertmanager_port=0), TEMPLATES_DIR) == [
        "alertmanager_port: 0 is not a port (1 to 65535)"]


def test_the_engines_error_is_its_one_error_class():
    with pytest.raises(AlertmanagerConfigError):
        alertmanager.checked_config(settings(alertmanager_receivers=[]), TEMPLATES_DIR)
