"""The alertmanager_routes module run in-process by AnsibleModule: its answer, the secrets of the
configuration redacted in the arguments it reports back, and its failure with the engine's message."""

from __future__ import annotations

import json

import pytest
from ansible.module_utils import basic

from ansible_collections.promfleet.federation.plugins.modules import alertmanager_routes

CONFIG = {
    "route": {"receiver": "default", "routes": [{"matchers": ['severity="critical"'], "receiver": "pager"}]},
    "receivers": [{"name": "default"}, {"name": "pager", "pagerduty_configs": [{"routing_key": "pd-secret-key"}]}],
}


def run(monkeypatch, capsys, args: dict) -> tuple[int, dict]:
    """Exit code and parsed output of the module's main() with ``args`` (as AnsiballZ passes them)."""
    monkeypatch.setattr(basic, "_ANSIBLE_ARGS", json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode())
    monkeypatch.setattr(basic, "_ANSIBLE_PROFILE", "legacy")
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        alertmanager_routes.main()
    return exited.value.code, json.loads(capsys.readouterr().out)


def test_the_module_answers_each_alert_and_redacts_the_secrets_it_reports(monkeypatch, capsys):
    code, result = run(monkeypatch, capsys, {"config": CONFIG, "alerts": [{"severity": "critical"}, {}],
                                             "_ansible_check_mode": True})
    reported = result["invocation"]["module_args"]["config"]["receivers"][1]["pagerduty_configs"]
    answered = [[m["receiver"] for m in matches] for matches in result["routes"]]
    assert (code, result["changed"], answered, reported, "pd-secret-key" in json.dumps(result)) == (
        0, False, [["pager"], ["default"]], [{"routing_key": "<secret>"}], False)


def test_the_module_fails_with_the_engines_message(monkeypatch, capsys):
    config = dict(CONFIG, route={"receiver": "default", "routes": [{"receiver": "pagr"}]})
    code, result = run(monkeypatch, capsys, {"config": config})
    assert (code, result["failed"], result["msg"], "pd-secret-key" in json.dumps(result)) == (
        1, True, "route.routes[0].receiver: 'pagr' is not a receiver; did you mean 'pager'?", False)
