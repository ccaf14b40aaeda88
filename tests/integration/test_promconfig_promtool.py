"""The config model against the real ``promtool check config`` of Debian's Prometheus 2.42.

(a) A configuration using every field the model accepts for 2.42 is accepted by both, before and
after normalization. (b) Configurations the model rejects, one per kind of error, are rejected by
promtool too, except the cases where the model is stricter on purpose (listed in ``STRICTER``,
where promtool's acceptance is asserted so that the list stays true).
"""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path

import pytest
from promtool import PROMTOOL

from ansible_collections.promfleet.federation.plugins.module_utils.errors import ConfigError
from ansible_collections.promfleet.federation.plugins.module_utils.model.promconfig import normalize_config

# Debian builds Prometheus 2.42 without Kubernetes discovery (its promtool answers "field
# kubernetes_sd_configs not found"), so kubernetes_sd_configs is checked by the model only: it is
# taken out of what promtool sees (see ``without_kubernetes``).
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


def without_kubernetes(config: dict) -> dict:
    """``config`` without its kubernetes_sd_configs (Debian's promtool has no Kubernetes discovery)."""
    result = copy.deepcopy(config)
    for section in result.get("scrape_configs", []) + result.get("alerting", {}).get("alertmanagers", []):
        section.pop("kubernetes_sd_configs", None)
    return result


def check_config(config: dict, directory: Path) -> tuple[int, str]:
    """Write ``config`` as JSON (which YAML reads unchanged) and run ``promtool check config``."""
    path = directory / "prometheus.yml"
    path.write_text(json.dumps(config), encoding="utf-8")
    run = subprocess.run([PROMTOOL, "check", "config", str(path)], capture_output=True, text=True, check=False)
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


def test_rich_config_is_accepted_by_model_and_promtool(directory):
    config = rich_config(directory)
    normalize_config(config)
    rc, output = check_config(without_kubernetes(config), directory)
    assert rc == 0, output


def test_normalized_rich_config_is_accepted_by_promtool(directory):
    normalized = normalize_config(rich_config(directory))
    rc, output = check_config(without_kubernetes(normalized), directory)
    assert rc == 0, output


def test_kubernetes_sd_is_missing_from_debians_promtool(directory):
    # The reason kubernetes_sd_configs is left out above; if this fails, promtool can check it.
    rc, output = check_config({"scrape_configs": [{"job_name": "k", "kubernetes_sd_configs": [{"role": "pod"}]}]},
                              directory)
    assert rc != 0 and "field kubernetes_sd_configs not found" in output


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


@pytest.mark.parametrize("name", sorted(REJECTED))
def test_rejected_by_model_and_promtool(name, directory):
    with pytest.raises(ConfigError):
        normalize_config(REJECTED[name])
    rc, output = check_config(REJECTED[name], directory)
    assert rc != 0, output


@pytest.mark.parametrize("name", sorted(STRICTER))
def test_model_is_stricter_on_purpose(name, directory):
    with pytest.raises(ConfigError):
        normalize_config(STRICTER[name])
    rc, output = check_config(STRICTER[name], directory)
    assert rc == 0, output
