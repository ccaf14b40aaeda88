# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""The service managers that run the daemons: systemd where it is PID 1, supervisord elsewhere
(containers, CI machines). systemd is driven with ``systemctl`` (through ``commands.run``),
supervisord over the XML-RPC interface of its unix socket, which is what supervisorctl itself talks
to (a supervisorctl process costs a tenth of a second per question).
"""

from __future__ import annotations

import configparser
import contextlib
import http.client
import os
import socket
import xmlrpc.client

from ansible_collections.promfleet.federation.plugins.module_utils.errors import DaemonError
from ansible_collections.promfleet.federation.plugins.module_utils.host import commands

SYSTEMD = "systemd"
SUPERVISORD = "supervisord"
AUTO = "auto"
MANAGERS = (AUTO, SYSTEMD, SUPERVISORD)


def systemd_runs() -> bool:
    """Whether systemd is the service manager of this machine (``sd_booted``)."""
    return os.path.isdir("/run/systemd/system")


def resolve(manager: str) -> str:
    """The service manager to use for ``manager`` (``auto``, ``systemd`` or ``supervisord``):
    ``auto`` is systemd where it runs, supervisord elsewhere. DaemonError when systemd is asked
    for where it does not run."""
    if manager not in MANAGERS:
        raise DaemonError("service_manager %r is not one of %s" % (manager, ", ".join(MANAGERS)))
    if manager == AUTO:
        return SYSTEMD if systemd_runs() else SUPERVISORD
    if manager == SYSTEMD and not systemd_runs():
        raise DaemonError("service_manager is systemd but systemd does not run on this machine (PID 1 is not "
                          "systemd); use auto or supervisord")
    return manager


def process_binary(pid: int | None) -> str | None:
    """The executable process ``pid`` runs (``/proc/<pid>/exe``), ending in `` (deleted)`` when the
    file was replaced since it started; None when it cannot be read."""
    if not pid:
        return None
    try:
        return os.readlink("/proc/%d/exe" % pid)
    except OSError:
        return None


def runs_other_binary(pid: int | None, binary: str) -> bool:
    """Whether process ``pid`` runs something else than the current file ``binary``: another
    path, or a file a package upgrade has replaced since the process started."""
    running = process_binary(pid)
    if running is None:
        return False
    return running.endswith(" (deleted)") or running != os.path.realpath(binary)


class Systemd:
    """Units of systemd, written to ``unit_dir``."""

    name = SYSTEMD

    def __init__(self, unit_dir: str = "/etc/systemd/system") -> None:
        self.unit_dir = unit_dir

    def definition_path(self, instance: str) -> str:
        return os.path.join(self.unit_dir, instance + ".service")

    @staticmethod
    def _ctl(*args: str, check: bool = True) -> commands.CommandResult:
        return commands.run(("systemctl",) + args, check=check)

    def daemon_reload(self) -> None:
        self._ctl("daemon-reload")

    def is_active(self, instance: str) -> bool:
        return self._ctl("is-active", "--quiet", instance, check=False).ok

    def is_enabled(self, instance: str) -> bool:
        return self._ctl("is-enabled", "--quiet", instance, check=False).ok

    def pid(self, instance: str) -> int | None:
        text = self._ctl("show", "--property=MainPID", "--value", instance, check=False).output.strip()
        return int(text) if text.isdigit() and int(text) > 0 else None

    def start(self, instance: str) -> None:
        self._ctl("start", instance)

    def restart(self, instance: str) -> None:
        self._ctl("restart", instance)

    def enable(self, instance: str) -> None:
        self._ctl("enable", "--quiet", instance)

    def stop_and_disable(self, instance: str) -> None:
        """Stop and disable the unit, if systemd knows it."""
        self._ctl("disable", "--now", "--quiet", instance, check=False)

    def reload_command(self, instance: str) -> list:
        return ["systemctl", "reload", instance]

    def reload(self, instance: str) -> None:
        commands.run(self.reload_command(instance), timeout=60)

    def describe_reload(self, instance: str) -> str:
        return " ".join(self.reload_command(instance))


class _UnixHTTPConnection(http.client.HTTPConnection):
    """HTTP over a unix socket: how supervisord serves XML-RPC to supervisorctl."""

    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


class _UnixTransport(xmlrpc.client.Transport):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__()
        self.path = path
        self.timeout = timeout

    def make_connection(self, host):
        return _UnixHTTPConnection(self.path, self.timeout)


def supervisord_pidfile(run_dir: str) -> str:
    """The pid file of the collection's private supervisord (its configuration puts it there)."""
    return os.path.join(run_dir, "supervisord.pid")


def supervisord_socket(conf: str) -> str | None:
    """The unix socket supervisorctl talks to, from supervisord's configuration (``[supervisorctl]
    serverurl``, else ``[unix_http_server] file``); None when the file does not say."""
    parser = configparser.RawConfigParser(inline_comment_prefixes=(";", "#"), strict=False)
    try:
        with open(conf, encoding="utf-8") as handle:
            parser.read_file(handle)
    except (OSError, configparser.Error):
        return None
    url = parser.get("supervisorctl", "serverurl", fallback="")
    if url.startswith("unix://"):
        return url[len("unix://"):]
    return parser.get("unix_http_server", "file", fallback=None)


class Supervisord:
    """Programs of the supervisord whose configuration is ``conf``, driven over its XML-RPC interface
    (the unix socket supervisorctl uses): no supervisorctl process per question."""

    name = SUPERVISORD
    TIMEOUT = 30.0

    def __init__(self, conf: str | None, program_dir: str = "/etc/supervisor/conf.d") -> None:
        self.conf = conf or "/etc/supervisor/supervisord.conf"
        self.program_dir = program_dir
        self._proxy = None

    def definition_path(self, instance: str) -> str:
        return os.path.join(self.program_dir, instance + ".conf")

    def ctl_command(self, *args: str) -> list:
        """The supervisorctl command that does the same by hand (for messages)."""
        return ["supervisorctl", "-c", self.conf] + list(args)

    def _rpc(self):
        if self._proxy is None:
            path = supervisord_socket(self.conf)
            if path is None:
                raise DaemonError("%s names no unix socket ([supervisorctl] serverurl=unix://...); the collection "
                                  "talks to supervisord through it" % self.conf)
            self._proxy = xmlrpc.client.ServerProxy("http://localhost", transport=_UnixTransport(path, self.TIMEOUT))
        return self._proxy.supervisor

    def _call(self, method: str, *args):
        try:
            return getattr(self._rpc(), method)(*args)
        except xmlrpc.client.Fault as exc:
            raise DaemonError("supervisord (%s) refused %s%r: %s"
                              % (self.conf, method, args, exc.faultString)) from None
        except (OSError, http.client.HTTPException) as exc:
            raise DaemonError("cannot reach supervisord (%s): %s" % (self.conf, exc)) from None

    def running(self) -> bool:
        """Whether supervisord answers."""
        try:
            self._call("getPID")
        except DaemonError:
            return False
        return True

    def pid(self, instance: str) -> int | None:
        """The pid of program ``instance``, None when it does not run (or supervisord does not know it)."""
        try:
            info = self._call("getProcessInfo", instance)
        except DaemonError:
            return None
        return info["pid"] or None

    def update(self, instance: str) -> None:
        """Make supervisord take the program's changed (or new, or removed) definition, as
        ``supervisorctl update <instance>`` does: it starts, restarts or stops the program as needed."""
        added, changed, removed = self._call("reloadConfig")[0]
        if instance in removed or instance in changed:
            self._call("stopProcessGroup", instance)
            self._call("removeProcessGroup", instance)
        if instance in added or instance in changed:
            self._call("addProcessGroup", instance)

    def start(self, instance: str) -> None:
        """Start the program and wait until it runs (one supervisord is starting already counts)."""
        try:
            self._call("startProcess", instance, True)
        except DaemonError as exc:
            if "ALREADY_STARTED" not in str(exc):
                raise

    def restart(self, instance: str) -> None:
        self.stop(instance)
        self.start(instance)

    def stop(self, instance: str) -> None:
        """Stop the program; a program that does not run, or that supervisord does not know, counts as stopped."""
        try:
            self._call("stopProcess", instance, True)
        except DaemonError as exc:
            if "NOT_RUNNING" not in str(exc) and "BAD_NAME" not in str(exc):
                raise

    def signal(self, instance: str, name: str = "HUP") -> None:
        self._call("signalProcess", instance, name)

    def shutdown(self) -> None:
        """Ask supervisord to stop with its programs. A second caller racing the first finds it
        shutting down or gone: callers wait for the pid file instead of trusting the answer."""
        with contextlib.suppress(DaemonError):
            self._call("shutdown")

    def reload_command(self, instance: str) -> list:
        return self.ctl_command("signal", "HUP", instance)

    def reload(self, instance: str) -> None:
        self.signal(instance, "HUP")

    def describe_reload(self, instance: str) -> str:
        return "SIGHUP through " + " ".join(self.reload_command(instance))


def manager(name: str, unit_dir: str = "/etc/systemd/system", supervisord_conf: str | None = None,
            program_dir: str = "/etc/supervisor/conf.d"):
    """The service manager object for ``name`` (already resolved: systemd or supervisord)."""
    if name == SYSTEMD:
        return Systemd(unit_dir)
    return Supervisord(supervisord_conf, program_dir)
