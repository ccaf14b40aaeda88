"""The prometheus.yml model: validation like Prometheus (the 3.13 LTS by default, 2.42 where stated), version
gating, normalization, redaction."""

from __future__ import annotations

import pytest

from ansible_collections.promfleet.federation.plugins.module_utils.errors import ConfigError
from ansible_collections.promfleet.federation.plugins.module_utils.model.promconfig import (
    normalize_config,
    normalize_scrape_config,
)
from ansible_collections.promfleet.federation.plugins.module_utils.model.redact import SECRET_FIELDS, redact
from ansible_collections.promfleet.federation.plugins.module_utils.model.versions import (
    DEFAULT_SCHEMA_VERSION,
    SUPPORTED_SCHEMA_VERSIONS,
    version_at_least,
)

RICH_JOB = {
    "job_name": "node",
    "honor_labels": True,
    "honor_timestamps": False,
    "params": {"match[]": ['{job="node"}']},
    "scrape_interval": "15s",
    "scrape_timeout": "15s",
    "metrics_path": "/federate",
    "scheme": "https",
    "basic_auth": {"username": "u", "password": "p"},
    "tls_config": {"ca_file": "ca.pem", "server_name": "x", "insecure_skip_verify": False, "min_version": "TLS12"},
    "proxy_url": "http://proxy:3128",
    "follow_redirects": True,
    "enable_http2": False,
    "static_configs": [{"targets": ["a:9100", "b"], "labels": {"dc": "eu"}}],
    "file_sd_configs": [{"files": ["targets/*.json", "more.yml"], "refresh_interval": "1m"}],
    "kubernetes_sd_configs": [{"role": "pod", "namespaces": {"names": ["x"], "own_namespace": False}}],
    "sample_limit": 1000,
    "label_limit": 30,
    "label_name_length_limit": 100,
    "label_value_length_limit": 200,
    "target_limit": 10,
    "body_size_limit": "10MB",
}


def job(**fields) -> dict:
    return dict({"job_name": "node"}, **fields)


def error_of(call, *args, **kwargs) -> str:
    with pytest.raises(ConfigError) as info:
        call(*args, **kwargs)
    return str(info.value)


# ---------------------------------------------------------------- valid configs come back unchanged


def test_valid_job_comes_back_unchanged():
    assert normalize_scrape_config(RICH_JOB) == RICH_JOB


def test_normalized_job_keeps_field_order():
    assert list(normalize_scrape_config(RICH_JOB)) == list(RICH_JOB)


def test_normalize_does_not_change_its_input():
    original = job(relabel_configs=[{"target_label": "x"}])
    normalize_scrape_config(original)
    assert original == job(relabel_configs=[{"target_label": "x"}])


def test_relabel_rules_become_fully_explicit():
    result = normalize_scrape_config(job(relabel_configs=[{"target_label": "x"}]))
    assert result["relabel_configs"] == [{"source_labels": [], "separator": ";", "regex": "(.*)", "modulus": 0,
                                          "target_label": "x", "replacement": "$1", "action": "replace"}]


def test_metric_relabel_action_is_lower_cased():
    result = normalize_scrape_config(job(metric_relabel_configs=[{"action": "LabelDrop", "regex": "x"}]))
    assert result["metric_relabel_configs"] == [{"separator": ";", "regex": "x", "modulus": 0, "target_label": "",
                                                 "replacement": "$1", "action": "labeldrop"}]


def test_keepequal_rule_keeps_no_regex_prometheus_would_refuse():
    rule = {"action": "keepequal", "source_labels": ["a"], "target_label": "b"}
    result = normalize_scrape_config(job(relabel_configs=[rule]))
    assert "regex" not in result["relabel_configs"][0]


def test_normalization_is_idempotent():
    rules = [{"action": a, "regex": "x"} for a in ("labeldrop", "labelkeep")] + [
        {"action": "keepequal", "source_labels": ["a"], "target_label": "b"},
        {"action": "hashmod", "source_labels": ["a"], "modulus": 4, "target_label": "h"}]
    once = normalize_scrape_config(job(relabel_configs=rules))
    assert normalize_scrape_config(once) == once


def test_whole_config_comes_back_unchanged():
    config = {
        "global": {"scrape_interval": "30s", "scrape_timeout": "10s", "evaluation_interval": "30s",
                   "external_labels": {"dc": "eu"}, "query_log_file": "q.log"},
        "rule_files": ["rules/*.yml"],
        "scrape_configs": [RICH_JOB],
        "remote_write": [{"url": "https://rw/api/v1/write", "name": "rw", "remote_timeout": "30s",
                          "headers": {"X-Scope-OrgID": "t"}, "queue_config": {"capacity": 100},
                          "metadata_config": {"send": False}}],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": ["am:9093"]}], "api_version": "v2"}]},
    }
    assert normalize_config(config) == config


def test_empty_config_is_valid():
    assert normalize_config({}) == {}


def test_null_field_is_unset():
    assert normalize_scrape_config(job(scrape_timeout=None)) == job(scrape_timeout=None)


def test_write_and_alert_relabel_rules_are_normalized():
    rule = {"source_labels": ["a"], "regex": "x", "action": "drop"}
    config = normalize_config({"remote_write": [{"url": "http://rw", "write_relabel_configs": [rule]}],
                               "alerting": {"alert_relabel_configs": [rule],
                                            "alertmanagers": [{"relabel_configs": [rule]}]}})
    explicit = {"source_labels": ["a"], "separator": ";", "regex": "x", "modulus": 0, "target_label": "",
                "replacement": "$1", "action": "drop"}
    assert config["remote_write"][0]["write_relabel_configs"] == [explicit]
    assert config["alerting"]["alert_relabel_configs"] == [explicit]
    assert config["alerting"]["alertmanagers"][0]["relabel_configs"] == [explicit]


# ---------------------------------------------------------------- scrape interval and timeout


def test_timeout_greater_than_interval():
    assert error_of(normalize_scrape_config, job(scrape_interval="15s", scrape_timeout="20s")) == (
        'job "node": scrape_timeout 20s is greater than scrape_interval 15s; make the timeout at most the interval')


def test_timeout_compared_with_global_interval():
    assert error_of(normalize_scrape_config, job(scrape_timeout="40s"), global_config={"scrape_interval": "30s"}) == (
        'job "node": scrape_timeout 40s is greater than the global scrape_interval 30s; '
        "make the timeout at most the interval")


def test_timeout_compared_with_default_interval():
    assert error_of(normalize_scrape_config, job(scrape_timeout="2m")) == (
        'job "node": scrape_timeout 2m is greater than the default scrape_interval 1m; '
        "make the timeout at most the interval")


def test_inherited_timeout_shrinks_to_a_short_interval():
    # Prometheus uses min(global timeout, interval) when the job sets no timeout.
    assert normalize_scrape_config(job(scrape_interval="5s"), global_config={"scrape_timeout": "20s"})


def test_global_timeout_greater_than_global_interval():
    assert error_of(normalize_config, {"global": {"scrape_interval": "10s", "scrape_timeout": "20s"}}) == (
        "global: scrape_timeout 20s is greater than scrape_interval 10s; make the timeout at most the interval")


# ---------------------------------------------------------------- the misplaced relabel rules


@pytest.mark.parametrize("sd", ["kubernetes_sd_configs", "static_configs", "file_sd_configs"])
def test_relabel_rules_inside_a_discovery_config(sd):
    entry = {"role": "service"} if sd == "kubernetes_sd_configs" else {}
    entry["relabel_configs"] = [{"action": "keep"}]
    assert error_of(normalize_scrape_config, {"job_name": "kube-svc", sd: [entry]}) == (
        'job "kube-svc": %s[0]: relabel_configs is not a field of a %s; relabel rules belong to the scrape job: '
        "move them out one level, next to %s" % (sd, sd[:-1], sd))


def test_metric_relabel_rules_inside_kubernetes_sd_config():
    entry = {"role": "pod", "metric_relabel_configs": []}
    assert error_of(normalize_scrape_config, job(kubernetes_sd_configs=[entry])) == (
        'job "node": kubernetes_sd_configs[0]: metric_relabel_configs is not a field of a kubernetes_sd_config; '
        "relabel rules belong to the scrape job: move them out one level, next to kubernetes_sd_configs")


def test_relabel_rules_inside_alertmanager_discovery():
    config = {"alerting": {"alertmanagers": [{"static_configs": [{"relabel_configs": []}]}]}}
    assert error_of(normalize_config, config) == (
        "alerting.alertmanagers[0].static_configs[0]: relabel_configs is not a field of a static_config; "
        "relabel rules belong to the alertmanager config: move them out one level, next to static_configs")


# ---------------------------------------------------------------- relabel errors


def test_relabel_error_names_job_and_rule():
    rules = [{"target_label": "x"}, {"action": "hashmod", "target_label": "h"}]
    assert error_of(normalize_scrape_config, job(relabel_configs=rules)) == (
        'job "node", relabel_configs: relabel rule 2: action hashmod needs modulus > 0')


def test_metric_relabel_error_names_the_list():
    assert error_of(normalize_scrape_config, job(metric_relabel_configs=[{"regex": "(a"}])).startswith(
        'job "node", metric_relabel_configs: relabel rule 1: regex: ')


def test_null_relabel_rule():
    assert error_of(normalize_scrape_config, job(relabel_configs=[None])) == (
        'job "node", relabel_configs: relabel rule 1: must be a mapping with the fields source_labels, separator, '
        "regex, modulus, target_label, replacement, action, got None")


def test_write_relabel_error_names_the_remote_write():
    config = {"remote_write": [{"url": "http://rw", "name": "lts", "write_relabel_configs": [{"action": "x"}]}]}
    assert error_of(normalize_config, config).startswith(
        'remote_write[0] ("lts"), write_relabel_configs: relabel rule 1: unknown action ')


# ---------------------------------------------------------------- unknown fields and version gating


def test_unknown_field_suggests_close_name():
    assert error_of(normalize_scrape_config, job(scrape_intervall="1m")) == (
        "job \"node\": unknown field 'scrape_intervall' in a scrape config; did you mean 'scrape_interval'?")


def test_unknown_field_without_close_name_lists_fields():
    assert error_of(normalize_scrape_config, job(tls_config={"zzz": 1})) == (
        "job \"node\": tls_config: unknown field 'zzz' in a tls_config; the fields are ca_file, ca, cert, key, "
        "cert_file, key_file, server_name, insecure_skip_verify, min_version, max_version")


def test_unknown_top_level_key_suggests_close_name():
    assert error_of(normalize_config, {"scrape_config": []}) == (
        "unknown field 'scrape_config' in a Prometheus configuration; did you mean 'scrape_configs'?")


@pytest.mark.parametrize(("field", "value", "since"), [
    ("keep_dropped_targets", 10, "2.47"),
    ("track_timestamps_staleness", True, "2.48"),
    ("scrape_protocols", ["PrometheusProto"], "2.49"),
    ("enable_compression", False, "2.49"),
    ("native_histogram_bucket_limit", 100, "2.45"),
    ("proxy_from_environment", True, "2.43"),
])
def test_newer_scrape_field_is_refused_for_2_42(field, value, since):
    assert error_of(normalize_scrape_config, job(**{field: value}), "2.42") == (
        'job "node": %s needs Prometheus %s or newer, but the configuration targets 2.42; remove it or target %s'
        % (field, since, since))


@pytest.mark.parametrize(("field", "value", "since"), [
    ("keep_dropped_targets", 10, "2.47"),
    ("track_timestamps_staleness", True, "2.48"),
    ("scrape_protocols", ["PrometheusProto"], "2.49"),
    ("enable_compression", False, "2.49"),
])
def test_newer_scrape_field_is_accepted_from_its_version(field, value, since):
    assert normalize_scrape_config(job(**{field: value}), version=since) == job(**{field: value})


def test_scrape_config_files_is_refused_for_2_42():
    assert error_of(normalize_config, {"scrape_config_files": ["jobs/*.yml"]}, "2.42") == (
        "scrape_config_files needs Prometheus 2.43 or newer, but the configuration targets 2.42; "
        "remove it or target 2.43")


def test_scrape_config_files_is_accepted_for_2_43():
    assert normalize_config({"scrape_config_files": ["jobs/*.yml"]}, "2.43") == {"scrape_config_files": ["jobs/*.yml"]}


@pytest.mark.parametrize("version", ["2.41", "2.56", "3.14", "4.0"])
def test_unsupported_version(version):
    assert error_of(normalize_config, {}, version) == (
        "Prometheus version %s is not modelled by the engine; use one of %s (2.42 to 2.55, 3.0 to 3.13)"
        % (version, ", ".join(SUPPORTED_SCHEMA_VERSIONS)))


@pytest.mark.parametrize("version", ["2.41", "3.14"])
def test_unsupported_version_of_a_scrape_config(version):
    assert error_of(normalize_scrape_config, job(), version).startswith(
        "Prometheus version %s is not modelled by the engine; use one of 2.42, " % version)


def test_not_a_version():
    assert error_of(normalize_config, {}, "latest") == "version 'latest' is not a Prometheus version like 3.13"


def test_versions_compare_numerically():
    assert version_at_least("2.43", "2.42")
    assert version_at_least("2.100", "2.43")
    assert not version_at_least("2.42", "2.43")
    assert version_at_least("3.0", "2.55") and not version_at_least("2.55", "3.0")
    assert version_at_least("3.10", "3.9") and not version_at_least("3.9", "3.10")


def test_default_version_is_the_lts():
    assert DEFAULT_SCHEMA_VERSION == "3.13"


def test_default_version_accepts_the_fields_of_3_13():
    # metric_name_escaping_scheme came with 3.4, fallback_scrape_protocol with 3.0
    fields = job(metric_name_escaping_scheme="underscores", fallback_scrape_protocol="PrometheusText1.0.0")
    assert normalize_scrape_config(fields) == fields


def test_duplicate_scrape_protocol():
    assert error_of(normalize_scrape_config, job(scrape_protocols=["PrometheusProto"] * 2), "2.49") == (
        'job "node": scrape_protocols: lists a protocol twice; list each protocol once')


# ---------------------------------------------------------------- field errors, one per check

FIELD_ERRORS = [
    ("job_name_missing", {"scrape_interval": "1m"},
     "scrape config: job_name is required: a non-empty string naming the job"),
    ("job_name_empty", {"job_name": ""}, "scrape config: job_name is required: a non-empty string naming the job"),
    ("honor_labels_not_bool", job(honor_labels="yes"), "job \"node\": honor_labels: must be true or false, got 'yes'"),
    ("honor_timestamps_not_bool", job(honor_timestamps=1),
     'job "node": honor_timestamps: must be true or false, got 1'),
    ("params_not_list", job(params={"match[]": "up"}),
     "job \"node\": params.match[]: must be a list of strings, got 'up'; write ['up']"),
    ("params_not_mapping", job(params=["a"]),
     "job \"node\": params: must be a mapping of parameter names to lists of strings, got ['a']"),
    ("interval_not_duration", job(scrape_interval="1 m"),
     "job \"node\": scrape_interval: '1 m' is not a duration; use e.g. 30s, 1m or 1h30m (units y w d h m s ms)"),
    ("timeout_not_string", job(scrape_timeout=10),
     'job "node": scrape_timeout: must be a duration string like 30s, 1m or 1h30m, got 10 (quote it)'),
    ("metrics_path_not_string", job(metrics_path=1), 'job "node": metrics_path: must be a string, got 1 (quote it)'),
    ("scheme", job(scheme="ftp"), "job \"node\": scheme: 'ftp' is not valid; use one of http, https"),
    ("basic_auth_password_and_file", job(basic_auth={"username": "u", "password": "p", "password_file": "f"}),
     'job "node": basic_auth: password and password_file are exclusive; keep one of them'),
    ("authorization_credentials_and_file", job(authorization={"credentials": "c", "credentials_file": "f"}),
     'job "node": authorization: credentials and credentials_file are exclusive; keep one of them'),
    ("authorization_type_basic", job(authorization={"type": "Basic", "credentials": "c"}),
     'job "node": authorization: type cannot be "Basic"; use basic_auth with username and password instead'),
    ("bearer_token_and_file", job(bearer_token="t", bearer_token_file="f"),
     'job "node": bearer_token and bearer_token_file are exclusive; keep one of them'),
    ("bearer_token_and_basic_auth", job(bearer_token="t", basic_auth={"username": "u"}),
     'job "node": bearer_token and basic_auth are exclusive; use only one way to authenticate'),
    ("bearer_token_file_and_authorization", job(bearer_token_file="f", authorization={"credentials": "c"}),
     'job "node": bearer_token_file and authorization are exclusive; put the token in authorization.credentials '
     "(or authorization.credentials_file) and remove bearer_token_file"),
    ("basic_auth_and_authorization", job(basic_auth={"username": "u"}, authorization={"credentials": "c"}),
     'job "node": basic_auth and authorization are exclusive; use only one way to authenticate'),
    ("oauth2_without_client_id", job(oauth2={"client_secret": "s", "token_url": "http://t"}),
     'job "node": oauth2: client_id is required'),
    ("oauth2_without_token_url", job(oauth2={"client_id": "c", "client_secret": "s"}),
     'job "node": oauth2: token_url is required'),
    ("tls_min_version", job(tls_config={"min_version": "TLS14"}),
     "job \"node\": tls_config.min_version: 'TLS14' is not valid; use one of TLS10, TLS11, TLS12, TLS13"),
    ("tls_cert_without_key", job(tls_config={"cert_file": "c.pem"}),
     "job \"node\": tls_config: cert_file 'c.pem' is set without key_file; set both or neither"),
    ("tls_key_without_cert", job(tls_config={"key_file": "k.pem"}),
     "job \"node\": tls_config: key_file 'k.pem' is set without cert_file; set both or neither"),
    ("tls_insecure_not_bool", job(tls_config={"insecure_skip_verify": "no"}),
     "job \"node\": tls_config.insecure_skip_verify: must be true or false, got 'no'"),
    ("proxy_url", job(proxy_url="proxy:3128"),
     "job \"node\": proxy_url: 'proxy:3128' is not a URL; use e.g. http://host:port/path"),
    ("follow_redirects_not_bool", job(follow_redirects="true"),
     "job \"node\": follow_redirects: must be true or false, got 'true'"),
    ("enable_http2_not_bool", job(enable_http2=0),
     'job "node": enable_http2: must be true or false, got 0'),
    ("static_target_with_scheme", job(static_configs=[{"targets": ["http://a:9100/metrics"]}]),
     "job \"node\": static_configs[0].targets[0]: 'http://a:9100/metrics' is not a valid target; write host:port, "
     "without scheme or path (set scheme and metrics_path on the job)"),
    ("static_targets_not_strings", job(static_configs=[{"targets": [9100]}]),
     'job "node": static_configs[0].targets[0]: must be a string, got 9100 (quote it)'),
    ("static_label_value_not_string", job(static_configs=[{"labels": {"rack": 3}}]),
     'job "node": static_configs[0].labels.rack: label value must be a string, got 3 (quote it)'),
    ("static_configs_not_list", job(static_configs={"targets": ["a:1"]}),
     "job \"node\": static_configs: must be a list, got {'targets': ['a:1']}"),
    ("file_sd_extension", job(file_sd_configs=[{"files": ["targets/*.txt"]}]),
     "job \"node\": file_sd_configs[0].files[0]: 'targets/*.txt' is not a valid file discovery path "
     "(a .json, .yml or .yaml path or glob)"),
    ("file_sd_glob_in_directory", job(file_sd_configs=[{"files": ["*/a.json"]}]),
     "job \"node\": file_sd_configs[0].files[0]: '*/a.json' is not a valid file discovery path "
     "(a .json, .yml or .yaml path or glob)"),
    ("file_sd_without_files", job(file_sd_configs=[{"refresh_interval": "1m"}]),
     'job "node": file_sd_configs[0]: files must list at least one file (a .json, .yml or .yaml path or glob)'),
    ("file_sd_refresh_interval", job(file_sd_configs=[{"files": ["a.json"], "refresh_interval": "soon"}]),
     "job \"node\": file_sd_configs[0].refresh_interval: 'soon' is not a duration; use e.g. 30s, 1m or 1h30m "
     "(units y w d h m s ms)"),
    ("kubernetes_without_role", job(kubernetes_sd_configs=[{"namespaces": {"names": ["x"]}}]),
     'job "node": kubernetes_sd_configs[0]: role is required; use one of '
     "node, service, pod, endpoints, endpointslice, ingress"),
    ("kubernetes_bad_role", job(kubernetes_sd_configs=[{"role": "pods"}]),
     "job \"node\": kubernetes_sd_configs[0].role: 'pods' is not valid; use one of "
     "node, service, pod, endpoints, endpointslice, ingress"),
    ("kubernetes_api_server_and_kubeconfig",
     job(kubernetes_sd_configs=[{"role": "pod", "api_server": "https://k:6443", "kubeconfig_file": "k"}]),
     'job "node": kubernetes_sd_configs[0]: api_server and kubeconfig_file are exclusive; keep one of them'),
    ("kubernetes_http_client_without_api_server",
     job(kubernetes_sd_configs=[{"role": "pod", "tls_config": {"ca_file": "ca.pem"}}]),
     'job "node": kubernetes_sd_configs[0]: tls_config needs api_server: set the API server URL explicitly to use '
     "a custom HTTP client configuration"),
    ("kubernetes_namespaces_field", job(kubernetes_sd_configs=[{"role": "pod", "namespaces": {"name": ["x"]}}]),
     "job \"node\": kubernetes_sd_configs[0].namespaces: unknown field 'name' in a namespaces config; "
     "did you mean 'names'?"),
    ("kubernetes_selector_role", job(kubernetes_sd_configs=[{"role": "pod", "selectors": [{"role": "node"}]}]),
     "job \"node\": kubernetes_sd_configs[0].selectors[0]: role 'node' is not valid for discovery role pod; use pod"),
    ("kubernetes_selector_twice",
     job(kubernetes_sd_configs=[{"role": "endpoints", "selectors": [{"role": "pod"}, {"role": "pod"}]}]),
     'job "node": kubernetes_sd_configs[0].selectors[1]: role pod has a selector already'),
    ("sample_limit_negative", job(sample_limit=-1),
     'job "node": sample_limit: must be a whole number >= 0 (0 means no limit), got -1'),
    ("label_limit_not_int", job(label_limit="30"),
     "job \"node\": label_limit: must be a whole number >= 0 (0 means no limit), got '30'"),
    ("label_name_length_limit_bool", job(label_name_length_limit=True),
     'job "node": label_name_length_limit: must be a whole number >= 0 (0 means no limit), got True'),
    ("label_value_length_limit_float", job(label_value_length_limit=1.5),
     'job "node": label_value_length_limit: must be a whole number >= 0 (0 means no limit), got 1.5'),
    ("target_limit_negative", job(target_limit=-5),
     'job "node": target_limit: must be a whole number >= 0 (0 means no limit), got -5'),
    ("body_size_limit_no_unit", job(body_size_limit="100"),
     "job \"node\": body_size_limit: '100' is not a size; use e.g. 10MB, 512KiB or 0 "
     "(units B KB MB GB KiB MiB GiB ...)"),
    ("body_size_limit_lower_case", job(body_size_limit="10mb"),
     "job \"node\": body_size_limit: '10mb' is not a size; use e.g. 10MB, 512KiB or 0 "
     "(units B KB MB GB KiB MiB GiB ...)"),
    ("relabel_configs_not_list", job(relabel_configs={"action": "keep"}),
     "job \"node\", relabel_configs: relabel configs must be a list, got {'action': 'keep'}"),
    ("job_not_mapping", ["node"], "scrape config: must be a mapping with job_name and the job's fields, got ['node']"),
]


@pytest.mark.parametrize(("config", "message"), [c[1:] for c in FIELD_ERRORS], ids=[c[0] for c in FIELD_ERRORS])
def test_scrape_field_error(config, message):
    assert error_of(normalize_scrape_config, config) == message


# Errors of 2.42 that later lines do not make (their 3.x answers follow the table).
FIELD_ERRORS_OF_2_42 = [
    ("oauth2_without_secret", job(oauth2={"client_id": "c", "token_url": "http://t"}),
     'job "node": oauth2: client_secret or client_secret_file is required before Prometheus 2.50 (the configuration '
     "targets 2.42)"),
    ("static_label_name", job(static_configs=[{"targets": ["a:1"], "labels": {"a-b": "x"}}]),
     "job \"node\": static_configs[0].labels: 'a-b' is not a valid label name in Prometheus 2.42 "
     "(letters, digits and _, not starting with a digit)"),
    ("tls_ca_inline", job(tls_config={"ca": "-----BEGIN CERTIFICATE-----"}),
     'job "node": tls_config: ca needs Prometheus 2.43 or newer, but the configuration targets 2.42; '
     "remove it or target 2.43"),
]


@pytest.mark.parametrize(("config", "message"), [c[1:] for c in FIELD_ERRORS_OF_2_42],
                         ids=[c[0] for c in FIELD_ERRORS_OF_2_42])
def test_scrape_field_error_of_2_42(config, message):
    assert error_of(normalize_scrape_config, config, "2.42") == message


def test_oauth2_without_a_secret_is_accepted_from_2_50():
    config = job(oauth2={"client_id": "c", "token_url": "http://t"})
    assert normalize_scrape_config(config, "2.50") == config


def test_static_label_name_with_a_dash_is_accepted_by_3_x():
    config = job(static_configs=[{"targets": ["a:1"], "labels": {"a-b": "x"}}])
    assert normalize_scrape_config(config, "3.0") == config
    assert normalize_scrape_config(config) == config


def test_tls_ca_inline_is_accepted_from_2_43():
    config = job(tls_config={"ca": "-----BEGIN CERTIFICATE-----"})
    assert normalize_scrape_config(config, "2.43") == config


@pytest.mark.parametrize("size", ["0", "10MB", "1KiB", "1.5MB", "1MB512KB", "512B"])
def test_body_size_limit_accepts_units_sizes(size):
    assert normalize_scrape_config(job(body_size_limit=size))


def test_where_names_a_job_without_name():
    assert error_of(normalize_scrape_config, {}, where="scrape_configs[2]") == (
        "scrape_configs[2]: job_name is required: a non-empty string naming the job")


# ---------------------------------------------------------------- whole-config errors

CONFIG_ERRORS = [
    ("duplicate_job_names", {"scrape_configs": [job(), {"job_name": "other"}, job()]},
     'scrape_configs[2]: job "node" is already defined by scrape_configs[0]; job names must be unique'),
    ("job_without_name_gets_index", {"scrape_configs": [job(), {}]},
     "scrape_configs[1]: job_name is required: a non-empty string naming the job"),
    ("global_unknown_field", {"global": {"scrape_intervals": "1m"}},
     "global: unknown field 'scrape_intervals' in a global config; did you mean 'scrape_interval'?"),
    ("evaluation_interval", {"global": {"evaluation_interval": "1x"}},
     "global.evaluation_interval: '1x' is not a duration; use e.g. 30s, 1m or 1h30m (units y w d h m s ms)"),
    ("rule_file_glob_in_directory", {"rule_files": ["rules/*/x.yml"]},
     "rule_files[0]: 'rules/*/x.yml' is not a valid rule file path (a path or a glob with * in the file name)"),
    ("rule_files_not_list", {"rule_files": "rules.yml"}, "rule_files: must be a list, got 'rules.yml'"),
    ("remote_write_without_url", {"remote_write": [{"name": "lts"}]},
     'remote_write[0] ("lts"): url is required (e.g. https://receiver.example.org/api/v1/write)'),
    ("remote_write_url_scheme", {"remote_write": [{"url": "ftp://x/y"}]},
     "remote_write[0].url: 'ftp://x/y' must be an http:// or https:// URL"),
    ("remote_write_duplicate_name",
     {"remote_write": [{"url": "http://a", "name": "x"}, {"url": "http://b", "name": "x"}]},
     'remote_write[1] ("x"): name "x" is already used by remote_write[0]; names must be unique'),
    ("remote_write_reserved_header", {"remote_write": [{"url": "http://a", "headers": {"Host": "b"}}]},
     "remote_write[0].headers: Host is a header Prometheus sets itself; remove it"),
    ("remote_write_authorization_header", {"remote_write": [{"url": "http://a", "headers": {"Authorization": "x"}}]},
     "remote_write[0].headers: Authorization cannot be set as a header; "
     "use basic_auth, authorization, oauth2 or sigv4"),
    ("remote_write_queue_field", {"remote_write": [{"url": "http://a", "queue_config": {"max_shard": 5}}]},
     "remote_write[0].queue_config: unknown field 'max_shard' in a queue_config; did you mean 'max_shards'?"),
    ("remote_write_metadata_interval", {"remote_write": [{"url": "http://a", "metadata_config": {"send_interval": 5}}]},
     "remote_write[0].metadata_config.send_interval: must be a duration string like 30s, 1m or 1h30m, got 5 "
     "(quote it)"),
    ("remote_write_auth_exclusive",
     {"remote_write": [{"url": "http://a", "bearer_token": "t", "basic_auth": {"username": "u"}}]},
     "remote_write[0]: bearer_token and basic_auth are exclusive; use only one way to authenticate"),
    ("remote_write_sigv4_and_basic_auth",
     {"remote_write": [{"url": "http://a", "sigv4": {"region": "x"}, "basic_auth": {"username": "u"}}]},
     "remote_write[0]: sigv4 and the other ways to authenticate are exclusive; use only one"),
    ("alertmanager_api_version", {"alerting": {"alertmanagers": [{"api_version": "v3"}]}},
     "alerting.alertmanagers[0].api_version: 'v3' is not valid; use one of v1, v2"),
    ("alertmanager_timeout", {"alerting": {"alertmanagers": [{"timeout": "10"}]}},
     "alerting.alertmanagers[0].timeout: '10' is not a duration; use e.g. 30s, 1m or 1h30m (units y w d h m s ms)"),
    ("alerting_unknown_field", {"alerting": {"alertmanager": []}},
     "alerting: unknown field 'alertmanager' in an alerting config; did you mean 'alertmanagers'?"),
    ("alert_relabel_rule", {"alerting": {"alert_relabel_configs": [{"action": "lowercase"}]}},
     "alerting, alert_relabel_configs: relabel rule 1: action lowercase needs target_label"),
    ("config_not_mapping", ["x"], "the configuration must be a mapping (prometheus.yml), got ['x']"),
]


@pytest.mark.parametrize(("config", "message"), [c[1:] for c in CONFIG_ERRORS], ids=[c[0] for c in CONFIG_ERRORS])
def test_config_error(config, message):
    assert error_of(normalize_config, config) == message


CONFIG_ERRORS_OF_2_42 = [
    ("external_label_name", {"global": {"external_labels": {"data.center": "eu"}}},
     "global.external_labels: 'data.center' is not a valid label name in Prometheus 2.42 "
     "(letters, digits and _, not starting with a digit)"),
    ("remote_write_sample_age_limit",
     {"remote_write": [{"url": "http://a", "queue_config": {"sample_age_limit": "1m"}}]},
     "remote_write[0].queue_config: sample_age_limit needs Prometheus 2.50 or newer, but the configuration targets "
     "2.42; remove it or target 2.50"),
]


@pytest.mark.parametrize(("config", "message"), [c[1:] for c in CONFIG_ERRORS_OF_2_42],
                         ids=[c[0] for c in CONFIG_ERRORS_OF_2_42])
def test_config_error_of_2_42(config, message):
    assert error_of(normalize_config, config, "2.42") == message


def test_external_label_name_with_a_dot_is_accepted_by_3_x():
    config = {"global": {"external_labels": {"data.center": "eu"}}}
    assert normalize_config(config, "3.0") == config
    assert normalize_config(config) == config


def test_remote_write_sample_age_limit_is_accepted_from_2_50():
    config = {"remote_write": [{"url": "http://a", "queue_config": {"sample_age_limit": "1m"}}]}
    assert normalize_config(config, "2.50") == config
    assert normalize_config(config) == config


def test_empty_external_label_name_is_refused_by_3_x():
    assert error_of(normalize_config, {"global": {"external_labels": {"": "eu"}}}) == (
        "global.external_labels: '' is not a valid label name in Prometheus 3.13 (not empty)")


def test_scrape_jobs_inherit_global_interval():
    config = {"global": {"scrape_interval": "10s"}, "scrape_configs": [job(scrape_timeout="15s")]}
    assert error_of(normalize_config, config) == (
        'job "node": scrape_timeout 15s is greater than the global scrape_interval 10s; '
        "make the timeout at most the interval")


# ---------------------------------------------------------------- redaction


def test_redact_replaces_every_secret():
    config = {
        "scrape_configs": [job(basic_auth={"username": "u", "password": "p"}, bearer_token="t",
                               oauth2={"client_id": "c", "client_secret": "s", "token_url": "http://t"}),
                           {"job_name": "k", "authorization": {"type": "Bearer", "credentials": "c"}}],
        "remote_write": [{"url": "http://a", "sigv4": {"access_key": "a", "secret_key": "k"},
                          "headers": {"X-Api-Key": "k", "X-Scope-OrgID": "tenant"}}],
    }
    assert redact(config) == {
        "scrape_configs": [job(basic_auth={"username": "u", "password": "<redacted>"}, bearer_token="<redacted>",
                               oauth2={"client_id": "c", "client_secret": "<redacted>", "token_url": "http://t"}),
                           {"job_name": "k", "authorization": {"type": "Bearer", "credentials": "<redacted>"}}],
        "remote_write": [{"url": "http://a", "sigv4": {"access_key": "a", "secret_key": "<redacted>"},
                          "headers": {"X-Api-Key": "<redacted>", "X-Scope-OrgID": "tenant"}}],
    }


def test_redact_keeps_file_paths():
    config = job(basic_auth={"username": "u", "password_file": "/etc/p"}, bearer_token_file="/etc/t",
                 authorization={"credentials_file": "/etc/c"})
    assert redact(config) == config


def test_redact_proxy_connect_header_values():
    assert redact({"proxy_connect_header": {"Proxy-Authorization": ["Basic x"]}}) == {
        "proxy_connect_header": {"Proxy-Authorization": ["<redacted>"]}}


def test_redact_does_not_change_its_input():
    config = job(bearer_token="t")
    redact(config)
    assert config == job(bearer_token="t")


def test_redact_keeps_empty_secrets_visible():
    assert redact(job(basic_auth={"username": "u", "password": ""})) == job(basic_auth={"username": "u",
                                                                                        "password": ""})


def test_secret_fields_are_not_paths():
    assert "password" in SECRET_FIELDS and not any(field.endswith("_file") for field in SECRET_FIELDS)
