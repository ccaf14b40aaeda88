# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""Writing prometheus.yml and its rule files safely: the logic of the ``prometheus_config`` module,
and the configuration step of the ``daemon`` module (for Prometheus, and for daemons whose
configuration has no rule files, such as Alertmanager's alertmanager.yml: its ``kind`` says how its
secrets are redacted in what is shown, ``redactor``).

The flow is ``plan`` (validation by the ``engine`` the caller passes - the prometheus_config module
passes ``promconfig.normalize_config`` for its schema version; the daemon module none, its
configuration was checked before the run - deterministic YAML, what is on disk now), then either ``check``
(check mode: promtool on a copy staged in a temporary directory elsewhere, nothing at the
destination touched) or ``apply``:

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

Files are written with ``files.py``: a destination is only ever replaced by a rename, so a process
killed at any moment leaves the old or the new file, never a part of one; files whose bytes and
attributes are already right are not touched at all (their mtime stays).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import tempfile
from typing import Callable

from ansible_collections.promfleet.federation.plugins.module_utils.errors import (
    CheckerError,
    ConfigError,
    ConfigFileError,
)
from ansible_collections.promfleet.federation.plugins.module_utils.host import checkers
from ansible_collections.promfleet.federation.plugins.module_utils.host.files import (
    FileAttributes,
    fsync_dir,
    install,
    read,
    remove,
    remove_leftover_temps,
    set_attributes,
    write_temp,
)
from ansible_collections.promfleet.federation.plugins.module_utils.model.documents import load_mapping, render
from ansible_collections.promfleet.federation.plugins.module_utils.model.redact import redact

LAST_GOOD_SUFFIX = ".last-good"
# One JSON file {"rules_dir": ..., "files": {name: text}}: a single rename keeps it whole.
LAST_GOOD_RULES_SUFFIX = ".last-good-rules.json"
RULES_GLOB = "*.yml"
# Plain file names that the `<rules_dir>/*.yml` glob of the config loads.
RULE_FILE_NAME = re.compile(r"^[A-Za-z0-9_.-]+\.yml$")
REDACTED_CHANGE = "a redacted value changed"
PROMETHEUS = "prometheus"
ALERTMANAGER = "alertmanager"
# The kinds of configuration, each shown with its own redactor (``redactor``).
KINDS = (PROMETHEUS, ALERTMANAGER)


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
        kind: str = PROMETHEUS,
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
        self.kind = kind

    @property
    def redact(self) -> Callable[[dict], dict]:
        """The redactor of this kind of configuration (``redactor``)."""
        return redactor(self.kind)

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


# Checks a whole configuration and returns it normalized, or raises ConfigError naming what is wrong.
Engine = Callable[[dict], dict]


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


def check_rule_files(rule_files: dict) -> None:
    """Rule files are plain ``*.yml`` names (the glob loads them) with a mapping as content."""
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


def _current_rules(rules_dir: str) -> dict:
    """Bytes of the ``*.yml`` files in ``rules_dir`` (those the glob loads), by name."""
    if not os.path.isdir(rules_dir):
        return {}
    found = {}
    for name in sorted(os.listdir(rules_dir)):
        full = os.path.join(rules_dir, name)
        if name.endswith(".yml") and os.path.isfile(full):
            found[name] = read(full)
    return found


def plan(
    path: str,
    config: dict,
    rule_files: dict | None = None,
    rules_dir: str | None = None,
    attributes: FileAttributes | None = None,
    engine: Engine | None = None,
    require_directory: bool = True,
    kind: str = PROMETHEUS,
) -> Plan:
    """Validate ``config`` with the engine and render every file; reads the destination, writes nothing.

    With ``rule_files`` (even empty) the module manages ``rules_dir`` (default
    ``<dirname(path)>/rules``): the ``*.yml`` files there become exactly ``rule_files``, and
    ``<rules_dir>/*.yml`` is appended to the config's ``rule_files`` when no entry names it.
    ``engine`` checks ``config`` and returns it normalized (the prometheus_config module passes the
    collection's engine for its schema version); None means the caller has checked it already: it is
    only rendered. Without ``require_directory`` (check mode of a daemon not installed yet) the directory
    of ``path`` may be missing. ``kind`` (one of ``KINDS``) says how the diff and the result redact the
    configuration. Raises ``ConfigError`` (the engine's message) or ``ConfigFileError``.
    """
    if kind not in KINDS:
        raise ConfigFileError("kind %r is not a kind of configuration; use one of %s" % (kind, ", ".join(KINDS)))
    path = os.path.abspath(path)
    if os.path.isdir(path):
        raise ConfigFileError("path %s is a directory; it must name the prometheus.yml to write" % path)
    if require_directory and not os.path.isdir(os.path.dirname(path)):
        raise ConfigFileError("the directory of path %s does not exist" % path)
    if rule_files is not None:
        check_rule_files(rule_files)
        rules_dir = os.path.abspath(rules_dir) if rules_dir else default_rules_dir(path)
        config = with_rules_glob(config, path, rules_dir)
    else:
        rules_dir = None
    normalized = engine(config) if engine is not None else config
    return Plan(
        path=path,
        rules_dir=rules_dir,
        config=config,
        normalized=normalized,
        config_bytes=render(config),
        rule_bytes={name: render(content) for name, content in (rule_files or {}).items()},
        current_config=read(path),
        current_rules=_current_rules(rules_dir) if rules_dir else {},
        attributes=attributes or FileAttributes(),
        kind=kind,
    )


# --- diff -----------------------------------------------------------------------------------------


def redactor(kind: str) -> Callable[[dict], dict]:
    """The function that replaces the secrets of a configuration of ``kind`` before it is shown (a
    diff, a result, the logged arguments): Prometheus' (``<redacted>``), or Alertmanager's
    (``<secret>``, as Alertmanager itself shows them)."""
    if kind == ALERTMANAGER:
        # Imported here: the Alertmanager model is not loaded by a run for Prometheus.
        from ansible_collections.promfleet.federation.plugins.module_utils.model.alertmanager import (
            redact_alertmanager_config,
        )

        return redact_alertmanager_config
    return redact


def redacted_text(data: bytes | None, kind: str = PROMETHEUS) -> str:
    """Configuration bytes of ``kind`` as YAML with every secret replaced (``redactor``; by default
    Prometheus' ``<redacted>``)."""
    if data is None:
        return ""
    try:
        document = load_mapping(data, "the file")
    except ConfigError:
        return "# the file is not a YAML mapping; its text is not shown (it may hold secrets)\n"
    return render(redactor(kind)(document)).decode("utf-8") if document else ""


def _text(data: bytes | None) -> str:
    return "" if data is None else data.decode("utf-8", errors="replace")


def diff(plan_: Plan) -> list:
    """Ansible diffs (before/after) of prometheus.yml and of every rule file that changes.

    The configuration is shown through the redactor of its kind on both sides, so secrets never
    appear; when only a redacted value changed, the after header says so.
    """
    result = []
    if plan_.config_changed:
        before = redacted_text(plan_.current_config, plan_.kind)
        after = redacted_text(plan_.config_bytes, plan_.kind)
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


# --- the checker ------------------------------------------------------------------------------------


def validation_copy(plan_: Plan, staged_rules: dict) -> bytes:
    """The new config for the checker: the ``<rules_dir>/*.yml`` entry replaced by the staged rule
    files (``staged_rules``: name -> path), other relative ``rule_files`` made absolute against the
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


def _checker_failure(checker: list, output: str, renames: dict) -> CheckerError:
    """The checker's output with staged file names replaced by the final ones."""
    for staged, final in sorted(renames.items(), key=lambda item: -len(item[0])):
        output = output.replace(staged, final)
    return CheckerError("%s refused the new configuration; nothing was changed:\n%s"
                        % (checkers.describe(checker), output.strip()))


def _validate_staged(plan_: Plan, checker: list, staged_rules: dict, directory: str, renames: dict) -> None:
    """Run the checker on a validation copy written to ``directory``; raise CheckerError when it fails."""
    private = FileAttributes(os.getuid(), os.getgid(), 0o600)  # it holds the secrets too
    check_path = write_temp(plan_.path, validation_copy(plan_, staged_rules), private, directory)
    renames = dict(renames)
    renames[check_path] = plan_.path
    try:
        passed, output = checkers.run_check(checker, check_path)
    finally:
        remove(check_path)
    if not passed:
        raise _checker_failure(checker, output, renames)


def is_good(path: str, checker: list | None, engine: Engine | None = None) -> bool:
    """Whether the installed ``path`` passes the ``engine`` (when given) and the checker
    (when given), with the rule files installed now: only such a file is kept as ``<path>.last-good``."""
    data = read(path)
    if data is None:
        return False
    try:
        document = load_mapping(data, path)
        if engine is not None:
            engine(document)
    except ConfigError:
        return False
    return checker is None or checkers.run_check(checker, path)[0]


# --- check and apply ------------------------------------------------------------------------------


def check(plan_: Plan, checker: list | None) -> None:
    """Check mode: the checker on the new files staged in a temporary directory away from the
    destination; nothing at the destination is created, changed or removed."""
    if checker is None or not plan_.content_changed:
        return
    staging = tempfile.mkdtemp(prefix="promfleet-check-")
    try:
        staged_rules = {}
        renames = {}
        for name, data in plan_.rule_bytes.items():
            staged = os.path.join(staging, name)
            with open(staged, "wb") as handle:
                handle.write(data)
            staged_rules[name] = staged
            renames[staged] = plan_.rule_path(name)
        _validate_staged(plan_, checker, staged_rules, staging, renames)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def apply(plan_: Plan, checker: list | None, engine: Engine | None = None) -> bool:
    """Write what ``plan_`` says (see the module docstring for the steps); returns whether
    anything changed. Raises CheckerError, leaving every destination file as it was."""
    if not plan_.changed:
        return False
    if not plan_.content_changed:
        for path in plan_.attributes_changed():
            set_attributes(path, plan_.attributes)
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
                dir_attributes = plan_.attributes.of_directory()
                os.mkdir(plan_.rules_dir, dir_attributes.mode)
                created_dir = plan_.rules_dir
                set_attributes(plan_.rules_dir, dir_attributes)
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
        if checker is not None:
            _validate_staged(plan_, checker, staged_rules, os.path.dirname(plan_.path), renames)
        if created_dir is not None:
            fsync_dir(os.path.dirname(created_dir))
            created_dir = None

        _keep_last_good(plan_, checker, engine)

        for name in plan_.changed_rules:
            install(staged_rules[name], plan_.rule_path(name))
            temps.remove(staged_rules[name])
        for name in plan_.stale_rules:
            os.remove(plan_.rule_path(name))
        if plan_.stale_rules:
            fsync_dir(plan_.rules_dir)
        if config_temp is not None:
            install(config_temp, plan_.path)
            temps.remove(config_temp)
        for path in plan_.attributes_changed():
            set_attributes(path, plan_.attributes)
    finally:
        for temp in temps:
            remove(temp)
        if created_dir is not None:
            os.rmdir(created_dir)
    return True


# --- the last good copies ---------------------------------------------------------------------------


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
        remove(temp)


def _keep_last_good(plan_: Plan, checker: list | None, engine: Engine | None) -> None:
    """Copy the installed prometheus.yml to ``<path>.last-good`` and the installed rule files to
    ``<path>.last-good-rules.json`` (atomically, with the config's owner and mode) when they pass
    validation together and differ from the copies kept."""
    current = plan_.current_config
    if current is None:
        return
    config_kept = current == read(plan_.last_good_path)
    snapshot = None if plan_.rules_dir is None else rules_snapshot(plan_.rules_dir, plan_.current_rules)
    rules_kept = snapshot is None or snapshot == read(plan_.last_good_rules_path)
    if (config_kept and rules_kept) or not is_good(plan_.path, checker, engine):
        return
    attributes = FileAttributes.of(plan_.path)
    # Rules first: a crash in between leaves new rules with the older config copy, which the
    # next run (the installed files are unchanged) completes.
    if not rules_kept:
        _install_copy(plan_.last_good_rules_path, snapshot, attributes)
    if not config_kept:
        _install_copy(plan_.last_good_path, current, attributes)


def _restore_rules(config_path: str, attributes: FileAttributes) -> list:
    """Make the ``*.yml`` files of the kept rules_dir exactly the kept ones; returns the paths
    written or removed."""
    data = read(config_path + LAST_GOOD_RULES_SUFFIX)
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
        os.mkdir(rules_dir, attributes.of_directory().mode)
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
        fsync_dir(rules_dir)
    return touched


def restore_last_good(config_path: str) -> list:
    """Put back the last good rule files, then ``<config_path>.last-good`` over ``config_path``,
    each atomically with the owner and mode of ``config_path``; returns the paths that changed
    (empty when there is no copy or the files already equal it)."""
    last_good = read(config_path + LAST_GOOD_SUFFIX)
    if last_good is None:
        return []
    attributes = FileAttributes.of(config_path)
    touched = _restore_rules(config_path, attributes)
    if read(config_path) != last_good:
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
        "config": plan_.redact(plan_.normalized),
        "diff": diff(plan_),
    }
