"""The Prometheus releases the tests run: Debian's 2.42 (bookworm), 2.53 (trixie) and 3.x (sid),
fetched by ``scripts/releases.py`` (``make setup``) into a cache outside the checkout.

``DEFAULT`` is the 3.x release: the whole suite runs on it; ``MATRIX`` lists the release lines
the engine oracle and the version tests run against (``"2.42"``, ``"2.53"``, ``"3.5"``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import cache
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _cache_dir() -> Path:
    if os.environ.get("PROMFLEET_RELEASES"):
        return Path(os.environ["PROMFLEET_RELEASES"])
    if os.geteuid() == 0:
        return Path("/var/cache/promfleet/releases")
    return Path.home() / ".cache" / "promfleet" / "releases"


@cache
def index() -> dict:
    path = _cache_dir() / "index.json"
    if not path.exists():
        # A fresh machine: fetch them (what `make setup` does).
        subprocess.run([sys.executable, str(REPO / "scripts" / "releases.py"), "fetch"], check=True)
    return json.loads(path.read_text())


def release(line_or_version: str) -> dict:
    """The entry of the release ``"3.5"`` (a line) or ``"3.5.3"`` (a version): version, line, source,
    bin_dir, tarball, sha256."""
    releases = index()["prometheus"]
    if line_or_version in releases:
        return releases[line_or_version]
    for entry in releases.values():
        if entry["line"] == line_or_version:
            return entry
    raise LookupError("no Prometheus %s in %s (have %s)" % (line_or_version, _cache_dir(), ", ".join(releases)))


def binary(line_or_version: str, tool: str = "prometheus") -> str:
    return str(Path(release(line_or_version)["bin_dir"]) / tool)


def promtool(line_or_version: str | None = None) -> str:
    return binary(line_or_version or DEFAULT, "promtool")


DEFAULT = index()["default"]
DEFAULT_LINE = release(DEFAULT)["line"]
MATRIX = [entry["line"] for entry in index()["prometheus"].values()]


def binary_vars(line_or_version: str | None = None) -> dict:
    """Role variables that run ``line_or_version`` (default: the 3.x release) from the cache."""
    entry = release(line_or_version or DEFAULT)
    return {
        "prometheus_version": entry["version"],
        "prometheus_install_method": "binary",
        "prometheus_binary_path": str(Path(entry["bin_dir"]) / "prometheus"),
        "prometheus_promtool_path": str(Path(entry["bin_dir"]) / "promtool"),
    }
