"""The config model against the real ``promtool check config`` of every line the tests run
(Debian's 2.42, 2.53 and 3.x).

(a) A configuration using every field the model accepts for 2.42 is accepted by both on every
line, before and after normalization; so is one with the fields 3.x added, on 3.x, while 2.53
refuses them with the model. (b) Configurations the model rejects, one per kind of error, are
rejected by promtool too, on the lines that reject them (``ACCEPTED_FROM``), except the cases where
the model is stricter on purpose (listed in ``STRICTER``, where promtool's acceptance is asserted
so that the list stays true).
"""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path

import pytest
import releases

from ansible_collections.promfleet.federation.plugins.module_utils.errors import ConfigError
from ansible_collections.promfleet.federation.plugins.module_utils.model import versions
from ansible_collections.promfleet.federation.plugins.module_utils.model.promconfig import normalize_config

# Debian builds Prometheus 2.42 without Kubernetes discovery (its promtool answers "field
# kubernetes_sd_configs not found"), so there kubernetes_sd_configs is checked by the model only: it
# is taken out of what promtool sees (see ``without_kubernetes``).
KUBERNETES_SD = [{
    "role": "endpoints",
    "api_server": "https://kubernetes.example.org:6443",
    "namespaces": {"names": ["monitoring"], "own_namespace": False},
    "selectors": [{"role": "pod", "label": "app=node", "field": "spec.nodeName=x"}, {"role": "service"}],
    "attach_metadata": {"node": True},
    "basic_auth": {"username": "k", "password": "secret"},
    "tls_config": {"insecure_skip_verify": True},
    "proxy_url": "http://proxy.example.org:3128",
    "follow_redirects": True,
    "enable_http2": True,
}]

EVERY_ACTION = [
    {"source_labels": ["__address__"], "regex": "([^:]+):.*", "target_label": "host", "replacement": "$1"},
    {"source_labels": ["__address__"], "separator": "@", "regex": ".+", "action": "keep"},
    {"source_labels": ["drop"], "regex": "yes", "action": "drop"},
    {"source_labels": ["host"], "target_label": "instance", "action": "keepequal"},
    {"source_labels": ["host"], "target_label": "other", "action": "dropequal"},
    {"source_labels": ["__address__"], "modulus": 4, "target_label": "__tmp_shard", "action": "hashmod"},
    {"regex": "__meta_(.+)", "replacement": "meta_$1", "action": "labelmap"},
    {"regex": "meta_.*", "action": "labeldrop"},
    {"regex": "__.*|host|instance|job|shard|dc", "action": "LabelKeep"},
    {"source_labels": ["host"], "target_label": "host_lower", "action": "lowercase"},
    {"source_labels": ["host"], "target_label": "host_upper", "action": "uppercase"},
]


def tls(directory: Path) -> dict:
    return {"ca_file": str(directory / "ca.pem"), "cert_file": str(directory / "cert.pem"),
            "key_file": str(directory / "key.pem"), "server_name": "node.example.org",
            "insecure_skip_verify": False, "min_version": "TLS12", "max_version": "TLS13"}


def rich_config(directory: Path) -> dict:
    """Every field the model accepts for Prometheus 2.42, spread over jobs where they are exclusive."""
    http = {"tls_config": tls(directory), "proxy_url": "http://proxy.example.org:3128",
            "follow_redirects": False, "enable_http2": True}
    secret = str(directory / "secret")
    return {
        "global": {"scrape_interval": "30s", "scrape_timeout": "10s", "evaluation_interval": "1m",
                   "external_labels": {"dc": "eu-west-1", "replica": "a"},
                   "query_log_file": str(directory / "query.log")},
        "rule_files": [str(directory / "rules" / "*.yml")],
        "scrape_configs": [
            dict({
                "job_name": "federate",
                "honor_labels": True,
                "honor_timestamps": True,
                "params": {"match[]": ['{__name__=~"job:.*"}', '{job="node"}']},
                "scrape_interval": "15s",
                "scrape_timeout": "15s",
                "metrics_path": "/federate",
                "scheme": "https",
                "basic_auth": {"username": "global", "password": "secret"},
                "static_configs": [{"targets": ["dc1.example.org:9090", "10.0.0.1"], "labels": {"shard": "0"}}],
                "file_sd_configs": [{"files": [str(directory / "targets" / "*.json"), str(directory / "t.yml")],
                                     "refresh_interval": "1m"}],
                "kubernetes_sd_configs": KUBERNETES_SD,
                "relabel_configs": EVERY_ACTION,
                "metric_relabel_configs": [{"source_labels": ["__name__"], "regex": "go_.*", "action": "drop"}],
                "sample_limit": 100000,
                "label_limit": 64,
                "label_name_length_limit": 128,
                "label_value_length_limit": 1024,
                "target_limit": 100,
                "body_size_limit": "64MB",
            }, **http),
            {"job_name": "password-file", "basic_auth": {"username": "u", "password_file": secret}},
            {"job_name": "authorization", "authorization": {"type": "Bearer", "credentials": "token"}},
            {"job_name": "credentials-file", "authorization": {"credentials_file": secret}},
            {"job_name": "bearer-token", "bearer_token": "token"},
            {"job_name": "bearer-token-file", "bearer_token_file": secret},
            {"job_name": "oauth2", "oauth2": {
                "client_id": "id", "client_secret": "secret", "scopes": ["read"],
                "token_url": "https://auth.example.org/token", "endpoint_params": {"audience": "prometheus"},
                "tls_config": {"insecure_skip_verify": True}, "proxy_url": "http://proxy.example.org:3128"}},
            {"job_name": "oauth2-file", "oauth2": {"client_id": "id", "client_secret_file": secret,
                                                   "token_url": "https://auth.example.org/token"}},
        ],
        "remote_write": [
            dict({
                "url": "https://receiver.example.org/api/v1/write",
                "name": "long-term",
                "remote_timeout": "30s",
                "headers": {"X-Scope-OrgID": "tenant-1"},
                "write_relabel_configs": [{"source_labels": ["__name__"], "regex": "up", "action": "keep"}],
                "send_exemplars": True,
                "send_native_histograms": False,
                "authorization": {"credentials": "token"},
                "queue_config": {"capacity": 10000, "max_shards": 50, "min_shards": 1, "max_samples_per_send": 2000,
                                 "batch_send_deadline": "5s", "min_backoff": "30ms", "max_backoff": "5s",
                                 "retry_on_http_429": True},
                "metadata_config": {"send": True, "send_interval": "1m", "max_samples_per_send": 500},
            }, **http),
            {"url": "https://aps.example.org/api/v1/remote_write", "name": "sigv4",
             "sigv4": {"region": "eu-west-1", "access_key": "a", "secret_key": "s", "profile": "p",
                       "role_arn": "arn:aws:iam::1:role/x"}},
        ],
        "alerting": {
            "alert_relabel_configs": [{"target_label": "dc", "replacement": "eu-west-1"}],
            "alertmanagers": [dict({
                "timeout": "10s",
                "api_version": "v2",
                "path_prefix": "/alertmanager",
                "scheme": "https",
                "static_configs": [{"targets": ["am1.example.org:9093"]}],
                "file_sd_configs": [{"files": [str(directory / "am.json")]}],
                "kubernetes_sd_configs": [{"role": "pod"}],
                "relabel_configs": [{"source_labels": ["__address__"], "regex": ".*:9093", "action": "keep"}],
                "bearer_token_file": secret,
            }, **http)],
        },
    }


def has_kubernetes_sd(line: str, directory: Path) -> bool:
    rc, _output = check_config({"scrape_configs": [{"job_name": "k", "kubernetes_sd_configs": [{"role": "pod"}]}]},
                               directory, line)
    return rc == 0


def without_kubernetes(config: dict, line: str, directory: Path) -> dict:
    """``config`` without its kubernetes_sd_configs where the line's promtool has no Kubernetes discovery."""
    result = copy.deepcopy(config)
    if has_kubernetes_sd(line, directory):
        return result
    for section in result.get("scrape_configs", []) + result.get("alerting", {}).get("alertmanagers", []):
        section.pop("kubernetes_sd_configs", None)
    return result


def check_config(config: dict, directory: Path, line: str) -> tuple[int, str]:
    """Write ``config`` as JSON (which YAML reads unchanged) and run promtool ``line``'s ``check config``."""
    path = directory / ("prometheus-%s.yml" % line)
    path.write_text(json.dumps(config), encoding="utf-8")
    run = subprocess.run([releases.promtool(line), "check", "config", str(path)], capture_output=True, text=True,
                         check=False)
    return run.returncode, run.stdout + run.stderr


@pytest.fixture(scope="module")
def directory(tmp_path_factory) -> Path:
    """The files the rich config refers to: a key pair and certificate, secrets, rules, targets."""
    directory = tmp_path_factory.mktemp("promconfig")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=node.example.org",
         "-keyout", str(directory / "key.pem"), "-out", str(directory / "cert.pem")],
        check=True, capture_output=True,
    )
    (directory / "ca.pem").write_bytes((directory / "cert.pem").read_bytes())
    (directory / "secret").write_text("s3cret\n", encoding="utf-8")
    (directory / "rules").mkdir()
    (directory / "rules" / "a.yml").write_text(
        "groups: [{name: g, rules: [{record: 'job:up:sum', expr: 'sum by (job) (up)'}]}]\n", encoding="utf-8")
    return directory


@pytest.mark.parametrize("line", releases.MATRIX)
def test_rich_config_is_accepted_by_model_and_promtool(directory, line):
    config = rich_config(directory)
    normalize_config(config, line)
    rc, output = check_config(without_kubernetes(config, line, directory), directory, line)
    assert rc == 0, output


@pytest.mark.parametrize("line", releases.MATRIX)
def test_normalized_rich_config_is_accepted_by_promtool(directory, line):
    normalized = normalize_config(rich_config(directory), line)
    rc, output = check_config(without_kubernetes(normalized, line, directory), directory, line)
    assert rc == 0, output


def test_kubernetes_sd_is_missing_from_bookworms_promtool_and_in_sids(directory):
    # The reason kubernetes_sd_configs is left out above for 2.42; if this fails, promtool can check it.
    rc, output = check_config({"scrape_configs": [{"job_name": "k", "kubernetes_sd_configs": [{"role": "pod"}]}]},
                              directory, "2.42")
    assert rc != 0 and "field kubernetes_sd_configs not found" in output
    assert has_kubernetes_sd(releases.DEFAULT_LINE, directory)


def rich_3_config(directory: Path) -> dict:
    """The fields a 2.42-era model lacked and 3.x loads: global scrape defaults and rule offset,
    remote_read, storage, tracing, otlp, runtime, DNS and HTTP discovery, the 3.x job fields."""
    return {
        "global": {"scrape_interval": "30s", "rule_query_offset": "10s", "sample_limit": 1000, "label_limit": 50,
                   "keep_dropped_targets": 10, "scrape_protocols": ["PrometheusText1.0.0", "PrometheusText0.0.4"],
                   "external_labels": {"data.center": "eu"}},
        "runtime": {"gogc": 75},
        "storage": {"tsdb": {"out_of_order_time_window": "10m"}, "exemplars": {"max_exemplars": 1000}},
        "tracing": {"endpoint": "otel.example.org:4317", "client_type": "grpc", "sampling_fraction": 0.1,
                    "insecure": True, "timeout": "5s"},
        "otlp": {"promote_resource_attributes": ["service.name"]},
        "remote_read": [{"url": "https://store.example.org/api/v1/read", "name": "lts", "read_recent": False,
                         "required_matchers": {"job": "node"}, "remote_timeout": "1m"}],
        "scrape_configs": [
            {"job_name": "dns",
             "dns_sd_configs": [{"names": ["_metrics._tcp.example.org"], "type": "SRV", "refresh_interval": "30s"}],
             "fallback_scrape_protocol": "PrometheusText0.0.4", "always_scrape_classic_histograms": True,
             "metric_name_validation_scheme": "legacy", "metric_name_escaping_scheme": "underscores",
             "static_configs": [{"targets": ["a:1"], "labels": {"app.name": "x"}}]},
            {"job_name": "http", "http_sd_configs": [{"url": "https://sd.example.org/targets",
                                                      "refresh_interval": "1m"}],
             "native_histogram_min_bucket_factor": 1.1,
             "relabel_configs": [{"source_labels": ["__address__"], "target_label": "host.name"}]},
        ],
    }


def test_the_fields_3_x_added_are_accepted_by_model_and_promtool_on_3_x(directory):
    line = releases.DEFAULT_LINE
    config = rich_3_config(directory)
    rc, output = check_config(normalize_config(config, line), directory, line)
    assert rc == 0, output


@pytest.mark.parametrize("field", ["fallback_scrape_protocol", "always_scrape_classic_histograms"])
def test_a_3_x_job_field_is_refused_by_model_and_promtool_on_2_53(directory, field):
    config = job(**{field: rich_3_config(directory)["scrape_configs"][0][field]})
    with pytest.raises(ConfigError, match="%s needs Prometheus 3.0 or newer, but the configuration targets 2.53"
                       % field):
        normalize_config(config, "2.53")
    rc, output = check_config(config, directory, "2.53")
    assert rc != 0 and field in output, output


def job(**fields) -> dict:
    return {"scrape_configs": [dict({"job_name": "node"}, **fields)]}


REJECTED = {
    "unknown_field": job(scrape_intervall="1m"),
    "version_gated_field": job(keep_dropped_targets=10),
    "version_gated_top_level": {"scrape_config_files": ["jobs/*.yml"]},
    "timeout_over_interval": job(scrape_interval="15s", scrape_timeout="20s"),
    "timeout_over_default_interval": job(scrape_timeout="2m"),
    "global_timeout_over_interval": {"global": {"scrape_interval": "10s", "scrape_timeout": "20s"}},
    "duplicate_job": {"scrape_configs": [{"job_name": "a"}, {"job_name": "a"}]},
    "empty_job_name": job(job_name=""),
    "misplaced_relabel_rules": job(static_configs=[{"targets": ["a:1"], "relabel_configs": []}]),
    "relabel_rule": job(relabel_configs=[{"action": "hashmod", "target_label": "x"}]),
    "metric_relabel_rule": job(metric_relabel_configs=[{"action": "keepequal", "source_labels": ["a"]}]),
    "null_relabel_rule": job(relabel_configs=[None]),
    "honor_labels_not_bool": job(honor_labels="yes"),
    "params_not_list": job(params={"match[]": "up"}),
    "bad_duration": job(scrape_interval="1 m"),
    "negative_limit": job(sample_limit=-1),
    "body_size_without_unit": job(body_size_limit="100"),
    "password_and_file": job(basic_auth={"username": "u", "password": "p", "password_file": "f"}),
    "credentials_and_file": job(authorization={"credentials": "c", "credentials_file": "f"}),
    "authorization_type_basic": job(authorization={"type": "Basic", "credentials": "c"}),
    "bearer_token_and_file": job(bearer_token="t", bearer_token_file="f"),
    "bearer_token_and_basic_auth": job(bearer_token="t", basic_auth={"username": "u"}),
    "bearer_token_and_authorization": job(bearer_token="t", authorization={"credentials": "c"}),
    "basic_auth_and_authorization": job(basic_auth={"username": "u"}, authorization={"credentials": "c"}),
    "oauth2_without_client_id": job(oauth2={"client_secret": "s", "token_url": "http://t"}),
    "oauth2_without_secret": job(oauth2={"client_id": "c", "token_url": "http://t"}),
    "tls_min_version": job(tls_config={"min_version": "TLS14"}),
    "tls_cert_without_key": job(tls_config={"cert_file": "/etc/hostname"}),
    "proxy_url": job(proxy_url="://proxy"),
    "target_with_path": job(static_configs=[{"targets": ["http://a:9100/metrics"]}]),
    "static_label_name": job(static_configs=[{"targets": ["a:1"], "labels": {"a-b": "x"}}]),
    "file_sd_extension": job(file_sd_configs=[{"files": ["targets/*.txt"]}]),
    "file_sd_without_files": job(file_sd_configs=[{"files": []}]),
    "external_label_name": {"global": {"external_labels": {"data.center": "eu"}}},
    "rule_file_glob_in_directory": {"rule_files": ["rules/*/x.yml"]},
    "remote_write_without_url": {"remote_write": [{"name": "lts"}]},
    "remote_write_reserved_header": {"remote_write": [{"url": "http://a", "headers": {"Host": "b"}}]},
    "remote_write_authorization_header": {"remote_write": [{"url": "http://a", "headers": {"Authorization": "x"}}]},
    "remote_write_queue_field": {"remote_write": [{"url": "http://a", "queue_config": {"max_shard": 5}}]},
    "alerting_unknown_field": {"alerting": {"alertmanager": []}},
    "alert_relabel_rule": {"alerting": {"alert_relabel_configs": [{"action": "lowercase"}]}},
    "unknown_top_level_key": {"scrape_config": []},
}

# Refused by the model on purpose although Prometheus 2.42 loads them, each with its reason.
STRICTER = {
    # Prometheus 2.42 loads any scheme and fails every scrape of the job at run time.
    "scheme_not_http": job(scheme="ftp"),
    # Go's YAML turns a number into a string; the model asks for quotes so that e.g. 08 or 1e3
    # do not change on the way.
    "target_not_string": job(static_configs=[{"targets": [9100]}]),
    "label_value_not_string": job(static_configs=[{"targets": ["a:1"], "labels": {"rack": 3}}]),
    # Prometheus accepts any URL scheme for remote write and fails every send at run time.
    "remote_write_url_not_http": {"remote_write": [{"url": "ftp://receiver/x"}]},
}


# Cases of REJECTED that later lines load: the first line of the matrix that accepts them.
ACCEPTED_FROM = {
    "version_gated_field": "2.53",  # keep_dropped_targets: 2.47
    "version_gated_top_level": "2.53",  # scrape_config_files: 2.43
    "static_label_name": "3.0",  # UTF-8 label names
    "external_label_name": "3.0",
    "oauth2_without_secret": "2.53",
}


def rejected_by(name: str, line: str) -> bool:
    return name not in ACCEPTED_FROM or versions.version_tuple(line) < versions.version_tuple(ACCEPTED_FROM[name])


@pytest.mark.parametrize("line", releases.MATRIX)
@pytest.mark.parametrize("name", sorted(REJECTED))
def test_rejected_by_model_and_promtool(name, directory, line):
    rc, output = check_config(REJECTED[name], directory, line)
    if rejected_by(name, line):
        with pytest.raises(ConfigError):
            normalize_config(REJECTED[name], line)
        assert rc != 0, output
    else:
        normalize_config(REJECTED[name], line)
        assert rc == 0, output


@pytest.mark.parametrize("line", releases.MATRIX)
@pytest.mark.parametrize("name", sorted(STRICTER))
def test_model_is_stricter_on_purpose(name, directory, line):
    with pytest.raises(ConfigError):
        normalize_config(STRICTER[name], line)
    rc, output = check_config(STRICTER[name], directory, line)
    assert rc == 0, output
