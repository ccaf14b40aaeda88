"""receptor, the mesh AWX hands its jobs to, from Debian sid's package (it runs on bookworm).

The ``receptor`` package of sid is downloaded with the private apt state of scripts/releases.py (the
machine's own mirror, its apt sources untouched), and only its binary is kept, in the cache
(``$PROMFLEET_CACHE`` or ``~/.cache/promfleet``) under ``receptor/<Debian version>/receptor``. Once a
binary of the wanted upstream version is there, nothing is asked of the mirror: a second run takes
milliseconds. The tests of tests/awx run a receptor node with it (tests/support/awx.py).

    python3 scripts/receptor.py               # fetch when missing; print the binary's path (last line)
    python3 scripts/receptor.py --print-path  # the cached binary's path only; exit 1 when not cached
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from releases import PrivateApt, upstream_version

# The release AWX 24.x pairs with; sid ships it, built against glibc 2.36-compatible symbols.
VERSION = "1.6.9"
SUITE = "sid"
PACKAGE = "receptor"


def cache_dir() -> Path:
    """$PROMFLEET_CACHE, else ~/.cache/promfleet (as tests/support/testbed.py)."""
    if os.environ.get("PROMFLEET_CACHE"):
        return Path(os.environ["PROMFLEET_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "promfleet"


def log(message: str) -> None:
    print("receptor: %s" % message, file=sys.stderr, flush=True)


def cached(version: str = VERSION) -> Path | None:
    """The cached binary of upstream ``version`` (the newest Debian revision of it), if any."""
    found = [path for path in (cache_dir() / "receptor").glob("*/receptor")
             if upstream_version(path.parent.name) == version and os.access(path, os.X_OK)]
    return sorted(found)[-1] if found else None


def fetch(version: str = VERSION) -> Path:
    """The binary of ``version``: the cached one, else downloaded from sid and extracted."""
    binary = cached(version)
    if binary is not None:
        return binary
    root = cache_dir() / "receptor"
    root.mkdir(parents=True, exist_ok=True)
    apt = PrivateApt(root / "apt")
    apt.run("apt-get", "update", "-qq")
    debian_version = apt.newest(PACKAGE).get(SUITE)
    if debian_version is None or upstream_version(debian_version) != version:
        raise SystemExit("receptor: %s ships %s %s, not %s" % (SUITE, PACKAGE, debian_version, version))
    with tempfile.TemporaryDirectory(dir=root) as temp:
        apt.run("apt-get", "download", "%s=%s" % (PACKAGE, debian_version), cwd=Path(temp))
        deb = next(Path(temp).glob("*.deb"))
        subprocess.run(["dpkg-deb", "-x", str(deb), str(Path(temp) / "root")], check=True)
        staging = Path(temp) / "receptor"
        shutil.copy2(Path(temp) / "root" / "usr" / "bin" / "receptor", staging)
        check = subprocess.run([str(staging), "--version"], capture_output=True, text=True, check=False)
        if check.returncode != 0 or version not in check.stdout:
            raise SystemExit("receptor: the binary of %s does not run here: %s" % (
                debian_version, (check.stdout + check.stderr).strip()))
        destination = root / debian_version / "receptor"
        destination.parent.mkdir(exist_ok=True)
        staging.replace(destination)
    log("receptor %s (%s %s) in %s" % (version, SUITE, debian_version, destination.parent))
    return destination


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--print-path", action="store_true", help="print the cached binary only (exit 1 if none)")
    args = parser.parse_args(argv)
    if args.print_path:
        binary = cached()
        if binary is None:
            return 1
    else:
        binary = fetch()
    print(binary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
