"""What a rolling upgrade costs: the local topology (N datacenters with one Prometheus each, one global,
on loopback under a private supervisord) converged on 2.42 with site.yml, then upgraded to the 3.x
release of the cache with playbooks/upgrade.yml.

While upgrade.yml runs, a thread asks the global every 0.5 s for the age of the newest federated `up`
of every datacenter (the query of verify.yml, ``time() - max by (datacenter) (timestamp(up{...}))``).
A datacenter "had no fresh data" while its age was above two federation intervals (verify.yml's
limit) or it was missing, or while the global did not answer. Reported: the total time of the
upgrade, and per datacenter the longest such gap (measured between polls, so +-0.5 s).

It is a bench, not a test: no time limits, but a non-zero exit when a playbook fails. The fleet is
torn down at the end. Run it with ``.venv/bin/python bench/upgrade.py [--datacenters 3]``.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "support"))

import releases  # noqa: E402
from figures import fmt, load  # noqa: E402
from fleet import FAST_INTERVALS, Fleet, federated_datacenters, query, wait_for  # noqa: E402
from it_support import scratch_root, tear_down  # noqa: E402

AGE_QUERY = 'time() - max by (datacenter) (timestamp(up{datacenter!="", job!~"federate-.+"}))'
POLL_SECONDS = 0.5
# verify.yml's limit: two federation intervals.
MAX_AGE = 2 * float(FAST_INTERVALS["global_federation_interval"].rstrip("s"))
LOG_DIR = REPO / ".tmp" / "bench-logs"


class Watcher(threading.Thread):
    """Polls the global; ``gaps[dc]`` is the longest time ``dc`` had no fresh data there."""

    def __init__(self, url: str, datacenters: list[str]):
        super().__init__(daemon=True)
        self.url, self.datacenters = url, datacenters
        self.stop = threading.Event()
        self.gaps = dict.fromkeys(datacenters, 0.0)
        self.stale_since: dict[str, float | None] = dict.fromkeys(datacenters, None)
        self.polls = self.unanswered = 0

    def run(self) -> None:
        while not self.stop.is_set():
            now = time.monotonic()
            try:
                ages = {s["metric"]["datacenter"]: float(s["value"][1]) for s in query(self.url, AGE_QUERY)}
            except (OSError, ValueError, KeyError):
                ages = {}
                self.unanswered += 1
            self.polls += 1
            for dc in self.datacenters:
                fresh = dc in ages and ages[dc] < MAX_AGE
                since = self.stale_since[dc]
                if not fresh and since is None:
                    self.stale_since[dc] = now
                elif fresh and since is not None:
                    self.gaps[dc] = max(self.gaps[dc], now - since)
                    self.stale_since[dc] = None
            self.stop.wait(POLL_SECONDS)
        end = time.monotonic()
        for dc, since in self.stale_since.items():
            if since is not None:  # still stale at the end
                self.gaps[dc] = max(self.gaps[dc], end - since)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--datacenters", type=int, default=3)
    parser.add_argument("--to", default=releases.DEFAULT_LINE, help="release line to upgrade to (default %(default)s)")
    args = parser.parse_args(argv)

    datacenters = ["dc-%02d" % i for i in range(1, args.datacenters + 1)]
    fleet = Fleet(scratch_root("bench-upgrade"), datacenters=datacenters, release="2.42")
    old_inventory = fleet.write_inventory("old.yml")
    data = fleet.inventory()
    data["all"]["vars"].update(releases.binary_vars(args.to), prometheus_upgrade_previous=releases.binary_vars("2.42"))
    inventory = fleet.write_inventory("new.yml", data=data)
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    failed = False
    try:
        site = fleet.run("playbooks/site.yml", old_inventory, check=False)
        if site.returncode != 0:
            print(site.output[-4000:])
            return 1
        global_url = fleet.url(fleet.globals_[0])
        wait_for(lambda: federated_datacenters(global_url) == set(datacenters), timeout=60, what="federation")
        watcher = Watcher(global_url, datacenters)
        watcher.start()
        time.sleep(2 * POLL_SECONDS)
        run = fleet.run("playbooks/upgrade.yml", inventory, check=False)
        time.sleep(2 * POLL_SECONDS)
        watcher.stop.set()
        watcher.join()
        log = LOG_DIR / "upgrade.log"
        log.write_text(run.output)
        failed = run.returncode != 0
        release = releases.release(args.to)["version"]
        print(f"\nUpgrade of {args.datacenters} datacenters + 1 global, 2.42.0 -> {release} "
              f"(binary method, 2 s intervals, stale = age >= {MAX_AGE:.0f} s or missing; "
              f"{watcher.polls} polls every {POLL_SECONDS} s, {watcher.unanswered} unanswered; "
              f"load average now {load()}; log {log.relative_to(REPO)})\n")
        print("| what | seconds |")
        print("|---|---:|")
        print(f"| upgrade.yml, total ({'FAILED' if failed else 'ok'}) | {fmt(run.seconds)} |")
        for dc in datacenters:
            print(f"| longest time without fresh data of {dc} at the global | {fmt(watcher.gaps[dc])} |")
        print(f"| longest of all | {fmt(max(watcher.gaps.values()))} |")
    finally:
        tear_down(fleet, old_inventory)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
