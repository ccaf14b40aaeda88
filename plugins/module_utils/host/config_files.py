# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""Writing prometheus.yml and its rule files safely: the logic of the ``prometheus_config`` module.

The flow is ``plan`` (engine validation with ``promconfig.normalize_config``, deterministic YAML,
what is on disk now), then either ``check`` (check mode: promtool on a copy staged in a temporary
directory elsewhere, nothing at the destination touched) or ``apply``:

1. every file is written to a temporary file in its final directory (``.<name>.<random>.tmp``,
   a name the ``*.yml`` glob of Prometheus does not load), with its final owner and mode, fsynced;
2. ``promtool check config`` runs on a validation copy of the new config whose ``rule_files``
   name the staged rule files instead of ``<rules_dir>/*.yml``: promtool checks exactly the bytes
   that will be installed;
3. the prometheus.yml that is installed now is copied to ``<path>.last-good``, and the rule files
   installed now to ``<path>.last-good-rules.json``, when they still pass validation (engine, and
   promtool on the config with those rule files): ``restore_last_good`` puts both back;
4. rule files, then prometheus.yml, are moved into place with ``os.replace`` and their directory
   is fsynced; rule files no longer listed are removed.

A destination is only ever replaced by a rename, never written in place, so a process killed at
any moment leaves the old or the new file, never a part of one. Files whose bytes and attributes
are already right are not touched at all (their mtime stays).
"""

from __future__ import annotations

import contextlib
import grp
import hashlib
import json
import os
import pwd
import re
import shutil
import subprocess
import tempfile
import traceback

try:
    import yaml
except ImportError:  # the module reports it with missing_required_lib
    yaml = None
    YAML_IMPORT_ERROR = traceback.format_exc()
else:
    YAML_IMPORT_ERROR = None

from ansible_collections.promfleet.federation.plugins.module_utils.promconfig import (
    DEFAULT_VERSION,
    ConfigError,
    normalize_config,
    redact,
)

DEFAULT_MODE = 0o640
LAST_GOOD_SUFFIX = ".last-good"
# One JSON file {"rules_dir": ..., "files": {name: text}}: a single rename keeps it whole.
LAST_GOOD_RULES_SUFFIX = ".last-good-rules.json"
RULES_GLOB = "*.yml"
PROMTOOL_TIMEOUT = 120
# Plain file names that the `<rules_dir>/*.yml` glob of the config loads.
RULE_FILE_NAME = re.compile(r"^[A-Za-z0-9_.-]+\.yml$")
REDACTED_CHANGE = "a redacted value changed"


class ConfigFileError(Exception):
    """The files could not be validated or written; the message says which file and why."""


class PromtoolError(ConfigFileError):
    """``promtool check config`` refused the new files; the message carries promtool's output."""


class FileAttributes:
    """Owner, group and mode of a file: uid/gid ``None`` keep what the file has (or the process')."""

    __slots__ = ("uid", "gid", "mode")

    def __init__(self, uid: int | None = None, gid: int | None = None, mode: int = DEFAULT_MODE) -> None:
        self.uid = uid
        self.gid = gid
        self.mode = mode

    def matches(self, path: str) -> bool:
        """Whether the existing file ``path`` already has these attributes."""
        st = os.stat(path)
        return (
            (self.uid is None or st.st_uid == self.uid)
            and (self.gid is None or st.st_gid == self.gid)
            and (st.st_mode & 0o7777) == self.mode
        )


class Plan:
    """What ``apply`` would write: rendered bytes of every managed file, and what is there now."""

    def __init__(
        self,
        path: str,
        rules_dir: str | None,
        config: dict,
        normalized: dict,
        config_bytes: bytes,
        rule_bytes: dict,
        current_config: bytes | None,
        current_rules: dict,
        attributes: FileAttributes,
    ) -> None:
        self.path = path
        self.rules_dir = rules_dir
        self.config = config
        self.normalized = normalized
        self.config_bytes = config_bytes
        self.rule_bytes = rule_bytes
        self.current_config = current_config
        self.current_rules = current_rules
        self.attributes = attributes

    @property
    def checksum(self) -> str:
        """sha256 of the new prometheus.yml."""
        return hashlib.sha256(self.config_bytes).hexdigest()

    @property
    def last_good_path(self) -> str:
        return self.path + LAST_GOOD_SUFFIX

    @property
    def last_good_rules_path(self) -> str:
        return self.path + LAST_GOOD_RULES_SUFFIX

    def rule_path(self, name: str) -> str:
        return os.path.join(self.rules_dir or "", name)

    @property
    def rule_paths(self) -> list:
        """Final paths of the managed rule files, sorted by name."""
        return [self.rule_path(name) for name in sorted(self.rule_bytes)]

    @property
    def stale_rules(self) -> list:
        """Names of ``*.yml`` files in ``rules_dir`` that are no longer listed."""
        return sorted(name for name in self.current_rules if name not in self.rule_bytes)

    @property
    def config_changed(self) -> bool:
        return self.current_config != self.config_bytes

    @property
    def changed_rules(self) -> list:
        """Names of listed rule files that are missing or have other bytes."""
        return sorted(name for name, data in self.rule_bytes.items() if self.current_rules.get(name) != data)

    @property
    def content_changed(self) -> bool:
        return self.config_changed or bool(self.changed_rules) or bool(self.stale_rules)

    def attributes_changed(self) -> list:
        """Existing files (with unchanged bytes) whose owner, group or mode differ from the wanted ones."""
        paths = [] if self.config_changed else [self.path]
        paths += [self.rule_path(name) for name in sorted(self.rule_bytes) if name not in self.changed_rules]
        return [p for p in paths if not self.attributes.matches(p)]

    @property
    def changed(self) -> bool:
        return self.content_changed or bool(self.attributes_changed())


def render(document: dict) -> bytes:
    """Deterministic YAML: block style, keys in the given order, unicode kept, UTF-8."""
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, default_flow_style=False).encode("utf-8")


def parse_mode(mode) -> int:
    """An octal mode given as a string (``"0640"``) or as the int YAML makes of ``0640``."""
    if isinstance(mode, int) and not isinstance(mode, bool):
        value = mode
    elif isinstance(mode, str) and re.match(r"^0?[0-7]{3,4}$", mode):
        value = int(mode, 8)
    else:
        raise ConfigFileError("mode must be an octal number such as '0640' (got %r)" % (mode,))
    if not 0 <= value <= 0o7777:
        raise ConfigFileError("mode must be between 0000 and 7777 in octal (got %o)" % value)
    return value


def resolve_attributes(owner: str | None, group: str | None, mode) -> FileAttributes:
    """Owner and group names (or numeric ids) looked up on this machine, the mode parsed."""
    uid = gid = None
    if owner is not None:
        try:
            uid = int(owner) if owner.isdigit() else pwd.getpwnam(owner).pw_uid
        except KeyError:
            raise ConfigFileError("owner %r: no such user on this machine" % owner) from None
    if group is not None:
        try:
            gid = int(group) if group.isdigit() else grp.getgrnam(group).gr_gid
        except KeyError:
            raise ConfigFileError("group %r: no such group on this machine" % group) from None
    return FileAttributes(uid, gid, parse_mode(mode))


def default_rules_dir(path: str) -> str:
    """``<dirname(path)>/rules``."""
    return os.path.join(os.path.dirname(os.path.abspath(path)), "rules")


def rules_glob(rules_dir: str) -> str:
    """The ``rule_files`` entry that loads every managed rule file."""
    return os.path.join(rules_dir, RULES_GLOB)


def _same_entry(entry, config_dir: str, wanted: str) -> bool:
    return isinstance(entry, str) and os.path.normpath(os.path.join(config_dir, entry)) == os.path.normpath(wanted)


def with_rules_glob(config: dict, path: str, rules_dir: str) -> dict:
    """``config`` with ``<rules_dir>/*.yml`` appended to its ``rule_files`` unless an entry names it."""
    wanted = rules_glob(rules_dir)
    entries = config.get("rule_files") or []
    if not isinstance(entries, list):
        return config  # not a list: the engine says what is wrong with it
    if any(_same_entry(entry, os.path.dirname(path), wanted) for entry in entries):
        return config
    result = dict(config)
    result["rule_files"] = list(entries) + [wanted]
    return result


def _check_rule_files(rule_files: dict) -> None:
    for name, content in rule_files.items():
        if not RULE_FILE_NAME.match(name):
            raise ConfigFileError(
                "rule_files: %r is not a plain file name ending in .yml (letters, digits, '_', '.', '-'); "
                "Prometheus loads <rules_dir>/*.yml" % name
            )
        if not isinstance(content, dict):
            raise ConfigFileError(
                "rule_files[%r]: the content must be a mapping like {groups: [...]}, got %s"
                % (name, type(content).__name__)
            )


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def _current_rules(rules_dir: str) -> dict:
    """Bytes of the ``*.yml`` files in ``rules_dir`` (those the glob loads), by name."""
    if not os.path.isdir(rules_dir):
        return {}
    found = {}
    for name in sorted(os.listdir(rules_dir)):
        full = os.path.join(rules_dir, name)
        if name.endswith(".yml") and os.path.isfile(full):
            found[name] = _read(full)
    return found


def plan(
    path: str,
    config: dict,
    rule_files: dict | None = None,
    rules_dir: str | None = None,
    attributes: FileAttributes | None = None,
    version: str = DEFAULT_VERSION,
) -> Plan:
    """Validate ``config`` with the engine and render every file; reads the destination, writes nothing.

    With ``rule_files`` (even empty) the module manages ``rules_dir`` (default
    ``<dirname(path)>/rules``): the ``*.yml`` files there become exactly ``rule_files``, and
    ``<rules_dir>/*.yml`` is appended to the config's ``rule_files`` when no entry names it.
    Raises ``promconfig.ConfigError`` (the engine's message) or ``ConfigFileError``.
    """
    path = os.path.abspath(path)
    if os.path.isdir(path):
        raise ConfigFileError("path %s is a directory; it must name the prometheus.yml to write" % path)
    if not os.path.isdir(os.path.dirname(path)):
        raise ConfigFileError("the directory of path %s does not exist" % path)
    if rule_files is not None:
        _check_rule_files(rule_files)
        rules_dir = os.path.abspath(rules_dir) if rules_dir else default_rules_dir(path)
        config = with_rules_glob(config, path, rules_dir)
    else:
        rules_dir = None
    normalized = normalize_config(config, version)
    return Plan(
        path=path,
        rules_dir=rules_dir,
        config=config,
        normalized=normalized,
        config_bytes=render(config),
        rule_bytes={name: render(content) for name, content in (rule_files or {}).items()},
        current_config=_read(path),
        current_rules=_current_rules(rules_dir) if rules_dir else {},
        attributes=attributes or FileAttributes(),
    )


# --- diff -----------------------------------------------------------------------------------------


def _redacted_text(data: bytes | None) -> str:
    """prometheus.yml bytes as YAML with every secret replaced by ``<redacted>``."""
    if data is None:
        return ""
    try:
        document = yaml.safe_load(data)
    except yaml.YAMLError:
        return "# the file is not valid YAML; its text is not shown (it may hold secrets)\n"
    if document is None:
        return ""
    if not isinstance(document, dict):
        return "# the file is not a YAML mapping; its text is not shown (it may hold secrets)\n"
    return render(redact(document)).decode("utf-8")


def _text(data: bytes | None) -> str:
    return "" if data is None else data.decode("utf-8", errors="replace")


def diff(plan_: Plan) -> list:
    """Ansible diffs (before/after) of prometheus.yml and of every rule file that changes.

    prometheus.yml is shown through ``promconfig.redact`` on both sides, so secrets never appear;
    when only a redacted value changed, the after header says so.
    """
    result = []
    if plan_.config_changed:
        before = _redacted_text(plan_.current_config)
        after = _redacted_text(plan_.config_bytes)
        header = plan_.path + " (secrets redacted)"
        result.append({
            "before_header": header,
            "after_header": header + ("; " + REDACTED_CHANGE if before == after else ""),
            "before": before,
            "after": after,
        })
    for name in plan_.changed_rules + plan_.stale_rules:
        rule_path = plan_.rule_path(name)
        result.append({
            "before_header": rule_path,
            "after_header": rule_path,
            "before": _text(plan_.current_rules.get(name)),
            "after": _text(plan_.rule_bytes.get(name)),
        })
    return result


# --- files ----------------------------------------------------------------------------------------


def _fsync_dir(directory: str) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _owner_of(path: str, attributes: FileAttributes) -> tuple:
    """uid and gid for a new version of ``path``: the wanted ones, else those of the file it replaces."""
    uid, gid = attributes.uid, attributes.gid
    if uid is None or gid is None:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return (-1 if uid is None else uid), (-1 if gid is None else gid)
        uid = st.st_uid if uid is None else uid
        gid = st.st_gid if gid is None else gid
    return uid, gid


def write_temp(final_path: str, data: bytes, attributes: FileAttributes, directory: str | None = None) -> str:
    """Write ``data`` to a new temporary file next to ``final_path`` (or in ``directory``), with the
    attributes ``final_path`` will have, fsynced; returns its path."""
    directory = directory or os.path.dirname(final_path)
    fd, temp = tempfile.mkstemp(prefix="." + os.path.basename(final_path) + ".", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            uid, gid = _owner_of(final_path, attributes)
            if (uid, gid) != (-1, -1):
                os.fchown(handle.fileno(), uid, gid)
            os.fchmod(handle.fileno(), attributes.mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        _remove(temp)
        raise
    return temp


def remove_leftover_temps(final_path: str) -> list:
    """Remove the temporary files of ``final_path`` that an interrupted run left behind (the names
    ``write_temp`` gives); returns their paths."""
    directory, name = os.path.split(final_path)
    if not os.path.isdir(directory):
        return []
    prefix = "." + name + "."
    found = [os.path.join(directory, entry) for entry in sorted(os.listdir(directory))
             if entry.startswith(prefix) and entry.endswith(".tmp")]
    for path in found:
        _remove(path)
    return found


def install(temp: str, final_path: str) -> None:
    """Move ``temp`` over ``final_path`` atomically (same directory) and make the rename durable."""
    os.replace(temp, final_path)
    _fsync_dir(os.path.dirname(final_path))


def _remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.remove(path)


def _set_attributes(path: str, attributes: FileAttributes) -> None:
    uid, gid = _owner_of(path, attributes)
    if (uid, gid) != (-1, -1):
        os.chown(path, uid, gid)
    os.chmod(path, attributes.mode)


def _dir_mode(mode: int) -> int:
    """A directory mode for file mode ``mode``: search permission wherever read is granted."""
    return mode | ((mode & 0o444) >> 2)


# --- promtool -------------------------------------------------------------------------------------


def find_promtool(promtool: str | None, policy: str) -> str | None:
    """The promtool to run, or None when validation with promtool is skipped.

    ``policy`` is ``auto`` (run it when it exists), ``always`` (fail without it) or ``never``.
    """
    if policy == "never":
        return None
    found = shutil.which(promtool or "promtool")
    if found is None and policy == "always":
        raise ConfigFileError(
            "validate_with_promtool=always but promtool %s was not found (set promtool to its path)"
            % ("at " + promtool if promtool else "on PATH")
        )
    return found


def run_promtool(promtool: str, config_path: str) -> tuple:
    """``promtool check config config_path``: (passed, stdout and stderr)."""
    try:
        done = subprocess.run(
            [promtool, "check", "config", config_path],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=PROMTOOL_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return False, "promtool check config did not finish within %d s" % PROMTOOL_TIMEOUT
    return done.returncode == 0, done.stdout.decode("utf-8", errors="replace")


def validation_copy(plan_: Plan, staged_rules: dict) -> bytes:
    """The new config for promtool: the ``<rules_dir>/*.yml`` entry replaced by the staged rule files
    (``staged_rules``: name -> path), other relative ``rule_files`` made absolute against the
    directory of ``path``, everything else byte for byte as it will be installed."""
    config = dict(plan_.config)
    entries = config.get("rule_files")
    if isinstance(entries, list):
        config_dir = os.path.dirname(plan_.path)
        rewritten = []
        for entry in entries:
            if plan_.rules_dir and _same_entry(entry, config_dir, rules_glob(plan_.rules_dir)):
                rewritten += [staged_rules[name] for name in sorted(staged_rules)]
            elif isinstance(entry, str):
                rewritten.append(os.path.join(config_dir, entry))
            else:
                rewritten.append(entry)
        config["rule_files"] = rewritten
    return render(config)


def _promtool_failure(output: str, renames: dict) -> PromtoolError:
    """promtool's output with staged file names replaced by the final ones."""
    for staged, final in sorted(renames.items(), key=lambda item: -len(item[0])):
        output = output.replace(staged, final)
    return PromtoolError("promtool check config refused the new configuration; nothing was changed:\n%s"
                         % output.strip())


def _validate_staged(plan_: Plan, promtool: str, staged_rules: dict, directory: str, renames: dict) -> None:
    """Run promtool on a validation copy written to ``directory``; raise PromtoolError when it fails."""
    private = FileAttributes(os.getuid(), os.getgid(), 0o600)  # it holds the secrets too
    check_path = write_temp(plan_.path, validation_copy(plan_, staged_rules), private, directory)
    renames = dict(renames)
    renames[check_path] = plan_.path
    try:
        passed, output = run_promtool(promtool, check_path)
    finally:
        _remove(check_path)
    if not passed:
        raise _promtool_failure(output, renames)


def is_good(path: str, promtool: str | None, version: str = DEFAULT_VERSION) -> bool:
    """Whether the installed ``path`` passes the engine and (when given) promtool, with the rule
    files installed now: only such a file is kept as ``<path>.last-good``."""
    data = _read(path)
    if data is None:
        return False
    try:
        document = yaml.safe_load(data)
        if not isinstance(document, dict):
            return False
        normalize_config(document, version)
    except (yaml.YAMLError, ConfigError):
        return False
    return promtool is None or run_promtool(promtool, path)[0]


# --- check and apply ------------------------------------------------------------------------------


def check(plan_: Plan, promtool: str | None) -> None:
    """Check mode: promtool on the new files staged in a temporary directory away from the
    destination; nothing at the destination is created, changed or removed."""
    if promtool is None or not plan_.content_changed:
        return
    staging = tempfile.mkdtemp(prefix="prometheus_config-check-")
    try:
        staged_rules = {}
        renames = {}
        for name, data in plan_.rule_bytes.items():
            staged = os.path.join(staging, name)
            with open(staged, "wb") as handle:
                handle.write(data)
            staged_rules[name] = staged
            renames[staged] = plan_.rule_path(name)
        _validate_staged(plan_, promtool, staged_rules, staging, renames)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def apply(plan_: Plan, promtool: str | None, version: str = DEFAULT_VERSION) -> bool:
    """Write what ``plan_`` says (see the module docstring for the steps); returns whether
    anything changed. Raises PromtoolError, leaving every destination file as it was."""
    if not plan_.changed:
        return False
    if not plan_.content_changed:
        for path in plan_.attributes_changed():
            _set_attributes(path, plan_.attributes)
        return True

    # A run killed between writing and renaming leaves its temporary files: not loaded by
    # Prometheus, but clutter that this run clears.
    for path in [plan_.path, plan_.last_good_path, plan_.last_good_rules_path] + plan_.rule_paths:
        remove_leftover_temps(path)
    temps = []  # staged files not installed yet: removed whatever happens
    created_dir = None  # a rules_dir made for this run: removed again when validation fails
    try:
        staged_rules = {}
        renames = {}
        if plan_.rules_dir is not None:
            if not os.path.isdir(plan_.rules_dir):
                dir_attributes = FileAttributes(plan_.attributes.uid, plan_.attributes.gid,
                                                _dir_mode(plan_.attributes.mode))
                os.mkdir(plan_.rules_dir, dir_attributes.mode)
                created_dir = plan_.rules_dir
                _set_attributes(plan_.rules_dir, dir_attributes)
            for name in plan_.changed_rules:
                temp = write_temp(plan_.rule_path(name), plan_.rule_bytes[name], plan_.attributes)
                temps.append(temp)
                staged_rules[name] = temp
                renames[temp] = plan_.rule_path(name)
            for name in plan_.rule_bytes:
                staged_rules.setdefault(name, plan_.rule_path(name))
        config_temp = None
        if plan_.config_changed:
            config_temp = write_temp(plan_.path, plan_.config_bytes, plan_.attributes)
            temps.append(config_temp)
        if promtool is not None:
            _validate_staged(plan_, promtool, staged_rules, os.path.dirname(plan_.path), renames)
        if created_dir is not None:
            _fsync_dir(os.path.dirname(created_dir))
            created_dir = None

        _keep_last_good(plan_, promtool, version)

        for name in plan_.changed_rules:
            install(staged_rules[name], plan_.rule_path(name))
            temps.remove(staged_rules[name])
        for name in plan_.stale_rules:
            os.remove(plan_.rule_path(name))
        if plan_.stale_rules:
            _fsync_dir(plan_.rules_dir)
        if config_temp is not None:
            install(config_temp, plan_.path)
            temps.remove(config_temp)
        for path in plan_.attributes_changed():
            _set_attributes(path, plan_.attributes)
    finally:
        for temp in temps:
            _remove(temp)
        if created_dir is not None:
            os.rmdir(created_dir)
    return True


def rules_snapshot(rules_dir: str, rules: dict) -> bytes:
    """The last-good-rules document for ``rules`` (name -> bytes) of ``rules_dir``."""
    files = {name: data.decode("utf-8", errors="surrogateescape") for name, data in rules.items()}
    return json.dumps({"rules_dir": rules_dir, "files": files}, sort_keys=True, indent=1).encode("ascii")


def _install_copy(path: str, data: bytes, attributes: FileAttributes) -> None:
    """Write ``data`` to ``path`` atomically (temp file in its directory, then a rename)."""
    temp = write_temp(path, data, attributes)
    try:
        install(temp, path)
    finally:
        _remove(temp)


def _keep_last_good(plan_: Plan, promtool: str | None, version: str) -> None:
    """Copy the installed prometheus.yml to ``<path>.last-good`` and the installed rule files to
    ``<path>.last-good-rules.json`` (atomically, with the config's owner and mode) when they pass
    validation together and differ from the copies kept."""
    current = plan_.current_config
    if current is None:
        return
    config_kept = current == _read(plan_.last_good_path)
    snapshot = None if plan_.rules_dir is None else rules_snapshot(plan_.rules_dir, plan_.current_rules)
    rules_kept = snapshot is None or snapshot == _read(plan_.last_good_rules_path)
    if (config_kept and rules_kept) or not is_good(plan_.path, promtool, version):
        return
    st = os.stat(plan_.path)
    attributes = FileAttributes(st.st_uid, st.st_gid, st.st_mode & 0o7777)
    # Rules first: a crash in between leaves new rules with the older config copy, which the
    # next run (the installed files are unchanged) completes.
    if not rules_kept:
        _install_copy(plan_.last_good_rules_path, snapshot, attributes)
    if not config_kept:
        _install_copy(plan_.last_good_path, current, attributes)


def _restore_rules(config_path: str, attributes: FileAttributes) -> list:
    """Make the ``*.yml`` files of the kept rules_dir exactly the kept ones; returns the paths
    written or removed."""
    data = _read(config_path + LAST_GOOD_RULES_SUFFIX)
    if data is None:
        return []
    try:
        snapshot = json.loads(data.decode("ascii"))
        rules_dir = snapshot["rules_dir"]
        wanted = {name: text.encode("utf-8", errors="surrogateescape") for name, text in snapshot["files"].items()}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigFileError("%s%s is not a last-good rules file (%s); it was not restored"
                              % (config_path, LAST_GOOD_RULES_SUFFIX, exc)) from None
    if not os.path.isdir(rules_dir):
        os.mkdir(rules_dir, _dir_mode(attributes.mode))
    current = _current_rules(rules_dir)
    touched = []
    for name in sorted(wanted):
        if not RULE_FILE_NAME.match(name):
            continue  # never write outside rules_dir, whatever the file says
        if current.get(name) != wanted[name]:
            _install_copy(os.path.join(rules_dir, name), wanted[name], attributes)
            touched.append(os.path.join(rules_dir, name))
    for name in sorted(set(current) - set(wanted)):
        os.remove(os.path.join(rules_dir, name))
        touched.append(os.path.join(rules_dir, name))
    if touched:
        _fsync_dir(rules_dir)
    return touched


def restore_last_good(config_path: str) -> list:
    """Put back the last good rule files, then ``<config_path>.last-good`` over ``config_path``,
    each atomically with the owner and mode of ``config_path``; returns the paths that changed
    (empty when there is no copy or the files already equal it)."""
    last_good = _read(config_path + LAST_GOOD_SUFFIX)
    if last_good is None:
        return []
    st = os.stat(config_path)
    attributes = FileAttributes(st.st_uid, st.st_gid, st.st_mode & 0o7777)
    touched = _restore_rules(config_path, attributes)
    if _read(config_path) != last_good:
        _install_copy(config_path, last_good, attributes)
        touched.append(config_path)
    return touched


def newest_mtime(plan_: Plan) -> float | None:
    """The latest modification time of the installed files: prometheus.yml, the rule files and
    rules_dir (a removed rule file changes only the directory); None when nothing is installed.
    A server that loaded its configuration before this time has not loaded these files."""
    paths = [plan_.path] + ([plan_.rules_dir] + plan_.rule_paths if plan_.rules_dir else [])
    times = []
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            times.append(os.stat(path).st_mtime)
    return max(times) if times else None


def result(plan_: Plan, changed: bool) -> dict:
    """What the module returns (secrets redacted): changed, checksum, path, rule_files, backup_path,
    mtime, config, diff."""
    last_good = plan_.last_good_path
    return {
        "mtime": newest_mtime(plan_),
        "changed": changed,
        "checksum": plan_.checksum,
        "path": plan_.path,
        "rule_files": plan_.rule_paths,
        "backup_path": last_good if os.path.exists(last_good) else None,
        "config": redact(plan_.normalized),
        "diff": diff(plan_),
    }
