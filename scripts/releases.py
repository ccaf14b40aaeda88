"""Prometheus and node_exporter releases for this machine's tests and local topology, from Debian's packages.

Debian ships three Prometheus generations: bookworm's 2.42 (installed by setup.sh), trixie's 2.53
and sid's 3.x. The trixie and sid packages are downloaded with a private apt state (the machine's
own mirror, its apt sources untouched), unpacked into the cache, and never installed system-wide.
Each release is also packed as an upstream-shaped tarball (``prometheus-X.Y.Z.linux-amd64/``
with ``prometheus`` and ``promtool``; deterministic, so its checksum stays the same) that the
roles install like a tarball from github.com.

node_exporter the same way, under the key ``node_exporter`` of the index: bookworm's 1.5 (the
package ``prometheus-node-exporter``, installed by setup.sh) and trixie's 1.9, each packed as
upstream's ``node_exporter-X.Y.Z.linux-amd64.tar.gz`` with ``node_exporter-X.Y.Z.linux-amd64/node_exporter``
(the Debian binary ``prometheus-node-exporter`` of ``bin_dir``, renamed).

sid moves: the newest version there is resolved at every run (and printed); what was downloaded
is kept, keyed by the Debian version. Without the network, the cache answers.

    python3 scripts/releases.py fetch   # resolve, download what is missing, write index.json
    python3 scripts/releases.py show    # the index (JSON)

The cache is ``$PROMFLEET_RELEASES`` or ``/var/cache/promfleet/releases`` (``~/.cache/promfleet/
releases`` when not root): outside the checkout, readable by the ``prometheus`` user that runs
the binaries.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

# The release lines the tests run, by the Debian suite that ships them.
SUITES = {"trixie": "2.53", "sid": "3"}
PACKAGES = ("prometheus", "promtool")
TOOLS = ("prometheus", "promtool")
# node_exporter: bookworm's (installed by setup.sh) and trixie's, whose Debian binary is named after
# the package; in the tarball it is node_exporter, as upstream's.
NODE_EXPORTER_SUITES = {"trixie": "1.9"}
NODE_EXPORTER_PACKAGE = "prometheus-node-exporter"


def cache_dir() -> Path:
    if os.environ.get("PROMFLEET_RELEASES"):
        return Path(os.environ["PROMFLEET_RELEASES"])
    if os.geteuid() == 0:
        return Path("/var/cache/promfleet/releases")
    return Path.home() / ".cache" / "promfleet" / "releases"


def log(message: str) -> None:
    print("releases: %s" % message, flush=True)


def machine_mirror() -> str:
    """The Debian mirror of this machine's own apt sources (deb822 or one-line format)."""
    for path in sorted(Path("/etc/apt/sources.list.d").glob("*.sources")):
        for line in path.read_text().splitlines():
            if line.startswith("URIs:") and "security" not in line:
                return line.split()[1]
    for path in [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*.list"))]:
        if path.exists():
            for line in path.read_text().splitlines():
                match = re.match(r"^deb\s+(?:\[[^]]*\]\s+)?(\S+)\s+\S+", line)
                if match and "security" not in line:
                    return match.group(1)
    raise SystemExit("releases: no Debian mirror in /etc/apt/sources.list{,.d}")


class PrivateApt:
    """apt with its own sources, lists and cache: the machine's apt state is not touched."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "lists" / "partial").mkdir(parents=True, exist_ok=True)
        (root / "cache" / "archives" / "partial").mkdir(parents=True, exist_ok=True)
        mirror = machine_mirror()
        (root / "sources.list").write_text("".join("deb %s %s main\n" % (mirror, suite) for suite in SUITES))
        self.options = [
            "-o", "Dir::Etc::sourcelist=%s" % (root / "sources.list"),
            "-o", "Dir::Etc::sourceparts=/dev/null",
            "-o", "Dir::State::Lists=%s" % (root / "lists"),
            "-o", "Dir::Cache=%s" % (root / "cache"),
            "-o", "APT::Sandbox::User=root",
        ]

    def run(self, command: str, *args: str, cwd: Path | None = None) -> str:
        run = subprocess.run([command, *self.options, *args], capture_output=True, text=True, cwd=cwd, check=False)
        if run.returncode != 0:
            raise RuntimeError("%s %s: %s" % (command, " ".join(args), (run.stderr or run.stdout).strip()[-500:]))
        return run.stdout

    def newest(self, package: str) -> dict[str, str]:
        """suite -> newest Debian version of ``package`` there."""
        found: dict[str, str] = {}
        for line in self.run("apt-cache", "madison", package).splitlines():
            fields = [field.strip() for field in line.split("|")]
            if len(fields) >= 3:
                suite = fields[2].split()[1].split("/")[0]
                found.setdefault(suite, fields[1])
        return found


def upstream_version(debian_version: str) -> str:
    """``3.5.3+ds1-6`` -> ``3.5.3``."""
    return re.split(r"[+~-]", debian_version.split(":", 1)[-1], maxsplit=1)[0]


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def pack_tarball(version: str, binaries: dict[str, Path], destination: Path, product: str = "prometheus") -> None:
    """An upstream-shaped release tarball (``<product>-<version>.linux-amd64/<name>`` for each of
    ``binaries``, name -> file), byte for byte the same for the same binaries."""
    top = "%s-%s.linux-amd64" % (product, version)
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name in sorted(binaries):
            info = tar.gettarinfo(str(binaries[name]), arcname="%s/%s" % (top, name))
            info.mtime, info.uid, info.gid, info.uname, info.gname, info.mode = 0, 0, 0, "root", "root", 0o755
            with binaries[name].open("rb") as handle:
                tar.addfile(info, handle)
    temp = destination.with_suffix(".tmp")
    with temp.open("wb") as out, gzip.GzipFile(fileobj=out, mode="wb", compresslevel=1, mtime=0, filename="") as gz:
        gz.write(raw.getvalue())
    temp.replace(destination)


def release_entry(root: Path, version: str, debian_version: str, source: str, binaries: dict[str, Path],
                  product: str = "prometheus") -> dict:
    # Keyed by the Debian version: a rebuilt package gets a new tarball.
    tarball = root / ("tarballs_%s" % debian_version) / ("%s-%s.linux-amd64.tar.gz" % (product, version))
    if not tarball.exists():
        tarball.parent.mkdir(mode=0o755, exist_ok=True)
        pack_tarball(version, binaries, tarball, product)
    return {
        "version": version,
        "line": ".".join(version.split(".")[:2]),
        "source": source,
        "bin_dir": str(binaries[product].parent),
        "tarball": str(tarball),
        "sha256": sha256(tarball),
    }


def download_debian(root: Path, apt: PrivateApt, packages: tuple, debian_version: str, unpacked: Path) -> None:
    """``packages`` at ``debian_version``, unpacked together into ``unpacked`` (replaced whole)."""
    with tempfile.TemporaryDirectory(dir=root) as temp:
        apt.run("apt-get", "download", *("%s=%s" % (pkg, debian_version) for pkg in packages), cwd=Path(temp))
        staging = Path(temp) / "root"
        for deb in sorted(Path(temp).glob("*.deb")):
            subprocess.run(["dpkg-deb", "-x", str(deb), str(staging)], check=True)
        shutil.rmtree(unpacked, ignore_errors=True)
        staging.rename(unpacked)


def installed_version(package: str) -> str | None:
    """The Debian version of ``package`` as installed on this machine, None when it is not."""
    run = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True, check=False)
    return (run.stdout.strip() or None) if run.returncode == 0 else None


def fetch_debian(root: Path, apt: PrivateApt, suite: str, debian_version: str) -> dict:
    version = upstream_version(debian_version)
    unpacked = root / ("prometheus_%s" % debian_version)
    if not all((unpacked / "usr" / "bin" / tool).is_file() for tool in TOOLS):
        download_debian(root, apt, PACKAGES, debian_version, unpacked)
        log("downloaded prometheus and promtool %s from %s" % (debian_version, suite))
    binaries = {tool: unpacked / "usr" / "bin" / tool for tool in TOOLS}
    return release_entry(root, version, debian_version, "%s %s" % (suite, debian_version), binaries)


def installed_release(root: Path) -> dict | None:
    """bookworm's Prometheus, installed by setup.sh."""
    debian_version = installed_version("prometheus")
    if debian_version is None or not Path("/usr/bin/promtool").exists():
        return None
    binaries = {tool: Path("/usr/bin") / tool for tool in TOOLS}
    source = "bookworm %s (installed)" % debian_version
    return release_entry(root, upstream_version(debian_version), debian_version, source, binaries)


def fetch_node_exporter_debian(root: Path, apt: PrivateApt, suite: str, debian_version: str) -> dict:
    """node_exporter ``debian_version`` from ``suite``, unpacked into the cache and packed as upstream's tarball."""
    unpacked = root / ("%s_%s" % (NODE_EXPORTER_PACKAGE, debian_version))
    binary = unpacked / "usr" / "bin" / NODE_EXPORTER_PACKAGE
    if not binary.is_file():
        download_debian(root, apt, (NODE_EXPORTER_PACKAGE,), debian_version, unpacked)
        log("downloaded node_exporter %s from %s" % (debian_version, suite))
    return release_entry(root, upstream_version(debian_version), debian_version, "%s %s" % (suite, debian_version),
                         {"node_exporter": binary}, product="node_exporter")


def installed_node_exporter(root: Path) -> dict | None:
    """bookworm's node_exporter, installed by setup.sh."""
    binary = Path("/usr/bin") / NODE_EXPORTER_PACKAGE
    debian_version = installed_version(NODE_EXPORTER_PACKAGE)
    if debian_version is None or not binary.exists():
        return None
    return release_entry(root, upstream_version(debian_version), debian_version,
                         "bookworm %s (installed)" % debian_version, {"node_exporter": binary}, product="node_exporter")


def node_exporter_releases(root: Path, apt: PrivateApt, reachable: bool, old: dict) -> dict:
    """version -> entry of every node_exporter the tests run (the installed one, then trixie's)."""
    releases: dict[str, dict] = {}
    installed = installed_node_exporter(root)
    if installed:
        releases[installed["version"]] = installed
    newest = apt.newest(NODE_EXPORTER_PACKAGE) if reachable else {}
    for suite, line in NODE_EXPORTER_SUITES.items():
        if suite in newest:
            entry = fetch_node_exporter_debian(root, apt, suite, newest[suite])
        else:
            cached = [e for e in old.values() if e["source"].startswith(suite + " ")]
            if not cached:
                # Prometheus' releases stay usable; only the node_exporter tests lack this one.
                log("no node_exporter from %s: the mirror cannot be reached and nothing is cached in %s"
                    % (suite, root))
                continue
            entry = cached[0]
        if not (entry["version"] == line or entry["version"].startswith(line + ".")):
            log("note: %s now ships node_exporter %s (expected the %s line)" % (suite, entry["version"], line))
        releases[entry["version"]] = entry
    return dict(sorted(releases.items(), key=lambda item: tuple(int(p) for p in item[0].split("."))))


def fetch() -> dict:
    root = cache_dir()
    root.mkdir(parents=True, exist_ok=True)
    for directory in (root, *root.parents):
        if directory == Path.home() or str(directory) in ("/", "/var", "/var/cache"):
            break
        directory.chmod(0o755)  # the prometheus user runs the binaries from here
    index_path = root / "index.json"
    old = json.loads(index_path.read_text()) if index_path.exists() else {"prometheus": {}}
    releases: dict[str, dict] = {}
    installed = installed_release(root)
    if installed:
        releases[installed["version"]] = installed
    apt = PrivateApt(root / "apt")
    try:
        apt.run("apt-get", "update", "-qq")
        newest = apt.newest("prometheus")
        reachable = True
    except RuntimeError as exc:
        log("cannot reach the mirror (%s); using the cache" % exc)
        newest = {}
        reachable = False
    for suite, line in SUITES.items():
        if suite in newest:
            entry = fetch_debian(root, apt, suite, newest[suite])
        else:
            cached = [e for e in old["prometheus"].values() if e["source"].startswith(suite + " ")]
            if not cached:
                raise SystemExit("releases: no Prometheus from %s: the mirror cannot be reached and nothing is "
                                 "cached in %s" % (suite, root))
            entry = cached[0]
        if not (entry["version"] == line or entry["version"].startswith(line + ".")):
            log("note: %s now ships Prometheus %s (expected the %s line)" % (suite, entry["version"], line))
        releases[entry["version"]] = entry
    ordered = dict(sorted(releases.items(), key=lambda item: tuple(int(p) for p in item[0].split("."))))
    node_exporters = node_exporter_releases(root, apt, reachable, old.get("node_exporter") or {})
    index = {"prometheus": ordered, "default": list(ordered)[-1], "node_exporter": node_exporters}
    temp = index_path.with_suffix(".tmp")
    temp.write_text(json.dumps(index, indent=2) + "\n")
    temp.replace(index_path)
    log("prometheus %s (cache %s)" % (", ".join("%s from %s" % (v, e["source"]) for v, e in ordered.items()), root))
    log("default release for tests and the local topology: %s" % index["default"])
    log("node_exporter %s" % ", ".join("%s from %s" % (v, e["source"]) for v, e in node_exporters.items()))
    return index


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("command", choices=["fetch", "show"])
    args = parser.parse_args()
    if args.command == "fetch":
        fetch()
    else:
        index_path = cache_dir() / "index.json"
        if not index_path.exists():
            raise SystemExit("releases: no index in %s; run `python3 scripts/releases.py fetch`" % index_path.parent)
        sys.stdout.write(index_path.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
