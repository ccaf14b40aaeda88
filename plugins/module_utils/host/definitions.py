# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""What runs a daemon instance, as text: its systemd unit, its supervisord program, and the
configuration of a supervisord of the collection's own. Pure functions: the same description always
gives the same bytes, so an unchanged instance is never restarted.
"""

from __future__ import annotations

import os
import shlex

MANAGED = "Managed by promfleet.federation: changes here are overwritten by the next run."


def command_line(binary: str, flags: list) -> str:
    """The command as both systemd and supervisord read it (shell-quoted words)."""
    return " ".join(shlex.quote(word) for word in [binary] + list(flags))


def systemd_unit(spec: dict) -> str:
    """The unit: ``spec`` has title, user, group, binary, flags, stop_timeout (seconds) and writable
    (the only paths it may write; ProtectSystem=strict makes everything else read-only)."""
    lines = [
        "# " + MANAGED,
        "[Unit]",
        "Description=%s" % spec["title"],
        "Wants=network-online.target",
        "After=network-online.target",
        "",
        "[Service]",
        "Type=simple",
        "User=%s" % spec["user"],
        "Group=%s" % spec["group"],
        "ExecStart=%s" % command_line(spec["binary"], spec["flags"]),
        "ExecReload=/bin/kill -HUP $MAINPID",
        "Restart=on-failure",
        "RestartSec=5s",
        "TimeoutStopSec=%ds" % spec["stop_timeout"],
        "LimitNOFILE=65536",
        "NoNewPrivileges=true",
        "PrivateTmp=true",
        "PrivateDevices=true",
        "ProtectSystem=strict",
        "ProtectHome=true",
        "ProtectKernelTunables=true",
        "ProtectKernelModules=true",
        "ProtectControlGroups=true",
    ]
    if spec["writable"]:
        lines.append("ReadWritePaths=%s" % " ".join(spec["writable"]))
    lines += ["", "[Install]", "WantedBy=multi-user.target"]
    return "\n".join(lines) + "\n"


def supervisord_program(spec: dict) -> str:
    """The program: ``spec`` has instance, user, binary, flags, stop_timeout and log_dir (its output
    goes to ``<log_dir>/<instance>.log``, rotated)."""
    return "\n".join([
        "; " + MANAGED,
        "[program:%s]" % spec["instance"],
        "command=%s" % command_line(spec["binary"], spec["flags"]),
        "directory=/",
        "user=%s" % spec["user"],
        "autostart=true",
        "autorestart=true",
        "startsecs=2",
        "stopsignal=TERM",
        "stopwaitsecs=%d" % spec["stop_timeout"],
        "stopasgroup=true",
        "killasgroup=true",
        "redirect_stderr=true",
        "stdout_logfile=%s" % os.path.join(spec["log_dir"], spec["instance"] + ".log"),
        "stdout_logfile_maxbytes=20MB",
        "stdout_logfile_backups=3",
    ]) + "\n"


def supervisord_conf(run_dir: str, log_dir: str, program_dir: str) -> str:
    """A supervisord of the collection's own, for machines without systemd: its socket and pid file
    are runtime state (``run_dir``), its log goes with the programs' logs (``log_dir``)."""
    socket = os.path.join(run_dir, "supervisor.sock")
    return "\n".join([
        "; " + MANAGED,
        "; A supervisord of promfleet.federation's own, for machines without systemd.",
        "[unix_http_server]",
        "file=%s" % socket,
        "chmod=0700",
        "",
        "[supervisord]",
        "pidfile=%s" % os.path.join(run_dir, "supervisord.pid"),
        "logfile=%s" % os.path.join(log_dir, "supervisord.log"),
        "childlogdir=%s" % log_dir,
        "",
        "[rpcinterface:supervisor]",
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
        "",
        "[supervisorctl]",
        "serverurl=unix://%s" % socket,
        "",
        "[include]",
        "files = %s" % os.path.join(program_dir, "*.conf"),
    ]) + "\n"
