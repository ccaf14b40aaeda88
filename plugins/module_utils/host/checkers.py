# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""The daemons' own checkers (``promtool check config``, ``promtool check web-config``, and for other
daemons their tools), run on a file before it replaces the one a daemon reads.

A checker is an argument list without the file, e.g. ``["/usr/bin/promtool", "check", "config"]``;
the file's path is appended. It passes when it exits 0.
"""

from __future__ import annotations

import os
import shutil

from ansible_collections.promfleet.federation.plugins.module_utils.errors import CommandError, ConfigFileError
from ansible_collections.promfleet.federation.plugins.module_utils.host import commands

CHECK_TIMEOUT = 120


def find_binary(binary: str | None, policy: str, default: str, option: str) -> str | None:
    """The checker binary to run, or None when checking with it is skipped.

    ``policy`` is ``auto`` (run it when it exists), ``always`` (fail without it) or ``never``;
    ``binary`` is a path or a name looked up on PATH (``default`` when None); ``option`` names the
    option that sets it, for the error.
    """
    if policy == "never":
        return None
    found = shutil.which(binary or default)
    if found is None and policy == "always":
        raise ConfigFileError(
            "validate_with_%s=always but %s %s was not found (set %s to its path)"
            % (default, default, "at " + binary if binary else "on PATH", option)
        )
    return found


def promtool_config(promtool: str | None) -> list | None:
    """The checker of prometheus.yml (with its rule files): ``promtool check config``."""
    return None if promtool is None else [promtool, "check", "config"]


def promtool_web_config(promtool: str | None) -> list | None:
    """The checker of a web config file (TLS and basic auth): ``promtool check web-config``."""
    return None if promtool is None else [promtool, "check", "web-config"]


def available(checker: list | None) -> bool:
    """Whether the checker's binary exists and may be run here."""
    return bool(checker) and os.access(checker[0], os.X_OK)


def describe(checker: list) -> str:
    """``promtool check config`` for ``["/usr/bin/promtool", "check", "config"]``."""
    return " ".join([os.path.basename(checker[0])] + list(checker[1:]))


def run_check(checker: list, path: str, run=commands.run) -> tuple:
    """(passed, output) of the checker on ``path``. ``run`` runs the argument list (on this host by
    default; in a pod for a server in Kubernetes). A checker that cannot run does not pass."""
    try:
        done = run(list(checker) + [path], timeout=CHECK_TIMEOUT, check=False)
    except CommandError as exc:
        return False, str(exc)
    return done.ok, done.output
