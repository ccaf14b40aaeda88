"""Specification of what the daemon machinery does for Alertmanager: alertmanager.yml (a configuration
without rule files, checked by amtool) written by ``host/config_files.py`` with its receivers' secrets
redacted (``kind: alertmanager``), and a reload proven by ``alertmanager_config_hash``
(``host/reload.py``, ``compare_hash``). The real Alertmanager is exercised by
tests/integration/test_alertmanager_role.py."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ansible_collections.promfleet.federation.plugins.module_utils.errors import CheckerError, ReloadError
from ansible_collections.promfleet.federation.plugins.module_utils.host import config_files, reload
from ansible_collections.promfleet.federation.plugins.module_utils.model.documents import render
from ansible_collections.promfleet.federation.plugins.modules import daemon as daemon_module

REPO = Path(__file__).resolve().parents[5]
WEBHOOK_URL = "https://hooks.example.com/services/s3cr3t"
SLACK_URL = "https://hooks.slack.com/services/T0/B0/s3cr3t"
CONFIG = {
    "route": {"receiver": "default"},
    "receivers": [{"name": "default"}],
}
WITH_SECRETS = {
    "global": {"slack_api_url": SLACK_URL},
    "route": {"receiver": "default", "routes": [{"receiver": "hook", "matchers": ['severity="page"']}]},
    "receivers": [
        {"name": "default"},
        {"name": "hook", "webhook_configs": [{"url": WEBHOOK_URL}]},
        {"name": "chat", "slack_configs": [{"api_url": SLACK_URL, "channel": "#alerts"}]},
    ],
}


@pytest.fixture
def fake_amtool(tmp_path_factory):
    """An ``amtool check-config`` stand-in: fails naming the file when ``fail`` exists next to it."""
    home = tmp_path_factory.mktemp("amtool")
    script = home / "amtool"
    script.write_text('#!/bin/sh\nif [ -e %s/fail ]; then echo "FAILED: $2: bad"; exit 1; fi\necho SUCCESS\n' % home)
    script.chmod(0o755)
    return home


def alertmanager_plan(path: Path, config: dict) -> config_files.Plan:
    return config_files.plan(str(path), config, kind="alertmanager")


# --- alertmanager.yml through config_files --------------------------------------------------------------

def test_a_configuration_without_rule_files_is_written_as_given_and_checked_by_its_checker(tmp_path, fake_amtool):
    path = tmp_path / "alertmanager.yml"
    assert config_files.apply(alertmanager_plan(path, CONFIG), [str(fake_amtool / "amtool"), "check-config"]) is True
    assert path.read_bytes() == render(CONFIG)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["alertmanager.yml"]


def test_the_previous_good_configuration_is_kept_and_restored(tmp_path, fake_amtool):
    path = tmp_path / "alertmanager.yml"
    checker = [str(fake_amtool / "amtool"), "check-config"]
    config_files.apply(alertmanager_plan(path, CONFIG), checker)
    config_files.apply(alertmanager_plan(path, WITH_SECRETS), checker)
    assert (tmp_path / "alertmanager.yml.last-good").read_bytes() == render(CONFIG)
    assert config_files.restore_last_good(str(path)) == [str(path)]
    assert path.read_bytes() == render(CONFIG)


def test_a_configuration_its_checker_refuses_changes_nothing(tmp_path, fake_amtool):
    path = tmp_path / "alertmanager.yml"
    checker = [str(fake_amtool / "amtool"), "check-config"]
    config_files.apply(alertmanager_plan(path, CONFIG), checker)
    (fake_amtool / "fail").touch()
    with pytest.raises(CheckerError, match=r"amtool check-config refused the new configuration; nothing was changed"):
        config_files.apply(alertmanager_plan(path, WITH_SECRETS), checker)
    assert path.read_bytes() == render(CONFIG)


def test_the_diff_of_an_alertmanager_configuration_shows_no_secret(tmp_path):
    path = tmp_path / "alertmanager.yml"
    path.write_bytes(render(CONFIG))
    (entry,) = config_files.diff(alertmanager_plan(path, WITH_SECRETS))
    assert "s3cr3t" not in entry["before"] + entry["after"]
    after = yaml.safe_load(entry["after"])
    assert after["global"]["slack_api_url"] == "<secret>"
    assert after["receivers"][1]["webhook_configs"] == [{"url": "<secret>"}]
    assert after["receivers"][2]["slack_configs"] == [{"api_url": "<secret>", "channel": "#alerts"}]
    assert entry["after_header"] == str(path) + " (secrets redacted)"


def test_a_change_of_a_secret_only_is_named_in_the_diff_header(tmp_path):
    path = tmp_path / "alertmanager.yml"
    path.write_bytes(render(WITH_SECRETS))
    other = yaml.safe_load(render(WITH_SECRETS).replace(b"s3cr3t", b"n3w-s3cr3t"))
    (entry,) = config_files.diff(alertmanager_plan(path, other))
    assert entry["before"] == entry["after"]
    assert entry["after_header"].endswith("; " + config_files.REDACTED_CHANGE)


def test_the_prometheus_redaction_would_show_receiver_secrets():
    # Why alertmanager.yml needs its own kind: Prometheus' fields are not Alertmanager's.
    assert "s3cr3t" in config_files.redacted_text(render(WITH_SECRETS), "prometheus")
    assert "s3cr3t" not in config_files.redacted_text(render(WITH_SECRETS), "alertmanager")


def test_the_result_shows_the_configuration_redacted_by_its_kind(tmp_path):
    result = config_files.result(alertmanager_plan(tmp_path / "alertmanager.yml", WITH_SECRETS), changed=False)
    assert "s3cr3t" not in repr(result)
    assert result["config"]["receivers"][1]["webhook_configs"] == [{"url": "<secret>"}]


def test_a_prometheus_plan_keeps_prometheus_redaction(tmp_path):
    plan = config_files.plan(str(tmp_path / "prometheus.yml"), {"scrape_configs": []})
    assert (plan.kind, plan.redact) == ("prometheus", config_files.redact)


def test_an_unknown_kind_is_refused(tmp_path):
    with pytest.raises(config_files.ConfigFileError, match="kind 'loki' is not a kind of configuration; use one of "
                                                           "prometheus, alertmanager"):
        config_files.plan(str(tmp_path / "loki.yml"), {}, kind="loki")


# --- the reload, proven by the configuration hash ---------------------------------------------------------

def test_the_config_hash_is_alertmanagers():
    # What Alertmanager 0.25 reported as alertmanager_config_hash for this file (read from /metrics).
    assert reload.config_hash(b"route:\n  receiver: default\nreceivers:\n  - name: default\n") == 133666883235517.0


class FakeAlertmanager:
    """An Alertmanager that loads ``path`` on SIGHUP (``fire``), or refuses it when ``refuse``; its
    hash is stale for the first ``hash_lag`` reads after a reload (it is set after the timestamp)."""

    url = "http://127.0.0.1:9093"
    method = "signal"

    def __init__(self, path: Path, refuse: bool = False, hash_lag: int = 0, hash_of=None):
        self.path = path
        self.refuse = refuse
        self.hash_lag = hash_lag
        self.hash_of = hash_of or reload.config_hash
        self.state = {"successful": True, "timestamp": 100.0}
        self.loaded = path.read_bytes()
        self.lagging = 0

    def describe(self) -> str:
        return "SIGHUP"

    def fire(self, client) -> None:
        if self.refuse and self.path.read_bytes() != self.loaded:
            self.state = {"successful": False, "timestamp": self.state["timestamp"]}
            return
        self.loaded = self.path.read_bytes()
        self.state = {"successful": True, "timestamp": self.state["timestamp"] + 1}
        self.lagging = self.hash_lag

    def reload_state(self, prefix: str) -> dict:
        return dict(self.state)

    def metrics(self) -> dict:
        if self.lagging:
            self.lagging -= 1
            return {}
        return {"alertmanager_config_hash": self.hash_of(self.loaded)}


def test_a_reload_is_proven_by_the_hash_of_the_file_and_the_result_has_it_before_and_after(tmp_path):
    path = tmp_path / "alertmanager.yml"
    path.write_bytes(render(CONFIG))
    daemon = FakeAlertmanager(path, hash_lag=2)
    path.write_bytes(render(WITH_SECRETS))
    result = reload.reload(daemon, daemon, 1.0, str(path), prefix="alertmanager", compare=False, compare_hash=True)
    assert result["config_hash"] == {"before": reload.config_hash(render(CONFIG)),
                                     "after": reload.config_hash(render(WITH_SECRETS)),
                                     "file": reload.config_hash(render(WITH_SECRETS))}


def test_a_hash_that_is_not_the_files_fails_the_reload_naming_both(tmp_path, monkeypatch):
    monkeypatch.setattr(reload, "HASH_TIMEOUT", 0.2)
    path = tmp_path / "alertmanager.yml"
    path.write_bytes(render(CONFIG))
    daemon = FakeAlertmanager(path, hash_of=lambda data: 1.0)
    with pytest.raises(ReloadError, match=r"the reload succeeded, but alertmanager_config_hash is 1.0, not the hash "
                                          r"of %s \(\d+.0\): the server loaded another file" % path):
        reload.reload(daemon, daemon, 1.0, str(path), prefix="alertmanager", compare=False, compare_hash=True)


def test_without_compare_hash_the_hash_is_not_asked(tmp_path):
    path = tmp_path / "alertmanager.yml"
    path.write_bytes(render(CONFIG))
    daemon = FakeAlertmanager(path, hash_of=lambda data: 1.0)
    result = reload.reload(daemon, daemon, 1.0, str(path), prefix="alertmanager", compare=False)
    assert "config_hash" not in result


def test_a_refused_reload_puts_the_last_good_configuration_back_and_fails(tmp_path, fake_amtool):
    path = tmp_path / "alertmanager.yml"
    checker = [str(fake_amtool / "amtool"), "check-config"]
    config_files.apply(alertmanager_plan(path, CONFIG), checker)
    daemon = FakeAlertmanager(path, refuse=True)
    config_files.apply(alertmanager_plan(path, WITH_SECRETS), checker)
    with pytest.raises(ReloadError) as refused:
        reload.reload(daemon, daemon, 0.5, str(path), prefix="alertmanager", compare=False, compare_hash=True)
    assert "Alertmanager reported the reload as failed (alertmanager_config_last_reload_successful is 0" \
        in str(refused.value)
    assert "rolled back: restored %s from the last good copies and reloaded" % path in str(refused.value)
    assert path.read_bytes() == render(CONFIG) == daemon.loaded


# --- the daemon module and role carry the kind and the hash proof --------------------------------------------

def description_options() -> dict:
    specs = yaml.safe_load((REPO / "roles" / "daemon" / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))
    return specs["argument_specs"]["main"]["options"]["daemon_description"]["options"]


def test_the_config_kind_of_a_description_is_the_modules_option():
    role = description_options()["config"]["options"]["kind"]
    module = daemon_module.ARGUMENT_SPEC["config"]["options"]["kind"]
    assert (role["choices"], role["default"]) == (module["choices"], module["default"]) == (
        ["prometheus", "alertmanager"], "prometheus")


def test_the_hash_proof_of_a_description_is_the_modules_option_and_reaches_it():
    assert description_options()["reload"]["options"]["compare_hash"]["default"] is False
    assert daemon_module.ARGUMENT_SPEC["compare_hash"] == {"type": "bool", "default": False}
    run = (REPO / "roles" / "daemon" / "tasks" / "run.yml").read_text(encoding="utf-8")
    assert '    compare_hash: "{{ _daemon_spec.reload.compare_hash }}"' in run


def test_the_alertmanager_role_describes_its_configuration_as_alertmanagers():
    daemon = yaml.safe_load((REPO / "roles" / "alertmanager" / "vars" / "main.yml").read_text(encoding="utf-8"))[
        "_alertmanager_daemon"]
    assert daemon["config"]["kind"] == "alertmanager"
    assert "rules_dir" not in daemon["config"] and "rule_files" not in daemon["config"]
    assert daemon["reload"] == {"method": "signal", "proof": "alertmanager", "compare_config": False,
                                "compare_hash": True}
