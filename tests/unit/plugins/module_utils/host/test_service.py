"""The service managers (``host/service.py``): which one runs where, where supervisord listens, and
when a running process runs another binary than the file."""

from __future__ import annotations

import os

import pytest

from ansible_collections.promfleet.federation.plugins.module_utils.errors import DaemonError
from ansible_collections.promfleet.federation.plugins.module_utils.host import service


def test_auto_is_systemd_where_it_runs_and_supervisord_elsewhere(monkeypatch):
    monkeypatch.setattr(service, "systemd_runs", lambda: True)
    assert service.resolve("auto") == "systemd"
    monkeypatch.setattr(service, "systemd_runs", lambda: False)
    assert service.resolve("auto") == "supervisord"
    assert service.resolve("supervisord") == "supervisord"


def test_systemd_asked_for_where_it_does_not_run_is_refused(monkeypatch):
    monkeypatch.setattr(service, "systemd_runs", lambda: False)
    with pytest.raises(DaemonError, match="service_manager is systemd but systemd does not run on this machine"):
        service.resolve("systemd")


def test_supervisord_is_reached_at_the_socket_its_configuration_names(tmp_path):
    conf = tmp_path / "supervisord.conf"
    conf.write_text("[unix_http_server]\nfile=/run/a.sock ; comment\n[supervisorctl]\nserverurl=unix:///run/b.sock\n")
    assert service.supervisord_socket(str(conf)) == "/run/b.sock"
    conf.write_text("[unix_http_server]\nfile=/run/a.sock\n")
    assert service.supervisord_socket(str(conf)) == "/run/a.sock"
    assert service.supervisord_socket(str(tmp_path / "missing.conf")) is None


def test_a_supervisord_that_cannot_be_reached_does_not_run(tmp_path):
    conf = tmp_path / "supervisord.conf"
    conf.write_text("[supervisorctl]\nserverurl=unix://%s\n" % (tmp_path / "nothing.sock"))
    supervisord = service.Supervisord(str(conf))
    assert (supervisord.running(), supervisord.pid("prom")) == (False, None)


def test_a_process_runs_another_binary_when_its_file_was_replaced_or_is_another(monkeypatch):
    monkeypatch.setattr(service, "process_binary", lambda pid: "/usr/bin/prometheus (deleted)")
    assert service.runs_other_binary(42, "/usr/bin/prometheus") is True
    monkeypatch.setattr(service, "process_binary", lambda pid: "/opt/prometheus-2.42.0/prometheus")
    assert service.runs_other_binary(42, "/opt/prometheus-2.53.3/prometheus") is True
    monkeypatch.setattr(service, "process_binary", lambda pid: os.path.realpath("/bin/sh"))
    assert service.runs_other_binary(42, "/bin/sh") is False
    monkeypatch.setattr(service, "process_binary", lambda pid: None)
    assert service.runs_other_binary(42, "/bin/sh") is False


def test_the_binary_of_this_very_process_is_read_from_proc():
    assert service.process_binary(os.getpid()) == os.path.realpath("/proc/self/exe")
    assert service.process_binary(None) is None
