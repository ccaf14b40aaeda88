"""site.yml on real machines over SSH: a fresh converge and an idempotent re-run, against `ansible -m ping`.

The test bed of tests/hosts (``tests/support/testbed.py``: Debian bookworm hosts booting systemd in podman
containers, one bridge network and subnet per site, sshd taking the run's key) with --datacenters
datacenters (default 3), one Prometheus server each (``dc1-prom-a``, ...), and a global (``global-a``),
every site in a subnet of its own. The inventory is the one of tests/hosts/test_systemd_hosts.py: SSH as
root, systemd units, the tarball install from the releases cache that this machine serves to the hosts
over HTTP, TLS and basic auth on (the defaults) with a fleet CA made afresh under the bench's root.

In this order, all in the same run:

1. the bed starts (not part of the figures; its time is printed), and what a fresh host lacks for the
   collection is installed with apt (printed, not part of the figures);
2. ``ansible all -m ansible.builtin.ping`` once on the fresh hosts (the first SSH connections: printed),
   then --runs times more, right before the converge: their median is **the anchor**, the least any
   Ansible run over these hosts costs (start-up, one SSH round and one module on every host);
3. ``ansible-playbook playbooks/site.yml`` on the fresh hosts: the converge;
4. --runs pairs (default 3), one right after the other: ``site.yml`` again (the re-run, which must report
   changed=0: a sanity check, not a timed assertion) and ``ansible -m ping``; the medians of the pairs;
5. the bed is torn down, whatever happened.

It prints seconds and the ratios converge/ping and re-run/ping. It is a bench, not a test: no time
limits, but a non-zero exit when a playbook or a ping fails or the re-run changes something. Logs in
``.tmp/bench-logs/testbed-*.log``. Needs root and podman (``make setup`` builds the bed's image).

Run it with ``.venv/bin/python bench/testbed.py`` (``--runs 3 --datacenters 3``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "support"))

import releases  # noqa: E402
import testbed  # noqa: E402
import yaml  # noqa: E402
from figures import fmt, load  # noqa: E402
from fleet import FAST_INTERVALS, VENV_BIN, ansible_env, run_playbook  # noqa: E402

ROOT = REPO / ".tmp" / "bench-testbed"
LOG_DIR = REPO / ".tmp" / "bench-logs"
# The releases cache of scripts/releases.py, served to the hosts (as tests/hosts/conftest.py does).
RELEASES_DIR = Path(releases.release(releases.DEFAULT)["tarball"]).parents[1]
WEB_PASSWORD = "bench-only"
# The bench's own names for its containers and networks. testbed.py names everything ``pft-*`` and its
# clean-up (run at every start) removes every ``pft-*`` container, network and key folder: the test bed of
# tests/hosts may be running at the same time, and the two must not remove each other's machines.
PREFIX = "pfb-"


class BenchError(Exception):
    """A step that failed: reported, and the bench exits non-zero."""


class BenchBed(testbed.Testbed):
    """The test bed under the prefix ``pfb-``; its clean-up of a crashed run touches ``pfb-*`` only."""

    @staticmethod
    def clean_leftovers() -> None:
        podman = testbed.podman
        ours = [c for c in podman("ps", "--all", "--format", "{{.Names}}").stdout.split() if c.startswith(PREFIX)]
        if ours:
            podman("rm", "--force", "--time", "5", *ours, check=False)
        for network in podman("network", "ls", "--format", "{{.Name}}").stdout.split():
            if network.startswith(PREFIX):
                testbed._remove_network(network)
        if testbed.CNI_STATE.is_dir():
            for state in testbed.CNI_STATE.glob(PREFIX + "*"):
                shutil.rmtree(state, ignore_errors=True)

    def start(self) -> None:
        super().start()
        # testbed.py keeps the key pair in a temporary folder ``pft-keys-*``, which the clean-up of a
        # tests/hosts session starting meanwhile would remove: move it under the bench's root. The hosts
        # keep the public key (a bind mount holds the file itself, not its name).
        keys = ROOT / "keys"
        shutil.rmtree(keys, ignore_errors=True)
        shutil.copytree(self.key_dir, keys)
        shutil.rmtree(self.key_dir, ignore_errors=True)
        self.key_dir = keys


def sites(count: int) -> dict[str, list[str]]:
    return {**{f"dc{i}": [f"dc{i}-prom-a"] for i in range(1, count + 1)}, "global": ["global-a"]}


def write_inventory(bed: testbed.Testbed) -> Path:
    """The test bed's inventory (tests/support/testbed.py: the one of tests/hosts and Molecule)."""
    path = ROOT / "hosts.yml"
    path.write_text(yaml.safe_dump(testbed.fleet_inventory(bed, ROOT, WEB_PASSWORD), sort_keys=False))
    return path


def save(name: str, text: str) -> Path:
    path = LOG_DIR / f"testbed-{name}.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def ping(inventory: Path, name: str) -> float:
    """Wall seconds of `ansible all -m ansible.builtin.ping` over the bed's hosts."""
    command = [str(VENV_BIN / "ansible"), "all", "-i", str(inventory), "-m", "ansible.builtin.ping"]
    started = time.monotonic()
    done = subprocess.run(command, cwd=REPO, env=ansible_env(), capture_output=True, text=True, check=False)
    seconds = time.monotonic() - started
    log = save(name, done.stdout + done.stderr)
    if done.returncode != 0:
        raise BenchError(f"ping failed (rc={done.returncode}), output in {log}")
    return seconds


def site(inventory: Path, name: str, rerun: bool) -> float:
    run = run_playbook("playbooks/site.yml", [inventory], check=False)
    log = save(name, run.output)
    if run.returncode != 0:
        failed = [line for line in run.output.splitlines() if line.startswith(("fatal:", "[ERROR]"))]
        raise BenchError(f"{name} failed (rc={run.returncode}) after {run.seconds:.1f} s, output in {log}:\n    "
                         + "\n    ".join(failed[:12]))
    if rerun and run.changed():
        changed = [line for line in run.output.splitlines() if line.startswith("changed:")]
        raise BenchError(f"{name} is not idempotent: changed={run.changed()}, output in {log}:\n    "
                         + "\n    ".join(changed[:12]))
    return run.seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--datacenters", type=int, default=3, metavar="N",
                        help="datacenters, one Prometheus server and one subnet each (default 3)")
    parser.add_argument("--runs", type=int, default=3, metavar="K",
                        help="re-run/ping pairs after the converge; medians are reported (default 3)")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.datacenters < 1:
        parser.error("--runs and --datacenters must be at least 1")
    if os.geteuid() != 0 or not shutil.which("podman"):
        print("the test bed needs root and podman (make setup installs podman, runc and debootstrap)", file=sys.stderr)
        return 1

    testbed.PREFIX = PREFIX  # Host.container and Site.network read it when called
    print(f"machine: {os.cpu_count()} CPU(s), load average {load()}")
    print(f"bed: {args.datacenters} datacenters (one server each) + 1 global, one subnet per site, systemd, SSH; "
          f"Prometheus {releases.release(releases.DEFAULT)['version']} from the tarball; TLS and basic auth on")
    print("intervals (tests/support/fleet.py): " + ", ".join(f"{k}={v}" for k, v in FAST_INTERVALS.items()),
          flush=True)

    shutil.rmtree(ROOT, ignore_errors=True)
    ROOT.mkdir(parents=True)
    failures: list[str] = []
    figures: dict[str, float] = {}
    pairs: list[tuple[float, float]] = []
    bed = BenchBed(sites(args.datacenters), serve=RELEASES_DIR)
    try:
        bed.start()
        print(f"  bed started in {bed.timings['start']:.1f} s: "
              + ", ".join(f"{s.name} {s.subnet}" for s in bed.sites.values()), flush=True)
        inventory = write_inventory(bed)
        figures["cold ping"] = ping(inventory, "ping-cold")
        print(f"  ping (first SSH connections)  {figures['cold ping']:6.2f} s", flush=True)
        anchors = [ping(inventory, f"ping-anchor{k}") for k in range(1, args.runs + 1)]
        figures["ping"] = statistics.median(anchors)
        print(f"  ping (anchor, median of {len(anchors)})     {figures['ping']:6.2f} s  ("
              + ", ".join(f"{a:.2f}" for a in anchors) + ")", flush=True)
        figures["converge"] = site(inventory, "converge", rerun=False)
        print(f"  site.yml converge             {figures['converge']:6.1f} s  "
              f"({figures['converge'] / figures['ping']:.1f} x ping)", flush=True)
        for k in range(1, args.runs + 1):
            rerun = site(inventory, f"rerun{k}", rerun=True)
            pairs.append((rerun, ping(inventory, f"ping{k}")))
            print(f"  pair {k}: re-run {pairs[-1][0]:6.2f} s (changed=0), ping {pairs[-1][1]:5.2f} s, "
                  f"ratio {pairs[-1][0] / pairs[-1][1]:5.2f}", flush=True)
    except (BenchError, testbed.TestbedError, subprocess.TimeoutExpired, OSError) as exc:
        failures.append(str(exc))
        print(f"  FAILED: {str(exc).splitlines()[0]}", flush=True)
    finally:
        bed.stop()
        left = [c for c in testbed.podman("ps", "--all", "--format", "{{.Names}}").stdout.split()
                if c.startswith(PREFIX)]
        print(f"  bed torn down in {bed.timings.get('stop', 0):.1f} s, left behind: {', '.join(left) or 'nothing'}",
              flush=True)
        if left:
            failures.append("containers left after the teardown: " + ", ".join(left))
        shutil.rmtree(ROOT, ignore_errors=True)

    ping_anchor = figures.get("ping")
    rerun = statistics.median([r for r, _p in pairs]) if pairs else None
    pair_ping = statistics.median([p for _r, p in pairs]) if pairs else None
    ratio = statistics.median([r / p for r, p in pairs]) if pairs else None
    converge = figures.get("converge")
    runs = f"median of {len(pairs)} pairs" if len(pairs) > 1 else "1 pair"
    table = [
        ("step", "s", "/ ping"),
        ("ansible -m ping (first SSH)", fmt(figures.get("cold ping"), 2), "-"),
        (f"ansible -m ping (anchor, median of {args.runs})", fmt(ping_anchor, 2), "1.00"),
        ("site.yml converge (fresh hosts)", fmt(converge, 1),
         fmt(converge / ping_anchor if converge and ping_anchor else None, 1)),
        (f"ansible -m ping ({runs})", fmt(pair_ping, 2), "1.00"),
        (f"site.yml re-run, changed=0 ({runs})", fmt(rerun, 2), fmt(ratio, 2)),
    ]
    widths = [max(len(row[i]) for row in table) for i in range(3)]
    print(f"\nResults (load average now {load()}; re-run/ping: median of the pairs' ratios):")
    for i, row in enumerate(table):
        print("  " + row[0].ljust(widths[0]) + "  " + "  ".join(c.rjust(w) for c, w in zip(row[1:], widths[1:],
                                                                                           strict=True)))
        if i == 0:
            print("  " + "  ".join("-" * w for w in widths))
    if converge and rerun and ping_anchor:
        print(f"\n  {args.datacenters} datacenters + 1 global over SSH: converge {converge:.0f} s = "
              f"{converge / ping_anchor:.1f} x ping, re-run {rerun:.1f} s = {ratio:.1f} x ping "
              f"(ping {ping_anchor:.2f} s)")
    for failure in failures:
        print(f"\nFAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
