# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""Checks of a daemon description (what the ``daemon`` role takes) that no run could succeed
without, made before any change: pure functions over the description."""

from __future__ import annotations

import os
import re

# sha256:<hex>, or sha256:<URL of a checksum list> (a release's sha256sums.txt).
_SHA256 = re.compile(r"^sha256:([0-9a-fA-F]{64}|(https?|file)://\S+)$")
LIFECYCLE_FLAG = "--web.enable-lifecycle"
WEB_CONFIG_FLAG = "--web.config.file="
_LOOPBACK = re.compile(r"^(localhost|::1|\[::1\]|127\.\d+\.\d+\.\d+)$")


def install_problems(install: dict) -> list:
    """What is wrong with the install settings, in the user's own setting names (``hints``)."""
    problems = []
    # auto falls back to the archive where the distribution lacks the release line: it needs one too.
    if install.get("method") not in ("tarball", "auto"):
        return problems
    hints = install.get("hints") or {}
    if not install.get("archive_url"):
        problems.append("%s is empty; the tarball method needs the URL of a release archive"
                        % hints.get("archive_url", "archive_url"))
    checksum = install.get("archive_checksum") or ""
    if not _SHA256.match(str(checksum)):
        problems.append('%s must be sha256:<64 hex digits> or sha256:<URL of a sha256sums.txt> (got "%s")'
                        % (hints.get("archive_checksum", "archive_checksum"), checksum))
    return problems


def lifecycle_problem(flags: list, listen_address: str, port: int, flags_setting: str = "the flags",
                      title: str = "the server") -> str | None:
    """The lifecycle API (``POST /-/quit``, ``/-/reload``) must not answer anyone who reaches the port
    without a password: refused unless the daemon listens on loopback or has a web config."""
    if LIFECYCLE_FLAG not in flags or _LOOPBACK.match(str(listen_address)):
        return None
    if any(str(flag).startswith(WEB_CONFIG_FLAG) for flag in flags):
        return None
    return ("%s turns on %s while %s listens on %s, so anyone who reaches port %s could stop or reload it. "
            "Listen on 127.0.0.1, add %s<file with basic_auth_users>, or leave the flag out (reloads then use SIGHUP)"
            % (flags_setting, LIFECYCLE_FLAG, title, listen_address, port, WEB_CONFIG_FLAG))


def layout_problems(description: dict) -> list:
    """What is wrong with where the instance keeps its files and how it is asked whether it serves:
    an owned directory (``owned_dirs``) that is not one of its ``directories``, a ``ready_path``
    that is not an absolute URL path."""
    problems = []
    declared = {os.path.normpath(str(spec["path"])) for spec in description.get("directories") or []}
    for directory in description.get("owned_dirs") or []:
        if os.path.normpath(str(directory)) not in declared:
            problems.append("owned_dirs: %s is not one of the directories; list it there too (with its owner and "
                            "mode), so that it is created before its files" % directory)
    ready_path = description.get("ready_path", "/-/ready")
    if not str(ready_path).startswith("/"):
        problems.append('ready_path must be a URL path starting with "/" (got "%s")' % ready_path)
    return problems
