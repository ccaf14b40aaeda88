"""The Prometheus releases the tests run: Debian's 2.42 (bookworm), 2.53 (trixie) and 3.x (sid),
fetched by ``scripts/releases.py`` (``make setup``) into a cache outside the checkout.

``DEFAULT`` is the 3.x release: the whole suite runs on it; ``MATRIX`` lists the release lines
the engine oracle and the version tests run against (``"2.42"``, ``"2.53"``, ``"3.5"``).

node_exporter too (``node_exporter``): bookworm's 1.5 (the installed package) and trixie's 1.9, each
with an upstream-shaped tarball.
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


def _fetch() -> None:
    """What `make setup` does: resolve and download the releases, write the index."""
    subprocess.run([sys.executable, str(REPO / "scripts" / "releases.py"), "fetch"], check=True)


@cache
def index() -> dict:
    path = _cache_dir() / "index.json"
    if not path.exists():
        _fetch()  # a fresh machine
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


# Debian names node_exporter's binary after its package; the tarballs hold it as node_exporter.
NODE_EXPORTER_DEBIAN_BINARY = "prometheus-node-exporter"


@cache
def node_exporter_releases() -> dict:
    """version -> entry of the node_exporter releases (fetched when the cache predates them)."""
    if "node_exporter" not in index():
        _fetch()
        index.cache_clear()
    return index()["node_exporter"]


def node_exporter(line_or_version: str) -> dict:
    """The entry of node_exporter ``"1.9"`` (a line) or ``"1.9.0"`` (a version): version, line, source,
    bin_dir, tarball (``node_exporter-<version>.linux-amd64.tar.gz``), sha256."""
    releases = node_exporter_releases()
    if line_or_version in releases:
        return releases[line_or_version]
    for entry in releases.values():
        if entry["line"] == line_or_version:
            return entry
    raise LookupError("no node_exporter %s in %s (have %s)" % (line_or_version, _cache_dir(), ", ".join(releases)))


def node_exporter_binary(line_or_version: str) -> str:
    """The Debian binary of node_exporter ``line_or_version`` (``<bin_dir>/prometheus-node-exporter``)."""
    return str(Path(node_exporter(line_or_version)["bin_dir"]) / NODE_EXPORTER_DEBIAN_BINARY)


def node_exporter_packaged() -> dict:
    """The entry of the node_exporter that the distribution's package installed (bookworm's 1.5)."""
    for entry in node_exporter_releases().values():
        if entry["source"].endswith("(installed)"):
            return entry
    raise LookupError("no installed node_exporter in %s; run `make setup`" % _cache_dir())
