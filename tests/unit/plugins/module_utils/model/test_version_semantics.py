"""Where the release lines differ, line by line: relabeling (``.`` and newlines, ``(?<name>re)``,
UTF-8 label names, lowercase into a template), the target pipeline (default port, scheme check) and
the configuration schema (fields newer than the line, fields 3.0 removed, ``api_version: v1``)."""

from __future__ import annotations

import pytest

from ansible_collections.promfleet.federation.plugins.module_utils.errors import (
    ConfigError,
    RelabelError,
    TargetError,
)
from ansible_collections.promfleet.federation.plugins.module_utils.model.promconfig import (
    normalize_config,
    normalize_scrape_config,
)
from ansible_collections.promfleet.federation.plugins.module_utils.model.relabel import (
    is_label_name,
    parse_rule,
    relabel,
)
from ansible_collections.promfleet.federation.plugins.module_utils.model.targets import (
    simulate_targets,
    target_labels,
)

JOB = {"job_name": "j"}
JOB_DEFAULTS = {
    "__metrics_path__": "/metrics",
    "__scheme__": "http",
    "__scrape_interval__": "1m",
    "__scrape_timeout__": "10s",
    "job": "j",
}


def relabel_error(rule: dict, version: str) -> str:
    with pytest.raises(RelabelError) as info:
        parse_rule(rule, version=version)
    return str(info.value)


def config_error(call, *args) -> str:
    with pytest.raises(ConfigError) as info:
        call(*args)
    return str(info.value)


# ---------------------------------------------------------------- `.` and newlines

DOT_RULE = {"source_labels": ["a"], "regex": "a.b", "target_label": "x", "replacement": "y"}


def test_dot_does_not_match_a_newline_in_2_x():
    assert relabel({"a": "a\nb"}, [DOT_RULE], "2.53") == {"a": "a\nb"}


def test_dot_matches_a_newline_in_3_x():
    assert relabel({"a": "a\nb"}, [DOT_RULE], "3.5") == {"a": "a\nb", "x": "y"}


@pytest.mark.parametrize("version", ["2.42", "2.53", "3.5"])
def test_dot_matches_other_characters_in_every_line(version):
    assert relabel({"a": "a-b"}, [DOT_RULE], version) == {"a": "a-b", "x": "y"}


COPY_RULE = {"source_labels": ["a"], "target_label": "x"}  # the default regex (.*), replacement $1


def test_default_regex_copies_a_value_with_a_newline_in_3_x():
    assert relabel({"a": "l1\nl2"}, [COPY_RULE], "3.5") == {"a": "l1\nl2", "x": "l1\nl2"}


@pytest.mark.parametrize("version", ["2.42", "2.53", "2.55"])
def test_default_regex_does_not_match_a_value_with_a_newline_in_2_x(version):
    assert relabel({"a": "l1\nl2"}, [COPY_RULE], version) == {"a": "l1\nl2"}


def test_keep_of_a_value_with_a_newline_differs_between_the_lines():
    keep_any = {"source_labels": ["a"], "regex": ".+", "action": "keep"}
    assert relabel({"a": "l1\nl2"}, [keep_any], "2.53") is None
    assert relabel({"a": "l1\nl2"}, [keep_any], "3.5") == {"a": "l1\nl2"}


# ---------------------------------------------------------------- (?<name>re): Go 1.22, Prometheus 2.51

ANGLE_RULE = {"source_labels": ["a"], "regex": "(?<n>x)", "target_label": "b", "replacement": "$n"}


@pytest.mark.parametrize("version", ["2.42", "2.50"])
def test_angle_named_group_is_refused_before_go_1_22(version):
    message = relabel_error(ANGLE_RULE, version)
    assert message.startswith("relabel rule 1: regex: ")
    assert "Go 1.22" in message and "(?P<name>...)" in message


@pytest.mark.parametrize("version", ["2.51", "2.53", "2.55", "3.0", "3.5", "3.13"])
def test_angle_named_group_is_accepted_from_2_51(version):
    assert relabel({"a": "x"}, [ANGLE_RULE], version) == {"a": "x", "b": "x"}


@pytest.mark.parametrize("version", ["2.42", "3.5"])
def test_p_named_group_is_accepted_by_every_line(version):
    rule = dict(ANGLE_RULE, regex="(?P<n>x)")
    assert relabel({"a": "x"}, [rule], version) == {"a": "x", "b": "x"}


# ---------------------------------------------------------------- lowercase into a template

LOWER_INTO_TEMPLATE = {"source_labels": ["a"], "target_label": "$1", "action": "lowercase"}


@pytest.mark.parametrize("version", ["2.42", "3.0", "3.5"])
def test_lowercase_into_a_template_writes_a_label_named_like_it(version):
    assert relabel({"a": "ÀB"}, [LOWER_INTO_TEMPLATE], version) == {"a": "ÀB", "$1": "àb"}


@pytest.mark.parametrize("version", ["2.49", "2.53", "2.55"])
def test_lowercase_into_a_template_is_refused_from_2_49_to_2_55(version):
    assert relabel_error(LOWER_INTO_TEMPLATE, version) == (
        "relabel rule 1: target_label '$1' is not a valid label name for action lowercase in Prometheus %s "
        "(letters, digits and _, not starting with a digit (before Prometheus 3))" % version
    )


def test_uppercase_into_a_name_that_is_no_template_is_refused_by_2_42():
    assert "for action uppercase in Prometheus 2.42" in relabel_error(
        {"source_labels": ["a"], "target_label": "a-b", "action": "uppercase"}, "2.42"
    )


# ---------------------------------------------------------------- UTF-8 label names

UTF8_RULE = {"source_labels": ["a"], "target_label": "app.name"}


def test_utf8_target_label_is_refused_by_2_x():
    assert relabel_error(UTF8_RULE, "2.53") == (
        "relabel rule 1: target_label 'app.name' is not a valid label name "
        "(letters, digits and _, not starting with a digit (before Prometheus 3))"
    )


def test_utf8_target_label_is_accepted_and_written_by_3_x():
    assert relabel({"a": "shop"}, [UTF8_RULE], "3.5") == {"a": "shop", "app.name": "shop"}


@pytest.mark.parametrize(
    "rule, labels, expected",
    [
        ({"source_labels": ["app.kubernetes.io/name"], "target_label": "app"}, {"app.kubernetes.io/name": "x"},
         {"app.kubernetes.io/name": "x", "app": "x"}),
        ({"action": "labelmap", "regex": "k_(.*)", "replacement": "k8s.$1"}, {"k_ns": "shop"},
         {"k_ns": "shop", "k8s.ns": "shop"}),
        ({"action": "hashmod", "source_labels": ["a"], "modulus": 1, "target_label": "shard-id"}, {"a": "x"},
         {"a": "x", "shard-id": "0"}),
        ({"action": "keepequal", "source_labels": ["a"], "target_label": "b.c"}, {"a": "1", "b.c": "1"},
         {"a": "1", "b.c": "1"}),
    ],
    ids=["source_label", "labelmap_replacement", "hashmod_target", "keepequal_target"],
)  # fmt: skip
def test_utf8_names_in_every_name_field_work_in_3_x(rule, labels, expected):
    assert relabel(labels, [rule], "3.5") == expected


@pytest.mark.parametrize(
    "rule, field",
    [
        ({"source_labels": ["app.kubernetes.io/name"], "target_label": "app"}, "source_labels"),
        ({"action": "labelmap", "regex": "k_(.*)", "replacement": "k8s.$1"}, "replacement"),
        ({"action": "hashmod", "source_labels": ["a"], "modulus": 1, "target_label": "shard-id"}, "target_label"),
        ({"action": "keepequal", "source_labels": ["a"], "target_label": "b.c"}, "target_label"),
    ],
    ids=["source_label", "labelmap_replacement", "hashmod_target", "keepequal_target"],
)
def test_utf8_names_in_every_name_field_are_refused_by_2_x(rule, field):
    assert field in relabel_error(rule, "2.55")


def test_an_empty_name_is_no_label_name_in_3_x_either():
    assert not is_label_name("", utf8=True) and is_label_name("a-b", utf8=True) and not is_label_name("a-b")
    assert relabel_error({"source_labels": [""], "target_label": "x"}, "3.5") == (
        "relabel rule 1: source_labels: '' is not a valid label name (any non-empty text in Prometheus 3)"
    )


def test_expanded_target_that_is_no_2_x_name_is_skipped_but_written_in_3_x():
    rule = {"source_labels": ["a"], "regex": "(.*)", "target_label": "k.${1}", "replacement": "v"}
    with pytest.raises(RelabelError, match="not a valid label name template"):
        parse_rule(rule, version="2.53")
    assert relabel({"a": "x"}, [rule], "3.5") == {"a": "x", "k.x": "v"}


# ---------------------------------------------------------------- the target pipeline


def test_default_port_is_added_by_2_x():
    labels = target_labels({"__address__": "h"}, JOB, None, "2.53")
    assert labels["__address__"] == "h:80" and labels["instance"] == "h:80"


def test_no_default_port_in_3_x():
    assert target_labels({"__address__": "h"}, JOB, None, "3.5") == dict(JOB_DEFAULTS, __address__="h", instance="h")


def test_https_default_port_is_added_by_2_x_only():
    job = dict(JOB, scheme="https")
    assert target_labels({"__address__": "h"}, job, None, "2.53")["__address__"] == "h:443"
    assert target_labels({"__address__": "h"}, job, None, "3.5")["__address__"] == "h"


@pytest.mark.parametrize("version", ["2.53", "3.5"])
def test_an_address_with_a_port_is_kept_by_every_line(version):
    assert target_labels({"__address__": "h:9100"}, JOB, None, version)["instance"] == "h:9100"


def test_unknown_scheme_without_port_fails_the_target_in_2_x():
    with pytest.raises(TargetError, match=r"^invalid scheme: 'ftp'$"):
        target_labels({"__address__": "h", "__scheme__": "ftp"}, JOB, None, "2.53")
    assert simulate_targets(JOB, [{"__address__": "h", "__scheme__": "ftp"}], None, "2.53") == [
        {"discovered_labels": {}, "labels": {}, "error": "invalid scheme: 'ftp'"}
    ]


def test_unknown_scheme_without_port_is_kept_in_3_x():
    assert simulate_targets(JOB, [{"__address__": "h", "__scheme__": "ftp"}], None, "3.5") == [
        {
            "discovered_labels": dict(JOB_DEFAULTS, __address__="h", __scheme__="ftp"),
            "labels": dict(JOB_DEFAULTS, __address__="h", __scheme__="ftp", instance="h"),
        }
    ]


def test_target_relabeling_follows_the_version():
    job = dict(JOB, relabel_configs=[{"source_labels": ["__meta_note"], "target_label": "note"}])
    discovered = {"__address__": "h:1", "__meta_note": "a\nb"}
    assert "note" not in target_labels(discovered, job, None, "2.53")
    assert target_labels(discovered, job, None, "3.5")["note"] == "a\nb"


def test_simulated_targets_relabel_with_the_version():
    job = dict(JOB, relabel_configs=[{"source_labels": ["__address__"], "target_label": "app.name"}])
    assert simulate_targets(job, [{"__address__": "h:1"}], None, "3.5")[0]["labels"]["app.name"] == "h:1"
    with pytest.raises(RelabelError, match="target_label 'app.name' is not a valid label name"):
        simulate_targets(job, [{"__address__": "h:1"}], None, "2.53")


# ---------------------------------------------------------------- the configuration schema


def test_field_newer_than_the_version_names_both_versions():
    job = dict(JOB, fallback_scrape_protocol="PrometheusText0.0.4")
    assert config_error(normalize_scrape_config, job, "2.53") == (
        'job "j": fallback_scrape_protocol needs Prometheus 3.0 or newer, but the configuration targets 2.53; '
        "remove it or target 3.0"
    )


def test_field_is_accepted_from_its_version():
    job = dict(JOB, fallback_scrape_protocol="PrometheusText0.0.4")
    assert normalize_scrape_config(job, "3.0") == job


def test_field_removed_in_3_0_names_the_removal_and_its_successor():
    assert config_error(normalize_scrape_config, dict(JOB, scrape_classic_histograms=True), "3.0") == (
        'job "j": scrape_classic_histograms was removed in Prometheus 3.0 and the configuration targets 3.0; '
        "use always_scrape_classic_histograms"
    )


@pytest.mark.parametrize("version", ["2.45", "2.55"])
def test_field_removed_in_3_0_is_accepted_by_the_2_x_lines_that_have_it(version):
    assert normalize_scrape_config(dict(JOB, scrape_classic_histograms=True), version)


def test_field_removed_in_3_0_is_refused_before_it_existed():
    assert "scrape_classic_histograms needs Prometheus 2.45 or newer" in config_error(
        normalize_scrape_config, dict(JOB, scrape_classic_histograms=True), "2.44"
    )


def test_successor_of_a_removed_field_needs_3_0():
    assert "always_scrape_classic_histograms needs Prometheus 3.0" in config_error(
        normalize_scrape_config, dict(JOB, always_scrape_classic_histograms=True), "2.55"
    )
    assert normalize_scrape_config(dict(JOB, always_scrape_classic_histograms=True), "3.0")


ALERTMANAGER_V1 = {"alerting": {"alertmanagers": [{"api_version": "v1"}]}}


def test_alertmanager_api_v1_is_refused_by_3_x():
    assert config_error(normalize_config, ALERTMANAGER_V1, "3.5") == (
        "alerting.alertmanagers[0].api_version: v1 was removed in Prometheus 3.0 and the configuration targets 3.5; "
        "use v2"
    )


def test_alertmanager_api_v1_is_accepted_by_2_x():
    assert normalize_config(ALERTMANAGER_V1, "2.55") == ALERTMANAGER_V1


@pytest.mark.parametrize("version", ["2.42", "3.5"])
def test_alertmanager_api_v2_is_accepted_by_every_line(version):
    config = {"alerting": {"alertmanagers": [{"api_version": "v2"}]}}
    assert normalize_config(config, version) == config


def test_static_label_name_that_is_no_2_x_name_is_refused_naming_the_version():
    job = dict(JOB, static_configs=[{"targets": ["a:1"], "labels": {"a-b": "x"}}])
    assert config_error(normalize_scrape_config, job, "2.42") == (
        "job \"j\": static_configs[0].labels: 'a-b' is not a valid label name in Prometheus 2.42 "
        "(letters, digits and _, not starting with a digit)"
    )


def test_static_label_name_is_any_non_empty_text_in_3_x():
    job = dict(JOB, static_configs=[{"targets": ["a:1"], "labels": {"a-b": "x", "app.name": "y"}}])
    assert normalize_scrape_config(job, "3.0") == job
    empty = dict(JOB, static_configs=[{"targets": ["a:1"], "labels": {"": "x"}}])
    assert config_error(normalize_scrape_config, empty, "3.0") == (
        "job \"j\": static_configs[0].labels: '' is not a valid label name in Prometheus 3.0 (not empty)"
    )


def test_external_label_names_follow_the_version():
    config = {"global": {"external_labels": {"data.center": "eu"}}}
    assert normalize_config(config, "3.5") == config
    message = config_error(normalize_config, config, "2.55")
    assert "'data.center' is not a valid label name in Prometheus 2.55" in message


@pytest.mark.parametrize(
    "config, since",
    [
        ({"global": {"rule_query_offset": "1m"}}, "2.53"),
        ({"global": {"scrape_protocols": ["PrometheusProto"]}}, "2.49"),
        ({"global": {"sample_limit": 10}}, "2.45"),
        ({"global": {"metric_name_escaping_scheme": "underscores"}}, "3.4"),
        ({"runtime": {"gogc": 75}}, "2.53"),
        ({"otlp": {"promote_resource_attributes": ["service.name"]}}, "2.54"),
        ({"remote_write": [{"url": "http://a", "round_robin_dns": True}]}, "3.0"),
        ({"scrape_configs": [dict(JOB, http_headers={"X-A": {"values": ["1"]}})]}, "2.55"),
        ({"scrape_configs": [dict(JOB, tls_config={"ca": "PEM"})]}, "2.43"),
    ],
    ids=[
        "global_rule_query_offset",
        "global_scrape_protocols",
        "global_sample_limit",
        "global_metric_name_escaping_scheme",
        "runtime",
        "otlp",
        "remote_write_round_robin_dns",
        "job_http_headers",
        "tls_ca",
    ],
)
def test_newer_config_fields_are_refused_before_and_accepted_from_their_version(config, since):
    major, minor = (int(part) for part in since.split("."))
    before = "2.55" if (major, minor) == (3, 0) else "%d.%d" % (major, minor - 1)
    assert "needs Prometheus %s or newer, but the configuration targets %s" % (since, before) in config_error(
        normalize_config, config, before
    )
    assert normalize_config(config, since)


def test_text_format_1_0_0_is_a_scrape_protocol_from_3_0():
    job = dict(JOB, scrape_protocols=["PrometheusText1.0.0"])
    assert normalize_scrape_config(job, "3.0") == job
    assert "'PrometheusText1.0.0' is not valid" in config_error(normalize_scrape_config, job, "2.55")
