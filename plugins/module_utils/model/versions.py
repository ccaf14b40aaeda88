# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""Which Prometheus configuration schema a configuration is checked against.

Two versions are easy to confuse, so they carry different names everywhere in the collection:

- the **release** installed on a machine (``prometheus_version`` of the roles, e.g. ``2.42.0``);
- the **schema version** (``major.minor``, e.g. ``2.42``): the release line whose configuration
  fields and semantics the engine applies (``schema_version`` of the modules,
  ``prometheus_schema_version`` of the roles, by default the release's major.minor).
"""

from __future__ import annotations

from ansible_collections.promfleet.federation.plugins.module_utils.errors import ConfigError

# The schema versions the model knows, oldest first.
SUPPORTED_SCHEMA_VERSIONS = tuple("2.%d" % minor for minor in range(42, 54))
# Debian bookworm's release line: the schema checked when nothing else is said.
DEFAULT_SCHEMA_VERSION = "2.42"


def version_tuple(version: str) -> tuple:
    """``"2.43"`` (or ``"2.43.1"``) as ``(2, 43)``; ConfigError if it is not a version."""
    parts = str(version).split(".")
    if len(parts) < 2 or not all(part.isdigit() for part in parts):
        raise ConfigError("version %r is not a Prometheus version like %s" % (version, DEFAULT_SCHEMA_VERSION))
    return int(parts[0]), int(parts[1])


def schema_of_release(release: str) -> str:
    """The schema version (``major.minor``) of a release such as ``2.42.0`` or ``2.53.3+ds``."""
    core = str(release).split("+", 1)[0].split("-", 1)[0]
    return "%d.%d" % version_tuple(core)


def version_at_least(version: str, minimum: str) -> bool:
    """True when ``version`` is ``minimum`` or newer: ``version_at_least("2.43", "2.42")``."""
    return version_tuple(version) >= version_tuple(minimum)


def check_version(version: str) -> str:
    """``version`` when the model knows its schema; ConfigError naming the supported ones otherwise."""
    if "%d.%d" % version_tuple(version) not in SUPPORTED_SCHEMA_VERSIONS:
        raise ConfigError(
            "Prometheus version %s is not supported; use one of %s" % (version, ", ".join(SUPPORTED_SCHEMA_VERSIONS))
        )
    return version
