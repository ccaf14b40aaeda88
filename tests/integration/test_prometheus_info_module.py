"""The prometheus_info module against a real Prometheus (Debian's 2.42) started by the test."""

from __future__ import annotations

import pytest
import releases
from fleet import run_module, wait_for
from test_prometheus_reload_module import PROMETHEUS, PrometheusProcess

MODULE = "promfleet.federation.prometheus_info"

pytestmark = pytest.mark.skipif(not PROMETHEUS, reason="needs prometheus (Debian's package)")

SECRET = "s3cr3t-scrape-password"


@pytest.fixture(scope="module")
def server(request):
    """A Prometheus scraping itself (job ``self``, up) and a job with basic auth whose target does
    not listen (job ``app``, down), scraped every second."""
    server = PrometheusProcess("info", lifecycle=False)
    request.addfinalizer(server.stop)
    app = {
        "job_name": "app",
        "basic_auth": {"username": "scraper", "password": SECRET},
        "static_configs": [{"targets": ["127.0.0.1:1"]}],
    }
    server.start(server.config(extra_job=app))
    wait_for(lambda: {"self", "app"} <= server.active_jobs(), 20, what="both jobs to be active")
    return server


def test_info_returns_targets_with_health_and_last_error(server):
    def scraped():
        result = run_module(MODULE, {"url": server.url, "gather": ["targets"]})
        targets = {target["labels"]["job"]: target for target in result["targets"]["activeTargets"]}
        return result if all(target["health"] != "unknown" for target in targets.values()) else None

    result = wait_for(scraped, 20, interval=1, what="both targets to be scraped")

    assert result["changed"] is False
    assert set(result) >= {"targets"} and "config" not in result
    targets = {target["labels"]["job"]: target for target in result["targets"]["activeTargets"]}
    assert targets["self"]["health"] == "up"
    assert targets["self"]["lastError"] == ""
    assert targets["app"]["health"] == "down"
    assert "connection refused" in targets["app"]["lastError"]
    assert targets["app"]["scrapeUrl"] == "http://127.0.0.1:1/metrics"
    assert result["targets"]["droppedTargets"] == []


def test_info_returns_the_loaded_config_redacted(server):
    result = run_module(MODULE, {"url": server.url, "gather": ["config"]})

    assert not result.get("failed"), result
    jobs = {job["job_name"]: job for job in result["config"]["scrape_configs"]}
    assert jobs["app"]["basic_auth"] == {"username": "scraper", "password": "<redacted>"}
    assert jobs["self"]["metrics_path"] == "/metrics"  # a default Prometheus prints
    assert SECRET not in str(result)


def test_info_returns_buildinfo_runtimeinfo_flags_and_reload(server):
    result = run_module(MODULE, {"url": server.url})

    assert not result.get("failed"), result
    assert result["buildinfo"]["version"].startswith(releases.DEFAULT)
    assert result["runtimeinfo"]["reloadConfigSuccess"] is True
    assert result["flags"]["config.file"] == str(server.config_path)
    assert result["flags"]["web.enable-lifecycle"] == "false"
    assert result["reload"]["successful"] is True
    assert result["reload"]["timestamp"] > 0


def test_info_runs_queries(server):
    wait_for(lambda: run_module(MODULE, {"url": server.url, "gather": [], "queries": ['up{job="self"}']})
             ["queries"][0]["result"], 20, interval=1, what="a sample of up")

    result = run_module(MODULE, {"url": server.url, "gather": [], "queries": ['up{job="self"}', "1 + 1"]})

    assert not result.get("failed"), result
    first, second = result["queries"]
    assert first["query"] == 'up{job="self"}'
    assert first["resultType"] == "vector"
    assert first["result"][0]["metric"]["job"] == "self"
    assert first["result"][0]["value"][1] == "1"
    assert second["resultType"] == "scalar"
    assert second["result"][1] == "2"


def test_info_fails_with_the_error_of_a_bad_query(server):
    result = run_module(MODULE, {"url": server.url, "gather": [], "queries": ["sum(up"]})

    assert result.get("failed") is True
    assert "with bad_data: invalid parameter" in result["msg"]
    assert "unclosed left parenthesis" in result["msg"]


def test_info_fails_clearly_when_nothing_listens():
    result = run_module(MODULE, {"url": "http://127.0.0.1:1", "gather": ["buildinfo"]})

    assert result.get("failed") is True
    assert result["msg"].startswith("cannot reach Prometheus at http://127.0.0.1:1/api/v1/status/buildinfo: ")
