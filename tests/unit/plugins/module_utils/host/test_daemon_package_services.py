"""The packages' own services, stopped by the machine-wide step (``host/machine.py``): on systemd
stopped and disabled; where systemd does not run, stopped through their init script when a
package's postinst started them (Debian's prometheus-node-exporter listens on *:9100)."""

from __future__ import annotations

from ansible_collections.promfleet.federation.plugins.module_utils.host import machine


def machine_step(monkeypatch, running: set, check_mode: bool = False) -> tuple:
    stopped = []
    monkeypatch.setattr(machine, "init_script_runs", lambda name: name in running)
    monkeypatch.setattr(machine, "stop_init_script", stopped.append)
    step = machine.Machine({"service_manager": "supervisord",
                            "disable_services": ["prometheus", "prometheus-node-exporter"]}, check_mode)
    step.package_services()
    return step.done, stopped


def test_without_systemd_a_package_service_that_runs_is_stopped_through_its_init_script(monkeypatch):
    done, stopped = machine_step(monkeypatch, running={"prometheus-node-exporter"})
    assert stopped == ["prometheus-node-exporter"]
    assert done == ["stopped the package's service prometheus-node-exporter "
                    "(/etc/init.d/prometheus-node-exporter stop)"]


def test_without_systemd_a_package_service_that_does_not_run_is_left_alone(monkeypatch):
    assert machine_step(monkeypatch, running=set()) == ([], [])


def test_check_mode_only_says_which_package_service_it_would_stop(monkeypatch):
    done, stopped = machine_step(monkeypatch, running={"prometheus"}, check_mode=True)
    assert (len(done), stopped) == (1, [])


def test_an_init_script_that_is_not_there_does_not_run(tmp_path, monkeypatch):
    monkeypatch.setattr(machine, "INIT_D", str(tmp_path))
    assert machine.init_script_runs("prometheus-node-exporter") is False


def test_an_init_script_runs_when_its_status_succeeds(tmp_path, monkeypatch):
    monkeypatch.setattr(machine, "INIT_D", str(tmp_path))
    for name, code in (("up", 0), ("down", 3)):
        script = tmp_path / name
        script.write_text('#!/bin/sh\n[ "$1" = status ] && exit %d\nexit 1\n' % code)
        script.chmod(0o755)
    assert (machine.init_script_runs("up"), machine.init_script_runs("down")) == (True, False)
