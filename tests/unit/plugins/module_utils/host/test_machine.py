"""The parts of the machine-wide step that need no root and no network (``host/machine.py``): the
release archive unpacked without its top directory and never outside it, and what runs."""

from __future__ import annotations

import io
import tarfile

import pytest

from ansible_collections.promfleet.federation.plugins.module_utils.errors import DaemonError
from ansible_collections.promfleet.federation.plugins.module_utils.host import machine


def archive(tmp_path, members: dict):
    path = tmp_path / "prometheus-2.42.0.linux-amd64.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o755
            tar.addfile(info, io.BytesIO(data))
    return path


def test_an_archive_is_unpacked_without_its_top_directory(tmp_path):
    path = archive(tmp_path, {"prometheus-2.42.0/prometheus": b"#!/bin/sh\n", "prometheus-2.42.0/consoles/x": b"x"})
    machine._unpack(str(path), str(tmp_path / "unpacked"))
    assert sorted(p.relative_to(tmp_path / "unpacked").as_posix() for p in (tmp_path / "unpacked").rglob("*")
                  if p.is_file()) == ["consoles/x", "prometheus"]


def test_members_that_would_land_outside_are_left_out(tmp_path):
    path = archive(tmp_path, {"top/../../evil": b"x", "top/ok": b"y", "loose": b"z"})
    machine._unpack(str(path), str(tmp_path / "unpacked"))
    assert [p.name for p in (tmp_path / "unpacked").iterdir()] == ["ok"]
    assert not (tmp_path / "evil").exists()


def test_unpacking_replaces_what_was_there_whole(tmp_path):
    (tmp_path / "unpacked").mkdir()
    (tmp_path / "unpacked" / "stale").write_text("old")
    machine._unpack(str(archive(tmp_path, {"top/new": b"n"})), str(tmp_path / "unpacked"))
    assert [p.name for p in (tmp_path / "unpacked").iterdir()] == ["new"]


def test_the_checksum_names_the_algorithm(tmp_path):
    (tmp_path / "f").write_bytes(b"abc")
    assert machine.sha256_of(str(tmp_path / "f")) == \
        "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert machine.sha256_of(str(tmp_path / "missing")) is None


def test_a_binary_runs_when_version_succeeds(tmp_path):
    good, bad = tmp_path / "good", tmp_path / "bad"
    good.write_text("#!/bin/sh\nexit 0\n")
    bad.write_text("#!/bin/sh\nexit 1\n")
    good.chmod(0o755)
    bad.chmod(0o755)
    assert (machine.binary_runs(str(good)), machine.binary_runs(str(bad)),
            machine.binary_runs(str(tmp_path / "missing"))) == (True, False, False)


def test_binaries_that_do_not_run_fail_the_step_with_the_hint(tmp_path, monkeypatch):
    monkeypatch.setattr(machine.service, "systemd_runs", lambda: False)
    params = {"service_manager": "auto", "binaries": [str(tmp_path / "prometheus")],
              "binaries_hint": "set prometheus_binary_path to an installed binary"}
    with pytest.raises(DaemonError, match=r"prometheus cannot be run; set prometheus_binary_path to an installed "
                                          r"binary$"):
        machine.Machine(params, check_mode=True).binaries()


def test_check_mode_shows_the_private_supervisord_it_would_set_up_and_creates_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(machine.service, "systemd_runs", lambda: False)
    conf = tmp_path / "supervisor" / "supervisord.conf"
    params = {"service_manager": "auto", "supervisord": {
        "private": True, "conf": str(conf), "program_dir": str(tmp_path / "supervisor" / "programs"),
        "run_dir": str(tmp_path / "run"), "log_dir": str(tmp_path / "log")}}
    step = machine.Machine(params, check_mode=True)
    step.supervisord()
    assert [d["after_header"] for d in step.diffs] == [
        str(tmp_path / "supervisor"), str(tmp_path / "supervisor" / "programs"), str(tmp_path / "run"), str(conf)]
    assert "files = %s/*.conf" % (tmp_path / "supervisor" / "programs") in step.diffs[-1]["after"]
    assert step.done[-1] == "started supervisord -c %s" % conf
    assert list(tmp_path.iterdir()) == []


def test_a_private_supervisord_on_a_fresh_machine_gets_the_directories_above_its_own(tmp_path, monkeypatch):
    # /etc/promfleet does not exist on a fresh machine: it comes before /etc/promfleet/supervisor.
    monkeypatch.setattr(machine.service, "systemd_runs", lambda: False)
    monkeypatch.setattr(machine.service.Supervisord, "running", lambda self: True)
    etc = tmp_path / "etc" / "promfleet"
    params = {"service_manager": "auto", "supervisord": {
        "private": True, "conf": str(etc / "supervisor" / "supervisord.conf"),
        "program_dir": str(etc / "supervisor" / "programs"), "run_dir": str(tmp_path / "run" / "promfleet"),
        "log_dir": str(tmp_path / "log")}}
    step = machine.Machine(params, check_mode=False)
    step.supervisord()
    assert step.done[:4] == ["created %s" % (tmp_path / "etc"), "created %s" % etc, "created %s" % (tmp_path / "run"),
                             "created %s" % (etc / "supervisor")]
    assert (etc / "supervisor" / "supervisord.conf").is_file()
    assert oct((tmp_path / "etc").stat().st_mode & 0o777) == "0o755"


@pytest.mark.parametrize(("candidates", "line", "taken"), [
    ({"prometheus": "2.42.0+ds-5+deb12u1"}, "2.42", True),
    ({"prometheus": "1:2.53.3+ds1-2"}, "2.53", True),  # an epoch does not hide the line
    ({"prometheus": "2.42.0+ds-5+deb12u1"}, "3.13", False),
    ({"prometheus": None}, "3.13", False),  # no candidate (or no apt)
])
def test_auto_takes_the_package_only_where_the_distribution_carries_the_line(monkeypatch, candidates, line, taken):
    monkeypatch.setattr(machine, "package_candidate", lambda name: candidates[name])
    assert machine.distribution_has_line(["prometheus"], line) is taken
