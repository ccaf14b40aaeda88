"""What the relabel module answers (``model.explain.explain_relabeling``): every label set through the
rules, and the rules in their explicit form."""

from __future__ import annotations

import pytest

from ansible_collections.promfleet.federation.plugins.module_utils.errors import (
    ConfigError,
    LabelSetError,
    RelabelError,
)
from ansible_collections.promfleet.federation.plugins.module_utils.model.explain import explain_relabeling

SERVICE_RULE = {"source_labels": ["__meta_kubernetes_service_name"], "target_label": "service"}
KEEP_SHOP = {"source_labels": ["__meta_kubernetes_namespace"], "regex": "shop", "action": "keep"}


def test_each_label_set_gets_a_result_in_order():
    result = explain_relabeling([SERVICE_RULE], [{"__meta_kubernetes_service_name": "cart"}, {"a": "1"}])
    assert result["results"] == [
        {"labels": {"__meta_kubernetes_service_name": "cart", "service": "cart"}, "dropped": False},
        {"labels": {"a": "1"}, "dropped": False},
    ]


def test_a_dropped_label_set_has_null_labels():
    result = explain_relabeling([KEEP_SHOP], [{"__meta_kubernetes_namespace": "staging"}])
    assert result["results"] == [{"labels": None, "dropped": True}]


def test_result_labels_are_sorted_by_name():
    result = explain_relabeling([{"source_labels": ["z"], "target_label": "a"}], [{"z": "1", "m": "2"}])
    assert list(result["results"][0]["labels"]) == ["a", "m", "z"]


def test_empty_values_count_as_absent():
    result = explain_relabeling([{"source_labels": ["a"], "regex": "", "action": "keep"}], [{"a": "", "b": "1"}])
    assert result["results"] == [{"labels": {"b": "1"}, "dropped": False}]


def test_rules_are_returned_fully_explicit():
    assert explain_relabeling([SERVICE_RULE, {"action": "LabelDrop", "regex": "__meta_.*"}], [])["rules"] == [
        {
            "source_labels": ["__meta_kubernetes_service_name"],
            "separator": ";",
            "regex": "(.*)",
            "modulus": 0,
            "target_label": "service",
            "replacement": "$1",
            "action": "replace",
        },
        {"separator": ";", "regex": "__meta_.*", "modulus": 0, "target_label": "", "replacement": "$1",
         "action": "labeldrop"},
    ]


def test_no_label_sets_gives_no_results():
    assert explain_relabeling([SERVICE_RULE], [])["results"] == []


def test_invalid_rule_names_its_index_and_field():
    with pytest.raises(RelabelError) as info:
        explain_relabeling([SERVICE_RULE, {"action": "hashmod", "source_labels": ["a"], "target_label": "shard"}], [])
    assert str(info.value) == "relabel rule 2: action hashmod needs modulus > 0"


def test_invalid_regex_names_the_rule_and_the_regex_field():
    with pytest.raises(RelabelError, match=r"^relabel rule 1: regex: "):
        explain_relabeling([{"source_labels": ["a"], "target_label": "b", "regex": "(?=a)"}], [])


def test_label_value_must_be_a_string():
    with pytest.raises(LabelSetError) as info:
        explain_relabeling([SERVICE_RULE], [{"a": "1"}, {"port": 9100}])
    assert str(info.value) == "labels[1]: the value of port must be a string, got 9100 (quote it)"


@pytest.mark.parametrize("version", ["2.41", "3.14"])
def test_unsupported_version_is_refused(version):
    with pytest.raises(ConfigError, match=r"^Prometheus version %s is not modelled by the engine; use one of 2\.42, "
                       % version.replace(".", r"\.")):
        explain_relabeling([SERVICE_RULE], [], version)


def test_3_0_is_a_supported_version():
    assert explain_relabeling([SERVICE_RULE], [{"__meta_kubernetes_service_name": "cart"}], "3.0")["results"] == [
        {"labels": {"__meta_kubernetes_service_name": "cart", "service": "cart"}, "dropped": False}
    ]


def test_rules_are_checked_for_the_version_given():
    utf8_target = {"source_labels": ["a"], "target_label": "app.name"}
    assert explain_relabeling([utf8_target], [{"a": "x"}], "3.5")["results"] == [
        {"labels": {"a": "x", "app.name": "x"}, "dropped": False}
    ]
    with pytest.raises(RelabelError, match=r"^relabel rule 1: target_label 'app.name' is not a valid label name"):
        explain_relabeling([utf8_target], [{"a": "x"}], "2.53")


def test_label_sets_are_relabeled_with_the_semantics_of_the_version():
    copy_a = {"source_labels": ["a"], "target_label": "b"}
    assert explain_relabeling([copy_a], [{"a": "1\n2"}], "2.53")["results"][0]["labels"] == {"a": "1\n2"}
    assert explain_relabeling([copy_a], [{"a": "1\n2"}], "3.5")["results"][0]["labels"] == {"a": "1\n2", "b": "1\n2"}


def test_default_version_relabels_like_3_x():
    # (?<name>re) needs Go 1.22 (2.51 on) and `.` matches a newline from 3.0 on: 2.42 would refuse the rule
    rule = {"source_labels": ["a"], "regex": "(?<v>.+)", "target_label": "b", "replacement": "$v"}
    assert explain_relabeling([rule], [{"a": "1\n2"}])["results"][0]["labels"] == {"a": "1\n2", "b": "1\n2"}
