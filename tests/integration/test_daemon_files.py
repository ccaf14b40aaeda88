"""Files of a daemon instance that do not reload it, and directories it owns: the daemon module
against a real Prometheus (the 3.x release of the cache) under a private supervisord of its own.

Prometheus reads its file_sd target files itself (it watches them), so a target file is described
with ``reload: false``: a change is checked, written atomically and shown, and the server's reload
timestamp stays. Its directory is owned (``owned_dirs``): a file that is not one of the described
ones is removed, without a reload either.

Everything lives in ``.tmp/it-daemon-files`` on a free port; the module runs through ``ansible
localhost -m`` (``fleet.run_module``), the instance is removed with ``state: absent`` at the end.
"""

from __future__ import annotations

import json
import urllib.request

import pytest
import releases
from fleet import free_ports, listening, metric, processes_matching, run_module, wait_for
from it_support import RELOADED_AT, START_TIME, scratch_root

MODULE = "promfleet.federation.daemon"
PROMETHEUS = releases.binary(releases.DEFAULT)
PROMTOOL = releases.promtool()
NAME = "promfleet-daemon-files"
JSON_CHECKER = ["/usr/bin/python3", "-m", "json.tool"]


def target_groups(*targets: str) -> str:
    return json.dumps([{"targets": list(targets), "labels": {"team": "files"}}], indent=2) + "\n"


class Instance:
    """One Prometheus run by the daemon module, its file_sd directory owned."""

    def __init__(self) -> None:
        self.root = scratch_root("daemon-files")
        self.port = free_ports(1)[0]
        self.url = "http://127.0.0.1:%d" % self.port
        self.etc = self.root / "etc"
        self.targets = self.etc / "targets"
        self.data = self.root / "data"
        self.supervisor = self.root / "supervisor"

    def service(self) -> dict:
        return {
            "service_manager": "supervisord",
            "supervisord_private": True,
            "supervisord_conf": str(self.supervisor / "supervisord.conf"),
            "supervisord_program_dir": str(self.supervisor / "programs"),
            "supervisord_run_dir": str(self.root / "run"),
        }

    def args(self, files: list | None = None, **overrides) -> dict:
        service = self.service()
        args = dict(service, name=NAME, binary=PROMETHEUS, title="Prometheus (test_daemon_files)",
                    user="prometheus", group="prometheus", log_dir=str(self.root / "log"), url=self.url,
                    flags=["--config.file=%s" % (self.etc / "prometheus.yml"), "--storage.tsdb.path=%s" % self.data,
                           "--web.listen-address=127.0.0.1:%d" % self.port],
                    directories=[
                        {"path": str(self.etc), "owner": "root", "group": "prometheus", "mode": "0750"},
                        {"path": str(self.targets), "owner": "root", "group": "prometheus", "mode": "0750"},
                        {"path": str(self.data), "owner": "prometheus", "group": "prometheus", "mode": "0750"},
                    ],
                    config={"path": str(self.etc / "prometheus.yml"), "group": "prometheus",
                            "checker": [PROMTOOL, "check", "config"],
                            "content": {"global": {"scrape_interval": "1s"}, "scrape_configs": [{
                                "job_name": "files",
                                "file_sd_configs": [{"files": [str(self.targets / "*.json")],
                                                     "refresh_interval": "1s"}]}]}},
                    files=[self.target_file("127.0.0.1:1")] if files is None else files,
                    owned_dirs=[str(self.targets)],
                    machine={"user": "prometheus", "group": "prometheus", "binaries": [PROMETHEUS, PROMTOOL],
                             "service_manager": "supervisord", "directories": [{"path": str(self.root / "log")}],
                             "lock": str(self.root / "run" / "machine.lock"),
                             "supervisord": {"private": True, "conf": service["supervisord_conf"],
                                             "program_dir": service["supervisord_program_dir"],
                                             "run_dir": service["supervisord_run_dir"],
                                             "log_dir": str(self.root / "log")}})
        args.update(overrides)
        return args

    def target_file(self, *targets: str, name: str = "node.json", **options) -> dict:
        return dict({"path": str(self.targets / name), "content": target_groups(*targets), "group": "prometheus",
                     "mode": "0640", "reload": False, "checker": JSON_CHECKER}, **options)

    def run(self, args: dict, *options: str) -> dict:
        return run_module(MODULE, args, "--diff", *options)

    def reloaded_at(self) -> float:
        return metric(self.url, RELOADED_AT)

    def discovered(self) -> set:
        """The targets Prometheus has discovered from its files now."""
        with urllib.request.urlopen(self.url + "/api/v1/targets?state=any", timeout=10) as response:
            data = json.load(response)["data"]
        return {target["discoveredLabels"]["__address__"]
                for target in data["activeTargets"] + data["droppedTargets"]}

    def remove(self) -> dict:
        log = self.root / "log" / (NAME + ".log")
        return run_module(MODULE, dict(self.service(), name=NAME, state="absent", port=self.port,
                                       remove=[str(self.etc), str(self.data), str(log)]))


@pytest.fixture(scope="module")
def instance():
    instance = Instance()
    try:
        first = instance.run(instance.args())
        assert not first.get("failed"), first
        assert first["service_action"] == "started", first
        yield instance
    finally:
        removed = instance.remove()
        left = processes_matching(str(instance.root) + "/")
        scratch_root("daemon-files").rmdir()  # stops whatever a failed removal left, then the root goes
        assert not removed.get("failed"), removed
        assert not left and not listening(instance.port), left


def converge(instance: Instance, files: list, *options: str) -> dict:
    result = instance.run(instance.args(files), *options)
    assert not result.get("failed"), result
    return result


def test_a_changed_file_with_reload_false_is_written_and_read_by_the_daemon_without_a_reload(instance):
    before = instance.reloaded_at()
    started = metric(instance.url, START_TIME)
    result = converge(instance, [instance.target_file("127.0.0.1:2", "127.0.0.1:3")])
    path = str(instance.targets / "node.json")
    assert result["changed"] is True
    assert result["msg"] == "wrote %s" % path
    assert (result["service_action"], result["reload"]) == (None, None)
    assert [entry["after"] for entry in result["diff"] if entry["after_header"] == path] == [
        target_groups("127.0.0.1:2", "127.0.0.1:3")]
    # Prometheus rereads the file by itself; its configuration was not reloaded, the process not restarted.
    wait_for(lambda: instance.discovered() == {"127.0.0.1:2", "127.0.0.1:3"}, timeout=20,
             what="the new targets discovered from the file")
    assert instance.reloaded_at() == before
    assert metric(instance.url, START_TIME) == started


def test_the_same_files_again_change_nothing(instance):
    files = [instance.target_file("127.0.0.1:4")]
    converge(instance, files)
    result = converge(instance, files)
    assert (result["changed"], result["msg"]) == (False, "%s runs as described" % NAME)


def test_a_file_with_reload_false_is_still_checked_and_a_refused_one_changes_nothing(instance):
    good = converge(instance, [instance.target_file("127.0.0.1:5")])
    assert not good.get("failed")
    result = instance.run(instance.args([dict(instance.target_file(), content="[{not json")]))
    assert result.get("failed") is True, result
    assert "json.tool refused the new %s; nothing was changed" % (instance.targets / "node.json") in result["msg"]
    assert (instance.targets / "node.json").read_text() == target_groups("127.0.0.1:5")


def test_check_mode_reports_a_stray_file_of_an_owned_directory_and_leaves_it(instance):
    files = [instance.target_file("127.0.0.1:6")]
    converge(instance, files)
    stray = instance.targets / "stray.json"
    stray.write_text(target_groups("127.0.0.1:7"))
    result = converge(instance, files, "--check")
    assert result["changed"] is True
    assert result["msg"] == "removed %s (not a file of %s)" % (stray, instance.targets)
    assert stray.exists()
    stray.unlink()


def test_a_stray_file_of_an_owned_directory_is_removed_without_a_reload(instance):
    files = [instance.target_file("127.0.0.1:8")]
    converge(instance, files)
    stray = instance.targets / "stray.json"
    stray.write_text(target_groups("127.0.0.1:9"))
    wait_for(lambda: "127.0.0.1:9" in instance.discovered(), timeout=20, what="the stray file's target discovered")
    before = instance.reloaded_at()
    result = converge(instance, files)
    assert result["msg"] == "removed %s (not a file of %s)" % (stray, instance.targets)
    assert [entry["before"] for entry in result["diff"] if entry["before_header"] == str(stray)] == [
        target_groups("127.0.0.1:9")]
    assert sorted(path.name for path in instance.targets.iterdir()) == ["node.json"]
    assert result["reload"] is None
    wait_for(lambda: instance.discovered() == {"127.0.0.1:8"}, timeout=20, what="the stray file's target gone")
    assert instance.reloaded_at() == before


def test_a_changed_file_with_reload_true_reloads_and_proves_it(instance):
    converge(instance, [instance.target_file("127.0.0.1:10")])
    before = instance.reloaded_at()
    result = converge(instance, [instance.target_file("127.0.0.1:11", reload=True)])
    assert result["reload"] and result["reload"]["last_reload_success_timestamp"]["after"] > before, result
    assert instance.reloaded_at() > before


def test_an_owned_directory_that_is_not_one_of_the_directories_fails_naming_it(instance):
    elsewhere = instance.root / "elsewhere"
    result = instance.run(instance.args(owned_dirs=[str(elsewhere)]))
    assert result.get("failed") is True, result
    assert "owned_dirs: %s is not one of the directories" % elsewhere in result["msg"]
    assert not elsewhere.exists()
