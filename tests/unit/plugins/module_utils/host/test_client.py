"""The pure parts of the Prometheus client: the exposition format, the API envelope, the reload
proof and the comparison of a configuration file with the one the server reports."""

from __future__ import annotations

import math

import pytest

from ansible_collections.promfleet.federation.plugins.module_utils.errors import PrometheusError
from ansible_collections.promfleet.federation.plugins.module_utils.host.client import (
    metric_value,
    parse_api_response,
    parse_labels,
    parse_metrics,
    parse_samples,
    reload_state,
    reload_verified,
)
from ansible_collections.promfleet.federation.plugins.module_utils.host.info import gather_info
from ansible_collections.promfleet.federation.plugins.module_utils.host.reload import Trigger
from ansible_collections.promfleet.federation.plugins.module_utils.model.compare import config_differences

RELOAD_TS = "prometheus_config_last_reload_success_timestamp_seconds"

# A slice of Prometheus 2.42's /metrics.
METRICS = """\
# HELP prometheus_config_last_reload_success_timestamp_seconds Timestamp of the last successful configuration reload.
# TYPE prometheus_config_last_reload_success_timestamp_seconds gauge
prometheus_config_last_reload_success_timestamp_seconds 1.7957160001234567e+09
# HELP prometheus_config_last_reload_successful Whether the last configuration reload attempt was successful.
# TYPE prometheus_config_last_reload_successful gauge
prometheus_config_last_reload_successful 1
# TYPE prometheus_http_requests_total counter
prometheus_http_requests_total{code="200",handler="/metrics"} 12
prometheus_http_requests_total{code="200",handler="/-/reload"} 3
go_gc_duration_seconds{quantile="0.5"} 4.1e-05
process_start_time_seconds 1.79571599e+09
weird_value NaN
up_ish +Inf
with_timestamp 5 1795716000000
label_escapes{path="C:\\\\dir",msg="say \\"hi\\"\\nbye"} 7
"""


def test_parse_metrics_keeps_unlabelled_series_as_floats():
    metrics = parse_metrics(METRICS)
    assert metrics["prometheus_config_last_reload_successful"] == 1.0
    assert metrics["prometheus_config_last_reload_success_timestamp_seconds"] == 1795716000.1234567
    assert metrics["process_start_time_seconds"] == 1795715990.0
    assert metrics["with_timestamp"] == 5.0


def test_parse_metrics_leaves_out_labelled_series():
    metrics = parse_metrics(METRICS)
    assert "prometheus_http_requests_total" not in metrics
    assert "go_gc_duration_seconds" not in metrics


def test_parse_metrics_reads_special_values():
    metrics = parse_metrics(METRICS)
    assert math.isnan(metrics["weird_value"])
    assert metrics["up_ish"] == math.inf


def test_parse_metrics_skips_comments_blank_and_broken_lines():
    assert parse_metrics("# a comment\n\nnot a sample line at all !\nok 1\nbad_value abc\n") == {"ok": 1.0}


def test_metric_value_reads_one_labelled_series():
    labels = {"code": "200", "handler": "/-/reload"}
    assert metric_value(METRICS, "prometheus_http_requests_total", labels) == 3.0


def test_metric_value_is_none_for_a_missing_series():
    assert metric_value(METRICS, "prometheus_http_requests_total", {"code": "500"}) is None


def test_parse_samples_unescapes_label_values():
    found = [labels for name, labels, value in parse_samples(METRICS) if name == "label_escapes"]
    assert found == [{"path": "C:\\dir", "msg": 'say "hi"\nbye'}]


def test_parse_labels_refuses_what_is_not_a_label_set():
    with pytest.raises(ValueError):
        parse_labels('{a="1" b}')


def test_parse_api_response_returns_data():
    assert parse_api_response('{"status":"success","data":{"version":"2.42.0"}}') == {"version": "2.42.0"}


def test_parse_api_response_raises_prometheus_error_text():
    body = '{"status":"error","errorType":"bad_data","error":"invalid parameter \\"query\\": 1:5: parse error"}'
    with pytest.raises(PrometheusError, match=r'Prometheus answered from http://p/api/v1/query with bad_data: '
                                              r'invalid parameter "query": 1:5: parse error'):
        parse_api_response(body, "http://p/api/v1/query")


def test_parse_api_response_refuses_non_json():
    with pytest.raises(PrometheusError, match="is not JSON: <html>"):
        parse_api_response("<html>")


def test_parse_api_response_refuses_json_without_status():
    with pytest.raises(PrometheusError, match="no status"):
        parse_api_response('{"data": 1}')


def test_reload_state_from_metrics():
    state = reload_state(parse_metrics(METRICS))
    assert state == {"successful": True, "timestamp": 1795716000.1234567}


def test_reload_state_needs_both_metrics():
    with pytest.raises(PrometheusError, match="no prometheus_config_last_reload_successful"):
        reload_state({RELOAD_TS: 1.0})


def test_reload_verified_needs_a_newer_timestamp():
    before = {"successful": True, "timestamp": 100.25}
    assert reload_verified(before, {"successful": True, "timestamp": 100.5})
    assert not reload_verified(before, {"successful": True, "timestamp": 100.25})


def test_reload_verified_needs_success():
    before = {"successful": True, "timestamp": 100.25}
    assert not reload_verified(before, {"successful": False, "timestamp": 101.0})


SERVER_CONFIG = {
    "global": {"scrape_interval": "1m", "scrape_timeout": "10s", "evaluation_interval": "1m"},
    "rule_files": ["/etc/prometheus/rules/*.yml"],
    "scrape_configs": [
        {
            "job_name": "app",
            "honor_timestamps": True,
            "scrape_interval": "1m",
            "metrics_path": "/metrics",
            "scheme": "http",
            "basic_auth": {"username": "scraper", "password": "<secret>"},
            "relabel_configs": [
                {"source_labels": ["env"], "separator": ";", "regex": "prod", "replacement": "$1", "action": "keep"}
            ],
            "static_configs": [{"targets": ["app:8080"]}],
        }
    ],
}


def file_config(**changes) -> dict:
    job = {
        "job_name": "app",
        "scrape_interval": "60s",
        "basic_auth": {"username": "scraper", "password": "hunter2"},
        "relabel_configs": [{"source_labels": ["env"], "regex": "prod", "action": "Keep"}],
        "static_configs": [{"targets": ["app:8080"]}],
    }
    job.update(changes)
    return {"global": {"scrape_interval": "1m"}, "rule_files": ["rules/*.yml"], "scrape_configs": [job]}


def test_config_equal_when_the_server_only_adds_defaults():
    assert config_differences(file_config(), SERVER_CONFIG, "/etc/prometheus") == []


def test_config_difference_names_the_field_and_both_values():
    differences = config_differences(file_config(metrics_path="/probe"), SERVER_CONFIG, "/etc/prometheus")
    assert differences == ["scrape_configs[0].metrics_path: '/probe' in the file, '/metrics' on the server"]


def test_config_difference_in_list_length():
    config = file_config()
    config["scrape_configs"].append({"job_name": "new"})
    assert config_differences(config, SERVER_CONFIG, "/etc/prometheus") == [
        "scrape_configs: 2 items in the file, 1 on the server"
    ]


def test_config_difference_of_a_relative_path_in_another_directory():
    differences = config_differences(file_config(), SERVER_CONFIG, "/srv/prometheus")
    assert differences == ["rule_files[0]: 'rules/*.yml' in the file, '/etc/prometheus/rules/*.yml' on the server"]


def test_config_difference_of_a_field_missing_on_the_server():
    differences = config_differences(file_config(sample_limit=10), SERVER_CONFIG, "/etc/prometheus")
    assert differences == ["scrape_configs[0].sample_limit: set in the file, missing on the server"]


@pytest.mark.parametrize("empty", ["", 0, False, [], {}])
def test_an_empty_field_of_the_file_that_the_server_leaves_out_is_no_difference(empty):
    # Prometheus 3.x prints relabel rules without `modulus: 0`, and a labelmap without `source_labels: []`
    assert config_differences(file_config(sample_limit=empty), SERVER_CONFIG, "/etc/prometheus") == []


def test_config_difference_does_not_show_secrets():
    server = {"basic_auth": {"password": "x"}}
    assert config_differences({"basic_auth": {"password": "y"}}, server) == [
        "basic_auth.password: differs (a secret, not shown)"
    ]


def test_trigger_describes_supervisorctl_command():
    trigger = Trigger("signal", service_manager="supervisord", service_name="prom", supervisord_conf="/s.conf")
    assert trigger.supervisorctl_command() == ["supervisorctl", "-c", "/s.conf", "signal", "HUP", "prom"]


def test_trigger_reads_the_pidfile(tmp_path):
    pidfile = tmp_path / "prometheus.pid"
    pidfile.write_text("4242\n")
    assert Trigger("signal", pidfile=str(pidfile)).target_pid() == 4242


def test_trigger_refuses_a_pidfile_without_a_pid(tmp_path):
    pidfile = tmp_path / "prometheus.pid"
    pidfile.write_text("nope")
    with pytest.raises(PrometheusError, match="does not hold a pid"):
        Trigger("signal", pidfile=str(pidfile)).target_pid()


def test_gather_info_redacts_the_config():
    class Client:
        def status_config(self):
            return {"scrape_configs": [{"job_name": "a", "basic_auth": {"username": "u", "password": "<secret>"}}]}

    info = gather_info(Client(), ["config"], [])
    job = {"job_name": "a", "basic_auth": {"username": "u", "password": "<redacted>"}}
    assert info == {"config": {"scrape_configs": [job]}}
