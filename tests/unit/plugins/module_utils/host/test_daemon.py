"""The daemon machinery (``host/daemon.py``): the auto install method (the distribution's package where
it carries the release line, else the archive); files that do not reload the daemon; directories it
owns; the path that says it serves."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import yaml

from ansible_collections.promfleet.federation.plugins.module_utils.errors import DaemonError
from ansible_collections.promfleet.federation.plugins.module_utils.host import daemon
from ansible_collections.promfleet.federation.plugins.modules import daemon as daemon_module


def _auto_params() -> dict:
    archive = "/opt/promfleet/prometheus-2.42.0"
    return {
        "binary": archive + "/prometheus",
        "config": {"checker": [archive + "/promtool", "check", "config"]},
        "files": [],
        "machine": {
            "packages": [],
            "archive": {"url": "https://example.org/p.tar.gz"},
            "binaries": [archive + "/prometheus", archive + "/promtool"],
            "package_choice": {"packages": ["prometheus"], "line": "2.42", "binaries": {
                archive + "/prometheus": "/usr/bin/prometheus", archive + "/promtool": "/usr/bin/promtool"}},
        },
    }


def test_auto_runs_the_packages_binaries_when_the_distribution_carries_the_line(monkeypatch):
    monkeypatch.setattr(daemon.machine, "distribution_has_line", lambda packages, line: True)
    params = _auto_params()
    daemon.choose_install(params)
    assert params["binary"] == "/usr/bin/prometheus"
    assert params["config"]["checker"] == ["/usr/bin/promtool", "check", "config"]
    assert params["machine"]["binaries"] == ["/usr/bin/prometheus", "/usr/bin/promtool"]
    assert (params["machine"]["packages"], params["machine"]["archive"]) == (["prometheus"], None)
    assert params["machine"]["package_choice"] is None  # decided once


def test_auto_keeps_the_archive_where_the_distribution_lacks_the_line(monkeypatch):
    monkeypatch.setattr(daemon.machine, "distribution_has_line", lambda packages, line: False)
    params = _auto_params()
    daemon.choose_install(params)
    assert params == _auto_params()


# --- files that do not reload, directories the instance owns, readiness ---------------------------------

class FakeClient:
    """A daemon that answers readiness at the paths in ``ready_paths`` and reports its last reload at
    ``reloaded_at``."""

    url = "http://127.0.0.1:9"

    def __init__(self, ready_paths=("/-/ready",), reloaded_at: float = 0.0):
        self.ready_paths = set(ready_paths)
        self.asked: list = []
        self.reloaded_at = reloaded_at

    def ready(self, path: str = "/-/ready") -> bool:
        self.asked.append(path)
        return path in self.ready_paths

    def reload_state(self, prefix: str = "prometheus") -> dict:
        return {"successful": True, "timestamp": self.reloaded_at}


def params_for(tmp_path, **overrides) -> dict:
    """The daemon module's parameters for an instance whose files live under ``tmp_path``."""
    params = {
        "name": "promfleet-test", "binary": "/bin/true", "user": "root", "group": "root", "flags": [],
        "service_manager": "supervisord", "systemd_unit_dir": str(tmp_path / "units"),
        "supervisord_conf": str(tmp_path / "supervisord.conf"), "supervisord_program_dir": str(tmp_path / "programs"),
        "directories": [], "config": None, "files": [], "owned_dirs": [], "machine": None,
        "ready_path": "/-/ready", "start_timeout": 1, "reload_method": "signal", "reload_proof": "prometheus",
        "compare_config": True, "reload_timeout": 1.0,
    }
    params.update(overrides)
    return params


def a_file(path, content: str, **options) -> dict:
    return dict({"path": str(path), "content": content, "owner": None, "group": None, "mode": "0640",
                 "checker": None, "reload": True}, **options)


def test_a_changed_file_with_reload_false_is_written_but_asks_for_no_reload(tmp_path):
    target = tmp_path / "node.json"
    target.write_text("[]")
    run = daemon.Converge(params_for(tmp_path, files=[a_file(target, '[{"targets": ["a:9100"]}]', reload=False)]),
                          FakeClient(), check_mode=False)
    assert run.extra_files() is False
    assert target.read_text() == '[{"targets": ["a:9100"]}]'
    assert run.done == ["wrote %s" % target]
    assert run.diffs == [{"before_header": str(target), "after_header": str(target), "before": "[]",
                          "after": '[{"targets": ["a:9100"]}]'}]


def test_a_changed_file_with_reload_true_asks_for_a_reload(tmp_path):
    web = tmp_path / "web.yml"
    run = daemon.Converge(params_for(tmp_path, files=[a_file(web, "tls_server_config: {}\n")]), FakeClient(), False)
    assert run.extra_files() is True


def test_a_file_with_reload_false_is_still_checked_and_left_alone_when_refused(tmp_path):
    target = tmp_path / "node.json"
    target.write_text("[]")
    spec = a_file(target, "not json", reload=False, checker=["/bin/false"])
    with pytest.raises(DaemonError, match="false refused the new %s; nothing was changed" % target):
        daemon.Converge(params_for(tmp_path, files=[spec]), FakeClient(), False).extra_files()
    assert target.read_text() == "[]"
    assert [p.name for p in tmp_path.iterdir()] == ["node.json"]  # no temporary file left


def test_a_file_with_reload_false_is_written_atomically_in_its_directory(tmp_path, monkeypatch):
    target = tmp_path / "node.json"
    renames = []
    real_install = daemon.files.install

    def install(temp: str, final: str) -> None:
        renames.append((temp, final))
        real_install(temp, final)

    monkeypatch.setattr(daemon.files, "install", install)
    daemon.Converge(params_for(tmp_path, files=[a_file(target, "[]", reload=False)]), FakeClient(), False).extra_files()
    ((temp, final),) = renames
    assert (os.path.dirname(temp), final) == (str(tmp_path), str(target))


def test_strays_are_the_regular_files_of_a_directory_that_are_not_kept(tmp_path):
    for name in ("a.json", "b.json", ".c.json.x1.tmp"):
        (tmp_path / name).write_text("[]")
    (tmp_path / "sub").mkdir()
    (tmp_path / "link.json").symlink_to(tmp_path / "a.json")
    assert daemon.strays(str(tmp_path), {str(tmp_path / "a.json")}) == [
        str(tmp_path / ".c.json.x1.tmp"), str(tmp_path / "b.json")]


def test_a_directory_that_does_not_exist_has_no_strays(tmp_path):
    assert daemon.strays(str(tmp_path / "missing"), set()) == []


def owned(tmp_path) -> tuple:
    targets = tmp_path / "targets"
    targets.mkdir()
    (targets / "node.json").write_text("[]")
    (targets / "old.json").write_text('[{"targets": ["gone:9100"]}]')
    params = params_for(tmp_path, files=[a_file(targets / "node.json", "[]", reload=False)],
                        directories=[{"path": str(targets), "owner": None, "group": None, "mode": "0755"}],
                        owned_dirs=[str(targets)])
    return targets, params


def test_an_owned_directory_loses_every_file_that_is_not_one_of_its_files(tmp_path):
    targets, params = owned(tmp_path)
    run = daemon.Converge(params, FakeClient(), check_mode=False)
    run.owned_dirs()
    assert sorted(p.name for p in targets.iterdir()) == ["node.json"]
    assert run.done == ["removed %s (not a file of %s)" % (targets / "old.json", targets)]
    assert run.diffs == [{"before_header": str(targets / "old.json"), "after_header": str(targets / "old.json"),
                          "before": '[{"targets": ["gone:9100"]}]', "after": ""}]


def test_check_mode_only_reports_what_an_owned_directory_would_lose(tmp_path):
    targets, params = owned(tmp_path)
    run = daemon.Converge(params, FakeClient(), check_mode=True)
    run.owned_dirs()
    assert sorted(p.name for p in targets.iterdir()) == ["node.json", "old.json"]
    assert run.done == ["removed %s (not a file of %s)" % (targets / "old.json", targets)]


def test_an_owned_directory_keeps_the_configuration_and_its_last_good_copies(tmp_path):
    config_dir = tmp_path / "etc"
    config_dir.mkdir()
    kept = ["prometheus.yml", "prometheus.yml.last-good", "prometheus.yml.last-good-rules.json"]
    for name in kept + ["stray.yml"]:
        (config_dir / name).write_text("x")
    params = params_for(tmp_path, config={"path": str(config_dir / "prometheus.yml")}, owned_dirs=[str(config_dir)],
                        directories=[{"path": str(config_dir), "owner": None, "group": None, "mode": "0755"}])
    daemon.Converge(params, FakeClient(), check_mode=False).owned_dirs()
    assert sorted(p.name for p in config_dir.iterdir()) == kept


def test_an_owned_directory_must_be_one_of_the_directories(tmp_path):
    with pytest.raises(DaemonError, match="owned_dirs: %s is not one of the directories" % (tmp_path / "targets")):
        daemon.Converge(params_for(tmp_path, owned_dirs=[str(tmp_path / "targets")]), FakeClient(), False)


def converged_config(tmp_path, files_: list) -> dict:
    """Parameters of an instance whose prometheus.yml is already written as described."""
    config = {"path": str(tmp_path / "prometheus.yml"), "content": {"global": {"scrape_interval": "1m"}},
              "rule_files": None, "rules_dir": None, "owner": None, "group": None, "mode": "0640", "checker": None}
    params = params_for(tmp_path, config=config, files=files_)
    daemon.Converge(params, FakeClient(), False).config()
    return params


@pytest.mark.parametrize("reload_file, reloads", [(False, False), (True, True)], ids=["reload-false", "reload-true"])
def test_only_a_file_with_reload_true_reloads_a_running_instance(tmp_path, monkeypatch, reload_file, reloads):
    target = tmp_path / "node.json"
    target.write_text("[]")
    params = converged_config(tmp_path, [a_file(target, '[{"targets": ["b:9100"]}]', reload=reload_file)])
    reloads_done = []
    monkeypatch.setattr(daemon.reload, "reload",
                        lambda *args, **kwargs: reloads_done.append(args) or {"msg": "reloaded"})
    monkeypatch.setattr(daemon.Converge, "machine_step", lambda self: None)
    monkeypatch.setattr(daemon.Converge, "definition", lambda self: False)
    monkeypatch.setattr(daemon.Converge, "run_service", lambda self, changed: None)
    # The daemon loaded its configuration after the files were written: only a change is a reason.
    result = daemon.Converge(params, FakeClient(reloaded_at=time.time() + 60), False).run()
    assert (bool(reloads_done), result["reload"] is not None) == (reloads, reloads)
    assert result["changed"] and "wrote %s" % target in result["msg"]


def test_readiness_is_asked_at_the_ready_path(tmp_path):
    client = FakeClient(ready_paths=["/metrics"])
    daemon.Converge(params_for(tmp_path, ready_path="/metrics"), client, False).wait_until_ready()
    assert client.asked == ["/metrics"]


def test_an_instance_that_never_answers_its_ready_path_fails_naming_it(tmp_path, monkeypatch):
    monkeypatch.setattr(daemon, "POLL_SECONDS", 0.01)
    run = daemon.Converge(params_for(tmp_path, ready_path="/metrics", start_timeout=0), FakeClient(), False)
    with pytest.raises(DaemonError, match=r"promfleet-test does not answer http://127.0.0.1:9/metrics 0 s after its "
                                          r"start; see its log \(supervisorctl -c "):
        run.wait_until_ready()


def test_a_ready_path_must_be_a_url_path(tmp_path):
    with pytest.raises(DaemonError, match='ready_path must be a URL path starting with "/" \\(got "metrics"\\)'):
        daemon.Converge(params_for(tmp_path, ready_path="metrics"), FakeClient(), False)


def test_a_missing_user_of_the_instance_makes_the_machine_step_run(tmp_path, monkeypatch):
    monkeypatch.setattr(daemon.service.Supervisord, "running", lambda self: True)
    run = daemon.Converge(params_for(tmp_path, user="promfleet-no-such-user", group="promfleet-no-such-group"),
                          FakeClient(), False)
    assert run.machine_lacks() == ["user promfleet-no-such-user does not exist",
                                   "group promfleet-no-such-group does not exist"]


# --- the role's description and the module's options agree -----------------------------------------------

REPO = Path(__file__).resolve().parents[5]


def description_options() -> dict:
    specs = yaml.safe_load((REPO / "roles" / "daemon" / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))
    return specs["argument_specs"]["main"]["options"]["daemon_description"]["options"]


def test_the_files_of_a_description_have_the_modules_file_options():
    role = description_options()["files"]["options"]
    module = daemon_module.ARGUMENT_SPEC["files"]["options"]
    assert sorted(role) == sorted(module)
    assert {name: spec.get("default") for name, spec in role.items()} == \
        {name: spec.get("default") for name, spec in module.items()}


@pytest.mark.parametrize("field", ["owned_dirs", "ready_path"])
def test_a_description_field_has_the_modules_default_and_reaches_the_module(field):
    assert description_options()[field]["default"] == daemon_module.ARGUMENT_SPEC[field]["default"]
    run = (REPO / "roles" / "daemon" / "tasks" / "run.yml").read_text(encoding="utf-8")
    assert '    %s: "{{ _daemon_spec.%s }}"' % (field, field) in run
