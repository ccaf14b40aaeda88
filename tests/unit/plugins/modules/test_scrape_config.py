"""The scrape_config module run in-process by AnsibleModule: its result printed by its own
``exit_json`` exactly as ``AnsibleModule.exit_json`` prints it, and the 3.x job options."""

from __future__ import annotations

import json

import pytest
from ansible.module_utils import basic
from ansible.module_utils.common import warnings

from ansible_collections.promfleet.federation.plugins.module_utils.model.explain import explain_scrape_config
from ansible_collections.promfleet.federation.plugins.modules import scrape_config

RULES = [
    {"source_labels": ["__meta_keep"], "regex": "yes", "action": "keep"},
    {"action": "labelmap", "regex": "__meta_label_(.+)"},
    {"source_labels": ["__address__"], "target_label": "host", "regex": "([^:]+):.*"},
]
DISCOVERED = [
    {"__address__": "h1:9100", "__meta_keep": "yes", "__meta_label_team": "ünïcode ☃"},
    {"__address__": "h2:9100", "__meta_keep": "no"},
    {"__meta_keep": "yes"},  # no address: refused
]


@pytest.fixture(autouse=True)
def no_pending_messages(monkeypatch):
    """No warning or deprecation left over by another test (they are global to the process)."""
    monkeypatch.setattr(warnings, "_global_warnings", {})
    monkeypatch.setattr(warnings, "_global_deprecations", {})


def printed(monkeypatch, capsys, args: dict, finish) -> tuple[int, str]:
    """Exit code and output of ``finish()`` with ``args`` as the module's arguments (as AnsiballZ passes them)."""
    monkeypatch.setattr(basic, "_ANSIBLE_ARGS", json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode())
    monkeypatch.setattr(basic, "_ANSIBLE_PROFILE", "legacy")
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        finish()
    return exited.value.code, capsys.readouterr().out


def with_exit_json():
    """What main() does, the result printed by AnsibleModule.exit_json."""
    module = basic.AnsibleModule(argument_spec=scrape_config.argument_spec(), supports_check_mode=True)
    module.exit_json(changed=False, **explain_scrape_config(module.params))


def both_ways(monkeypatch, capsys, args: dict) -> tuple:
    """The output of main() and of with_exit_json(), and how many times remove_values (the copy that
    masks no_log values) ran on the result in main()."""
    calls = []
    real = basic.remove_values

    def counting(value, no_log_strings):
        if isinstance(value, dict) and "changed" in value:  # the result, not the arguments
            calls.append(1)
        return real(value, no_log_strings)

    monkeypatch.setattr(basic, "remove_values", counting)
    ours = printed(monkeypatch, capsys, args, scrape_config.main)
    our_copies = len(calls)
    return ours, printed(monkeypatch, capsys, args, with_exit_json), our_copies


def test_the_result_is_printed_as_exit_json_prints_it_without_the_masking_copy(monkeypatch, capsys):
    args = {"job_name": "node", "relabel_configs": RULES, "discovered_targets": DISCOVERED, "schema_version": "3.5",
            "static_configs": [{"targets": ["s:1", "s:2"], "labels": {"__meta_keep": "yes", "zone": "été"}}]}
    ours, theirs, our_copies = both_ways(monkeypatch, capsys, args)
    assert (ours, our_copies) == (theirs, 0)
    result = json.loads(ours[1])
    teams = [target["labels"].get("team") for target in result["targets"]]
    assert (teams, result["invocation"]["module_args"]["job_name"]) == ([None, None, "ünïcode ☃", None, None], "node")


def test_a_secret_among_the_arguments_leaves_the_printing_to_exit_json(monkeypatch, capsys):
    args = {"job_name": "node", "basic_auth": {"username": "u", "password": "hunter2"},
            "static_configs": [{"targets": ["s:1"], "labels": {"note": "hunter2"}}], "discovered_targets": []}
    ours, theirs, our_copies = both_ways(monkeypatch, capsys, args)
    assert (ours, our_copies, "hunter2" in ours[1]) == (theirs, 1, False)


def test_a_pending_warning_leaves_the_printing_to_exit_json(monkeypatch, capsys):
    monkeypatch.setattr(scrape_config, "get_warnings", lambda: ["something to say"])
    args = {"job_name": "node", "static_configs": [{"targets": ["s:1"]}], "discovered_targets": []}
    ours, theirs, our_copies = both_ways(monkeypatch, capsys, args)
    assert (ours, our_copies) == (theirs, 1)


def module_result(monkeypatch, capsys, args: dict) -> dict:
    """What the module prints for ``args``."""
    return json.loads(printed(monkeypatch, capsys, args, scrape_config.main)[1])


@pytest.mark.parametrize(
    "option, value",
    [
        ("fallback_scrape_protocol", "PrometheusText0.0.4"),
        ("always_scrape_classic_histograms", True),
        ("convert_classic_histograms_to_nhcb", False),
        ("metric_name_validation_scheme", "legacy"),
    ],
)
def test_a_3_0_option_is_set_for_3_5_and_refused_for_2_53_naming_3_0(monkeypatch, capsys, option, value):
    args = {"job_name": "node", "static_configs": [{"targets": ["s:1"]}], option: value}
    accepted = module_result(monkeypatch, capsys, dict(args, schema_version="3.5"))
    refused = module_result(monkeypatch, capsys, dict(args, schema_version="2.53"))
    assert (accepted["scrape_config"], refused.get("failed"), refused["msg"]) == (
        {"job_name": "node", "static_configs": [{"targets": ["s:1"]}], option: value},
        True,
        'job "node": %s needs Prometheus 3.0 or newer, but the configuration targets 2.53; remove it or target 3.0'
        % option,
    )


def test_the_options_left_unset_stay_out_of_the_job(monkeypatch, capsys):
    result = module_result(monkeypatch, capsys, {"job_name": "node", "metric_name_escaping_scheme": "underscores",
                                                 "native_histogram_min_bucket_factor": 1.1})
    assert result["scrape_config"] == {"job_name": "node", "metric_name_escaping_scheme": "underscores",
                                       "native_histogram_min_bucket_factor": 1.1}


def test_scrape_classic_histograms_is_refused_from_3_0_with_its_new_name(monkeypatch, capsys):
    result = module_result(monkeypatch, capsys, {"job_name": "node", "scrape_classic_histograms": True})
    assert result["msg"] == ('job "node": scrape_classic_histograms was removed in Prometheus 3.0 and the '
                             "configuration targets 3.13; use always_scrape_classic_histograms")


def test_a_choice_the_schema_does_not_have_is_refused_by_the_argument_spec(monkeypatch, capsys):
    result = module_result(monkeypatch, capsys, {"job_name": "node", "fallback_scrape_protocol": "JSON"})
    assert (result["failed"], "fallback_scrape_protocol" in result["msg"], "PrometheusText1.0.0" in result["msg"]) == (
        True, True, True)
