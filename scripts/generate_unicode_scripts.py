"""Generate ``plugins/module_utils/model/unicode_scripts.py``: the code points of each Unicode script.

Go's ``regexp/syntax`` accepts ``\\p{Greek}``, ``\\P{Han}``... for every name in Go's
``unicode.Scripts``, which Go generates from the Unicode Character Database file ``Scripts.txt``.
Python's standard library has no script data, so ``re2.py`` reads it from the generated module.

The source is ``Scripts.txt`` of Unicode 15.0.0, the version Go 1.21 and later use (Go 1.19 used
13.0.0). Debian bookworm's ``unicode-data`` package ships exactly that file; it does not need to be
installed system-wide:

    tmp=$(mktemp -d) && (cd "$tmp" && apt-get download unicode-data && dpkg -x unicode-data_*.deb x)
    .venv/bin/python scripts/generate_unicode_scripts.py "$tmp/x/usr/share/unicode/Scripts.txt"

Without an argument the script reads ``/usr/share/unicode/Scripts.txt`` (package installed).
``--check`` compares instead of writing and exits 1 if the module is not what the file gives.

Output format: one line per script, ``Name lo-hi lo-hi cp ...`` in lower-case hex, ranges
sorted and merged (adjacent lines of ``Scripts.txt`` differ only by general category), wrapped
with continuation lines that start with a space. The module decodes a script on first use.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

DEFAULT_SOURCE = Path("/usr/share/unicode/Scripts.txt")
TARGET = Path(__file__).resolve().parent.parent / "plugins/module_utils/model/unicode_scripts.py"
COMMAND = "scripts/generate_unicode_scripts.py /path/to/Scripts.txt"
WRAP = 100

_VERSION_LINE = re.compile(r"# Scripts-(\d+\.\d+\.\d+)\.txt")
_DATA_LINE = re.compile(r"([0-9A-F]{4,6})(?:\.\.([0-9A-F]{4,6}))?\s*;\s*(\w+)")

HEADER = '''\
# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
# Data derived from the Unicode Character Database (Scripts-{version}.txt),
# (c) Unicode, Inc., Unicode License v3: https://www.unicode.org/license.txt
#
# GENERATED FILE, do not edit: {command}
"""Code points of each Unicode script (Unicode {version}), by Go's names for them (``unicode.Scripts``).

``script_ranges(name)`` gives the sorted, merged ``(lo, hi)`` ranges of a script, or None if
Unicode has no script of that exact (case-sensitive) name.
"""

from __future__ import annotations

UNICODE_VERSION = "{version}"

# One script a line: its name, then ranges `lo-hi` or single code points in hex; a line starting
# with a space continues the script above.
_DATA = """\\
'''

FOOTER = '''\
"""

_decoded: dict[str, tuple[tuple[int, int], ...]] = {}
_packed: dict[str, str] = {}


def _index() -> dict[str, str]:
    if not _packed:
        for line in _DATA.replace("\\n ", " ").splitlines():
            name, _space, ranges = line.partition(" ")
            _packed[name] = ranges
    return _packed


def script_names() -> list[str]:
    """Every script name, sorted."""
    return sorted(_index())


def script_ranges(name: str) -> tuple[tuple[int, int], ...] | None:
    """The code point ranges of script ``name``, or None if there is no such script."""
    if name not in _decoded:
        packed = _index().get(name)
        if packed is None:
            return None
        ranges = []
        for item in packed.split():
            lo, _dash, hi = item.partition("-")
            ranges.append((int(lo, 16), int(hi or lo, 16)))
        _decoded[name] = tuple(ranges)
    return _decoded[name]
'''


def read_scripts(text: str) -> tuple[str, dict[str, list[tuple[int, int]]]]:
    """The Unicode version and each script's merged ranges, from the text of ``Scripts.txt``."""
    version_match = _VERSION_LINE.search(text)
    if not version_match:
        raise SystemExit("not a Scripts.txt: no '# Scripts-X.Y.Z.txt' line")
    scripts: dict[str, list[tuple[int, int]]] = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = _DATA_LINE.fullmatch(line)
        if not match:
            raise SystemExit("unexpected line in Scripts.txt: %r" % line)
        lo = int(match.group(1), 16)
        hi = int(match.group(2) or match.group(1), 16)
        scripts.setdefault(match.group(3), []).append((lo, hi))
    return version_match.group(1), {name: merge(ranges) for name, ranges in scripts.items()}


def merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(hi, out[-1][1]))
        else:
            out.append((lo, hi))
    return out


def data_lines(name: str, ranges: list[tuple[int, int]]) -> list[str]:
    items = ["%x" % lo if lo == hi else "%x-%x" % (lo, hi) for lo, hi in ranges]
    lines = [name]
    for item in items:
        if len(lines[-1]) + 1 + len(item) > WRAP:
            lines.append("")
        lines[-1] += " " + item
    return lines


def render(version: str, scripts: dict[str, list[tuple[int, int]]]) -> str:
    body = [line for name in sorted(scripts) for line in data_lines(name, scripts[name])]
    return HEADER.format(version=version, command=COMMAND) + "\n".join(body) + "\n" + FOOTER


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", type=Path, default=DEFAULT_SOURCE, help="path of Scripts.txt")
    parser.add_argument("--check", action="store_true", help="exit 1 if the module differs, write nothing")
    args = parser.parse_args()
    version, scripts = read_scripts(args.source.read_text(encoding="utf-8"))
    text = render(version, scripts)
    if args.check:
        if TARGET.read_text(encoding="utf-8") != text:
            print("%s is not generated from %s" % (TARGET, args.source), file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    print("wrote %s: Unicode %s, %d scripts" % (TARGET, version, len(scripts)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
