"""Agreement of the relabel engine with the real promtool of every release line the tests run.

For each line (Debian's 2.42, 2.53 and 3.x, from scripts/releases.py), the same generated jobs
(tests/support/oracle.py: every action, Unicode scripts, UTF-8 names, newlines, addresses without a
port, ``(?<name>re)``, templated targets) go through the engine and through ``promtool check
service-discovery``. Prints one row per line: cases, targets compared, cases in jobs both refused,
cases left out because Prometheus' own answer depends on Go's map order, differences.

Run it with ``.venv/bin/python bench/oracle.py`` (``--jobs``, ``--seed``). It exits non-zero when
there is a difference, and prints the first ones.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "collections"))
sys.path.insert(0, str(REPO / "tests" / "support"))

import oracle  # noqa: E402  (needs the paths above)
import releases  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--jobs", type=int, default=oracle.JOBS, help="generated jobs per line (12 targets each)")
    parser.add_argument("--seed", type=int, default=oracle.SEED)
    args = parser.parse_args()
    print("| line | release | cases | compared | both refused | order-dependent (left out) | differences | seconds |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    differences = []
    for line in releases.MATRIX:
        started = time.monotonic()
        summary = oracle.run(line, args.jobs, args.seed)
        print("| %s | %s | %d | %d | %d | %d | %d | %.1f |" % (
            line, releases.release(line)["source"], summary.cases, summary.compared, summary.refused_by_both,
            summary.order_dependent, len(summary.differences), time.monotonic() - started))
        differences += summary.differences
    for text in differences[:5]:
        print("\n" + text)
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
