"""What runs an instance, as text (``host/definitions.py``): the systemd unit, the supervisord
program and the private supervisord's configuration. Deterministic: the same description gives the
same bytes, so an unchanged instance is never restarted."""

from __future__ import annotations

from ansible_collections.promfleet.federation.plugins.module_utils.host.definitions import (
    command_line,
    supervisord_conf,
    supervisord_program,
    systemd_unit,
)

SPEC = {
    "instance": "promfleet-eu-1",
    "title": "Prometheus promfleet-eu-1 (promfleet.federation)",
    "user": "prometheus",
    "group": "prometheus",
    "binary": "/usr/bin/prometheus",
    "flags": ["--config.file=/etc/promfleet/promfleet-eu-1/prometheus.yml", "--web.page-title=eu 1"],
    "stop_timeout": 120,
    "writable": ["/var/lib/promfleet/promfleet-eu-1"],
    "log_dir": "/var/log/promfleet",
}


def directive(text: str, name: str) -> list:
    return [line.split("=", 1)[1] for line in text.splitlines() if line.startswith(name + "=")]


def test_the_command_line_quotes_each_word_as_a_shell_would_read_it():
    assert command_line("/usr/bin/prometheus", ["--a=1", "--web.page-title=eu 1"]) == \
        "/usr/bin/prometheus --a=1 '--web.page-title=eu 1'"


def test_the_unit_runs_the_binary_with_its_flags_as_its_user_and_reloads_by_sighup():
    unit = systemd_unit(SPEC)
    assert directive(unit, "ExecStart") == [command_line(SPEC["binary"], SPEC["flags"])]
    assert directive(unit, "ExecReload") == ["/bin/kill -HUP $MAINPID"]
    assert (directive(unit, "User"), directive(unit, "Group")) == (["prometheus"], ["prometheus"])
    assert directive(unit, "TimeoutStopSec") == ["120s"]


def test_the_unit_may_write_its_writable_paths_only():
    unit = systemd_unit(SPEC)
    assert directive(unit, "ProtectSystem") == ["strict"]
    assert directive(unit, "ReadWritePaths") == ["/var/lib/promfleet/promfleet-eu-1"]
    assert directive(systemd_unit(dict(SPEC, writable=[])), "ReadWritePaths") == []


def test_the_same_description_gives_the_same_unit():
    assert systemd_unit(dict(SPEC)) == systemd_unit(SPEC)
    assert systemd_unit(dict(SPEC, flags=SPEC["flags"] + ["--log.level=debug"])) != systemd_unit(SPEC)


def test_the_program_runs_the_binary_and_logs_to_its_own_file():
    program = supervisord_program(SPEC)
    assert "[program:promfleet-eu-1]" in program.splitlines()
    assert directive(program, "command") == [command_line(SPEC["binary"], SPEC["flags"])]
    assert directive(program, "stdout_logfile") == ["/var/log/promfleet/promfleet-eu-1.log"]
    assert directive(program, "stopwaitsecs") == ["120"]


def test_a_private_supervisord_keeps_runtime_files_under_its_run_dir_and_logs_with_its_programs():
    conf = supervisord_conf("/run/promfleet", "/var/log/promfleet", "/etc/promfleet/supervisor/programs")
    assert directive(conf, "file") == ["/run/promfleet/supervisor.sock"]
    assert directive(conf, "pidfile") == ["/run/promfleet/supervisord.pid"]
    assert directive(conf, "logfile") == ["/var/log/promfleet/supervisord.log"]
    assert directive(conf, "serverurl") == ["unix:///run/promfleet/supervisor.sock"]
    assert "files = /etc/promfleet/supervisor/programs/*.conf" in conf.splitlines()
