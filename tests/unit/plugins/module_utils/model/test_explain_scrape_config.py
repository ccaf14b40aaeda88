"""What the scrape_config module answers (``model.explain.explain_scrape_config``): the job built and
checked, and the targets it would keep."""

from __future__ import annotations

import pytest

from ansible_collections.promfleet.federation.plugins.module_utils.errors import ConfigError, LabelSetError, PresetError
from ansible_collections.promfleet.federation.plugins.module_utils.model.explain import explain_scrape_config
from ansible_collections.promfleet.federation.plugins.modules.scrape_config import argument_spec

JOB_DEFAULTS = {
    "__metrics_path__": "/metrics",
    "__scheme__": "http",
    "__scrape_interval__": "1m",
    "__scrape_timeout__": "10s",
}


def params(**given) -> dict:
    """Module parameters as AnsibleModule passes them: every option, None where not given."""
    values = {name: spec.get("default") for name, spec in argument_spec().items()}
    values.update(given)
    return values


def test_options_not_given_are_left_out():
    result = explain_scrape_config(params(job_name="node", static_configs=[{"targets": ["h:9100"], "labels": None}]))
    assert result == {"scrape_config": {"job_name": "node", "static_configs": [{"targets": ["h:9100"]}]}}


def test_relabel_rules_come_back_fully_explicit():
    rules = [{"source_labels": ["a"], "target_label": "b"}]
    result = explain_scrape_config(params(job_name="j", relabel_configs=rules))
    assert result["scrape_config"]["relabel_configs"] == [
        {"source_labels": ["a"], "separator": ";", "regex": "(.*)", "modulus": 0, "target_label": "b",
         "replacement": "$1", "action": "replace"}
    ]


def test_options_are_laid_over_the_preset():
    result = explain_scrape_config(params(job_name="nodes", preset="node", preset_options={"targets": ["a:9100"]},
                                          scrape_interval="15s"))
    assert result["scrape_config"] == {"job_name": "nodes", "static_configs": [{"targets": ["a:9100"]}],
                                       "scrape_interval": "15s"}


def test_relabel_rules_given_run_after_the_presets():
    result = explain_scrape_config(params(job_name="k", preset="kubernetes_nodes",
                                          relabel_configs=[{"action": "labeldrop", "regex": "zone"}]))
    assert [rule["action"] for rule in result["scrape_config"]["relabel_configs"]] == ["labelmap", "labeldrop"]


def test_unknown_preset_option_fails():
    with pytest.raises(PresetError, match=r"^preset kubernetes_service: missing a required argument: 'name'"):
        explain_scrape_config(params(job_name="k", preset="kubernetes_service", preset_options={"namespace": "shop"}))


def test_relabel_configs_under_kubernetes_sd_configs_fail_with_the_explanation():
    misplaced = [{"role": "pod", "relabel_configs": [{"source_labels": ["a"], "target_label": "b"}]}]
    with pytest.raises(ConfigError) as info:
        explain_scrape_config(params(job_name="pods", kubernetes_sd_configs=misplaced))
    assert str(info.value) == (
        'job "pods": kubernetes_sd_configs[0]: relabel_configs is not a field of a kubernetes_sd_config; '
        "relabel rules belong to the scrape job: move them out one level, next to kubernetes_sd_configs"
    )


def test_invalid_rule_names_the_job_and_the_rule():
    with pytest.raises(ConfigError) as info:
        rules = [{"action": "drop"}, {"action": "hashmod", "target_label": "s"}]
        explain_scrape_config(params(job_name="j", relabel_configs=rules))
    assert str(info.value) == 'job "j", relabel_configs: relabel rule 2: action hashmod needs modulus > 0'


def test_field_newer_than_the_version_is_refused():
    with pytest.raises(ConfigError, match=r"keep_dropped_targets needs Prometheus 2\.47 or newer, .* targets 2\.42"):
        explain_scrape_config(params(job_name="j", keep_dropped_targets=10, schema_version="2.42"))


def test_utf8_static_label_name_is_accepted_by_the_default_version():
    static = [{"targets": ["h:1"], "labels": {"app.name": "shop"}}]
    result = explain_scrape_config(params(job_name="j", static_configs=static))
    assert result["scrape_config"] == {"job_name": "j", "static_configs": static}


def test_utf8_static_label_name_is_refused_for_2_x():
    static = [{"targets": ["h:1"], "labels": {"app.name": "shop"}}]
    with pytest.raises(ConfigError, match=r"'app\.name' is not a valid label name in Prometheus 2\.55"):
        explain_scrape_config(params(job_name="j", static_configs=static, schema_version="2.55"))


def test_field_of_the_version_is_accepted():
    result = explain_scrape_config(params(job_name="j", keep_dropped_targets=10, schema_version="2.47"))
    assert result["scrape_config"] == {"job_name": "j", "keep_dropped_targets": 10}


def test_timeout_greater_than_the_global_interval_is_refused():
    with pytest.raises(ConfigError, match=r"scrape_timeout 20s is greater than the global scrape_interval 15s"):
        explain_scrape_config(params(job_name="j", scrape_timeout="20s",
                                     global_config={"scrape_interval": "15s", "scrape_timeout": None}))


SECRETS = {
    "basic_auth": (
        {"username": "u", "password": "hunter2", "password_file": None},
        {"username": "u", "password": "<redacted>"},
    ),
    "authorization": (
        {"type": None, "credentials": "hunter2", "credentials_file": None},
        {"credentials": "<redacted>"},
    ),
    "oauth2": (
        {"client_id": "c", "client_secret": "hunter2", "client_secret_file": None, "scopes": None,
         "token_url": "https://sso.example.org/token", "endpoint_params": None, "tls_config": None, "proxy_url": None},
        {"client_id": "c", "client_secret": "<redacted>", "token_url": "https://sso.example.org/token"},
    ),
}


def test_global_timeout_greater_than_the_global_interval_is_refused():
    with pytest.raises(ConfigError) as info:
        explain_scrape_config(params(job_name="j", global_config={"scrape_interval": "15s", "scrape_timeout": "20s"}))
    assert str(info.value) == (
        "global: scrape_timeout 20s is greater than scrape_interval 15s; make the timeout at most the interval"
    )


@pytest.mark.parametrize("option", list(SECRETS))
def test_inline_secrets_are_redacted(option):
    given, returned = SECRETS[option]
    assert explain_scrape_config(params(job_name="j", **{option: given}))["scrape_config"][option] == returned


def test_no_targets_without_discovered_targets():
    assert "targets" not in explain_scrape_config(params(job_name="j", static_configs=[{"targets": ["h:1"]}]))


def test_targets_are_the_static_ones_then_the_discovered_ones():
    result = explain_scrape_config(params(job_name="j", static_configs=[{"targets": ["s:1"], "labels": {"g": "x"}}],
                                          discovered_targets=[{"__address__": "d:2", "__meta_x": "y"}]))
    assert result["targets"] == [
        {"discovered_labels": dict(JOB_DEFAULTS, __address__="s:1", g="x", job="j"),
         "labels": dict(JOB_DEFAULTS, __address__="s:1", g="x", instance="s:1", job="j")},
        {"discovered_labels": dict(JOB_DEFAULTS, __address__="d:2", __meta_x="y", job="j"),
         "labels": dict(JOB_DEFAULTS, __address__="d:2", instance="d:2", job="j")},
    ]


def test_a_dropped_target_has_empty_labels():
    drop_x = {"action": "drop", "source_labels": ["a"], "regex": "x"}
    result = explain_scrape_config(params(job_name="j", relabel_configs=[drop_x],
                                          discovered_targets=[{"__address__": "d:2", "a": "x"}]))
    assert result["targets"] == [{"discovered_labels": dict(JOB_DEFAULTS, __address__="d:2", a="x", job="j"),
                                  "labels": {}}]


def test_a_refused_target_has_empty_labels_and_the_error():
    result = explain_scrape_config(params(job_name="j", discovered_targets=[{"a": "x"}]))
    assert result["targets"] == [{"discovered_labels": {}, "labels": {}, "error": "no address"}]


def test_a_target_without_port_keeps_its_address_by_default():
    result = explain_scrape_config(params(job_name="j", discovered_targets=[{"__address__": "h"}]))
    assert result["targets"][0]["labels"] == dict(JOB_DEFAULTS, __address__="h", instance="h", job="j")


def test_a_target_without_port_gets_the_default_port_in_2_x():
    result = explain_scrape_config(params(job_name="j", schema_version="2.53",
                                          discovered_targets=[{"__address__": "h"}]))
    assert result["targets"][0]["labels"] == dict(JOB_DEFAULTS, __address__="h:80", instance="h:80", job="j")


def test_discovered_labels_carry_the_jobs_settings():
    result = explain_scrape_config(params(job_name="probe", scheme="https", metrics_path="/probe",
                                          params={"module": ["http_2xx", "icmp"]},
                                          global_config={"scrape_interval": "5s", "scrape_timeout": None},
                                          discovered_targets=[{"__address__": "d:2"}]))
    assert result["targets"][0]["discovered_labels"] == {
        "__address__": "d:2",
        "__metrics_path__": "/probe",
        "__param_module": "http_2xx",
        "__scheme__": "https",
        "__scrape_interval__": "5s",
        "__scrape_timeout__": "5s",
        "job": "probe",
    }


def test_a_static_label_named_like_a_secret_field_is_redacted_the_others_kept():
    groups = [{"targets": ["a:1"], "labels": {"zone": "eu", "headers": "h"}},
              {"targets": ["b:1"], "labels": {"password": "hunter2", "zone": "us"}}, {"targets": ["c:1"]}]
    result = explain_scrape_config(params(job_name="node", static_configs=groups))
    assert result["scrape_config"]["static_configs"] == [
        {"targets": ["a:1"], "labels": {"zone": "eu", "headers": "h"}},
        {"targets": ["b:1"], "labels": {"password": "<redacted>", "zone": "us"}}, {"targets": ["c:1"]}]


def test_static_groups_without_secrets_come_back_as_given_in_the_job_order():
    result = explain_scrape_config(params(job_name="node", scrape_interval="15s", basic_auth={
        "username": "u", "password": "hunter2", "password_file": None},
        static_configs=[{"targets": ["a:1"], "labels": {"zone": "eu"}}], metrics_path="/m"))
    assert list(result["scrape_config"].items()) == [
        ("job_name", "node"), ("scrape_interval", "15s"), ("metrics_path", "/m"),
        ("basic_auth", {"username": "u", "password": "<redacted>"}),
        ("static_configs", [{"targets": ["a:1"], "labels": {"zone": "eu"}}])]


@pytest.mark.parametrize(("targets", "message"), [
    ([{"__address__": "a:1"}, {"__address__": 9100}],
     "discovered_targets[1]: the value of __address__ must be a string, got 9100 (quote it)"),
    (["a:1"], "discovered_targets[0] must be a mapping of label names to strings, got 'a:1'"),
])
def test_a_discovered_target_that_is_not_a_label_set_fails_naming_it(targets, message):
    with pytest.raises(LabelSetError) as caught:
        explain_scrape_config(params(job_name="j", discovered_targets=targets))
    assert str(caught.value) == message
