"""Relabeling: defaults, validation, every action, the target pipeline; where 2.x and 3.x differ, both answers
(more of them in test_version_semantics.py)."""

from __future__ import annotations

import pytest

from ansible_collections.promfleet.federation.plugins.module_utils.errors import RelabelError, TargetError
from ansible_collections.promfleet.federation.plugins.module_utils.model.durations import format_duration
from ansible_collections.promfleet.federation.plugins.module_utils.model.relabel import (
    go_lower,
    go_upper,
    hashmod,
    parse_rule,
    parse_rules,
    relabel,
)
from ansible_collections.promfleet.federation.plugins.module_utils.model.targets import target_labels
from ansible_collections.promfleet.federation.plugins.module_utils.model.versions import DEFAULT_SCHEMA_VERSION


def test_defaults():
    assert parse_rule({"target_label": "x"}).as_dict() == {
        "source_labels": [], "separator": ";", "regex": "(.*)", "modulus": 0,
        "target_label": "x", "replacement": "$1", "action": "replace"}


def test_action_is_case_insensitive():
    assert parse_rule({"action": "LabelDrop", "regex": "a"}).action == "labeldrop"


def test_source_values_joined_with_separator_missing_is_empty():
    rules = [{"source_labels": ["a", "missing", "b"], "target_label": "x"}]
    assert relabel({"a": "1", "b": "2"}, rules)["x"] == "1;;2"


def test_replace_without_match_changes_nothing():
    rules = [{"source_labels": ["a"], "regex": "2", "target_label": "a", "replacement": "z"}]
    assert relabel({"a": "1"}, rules) == {"a": "1"}


def test_replace_expands_target_label():
    rules = [{"source_labels": ["a"], "regex": "(.*)", "target_label": "t_${1}", "replacement": "v"}]
    assert relabel({"a": "x"}, rules) == {"a": "x", "t_x": "v"}


def test_replace_with_invalid_expanded_target_does_nothing():
    rules = [{"source_labels": ["a"], "regex": "(.*)", "target_label": "${1}", "replacement": "v"}]
    assert relabel({"a": "9"}, rules, "2.42") == {"a": "9"}


def test_replace_with_expanded_target_of_any_text_writes_it_in_3_x():
    rules = [{"source_labels": ["a"], "regex": "(.*)", "target_label": "${1}", "replacement": "v"}]
    assert relabel({"a": "9"}, rules, "3.0") == {"a": "9", "9": "v"}


def test_replace_with_empty_expanded_target_does_nothing_in_3_x():
    rules = [{"source_labels": ["a"], "regex": "(.*)", "target_label": "${1}", "replacement": "v"}]
    assert relabel({"b": "1"}, rules, "3.5") == {"b": "1"}


def test_replace_with_empty_value_deletes_label():
    assert relabel({"a": "1", "b": "2"}, [{"target_label": "b", "replacement": ""}]) == {"a": "1"}


def test_dollar_one_underscore_is_a_group_name():
    rules = [{"source_labels": ["a"], "target_label": "b", "replacement": "$1_x"}]
    assert relabel({"a": "1"}, rules) == {"a": "1"}


def test_keep_and_drop():
    assert relabel({"a": "1"}, [{"source_labels": ["a"], "regex": "1", "action": "drop"}]) is None
    assert relabel({"a": "1"}, [{"source_labels": ["a"], "regex": "2", "action": "keep"}]) is None


def test_regex_is_anchored():
    assert relabel({"a": "x1"}, [{"source_labels": ["a"], "regex": "1", "action": "keep"}]) is None


def test_keepequal_and_dropequal():
    assert relabel({"a": "1", "b": "1"}, [{"source_labels": ["a"], "target_label": "b", "action": "keepequal"}])
    assert relabel({"a": "1", "b": "1"}, [{"source_labels": ["a"], "target_label": "b", "action": "dropequal"}]) is None


def test_hashmod_known_values():
    # Values printed by promtool 2.42 for the same inputs.
    assert (hashmod("", 1000), hashmod("node-1:9100", 1000), hashmod("node-1:9100;İ", 7)) == (958, 805, 1)


def test_labelmap_uses_snapshot_in_sorted_order():
    rules = [{"action": "labelmap", "regex": "(a|b)", "replacement": "b"}]
    assert relabel({"a": "1", "b": "2"}, rules) == {"a": "1", "b": "2"}


def test_labelmap_does_not_check_the_new_name():
    rules = [{"action": "labelmap", "regex": "a(.*)", "replacement": "$1"}]
    assert relabel({"ab": "4"}, rules) == {"ab": "4", "b": "4"}


def test_labeldrop_and_labelkeep():
    assert relabel({"a": "1", "b": "2"}, [{"action": "labeldrop", "regex": "a"}]) == {"b": "2"}
    assert relabel({"a": "1", "b": "2"}, [{"action": "labelkeep", "regex": "a"}]) == {"a": "1"}


def test_go_case_mapping():
    assert go_upper("straße") == "STRAßE" and go_lower("İ") == "i" and go_upper("ᾳ") == "ᾼ"


def test_lowercase_action():
    assert relabel({"a": "ÀB"}, [{"source_labels": ["a"], "target_label": "l", "action": "lowercase"}])["l"] == "àb"


@pytest.mark.parametrize("version", ["2.42", "2.53", "3.5", DEFAULT_SCHEMA_VERSION])
@pytest.mark.parametrize(
    "rule, message",
    [
        ({"action": "hashmod", "target_label": "x"}, "relabel rule 1: action hashmod needs modulus > 0"),
        ({"action": "replace"}, "relabel rule 1: action replace needs target_label"),
        ({"action": "uppercase", "target_label": "x", "replacement": "y"}, "action uppercase takes no replacement"),
        ({"action": "keepequal", "source_labels": ["a"], "target_label": "b", "regex": "(.*)"},
         "action keepequal allows only source_labels and target_label; remove regex"),
        ({"action": "labeldrop", "regex": "a", "source_labels": []},
         "action labeldrop allows only regex; remove source_labels"),
        ({"action": "labelmap", "replacement": ""}, "replacement '' of action labelmap"),
        ({"action": "nope"}, "unknown action 'nope'"),
        ({"action": ""}, "action must not be empty"),
        ({"source_labels": [""], "target_label": "x"}, "source_labels: '' is not a valid label name"),
        ({"target_label": "x", "extra": 1}, "unknown field extra"),
        ({"target_label": "x", "regex": "(?=a)"}, "regex: invalid regex"),
    ],
)
def test_validation_error(rule, message, version):
    with pytest.raises(RelabelError) as info:
        parse_rule(rule, version=version)
    assert message in str(info.value)


# Names only 3.x takes: any non-empty text is a label name (and a labelmap replacement).
NAMES_OF_3_X = [
    ({"target_label": "a-b"}, "target_label 'a-b' is not a valid label name (letters, digits and _"),
    ({"target_label": "a$"}, "target_label 'a$' is not a valid label name template"),
    ({"action": "labelmap", "replacement": "1$1"},
     "replacement '1$1' of action labelmap must be a label name template"),
    ({"source_labels": ["a-b"], "target_label": "x"}, "source_labels: 'a-b' is not a valid label name"),
]


@pytest.mark.parametrize("version", ["2.42", "2.55"])
@pytest.mark.parametrize("rule, message", NAMES_OF_3_X)
def test_validation_error_of_2_x_names(rule, message, version):
    with pytest.raises(RelabelError) as info:
        parse_rule(rule, version=version)
    assert message in str(info.value) and "before Prometheus 3" in str(info.value)


@pytest.mark.parametrize("version", ["3.0", DEFAULT_SCHEMA_VERSION])
@pytest.mark.parametrize("rule", [rule for rule, _message in NAMES_OF_3_X])
def test_names_of_3_x_are_accepted(rule, version):
    assert parse_rule(rule, version=version).as_dict() == dict(
        {"source_labels": [], "separator": ";", "regex": "(.*)", "modulus": 0, "target_label": "",
         "replacement": "$1", "action": "replace"},
        **rule,
    )


def test_target_label_with_a_dash_is_written_in_3_x():
    assert relabel({"a": "1"}, [{"source_labels": ["a"], "target_label": "a-b"}], "3.5") == {"a": "1", "a-b": "1"}


def test_error_names_where_and_rule_number():
    with pytest.raises(RelabelError, match=r'^job "node", relabel_configs: relabel rule 2: action hashmod'):
        parse_rules([{"target_label": "x"}, {"action": "hashmod", "target_label": "x"}], 'job "node", relabel_configs')


def test_target_pipeline_defaults():
    assert target_labels({"__address__": "h", "__meta_x": "1", "__tmp": "t"}, {"job_name": "j"}, version="2.42") == {
        "__address__": "h:80", "__metrics_path__": "/metrics", "__scheme__": "http",
        "__scrape_interval__": "1m", "__scrape_timeout__": "10s", "__tmp": "t", "instance": "h:80", "job": "j"}


def test_target_pipeline_defaults_of_3_x_add_no_port():
    assert target_labels({"__address__": "h", "__meta_x": "1", "__tmp": "t"}, {"job_name": "j"}) == {
        "__address__": "h", "__metrics_path__": "/metrics", "__scheme__": "http",
        "__scrape_interval__": "1m", "__scrape_timeout__": "10s", "__tmp": "t", "instance": "h", "job": "j"}


def test_target_params_override_discovered():
    labels = target_labels({"__address__": "h:1", "__param_m": "x"}, {"job_name": "j", "params": {"m": ["a", "b"]}})
    assert labels["__param_m"] == "a"


def test_target_without_address_is_an_error():
    with pytest.raises(TargetError, match="no address"):
        target_labels({}, {"job_name": "j"})


def test_https_default_port_and_duration_format():
    labels = target_labels({"__address__": "[::1]"}, {"job_name": "j", "scheme": "https", "scrape_interval": "90s"},
                           version="2.42")
    assert labels["__address__"] == "[::1]:443" and labels["__scrape_interval__"] == "1m30s"
    assert format_duration(86400000) == "1d"


def test_https_address_without_port_is_kept_in_3_x():
    labels = target_labels({"__address__": "[::1]"}, {"job_name": "j", "scheme": "https", "scrape_interval": "90s"},
                           version="3.5")
    assert labels["__address__"] == "[::1]" and labels["instance"] == "[::1]"
    assert labels["__scrape_interval__"] == "1m30s"


@pytest.mark.parametrize("version, expected", [("2.53", None), ("3.5", "x\ny")])
def test_the_default_regex_matches_a_newline_only_from_3_0(version, expected):
    rules = parse_rules([{"source_labels": ["a"], "target_label": "b"},
                         {"source_labels": ["a"], "target_label": "c_${1}", "replacement": "<$1>"}], version=version)
    out = relabel({"a": "x\ny"}, rules, version)
    assert (out.get("b"), out.get("c_x\ny")) == (expected, expected and "<x\ny>")


def test_a_label_value_that_is_not_a_string_fails_every_action_alike():
    for rule in ({"source_labels": ["a"], "target_label": "b"}, {"source_labels": ["a"], "action": "labelmap",
                                                                 "regex": "z"}):
        with pytest.raises(TypeError):
            relabel({"a": 7}, [rule], built=True)
