"""Timings of the local federation topology: N datacenters (one server each) and one global.

For every N given with --datacenters (default 2 and 10), on a fresh root under
``<repo>/.tmp/bench-<N>``, it measures:

- the first converge (site.yml on a fresh root), split into the servers (preflight, datacenter
  and global plays) and the summary play that waits until every datacenter is federated;
- from the global's process start to the global's first federate scrape that brought a
  datacenter's ``up`` (first datacenter, and all of them);
- the idempotent re-run (site.yml again), which must report changed=0;
- the teardown (teardown.yml), then checks that no process and no port of the fleet is left.

It is a bench, not a test: no time limits, but a non-zero exit when a playbook fails, the re-run
changes something, no federated sample is found, or the teardown leaves something behind (every
N is still run, and a failed teardown is followed by a `supervisorctl shutdown` safety net).
Playbook outputs are kept in .tmp/bench-logs. See bench/README.md for what each figure means.

Run it with ``.venv/bin/python bench/federation.py --datacenters 2 10`` (``make bench``).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "support"))

from figures import fmt, load, median, print_table  # noqa: E402
from fleet import (  # noqa: E402  (needs the path above)
    FAST_INTERVALS,
    Fleet,
    PlaybookRun,
    listening,
    metric,
    processes_matching,
    query,
    run_playbook,
    wait_for,
)

# profile_tasks prints the time since the playbook started under every task banner: the first
# one after the summary play's banner tells when the servers were converged.
PROFILE_CALLBACK = "ansible.posix.profile_tasks"
SUMMARY_PLAY = "Verify - every global has fresh data of every datacenter"
_PLAY = re.compile(r"^PLAY \[(.*)\] \*+\s*$", re.M)
_ELAPSED = re.compile(r"^\w+ \d+ \w+ \d{4}\s+[\d:]+ [+-]\d{4} \(([\d:.]+)\)\s+([\d:.]+) \*+\s*$", re.M)
_TASK_TIME = re.compile(r"^(.+?) -+ ([\d.]+)s$", re.M)


class BenchError(Exception):
    """A run that failed: reported, and the bench exits non-zero."""


@dataclass
class Result:
    """The figures of one run; None where the run did not get that far."""

    datacenters: int
    first_converge: float | None = None
    servers_converged: float | None = None
    first_federated: float | None = None
    all_federated: float | None = None
    rerun: float | None = None
    rerun_changed: int | None = None
    teardown: float | None = None
    slowest_tasks: list[tuple[str, float]] = field(default_factory=list)
    plays: list[tuple[str, float]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


LOG_DIR = REPO / ".tmp" / "bench-logs"


def root_of(count: int) -> Path:
    return REPO / ".tmp" / f"bench-{count}"


def seconds(hms: str) -> float:
    """'0:01:02.345' -> 62.345"""
    total = 0.0
    for part in hms.split(":"):
        total = total * 60 + float(part)
    return total


def plays(run: PlaybookRun) -> list[tuple[str, float]]:
    """Seconds of every play, from the profile_tasks timestamps (the first task of a play to the next play)."""
    starts = []
    for banner in _PLAY.finditer(run.output):
        stamp = _ELAPSED.search(run.output, banner.end())
        if stamp:
            starts.append((banner.group(1), seconds(stamp.group(2))))
    stamps = _ELAPSED.findall(run.output)
    if not starts or not stamps:
        return []
    ends = [t for _name, t in starts[1:]] + [seconds(stamps[-1][1])]
    return [(name, end - begin) for (name, begin), end in zip(starts, ends, strict=True)]


def servers_converged(run: PlaybookRun) -> float | None:
    """Wall seconds from the start of ansible-playbook to the start of the summary play.

    The summary play's share (from profile_tasks) is taken off the wall clock of the run, so the
    start-up of ansible-playbook is counted in.
    """
    summary = [secs for name, secs in plays(run) if name == SUMMARY_PLAY]
    return run.seconds - summary[-1] if summary else None


def slowest_tasks(run: PlaybookRun, count: int) -> list[tuple[str, float]]:
    """The task list profile_tasks prints at the end, slowest first."""
    end = run.output.split("PLAY RECAP")[-1]
    return [(name.strip(), float(secs)) for name, secs in _TASK_TIME.findall(end)][:count]


def check_traversable(path: Path) -> None:
    """Every directory down to the root must be searchable by others: the prometheus user runs there."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode if parent.exists() else 0o755
        if not mode & 0o001:
            raise BenchError(f"{parent} is not searchable by other users (mode {mode & 0o7777:o}); "
                             "the prometheus user must traverse it")


def leftovers(fleet: Fleet) -> list[str]:
    """Processes with the root in their command line, and ports of the fleet still listening."""
    found = [f"process: {cmd}" for cmd in processes_matching(f"{fleet.root}/")]
    found += [f"port {fleet.ports[h]} ({h}) listening" for h in fleet.hosts() if listening(fleet.ports[h])]
    return found


def fresh_root(root: Path) -> None:
    """Remove what a previous run left, tearing a kept fleet (--keep) down first."""
    running = processes_matching(f"{root}/")
    inventory = root / "inventory" / "hosts.yml"
    if running and inventory.exists():
        print(f"  {root} still runs a fleet (--keep?): tearing it down first", flush=True)
        if run_playbook("playbooks/teardown.yml", [inventory], check=False).returncode != 0:
            print(f"  teardown.yml failed; safety net: {safety_net(root)}", flush=True)
        running = processes_matching(f"{root}/")
    if running:
        raise BenchError(f"processes still run under {root}, not removing it:\n  " + "\n  ".join(running))
    if root.exists():
        shutil.rmtree(root)


def save_log(count: int, run_no: int, step: str, run: PlaybookRun) -> Path:
    """Keep the playbook output (the root is removed afterwards)."""
    path = LOG_DIR / f"N{count}-run{run_no}-{step}.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(run.output)
    return path


def run_step(fleet: Fleet, playbook: str, inventory: Path, step: str, result: Result, run_no: int) -> PlaybookRun:
    run = fleet.run(playbook, inventory, check=False)
    log = save_log(result.datacenters, run_no, step, run)
    if run.returncode != 0:
        failed = [line for line in run.output.splitlines() if line.startswith(("fatal:", "[ERROR]"))]
        raise BenchError(f"{step} ({playbook}) failed (rc={run.returncode}) after {run.seconds:.1f} s, "
                         f"output in {log}:\n    " + "\n    ".join(failed[:12]))
    return run


def federation_arrivals(fleet: Fleet, global_host: str) -> tuple[dict[str, float], float]:
    """Seconds from the global's process start to the arrival of each datacenter's first `up`.

    The arrival is the timestamp of the global's first federate scrape of the datacenter that
    returned samples, at or after the earliest federated `up` of that datacenter (raw samples, no
    query step). Federated samples keep the datacenter's own timestamps, which can be older than
    the global itself, so the `up` timestamps alone do not tell when they arrived.
    """
    url = fleet.url(global_host)
    started = metric(url, "process_start_time_seconds")
    arrivals = {}
    for dc in fleet.datacenters:
        ups = query(url, f'up{{datacenter="{dc}", job!~"federate-.+"}}[1h]')
        first_up = min((float(ts) for series in ups for ts, _value in series["values"]), default=None)
        scrapes = query(url, f'scrape_samples_scraped{{job="federate-{dc}"}}[1h]')
        nonempty = sorted(float(ts) for series in scrapes for ts, value in series["values"]
                          if float(value) > 0 and float(ts) >= started)
        if first_up is None or not nonempty:
            raise BenchError(f"no federated `up` of datacenter {dc} at {url} (earliest `up`: {first_up}, "
                             f"non-empty federate scrapes: {len(nonempty)})")
        arrival = next((ts for ts in nonempty if ts >= first_up), None)
        if arrival is None:
            raise BenchError(f"datacenter {dc}: its first federated `up` ({first_up:.3f}) is newer than "
                             f"every non-empty federate scrape (last {nonempty[-1]:.3f})")
        arrivals[dc] = arrival - started
    # for context: when the global loaded its configuration (at start-up, unless it reloaded since)
    loaded = metric(url, "prometheus_config_last_reload_success_timestamp_seconds") - started
    return arrivals, loaded


def safety_net(root: Path) -> str:
    """After a failed teardown: shut the fleet's private supervisord down (it stops its programs)."""
    conf = root / "supervisor" / "supervisord.conf"  # where Fleet puts it
    if not conf.exists() or not processes_matching(f"{root}/"):
        return "nothing to clean up"
    done = subprocess.run(["supervisorctl", "-c", str(conf), "shutdown"], capture_output=True, text=True,
                          check=False)
    try:
        wait_for(lambda: not processes_matching(f"{root}/"), timeout=60, what="the fleet to stop")
    except AssertionError as exc:
        return f"supervisorctl shutdown (rc={done.returncode}) did not stop everything: {exc}"
    return f"stopped by `supervisorctl -c {conf} shutdown`"


def bench_once(count: int, run_no: int, keep: bool, top: int) -> Result:
    """One run for N=count; failures are collected in the result, and the fleet is always cleaned up."""
    result = Result(count)
    root = root_of(count)
    try:
        if not root.parent.exists():
            root.parent.mkdir(parents=True)
            root.parent.chmod(0o755)
        check_traversable(root.parent)
        fresh_root(root)
    except BenchError as exc:
        result.failures.append(str(exc))
        return result
    fleet = Fleet(root, datacenters=[f"dc{i:02d}" for i in range(1, count + 1)])
    global_host = fleet.globals_[0]
    inventory = fleet.write_inventory()
    try:
        first = run_step(fleet, "playbooks/site.yml", inventory, "converge", result, run_no)
        result.first_converge, result.servers_converged = first.seconds, servers_converged(first)
        result.slowest_tasks = slowest_tasks(first, top)
        result.plays = plays(first)
        shown = "unknown" if result.servers_converged is None else f"{result.servers_converged:.1f} s"
        print(f"  first converge  {first.seconds:6.1f} s  (servers converged at {shown}; the rest is "
              "the summary play, which waits until every datacenter is federated)", flush=True)

        arrivals, loaded = federation_arrivals(fleet, global_host)
        result.first_federated, result.all_federated = min(arrivals.values()), max(arrivals.values())
        print(f"  federation      first ({min(arrivals, key=arrivals.get)}) +{result.first_federated:.2f} s, "
              f"all ({max(arrivals, key=arrivals.get)}) +{result.all_federated:.2f} s after the global's process "
              f"start (its configuration was loaded at +{loaded:.2f} s)", flush=True)

        rerun = run_step(fleet, "playbooks/site.yml", inventory, "rerun", result, run_no)
        result.rerun, result.rerun_changed = rerun.seconds, rerun.changed()
        print(f"  re-run          {rerun.seconds:6.1f} s  changed={rerun.changed()}", flush=True)
        if rerun.changed() != 0:
            hosts = {h: c["changed"] for h, c in rerun.recap().items() if c.get("changed")}
            lines = [line for line in rerun.output.splitlines() if line.startswith("changed:")]
            result.failures.append(f"the re-run is not idempotent: changed {hosts}\n    " + "\n    ".join(lines))
    except (BenchError, AssertionError, OSError, ValueError, KeyError) as exc:
        result.failures.append(str(exc))
        print(f"  FAILED          {str(exc).splitlines()[0]}", flush=True)

    if keep and not result.failures:
        print(f"  kept running    inventory {inventory}, global {fleet.url(global_host)}", flush=True)
        return result

    try:
        down = run_step(fleet, "playbooks/teardown.yml", inventory, "teardown", result, run_no)
        result.teardown = down.seconds
    except BenchError as exc:
        result.failures.append(str(exc))
        print(f"  teardown        FAILED: {str(exc).splitlines()[0]}", flush=True)
        print(f"                  safety net: {safety_net(root)}", flush=True)
    left = leftovers(fleet)
    print(f"  teardown        {fmt(result.teardown):>6} s  left behind: {'; '.join(left) or 'nothing'} "
          f"(processes with {root}/ in their command line; ports {sorted(fleet.ports.values())})", flush=True)
    if left:
        result.failures.append("left behind after the teardown: " + "; ".join(left))
    elif root.exists():
        shutil.rmtree(root)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--datacenters", type=int, nargs="+", default=[2, 10], metavar="N",
                        help="numbers of datacenters to bench (default: 2 10)")
    parser.add_argument("--repeat", type=int, default=1, metavar="K", help="runs per N; medians are reported")
    parser.add_argument("--keep", action="store_true", help="leave the last fleet of every N running")
    parser.add_argument("--top", type=int, default=5, metavar="T",
                        help="print the T slowest tasks of the first converge (0: none)")
    args = parser.parse_args(argv)
    if args.repeat < 1 or any(n < 1 for n in args.datacenters):
        parser.error("--repeat and --datacenters must be at least 1")

    enabled = [c for c in os.environ.get("ANSIBLE_CALLBACKS_ENABLED", "").split(",") if c]
    if PROFILE_CALLBACK not in enabled:
        os.environ["ANSIBLE_CALLBACKS_ENABLED"] = ",".join([*enabled, PROFILE_CALLBACK])
    os.environ.setdefault("PROFILE_TASKS_TASK_OUTPUT_LIMIT", "40")

    print("intervals (tests/support/fleet.py): " + ", ".join(f"{k}={v}" for k, v in FAST_INTERVALS.items()))
    print(f"federation: the global scrapes /federate of every datacenter every "
          f"{FAST_INTERVALS['global_federation_interval']} (timeout {FAST_INTERVALS['global_federation_timeout']})")
    print(f"machine: {os.cpu_count()} CPU(s), load average {load()}", flush=True)

    rows = []
    for count in args.datacenters:
        runs = []
        for k in range(args.repeat):
            print(f"\nN={count}, run {k + 1}/{args.repeat}, root {root_of(count)}, logs in {LOG_DIR}", flush=True)
            runs.append(bench_once(count, k + 1, args.keep and k == args.repeat - 1, args.top))
        if runs[0].plays:
            print("  plays of the first converge (run 1, profile_tasks):")
            for name, secs in runs[0].plays:
                print(f"    {secs:6.1f} s  {name}")
        if runs[0].slowest_tasks:
            print("  slowest tasks of the first converge (run 1, profile_tasks: wall time of each task):")
            for name, secs in runs[0].slowest_tasks:
                print(f"    {secs:6.2f} s  {name}")
        rows.append((count, runs))

    header = ("N", "first converge s", "servers s", "re-run s", "changed on re-run",
              "first federated s", "all federated s", "teardown s", "ok")
    table = [header]
    for count, runs in rows:
        changed = [r.rerun_changed for r in runs if r.rerun_changed is not None]
        table.append((
            str(count),
            fmt(median([r.first_converge for r in runs])),
            fmt(median([r.servers_converged for r in runs])),
            fmt(median([r.rerun for r in runs])),
            str(max(changed)) if changed else "-",
            fmt(median([r.first_federated for r in runs]), 2),
            fmt(median([r.all_federated for r in runs]), 2),
            fmt(median([r.teardown for r in runs])),
            "FAILED" if any(r.failures for r in runs) else "yes",
        ))
    print_table(table, args.repeat)

    failures = [(count, k + 1, failure) for count, runs in rows for k, r in enumerate(runs) for failure in r.failures]
    for count, run_no, failure in failures:
        print(f"\nFAILED (N={count}, run {run_no}): {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
