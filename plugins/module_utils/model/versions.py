# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""Which Prometheus a configuration is checked against, and what differs between release lines.

Two versions are easy to confuse, so they carry different names everywhere in the collection:

- the **release** installed on a machine (``prometheus_version`` of the roles, e.g. ``3.13.0``);
- the **schema version** (``major.minor``, e.g. ``3.13``): the release line whose configuration
  fields and semantics the engine applies (``schema_version`` of the modules,
  ``prometheus_schema_version`` of the roles, by default the release's major.minor).

``semantics(version)`` says how a release line behaves where lines differ: relabeling (default
port, ``.`` and newlines, UTF-8 label names, the regex syntax of the Go that built it) and the
server's flags. 2.42, 2.53 and 3.5 are checked against their own promtool and server
(tests/integration/test_versions_promtool.py); the other lines are modelled from upstream's
changelogs and the Go release each was built with.
"""

from __future__ import annotations

import functools

from ansible_collections.promfleet.federation.plugins.module_utils.errors import ConfigError

# The release lines the model knows, oldest first: the 2.x line from Debian bookworm's 2.42 to its
# end (2.55), and the 3.x line to the current LTS.
SUPPORTED_SCHEMA_VERSIONS = tuple("2.%d" % minor for minor in range(42, 56)) + tuple(
    "3.%d" % minor for minor in range(0, 14)
)
# The current LTS (3.13, supported to 2027-07-31): what is checked when nothing else is said.
DEFAULT_SCHEMA_VERSION = "3.13"
LTS_RELEASE = "3.13.0"
# 3.x can only go back to the last 2.x line (its TSDB format); nothing older.
DOWNGRADE_FLOOR = {"3": "2.55"}

# The Go minor of upstream's release builds, by the first Prometheus line built with it. The regex
# syntax follows it: Go 1.22 added (?<name>re).
_GO_OF_LINE = (("2.42", "1.19"), ("2.43", "1.20"), ("2.46", "1.21"), ("2.51", "1.22"), ("2.54", "1.23"),
               ("3.3", "1.24"), ("3.6", "1.25"))

# Server flags: the flags 3.0 removed (Prometheus exits with "unknown long flag"), and flags that
# 3.x accepts but ignores, with what to use instead.
FLAGS_REMOVED_IN_3 = {
    "--storage.tsdb.retention": "--storage.tsdb.retention.time",
    "--storage.tsdb.use-lockfile": "--storage.tsdb.no-lockfile (the lock file is on by default)",
    "--alertmanager.timeout": "alerting.alertmanagers[].timeout in prometheus.yml",
    "--storage.tsdb.allow-overlapping-blocks": "nothing: overlapping blocks are always allowed",
}
FEATURES_IGNORED_IN_3 = {
    "agent": "--agent",
    "promql-at-modifier": "nothing: always on",
    "promql-negative-offset": "nothing: always on",
    "remote-write-receiver": "--web.enable-remote-write-receiver",
    "no-default-scrape-port": "nothing: 3.x adds no default port",
    "new-service-discovery-manager": "nothing: always on",
    "expand-external-labels": "nothing: always on",
    "auto-gomemlimit": "nothing: on by default",
    "auto-gomaxprocs": "nothing: on by default",
    "utf8-names": "nothing: always on",
}
# Flags that appeared after 2.42 (the first line that has them): older servers exit on them.
FLAGS_SINCE = {
    "--agent": "3.0",
    "--web.enable-otlp-receiver": "3.0",
    "--auto-gomemlimit.ratio": "2.50",
}


def version_tuple(version: str) -> tuple:
    """``"2.43"`` (or ``"2.43.1"``) as ``(2, 43)``; ConfigError if it is not a version."""
    parts = str(version).split(".")
    if len(parts) < 2 or not all(part.isdigit() for part in parts):
        raise ConfigError("version %r is not a Prometheus version like %s" % (version, DEFAULT_SCHEMA_VERSION))
    return int(parts[0]), int(parts[1])


def schema_of_release(release: str) -> str:
    """The schema version (``major.minor``) of a release such as ``2.42.0`` or ``2.53.3+ds``."""
    core = str(release).split("+", 1)[0].split("-", 1)[0].lstrip("v")
    return "%d.%d" % version_tuple(core)


def release_tuple(release: str) -> tuple:
    """``"3.5.3+ds1"`` as ``(3, 5, 3)`` (a missing patch is 0)."""
    core = str(release).split("+", 1)[0].split("-", 1)[0].lstrip("v")
    parts = core.split(".")
    if not 2 <= len(parts) <= 3 or not all(part.isdigit() for part in parts):
        raise ConfigError("release %r is not a Prometheus release like %s" % (release, LTS_RELEASE))
    return tuple(int(part) for part in parts) + (0,) * (3 - len(parts))


def version_at_least(version: str, minimum: str) -> bool:
    """True when ``version`` is ``minimum`` or newer: ``version_at_least("2.43", "2.42")``."""
    return version_tuple(version) >= version_tuple(minimum)


def check_version(version: str) -> str:
    """``version`` when the model knows its schema; ConfigError naming the supported ones otherwise."""
    if "%d.%d" % version_tuple(version) not in SUPPORTED_SCHEMA_VERSIONS:
        raise ConfigError(
            "Prometheus version %s is not modelled by the engine; use one of %s (2.42 to 2.55, 3.0 to 3.13)"
            % (version, ", ".join(SUPPORTED_SCHEMA_VERSIONS))
        )
    return version


class Semantics:
    """How one release line behaves where the lines differ. Build it with ``semantics(version)``."""

    __slots__ = ("version", "go", "named_angle", "dot_nl", "utf8_names", "default_port", "case_target_template",
                 "builder_order")

    def __init__(self, version: str) -> None:
        self.version = "%d.%d" % version_tuple(version)
        self.go = [go for first, go in _GO_OF_LINE if version_at_least(self.version, first)][-1]
        # Go 1.22 accepts (?<name>re) besides (?P<name>re).
        self.named_angle = version_at_least(self.go, "1.22")
        three = version_at_least(self.version, "3.0")
        # 3.0 compiles relabel regexes as ^(?s:R)$: `.` matches a newline.
        self.dot_nl = three
        # 3.0 takes any non-empty UTF-8 string as a label name (target_label, labelmap, static labels).
        self.utf8_names = three
        # Before 3.0 a target address without a port gets :80 or :443 from its scheme.
        self.default_port = not three
        # lowercase/uppercase/keepequal/dropequal into a templated target_label ($1): until 2.48
        # checked with the template pattern (measured on 2.42: a label named "$1" is written);
        # 2.49 to 2.55 check a plain label name (upstream #13308; measured: 2.53 refuses); 3.x
        # takes any name.
        self.case_target_template = not version_at_least(self.version, "2.49") or three
        # labelmap visits the labels in sorted order in 2.42, in labels.Builder's order later
        # (measured on 2.53; relabeling moved to the Builder between the two).
        self.builder_order = self.version != "2.42"

    def regex_options(self) -> dict:
        """The keyword options of ``re2.compile_go`` for this line."""
        return {"named_angle": self.named_angle, "dot_nl": self.dot_nl}


@functools.lru_cache(maxsize=None)
def semantics(version: str = DEFAULT_SCHEMA_VERSION) -> Semantics:
    """The semantics of the release line of ``version`` (``"3.5"`` or ``"3.5.3"``); ConfigError when
    the model does not know it."""
    check_version(version)
    return Semantics(version)


def flag_problems(flags: list, release: str) -> list[str]:
    """What release ``release`` refuses or ignores among the server ``flags``, one sentence each."""
    line = schema_of_release(release)
    problems = []
    for flag in flags:
        name = str(flag).split("=", 1)[0]
        value = str(flag).split("=", 1)[1] if "=" in str(flag) else ""
        if version_at_least(line, "3.0") and name in FLAGS_REMOVED_IN_3:
            problems.append("flag %s was removed in Prometheus 3.0 (%s refuses to start with it); use %s"
                            % (name, release, FLAGS_REMOVED_IN_3[name]))
        if name in FLAGS_SINCE and not version_at_least(line, FLAGS_SINCE[name]):
            problems.append("flag %s needs Prometheus %s or newer, the server runs %s"
                            % (name, FLAGS_SINCE[name], release))
        if name == "--enable-feature" and version_at_least(line, "3.0"):
            for feature in value.split(","):
                if feature in FEATURES_IGNORED_IN_3:
                    problems.append("--enable-feature=%s is ignored by Prometheus %s (3.x); use %s"
                                    % (feature, release, FEATURES_IGNORED_IN_3[feature]))
    return problems
