"""The prometheus_reload module against a real Prometheus (Debian's 2.42) started by the test.

Each test gets its own server in ``.tmp/it-reload-<test>`` on a free port, started from Python with
subprocess and always killed by the fixture's finalizer. The module runs through ``ansible
localhost -m`` (``fleet.run_module``).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import releases
import yaml
from fleet import run_module
from standalone import PrometheusProcess

PROMETHEUS = releases.binary(releases.DEFAULT)
MODULE = "promfleet.federation.prometheus_reload"

pytestmark = pytest.mark.skipif(not PROMETHEUS, reason="needs prometheus (Debian's package)")

BAD_RULES = {"groups": [{"name": "broken", "rules": [{"record": "job:up:sum", "expr": "sum by (job) (up"}]}]}


def server_fixture(request, lifecycle: bool):
    # no glob characters in the root (a parametrized name has [...]): rule_files are globs
    name = "reload-" + re.sub(r"[^A-Za-z0-9]+", "-", request.node.name)[:60].strip("-")
    server = PrometheusProcess(name, lifecycle)
    request.addfinalizer(server.stop)
    server.start(server.config("good_only"))
    return server


@pytest.fixture()
def server(request):
    """A running Prometheus with --web.enable-lifecycle and the job ``good_only``."""
    return server_fixture(request, True)


@pytest.fixture()
def server_without_lifecycle(request):
    """A running Prometheus without --web.enable-lifecycle."""
    return server_fixture(request, False)


def make_last_good(server: PrometheusProcess) -> bytes:
    """Keep the running config as <config>.last-good, like prometheus_config does."""
    good = server.config_path.read_bytes()
    Path(str(server.config_path) + ".last-good").write_bytes(good)
    return good


def write_bad_config(server: PrometheusProcess) -> None:
    """A config whose YAML loads but whose rule file has invalid PromQL: the reload fails."""
    rules = server.root / "bad_rules.yml"
    rules.write_text(yaml.safe_dump(BAD_RULES))
    server.write_config(server.config("bad_new", rule_file=str(rules)))


def reload_args(server: PrometheusProcess, **extra) -> dict:
    args = {"url": server.url, "config_path": str(server.config_path), "timeout": 15}
    args.update(extra)
    return args


@pytest.mark.parametrize("method", ["http", "signal"])
def test_good_change_is_reloaded_and_verified(server, method):
    started = server.metric("process_start_time_seconds")
    before = server.metric("prometheus_config_last_reload_success_timestamp_seconds")
    server.write_config(server.config("good_only", "added"))
    extra = {"method": method, "pid": server.process.pid} if method == "signal" else {"method": method}

    result = run_module(MODULE, reload_args(server, **extra))

    assert not result.get("failed"), result
    assert result["changed"] is True
    assert result["method"] == method
    assert result["rolled_back"] is False
    assert result["config_differences"] == []
    assert 0 < result["reload_seconds"] < 15
    assert result["last_reload_success_timestamp"]["before"] == before
    assert result["last_reload_success_timestamp"]["after"] > before
    server.wait_for_jobs({"added"})
    assert server.metric("process_start_time_seconds") == started
    assert server.process.poll() is None


@pytest.mark.parametrize("method", ["http", "signal"])
def test_bad_config_is_rolled_back_from_last_good(server, method):
    good = make_last_good(server)
    write_bad_config(server)
    extra = {"method": method, "pid": server.process.pid} if method == "signal" else {"method": method}

    result = run_module(MODULE, reload_args(server, **extra))

    assert result.get("failed") is True, result
    assert result["rolled_back"] is True
    if method == "http":
        assert "failed to reload config: one or more errors occurred" in result["msg"]
    else:
        assert "prometheus_config_last_reload_successful is 0" in result["msg"]
    assert "promtool check config %s says" % server.config_path in result["msg"]
    assert "bad_rules.yml: 4:11: group \"broken\", rule 1" in result["msg"]
    assert "rolled back: restored %s from the last good copies and reloaded, verified in" % (
        server.config_path) in result["msg"]
    assert result["restored_files"] == [str(server.config_path)]
    assert server.config_path.read_bytes() == good
    server.wait_for_jobs({"good_only"}, {"bad_new"})
    assert server.metric("prometheus_config_last_reload_successful") == 1
    after = result["last_reload_success_timestamp"]["after"]
    assert after > result["last_reload_success_timestamp"]["before"]


def test_bad_config_without_rollback_fails_and_leaves_the_file(server):
    make_last_good(server)
    write_bad_config(server)
    bad = server.config_path.read_bytes()

    result = run_module(MODULE, reload_args(server, rollback=False))

    assert result.get("failed") is True, result
    assert result["rolled_back"] is False
    assert "failed to reload config: " in result["msg"]
    assert server.config_path.read_bytes() == bad
    assert server.metric("prometheus_config_last_reload_successful") == 0


def test_http_without_lifecycle_fails_and_says_how_to_fix(server_without_lifecycle):
    server = server_without_lifecycle
    before = server.metric("prometheus_config_last_reload_success_timestamp_seconds")

    result = run_module(MODULE, reload_args(server))

    assert result.get("failed") is True, result
    assert "HTTP 403" in result["msg"]
    assert "start Prometheus with --web.enable-lifecycle or use method: signal" in result["msg"]
    assert server.metric("prometheus_config_last_reload_success_timestamp_seconds") == before


def test_signal_works_without_lifecycle(server_without_lifecycle):
    server = server_without_lifecycle
    server.write_config(server.config("good_only", "added"))
    pidfile = server.root / "prometheus.pid"
    pidfile.write_text("%d\n" % server.process.pid)

    result = run_module(MODULE, reload_args(server, method="signal", pidfile=str(pidfile)))

    assert not result.get("failed"), result
    server.wait_for_jobs({"added"})


def test_check_mode_reports_differences_and_reloads_nothing(server):
    before = server.metric("prometheus_config_last_reload_success_timestamp_seconds")
    server.write_config(server.config("good_only", "added"))

    result = run_module(MODULE, reload_args(server), "--check")

    assert not result.get("failed"), result
    assert result["changed"] is True
    assert result["msg"] == "would reload with POST /-/reload"
    assert result["config_differences"] == ["scrape_configs: 3 items in the file, 2 on the server"]
    time.sleep(0.5)
    assert server.metric("prometheus_config_last_reload_success_timestamp_seconds") == before
    assert server.config_path.read_bytes().count(b"job_name") == 3


def test_server_running_another_file_fails_the_comparison(server):
    other = server.root / "other.yml"
    other.write_text(yaml.safe_dump(server.config("other_job")))

    result = run_module(MODULE, reload_args(server, config_path=str(other)))

    assert result.get("failed") is True, result
    assert "the reload succeeded, but the configuration the server reports is not %s" % other in result["msg"]
    assert "scrape_configs[1].job_name: 'other_job' in the file, 'good_only' on the server" in result["msg"]


GOOD_RULES = {"groups": [{"name": "kept", "rules": [{"record": "job:up:kept", "expr": "max by (job) (up)"}]}]}


def test_a_broken_rule_file_applied_partly_is_rolled_back_with_the_rule_files_kept_by_prometheus_config(server):
    # Written by prometheus_config twice: the first set becomes last-good, the second one carries a rule
    # file with invalid PromQL (promtool switched off, as on a host without it). Prometheus loads the
    # new scrape job but not the rules: the reload fails, and both files go back.
    def write(jobs: list, rule_files: dict, promtool: str) -> dict:
        config = server.config(*jobs)
        config.pop("rule_files", None)
        return run_module("promfleet.federation.prometheus_config", {
            "path": str(server.config_path), "config": config, "rule_files": rule_files,
            "validate_with_promtool": promtool})

    assert not write(["good_only"], {"kept.yml": GOOD_RULES}, "always").get("failed")
    assert not run_module(MODULE, reload_args(server)).get("failed")
    assert not write(["good_only", "partly"], {"broken.yml": BAD_RULES}, "never").get("failed")
    started = server.metric("process_start_time_seconds")

    result = run_module(MODULE, reload_args(server))

    rules_dir = server.root / "rules"
    assert result.get("failed") is True and result["rolled_back"] is True, result
    assert result["restored_files"] == [str(rules_dir / "kept.yml"), str(rules_dir / "broken.yml"),
                                        str(server.config_path)]
    assert sorted(p.name for p in rules_dir.glob("*.yml")) == ["kept.yml"]
    assert "restored %s, %s, %s from the last good copies and reloaded, verified in" % tuple(
        result["restored_files"]) in result["msg"]
    assert "broken.yml" in result["msg"] and 'group \"broken\", rule 1' in result["msg"]
    server.wait_for_jobs({"good_only"}, {"partly"})
    assert server.metric("prometheus_config_last_reload_successful") == 1
    assert server.metric("process_start_time_seconds") == started
