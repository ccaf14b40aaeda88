# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""What the daemons of one machine share, made ready once per machine: the logic of the ``machine``
module.

``converge`` holds the machine's lock for the whole step, so that several instances of one machine
that find it lacking at the same moment take turns: the first does the work, the others find it
done. In this order, so that nothing is created on a machine where the daemon cannot run:

1. the packages (installed with the machine's package manager), or the release archive (downloaded,
   its sha256 checked, unpacked);
2. the binaries, which must run;
3. the system group and user, the machine-wide directories;
4. the packages' own services stopped (they would listen next to the collection's instances): on
   systemd stopped and disabled; elsewhere stopped through their init script when a package's
   postinst started one; then, where systemd does not run, supervisord running (a private one
   configured first).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tarfile
import tempfile
import time

from ansible_collections.promfleet.federation.plugins.module_utils.errors import CommandError, ConfigError, DaemonError
from ansible_collections.promfleet.federation.plugins.module_utils.host import commands, definitions, files, service
from ansible_collections.promfleet.federation.plugins.module_utils.model import versions

# The options of the machine module, and of the daemon module's machine step.
_DIRECTORY = {
    "path": {"type": "path", "required": True},
    "owner": {"type": "str"},
    "group": {"type": "str"},
    "mode": {"type": "raw", "default": "0755"},
}
ARGUMENT_SPEC = {
    "packages": {"type": "list", "elements": "str", "default": []},
    "archive": {"type": "dict", "options": {
        "url": {"type": "str", "required": True},
        "checksum": {"type": "str", "required": True},
        "path": {"type": "path", "required": True},
        "unpack_dir": {"type": "path", "required": True},
        "hint": {"type": "str", "default": "the archive checksum"},
    }},
    "binaries": {"type": "list", "elements": "path", "default": []},
    "binaries_hint": {"type": "str", "default": "install them, or use another install method"},
    # The auto install method: these packages instead of the archive when the distribution's
    # candidates are of the release line ``line``; ``binaries`` maps the archive's paths to theirs.
    "package_choice": {"type": "dict", "options": {
        "packages": {"type": "list", "elements": "str", "required": True},
        "line": {"type": "str", "required": True},
        "binaries": {"type": "dict", "required": True},
    }},
    "user": {"type": "str", "required": True},
    "group": {"type": "str", "required": True},
    "directories": {"type": "list", "elements": "dict", "default": [], "options": _DIRECTORY},
    "service_manager": {"type": "str", "choices": list(service.MANAGERS), "default": "auto"},
    "disable_services": {"type": "list", "elements": "str", "default": []},
    "supervisord": {"type": "dict", "apply_defaults": True, "options": {
        "package": {"type": "str", "default": "supervisor"},
        "private": {"type": "bool", "default": False},
        "conf": {"type": "path", "default": "/etc/supervisor/supervisord.conf"},
        "log_dir": {"type": "path", "default": "/var/log/promfleet"},
        "program_dir": {"type": "path", "default": "/etc/supervisor/conf.d"},
        "run_dir": {"type": "path", "default": "/run/promfleet"},
    }},
    "lock": {"type": "path", "default": "/run/promfleet/machine.lock"},
}

SUPERVISORD_START_TIMEOUT = 20.0
INIT_D = "/etc/init.d"
DOWNLOAD_TIMEOUT = 60
PACKAGE_TIMEOUT = 900
# apt waits this long for another apt or dpkg to finish.
APT_LOCK_TIMEOUT = 300


def package_installed(name: str) -> bool | None:
    """Whether package ``name`` is installed (dpkg or rpm); None where neither tool exists."""
    if shutil.which("dpkg-query"):
        done = commands.run(["dpkg-query", "-W", "-f=${Status}", name], check=False)
        return done.ok and done.output.strip() == "install ok installed"
    if shutil.which("rpm"):
        return commands.run(["rpm", "-q", name], check=False).ok
    return None


def package_candidate(name: str) -> str | None:
    """The version apt would install for package ``name`` (installed or not), None without apt or
    without a candidate."""
    if not shutil.which("apt-cache"):
        return None
    done = commands.run(["apt-cache", "policy", name], check=False)
    for line in done.output.splitlines() if done.ok else []:
        key, _sep, value = line.strip().partition(":")
        if key == "Candidate":
            value = value.strip()
            return None if value in ("", "(none)") else value
    return None


def distribution_has_line(packages: list, line: str) -> bool:
    """Whether the distribution's candidate of every package is of release line ``line`` (``3.5``)."""
    for name in packages:
        candidate = package_candidate(name)
        if candidate is None:
            return False
        try:
            if versions.schema_of_release(candidate.split(":", 1)[-1]) != versions.schema_of_release(line):
                return False
        except ConfigError:
            return False
    return True


def init_script_runs(name: str) -> bool:
    """Whether the SysV init script ``/etc/init.d/<name>`` exists and says its service runs (``status``
    exits 0): what a package's postinst starts where systemd does not run."""
    script = os.path.join(INIT_D, name)
    return os.access(script, os.X_OK) and commands.run([script, "status"], timeout=30, check=False).ok


def stop_init_script(name: str) -> None:
    commands.run([os.path.join(INIT_D, name), "stop"], timeout=120)


def package_manager() -> str | None:
    """``apt-get``, ``dnf``, ``yum`` or ``zypper`` (the first found), None when there is none."""
    return next((tool for tool in ("apt-get", "dnf", "yum", "zypper") if shutil.which(tool)), None)


def _apt_has_candidates(packages: list) -> bool:
    done = commands.run(["apt-cache", "policy"] + packages, check=False)
    return done.ok and "Candidate: (none)" not in done.output and done.output.count("Candidate:") == len(packages)


def install_packages(packages: list) -> None:
    """Install ``packages`` with the machine's package manager (apt without recommends, its package
    lists refreshed when they do not know a package, as on a fresh install)."""
    manager = package_manager()
    if manager is None:
        raise DaemonError("packages %s are missing and this machine has no apt-get, dnf, yum or zypper to install them"
                          % ", ".join(packages))
    if manager == "apt-get":
        environment = {"DEBIAN_FRONTEND": "noninteractive"}
        if not _apt_has_candidates(packages):
            commands.run(["apt-get", "-o", "DPkg::Lock::Timeout=%d" % APT_LOCK_TIMEOUT, "update"],
                         timeout=PACKAGE_TIMEOUT, env=environment)
        commands.run(["apt-get", "-o", "DPkg::Lock::Timeout=%d" % APT_LOCK_TIMEOUT, "-o",
                      "Dpkg::Options::=--force-confold", "install", "-y", "--no-install-recommends"] + packages,
                     timeout=PACKAGE_TIMEOUT, env=environment)
    elif manager == "zypper":
        commands.run(["zypper", "--non-interactive", "install"] + packages, timeout=PACKAGE_TIMEOUT)
    else:
        commands.run([manager, "install", "-y"] + packages, timeout=PACKAGE_TIMEOUT)


def binary_runs(path: str) -> bool:
    """Whether ``path`` exists and ``<path> --version`` succeeds."""
    if not os.access(path, os.X_OK):
        return False
    try:
        return commands.run([path, "--version"], timeout=30, check=False).ok
    except CommandError:
        return False


def sha256_of(path: str) -> str | None:
    """``sha256:<hex>`` of the file ``path``, None when it does not exist."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    except FileNotFoundError:
        return None
    return "sha256:" + digest.hexdigest()


def _checksum_list(checksum: str) -> str | None:
    """The URL of ``sha256:<URL>`` (a release's ``sha256sums.txt``), None for ``sha256:<hex>``."""
    rest = checksum[len("sha256:"):] if checksum.lower().startswith("sha256:") else ""
    return rest if re.match(r"^(https?|file)://", rest) else None


def _fetch(url: str) -> bytes:
    from ansible.module_utils.urls import open_url

    try:
        return open_url(url, timeout=DOWNLOAD_TIMEOUT, http_agent="promfleet.federation").read()
    except Exception as exc:  # noqa: BLE001 - urllib raises many types; the message names the URL
        raise DaemonError("cannot download %s: %s" % (url, exc)) from None


def expected_checksum(spec: dict) -> str:
    """``sha256:<hex>`` the archive must have: given, or read from the checksum list ``sha256:<URL>``
    names (the line of the archive's file name). A list once read is remembered next to the archive
    (``<archive>.sha256``), so a converged machine does not fetch it again."""
    source = _checksum_list(spec["checksum"])
    if source is None:
        return spec["checksum"]
    remembered = spec["path"] + ".sha256"
    try:
        with open(remembered, encoding="utf-8") as handle:
            known_source, known = handle.read().split()
        if known_source == source:
            return known
    except (OSError, ValueError):
        pass
    name = spec["url"].rstrip("/").rsplit("/", 1)[-1]
    for line in _fetch(source).decode("utf-8", "replace").splitlines():
        fields = line.split()
        if len(fields) == 2 and fields[1].lstrip("*") == name and re.match(r"^[0-9a-fA-F]{64}$", fields[0]):
            return "sha256:" + fields[0].lower()
    raise DaemonError("the checksum list %s has no line for %s; set %s to sha256:<64 hex digits> of the archive"
                      % (source, name, spec["hint"]))


def _remember_checksum(spec: dict, checksum: str) -> None:
    source = _checksum_list(spec["checksum"])
    if source is not None:
        files.atomic_write(spec["path"] + ".sha256", ("%s %s\n" % (source, checksum)).encode(),
                           files.resolve_attributes(None, None, "0644"))


def _download(url: str, path: str, checksum: str, hint: str) -> None:
    """Download ``url`` to ``path`` (atomically) when its sha256 is ``checksum``; DaemonError naming
    both checksums otherwise, and nothing is kept."""
    # Imported here: it loads TLS libraries that a run which downloads nothing does not need.
    from ansible.module_utils.urls import open_url

    digest = hashlib.sha256()
    directory = os.path.dirname(path)
    fd, temp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            try:
                response = open_url(url, timeout=DOWNLOAD_TIMEOUT, http_agent="promfleet.federation")
                for chunk in iter(lambda: response.read(1 << 20), b""):
                    digest.update(chunk)
                    handle.write(chunk)
            except Exception as exc:  # noqa: BLE001 - urllib raises many types; the message names the URL
                raise DaemonError("cannot download %s: %s" % (url, exc)) from None
            os.fchmod(handle.fileno(), 0o644)
        actual = "sha256:" + digest.hexdigest()
        if actual.lower() != checksum.lower():
            raise DaemonError("the archive downloaded from %s has the checksum %s, not the checksum %s that %s "
                              "gives; nothing was installed" % (url, actual, checksum, hint))
        files.install(temp, path)
    finally:
        files.remove(temp)


def _unpack(archive: str, directory: str) -> None:
    """Unpack ``archive`` without its top directory into ``directory``, replacing it whole."""
    parent = os.path.dirname(directory)
    staging = tempfile.mkdtemp(prefix="." + os.path.basename(directory) + ".", dir=parent)
    try:
        with tarfile.open(archive) as tar:
            for member in tar.getmembers():
                parts = member.name.split("/", 1)
                if len(parts) < 2 or not parts[1] or parts[1].startswith("/") or ".." in parts[1].split("/"):
                    continue
                if not (member.isfile() or member.isdir()):
                    continue
                member.name = parts[1]
                tar.extract(member, staging)
        os.chmod(staging, 0o755)
        if os.path.isdir(directory):
            shutil.rmtree(directory)
        os.rename(staging, directory)
        files.fsync_dir(parent)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _missing_parents(paths: list) -> list:
    """The directories above ``paths`` that do not exist yet, outermost first (root, 0755), so that a
    fresh machine gets e.g. /etc/promfleet before /etc/promfleet/supervisor."""
    missing: list = []
    for path in paths:
        parent = os.path.dirname(os.path.abspath(path))
        chain = []
        while parent and not os.path.isdir(parent) and parent not in missing:
            chain.append(parent)
            parent = os.path.dirname(parent)
        missing.extend(reversed(chain))
    return [{"path": path, "mode": "0755"} for path in missing if path not in paths]


def _group_exists(group: str) -> bool:
    return files.group_id(group, missing_ok=True) is not None


def _user_exists(user: str) -> bool:
    return files.user_id(user, missing_ok=True) is not None


class Machine:
    """One run of ``converge``: ``done`` says what was done (in check mode, what would be)."""

    def __init__(self, params: dict, check_mode: bool) -> None:
        self.params = params
        self.check_mode = check_mode
        self.manager = service.resolve(params["service_manager"])
        self.done: list = []
        self.diffs: list = []

    def act(self, what: str, action, *args) -> None:
        self.done.append(what)
        if not self.check_mode:
            action(*args)

    def packages(self) -> bool:
        """Install what is missing; whether the binaries may be missing because check mode did not."""
        wanted = list(self.params["packages"])
        supervisord = self.params["supervisord"]
        if self.manager == service.SUPERVISORD and not shutil.which("supervisord"):
            wanted.append(supervisord["package"])
        missing = [name for name in wanted if package_installed(name) is not True or
                   (name == supervisord["package"] and not shutil.which("supervisord"))]
        missing = sorted(set(missing), key=missing.index)
        if missing:
            self.act("installed the packages %s" % ", ".join(missing), install_packages, missing)
        return bool(missing) and self.check_mode

    def archive(self) -> bool:
        """Download and unpack the release archive when it is missing, has another checksum, or its
        binaries are gone; whether check mode left that undone."""
        spec = self.params["archive"]
        if not spec:
            return False
        checksum = expected_checksum(spec)
        stale = (sha256_of(spec["path"]) or "").lower() != checksum.lower()
        broken = not all(os.access(binary, os.X_OK) for binary in self.params["binaries"])
        if not stale and not broken:
            return False
        for directory in (os.path.dirname(spec["path"]), os.path.dirname(spec["unpack_dir"])):
            if not os.path.isdir(directory):
                self.act("created %s" % directory, os.makedirs, directory, 0o755)
        if stale:
            self.act("downloaded %s (%s)" % (spec["url"], checksum), _download, spec["url"], spec["path"],
                     checksum, spec["hint"])
            self.act("remembered the checksum of %s" % spec["path"], _remember_checksum, spec, checksum)
        self.act("unpacked %s into %s" % (spec["path"], spec["unpack_dir"]), _unpack, spec["path"], spec["unpack_dir"])
        return self.check_mode

    def binaries(self) -> None:
        broken = [binary for binary in self.params["binaries"] if not binary_runs(binary)]
        if broken:
            raise DaemonError("%s cannot be run; %s" % (" and ".join(broken), self.params["binaries_hint"]))

    def account(self) -> None:
        group, user = self.params["group"], self.params["user"]
        if not _group_exists(group):
            self.act("created the system group %s" % group, commands.run, ["groupadd", "--system", group])
        if not _user_exists(user):
            self.act("created the system user %s" % user, commands.run,
                     ["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
                      "--shell", "/usr/sbin/nologin", "--gid", group, user])

    def directories(self, directories: list) -> None:
        for spec in directories:
            attributes = files.resolve_attributes(spec.get("owner"), spec.get("group"), spec.get("mode") or "0755",
                                                  missing_ok=self.check_mode)
            why = files.directory_changes(spec["path"], attributes)
            if why == "create":
                self.diffs.append(files.directory_diff(spec["path"]))
            if why:
                self.act("%s %s" % ("created" if why == "create" else "set the owner and mode of", spec["path"]),
                         files.converge_directory, spec["path"], attributes)

    def package_services(self) -> None:
        """Stop the services the packages brought (they would listen next to ours): on systemd, stop
        and disable their units; elsewhere, stop those their init scripts run (a postinst starts
        them where no policy-rc.d forbids it)."""
        if self.manager != service.SYSTEMD:
            for name in self.params["disable_services"]:
                if init_script_runs(name):
                    self.act("stopped the package's service %s (%s/%s stop)" % (name, INIT_D, name),
                             stop_init_script, name)
            return
        systemd = service.Systemd()
        for unit in self.params["disable_services"]:
            if systemd.is_active(unit) or systemd.is_enabled(unit):
                self.act("stopped and disabled the package's service %s" % unit, systemd.stop_and_disable, unit)

    def supervisord(self) -> None:
        """supervisord running; a private one also gets its directories and configuration first."""
        spec = self.params["supervisord"]
        if spec["private"]:
            own = [{"path": os.path.dirname(spec["conf"]), "mode": "0750"},
                   {"path": spec["program_dir"], "mode": "0750"},
                   {"path": spec["run_dir"], "mode": "0755"}]
            self.directories(_missing_parents([d["path"] for d in own]) + own)
            data = definitions.supervisord_conf(spec["run_dir"], spec["log_dir"], spec["program_dir"]).encode("utf-8")
            attributes = files.FileAttributes(0, 0, 0o640)
            why = files.needs_write(spec["conf"], data, attributes)
            if why == "content":
                self.diffs.append(files.file_diff(spec["conf"], data.decode("utf-8")))
            if why:
                self.act("wrote %s" % spec["conf"], files.converge_file, spec["conf"], data, attributes)
        supervisord = service.Supervisord(spec["conf"], spec["program_dir"])
        if supervisord.running():
            return
        self.act("started supervisord -c %s" % spec["conf"], self._start_supervisord, supervisord)

    @staticmethod
    def _start_supervisord(supervisord: service.Supervisord) -> None:
        commands.run(["supervisord", "-c", supervisord.conf])
        deadline = time.monotonic() + SUPERVISORD_START_TIMEOUT
        while not supervisord.running():
            if time.monotonic() > deadline:
                raise DaemonError("supervisord -c %s started but does not answer after %d s; see its log"
                                  % (supervisord.conf, SUPERVISORD_START_TIMEOUT))
            time.sleep(0.2)

    def run(self) -> dict:
        pending = self.packages()
        pending = self.archive() or pending
        if not pending:
            self.binaries()  # in check mode, binaries that packages or the archive would bring may be missing
        self.account()
        self.directories(self.params["directories"])
        self.package_services()
        if self.manager != service.SYSTEMD:
            self.supervisord()
        return {"changed": bool(self.done), "service_manager": self.manager, "done": self.done, "diff": self.diffs,
                "msg": "; ".join(self.done) if self.done else "the machine has everything its daemons need"}


def choose_packages(params: dict) -> dict:
    """The auto install method (``package_choice``): when the distribution's packages are of the
    release line, take them instead of the archive (``params`` changed in place); the archive's
    binary paths mapped to the packages' then, else an empty mapping."""
    choice = params.get("package_choice")
    if not choice or not distribution_has_line(choice["packages"], choice["line"]):
        return {}
    paths = dict(choice["binaries"])
    params["binaries"] = [paths.get(binary, binary) for binary in params.get("binaries") or []]
    params["packages"] = list(choice["packages"])
    params["archive"] = None
    params["package_choice"] = None
    return paths


def converge(params: dict, check_mode: bool = False) -> dict:
    """Make the machine ready for its daemons (see the module docstring); the module's result."""
    choose_packages(params)
    machine = Machine(params, check_mode)
    if check_mode:
        return machine.run()
    with files.locked(params["lock"]):
        return machine.run()
