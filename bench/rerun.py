"""The cost of an idempotent re-run of site.yml, against the floor of `ansible -m ping` on the same hosts.

For every N given with --datacenters (default 3 and 10), on a fresh root under ``<repo>/.tmp/bench-rerun-<N>``
(N datacenters with one Prometheus each, one global, all on loopback under a private supervisord):

1. converge once with site.yml (not timed here: bench/federation.py times it);
2. K pairs, one right after the other: ``ansible-playbook site.yml`` (the re-run, which must report
   changed=0) and ``ansible <the same hosts> -m ansible.builtin.ping`` (the floor: Ansible's start-up and
   one module run on every host); the ratio of each pair, and the median ratio over the pairs;
3. what a re-run executes: per server, the tasks that ran a module or an action (``ok`` + ``changed``
   in PLAY RECAP) and the tasks that were skipped;
4. teardown, and nothing may be left running.

It is a bench, not a test: no time limits, but a non-zero exit when a playbook fails or the re-run
changes something. See bench/README.md for how to read the figures.

Run it with ``.venv/bin/python bench/rerun.py --datacenters 3 10 --pairs 3``.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "support"))

from figures import fmt, load, print_table  # noqa: E402
from fleet import VENV_BIN, Fleet, PlaybookRun, ansible_env, processes_matching, run_playbook  # noqa: E402

LOG_DIR = REPO / ".tmp" / "bench-logs"


class BenchError(Exception):
    """A run that failed: reported, and the bench exits non-zero."""


@dataclass
class Pair:
    rerun: float
    ping: float

    @property
    def ratio(self) -> float:
        return self.rerun / self.ping


@dataclass
class Result:
    datacenters: int
    pairs: list[Pair] = field(default_factory=list)
    tasks: dict[str, dict[str, int]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def median(self, what: str) -> float | None:
        values = [getattr(p, what) for p in self.pairs]
        return statistics.median(values) if values else None


def ping(fleet: Fleet, inventory: Path) -> float:
    """Wall seconds of `ansible <datacenters:prometheus_global> -m ping` over the fleet's inventory."""
    command = [str(VENV_BIN / "ansible"), "datacenters:prometheus_global", "-i", str(inventory),
               "-m", "ansible.builtin.ping"]
    started = time.monotonic()
    done = subprocess.run(command, cwd=REPO, env=ansible_env(), capture_output=True, text=True, check=False)
    seconds = time.monotonic() - started
    if done.returncode != 0:
        raise BenchError("ping failed (rc=%d):\n%s" % (done.returncode, (done.stdout + done.stderr)[-2000:]))
    return seconds


def tasks_per_server(run: PlaybookRun, servers: list[str]) -> dict[str, dict[str, int]]:
    """Per server: tasks that ran (ok + changed) and tasks skipped, from PLAY RECAP."""
    recap = run.recap()
    return {host: {"ran": recap[host].get("ok", 0) + recap[host].get("changed", 0),
                   "skipped": recap[host].get("skipped", 0)} for host in servers if host in recap}


def save(name: str, run: PlaybookRun) -> Path:
    path = LOG_DIR / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(run.output)
    return path


def bench(count: int, pairs: int) -> Result:
    result = Result(count)
    root = REPO / ".tmp" / f"bench-rerun-{count}"
    if processes_matching(f"{root}/"):
        result.failures.append(f"processes still run under {root}: tear them down first")
        return result
    shutil.rmtree(root, ignore_errors=True)
    root.parent.mkdir(parents=True, exist_ok=True)
    fleet = Fleet(root, datacenters=[f"dc{i:02d}" for i in range(1, count + 1)])
    inventory = fleet.write_inventory()
    try:
        converge = run_playbook("playbooks/site.yml", [inventory], check=False)
        log = save(f"rerun-N{count}-converge.log", converge)
        if converge.returncode != 0:
            raise BenchError(f"the first converge failed (rc={converge.returncode}), output in {log}")
        print(f"  converged in {converge.seconds:.1f} s", flush=True)
        for k in range(1, pairs + 1):
            rerun = run_playbook("playbooks/site.yml", [inventory], check=False)
            log = save(f"rerun-N{count}-pair{k}.log", rerun)
            if rerun.returncode != 0 or rerun.changed():
                raise BenchError(f"re-run {k} failed or changed something (rc={rerun.returncode}, "
                                 f"changed={rerun.changed()}), output in {log}")
            pair = Pair(rerun.seconds, ping(fleet, inventory))
            result.pairs.append(pair)
            result.tasks = tasks_per_server(rerun, fleet.hosts())
            print(f"  pair {k}: re-run {pair.rerun:5.2f} s, ping {pair.ping:5.2f} s, ratio {pair.ratio:5.2f}",
                  flush=True)
    except BenchError as exc:
        result.failures.append(str(exc))
        print(f"  FAILED: {exc}", flush=True)
    finally:
        down = run_playbook("playbooks/teardown.yml", [inventory], check=False)
        save(f"rerun-N{count}-teardown.log", down)
        left = processes_matching(f"{root}/")
        if down.returncode != 0 or left:
            result.failures.append(f"teardown failed (rc={down.returncode}) or left {left}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--datacenters", type=int, nargs="+", default=[3, 10], metavar="N")
    parser.add_argument("--pairs", type=int, default=3, metavar="K", help="re-run/ping pairs per N (default 3)")
    args = parser.parse_args(argv)
    print(f"machine: load average {load()}", flush=True)
    results = []
    for count in args.datacenters:
        print(f"\nN={count} datacenters + 1 global", flush=True)
        results.append(bench(count, args.pairs))

    table = [("N", "re-run s", "ping s", "re-run/ping", "tasks ran per server", "skipped per server", "ok")]
    for r in results:
        ran = sorted({t["ran"] for t in r.tasks.values()})
        skipped = sorted({t["skipped"] for t in r.tasks.values()})
        table.append((str(r.datacenters), fmt(r.median("rerun"), 2), fmt(r.median("ping"), 2),
                      fmt(statistics.median([p.ratio for p in r.pairs]) if r.pairs else None, 2),
                      "/".join(map(str, ran)) or "-", "/".join(map(str, skipped)) or "-",
                      "FAILED" if r.failures else "yes"))
    print_table(table, args.pairs, note="; medians over the pairs")
    by_n = {r.datacenters: r.median("rerun") for r in results}
    if len(by_n) > 1 and all(by_n.values()):
        small, large = min(by_n), max(by_n)
        print(f"\n  re-run of N={large} / re-run of N={small}: {by_n[large] / by_n[small]:.2f}")
    for r in results:
        for failure in r.failures:
            print(f"\nFAILED (N={r.datacenters}): {failure}", file=sys.stderr)
    return 1 if any(r.failures for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
