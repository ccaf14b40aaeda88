"""site.yml run directly against site.yml as an AWX job: the cost of receptor -> ansible-runner -> podman EE.

The bed of tests/hosts and tests/awx (``testbed.FLEET_SITES``: dc1 with a server and a watched machine, dc2
with a server, a global; Debian bookworm hosts booting systemd in podman containers, reached over SSH, TLS
and basic auth on). Two ways to run the same playbook with the same inventory:

- **direct**: ``.venv/bin/ansible-playbook playbooks/site.yml -i hosts.yml`` from the repository root, as
  tests/hosts runs it;
- **chain**: the same playbook as a job the way AWX runs it (tests/support/awx.py): the job directory
  (a checkout of the work tree, AWX's inventory script, ``!unsafe`` extra vars, the machine credential),
  transmitted to a receptor node, ``ansible-runner worker``, the execution environment in podman
  (scripts/ee_image.sh), its events streamed back and processed. The time is the controller's: from
  building the job directory to the last event processed. The job's own playbook time (first to last
  event inside the EE) is printed beside it; the difference is the chain's overhead.

Each of them, --repeat times (default 2): a **fresh bed** (new containers, a new fleet CA), the first
converge, then the re-run (which must change nothing), then the bed is torn down. So both first converges
start from the same state: fresh hosts with nothing installed. The order alternates between repeats
(direct first, then chain first). The receptor node and the project checkout are made once (printed, not
part of the figures). The table gives the medians and the ratio chain/direct.

It is a bench, not a test: no time limits, but a non-zero exit when a run fails or a re-run changes
something. Logs in ``.tmp/bench-logs/awx-*.log``. Needs root and podman. Its containers and networks are
named ``pfw-*`` (tests/hosts ``pft-``, tests/awx ``pfa-``, bench/testbed.py ``pfb-``).

Run it with ``.venv/bin/python bench/awx.py`` (``--repeat 3``).
"""

from __future__ import annotations

import argparse
import datetime
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "support"))

import awx  # noqa: E402
import testbed  # noqa: E402
import yaml  # noqa: E402
from figures import fmt, load  # noqa: E402
from fleet import run_playbook  # noqa: E402

ROOT = REPO / ".tmp" / "bench-awx"
LOG_DIR = REPO / ".tmp" / "bench-logs"
PREFIX = "pfw-"
WEB_PASSWORD = "bench-only"
MODES = ("direct", "chain")


class BenchError(Exception):
    """A step that failed: reported, and the bench exits non-zero."""


def save(name: str, text: str) -> Path:
    path = LOG_DIR / f"awx-{name}.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def ee_image() -> str:
    if os.environ.get("PROMFLEET_EE_IMAGE"):
        return os.environ["PROMFLEET_EE_IMAGE"]
    done = subprocess.run(["bash", str(REPO / "scripts" / "ee_image.sh")], cwd=REPO, capture_output=True,
                          text=True, check=False, env=testbed.podman_env(), timeout=1800)
    if done.returncode != 0:
        raise BenchError("scripts/ee_image.sh failed: " + (done.stdout + done.stderr)[-2000:])
    return done.stdout.strip().splitlines()[-1]


def direct(bed: testbed.Testbed, fleet_dir: Path, name: str, rerun: bool) -> dict:
    inventory = fleet_dir / "hosts.yml"
    inventory.write_text(yaml.safe_dump(testbed.fleet_inventory(bed, fleet_dir, WEB_PASSWORD), sort_keys=False))
    run = run_playbook("playbooks/site.yml", [inventory], check=False)
    log = save(name, run.output)
    if run.returncode != 0:
        raise BenchError(f"{name} failed (rc={run.returncode}) after {run.seconds:.1f} s, output in {log}")
    if rerun and run.changed():
        raise BenchError(f"{name} is not idempotent: changed={run.changed()}, output in {log}")
    return {"seconds": run.seconds}


def event_span(result: awx.JobResult) -> float | None:
    """Seconds from the first to the last event the playbook emitted inside the EE."""
    stamps = [datetime.datetime.fromisoformat(e["created"]) for e in result.events if e.get("created")]
    return (max(stamps) - min(stamps)).total_seconds() if stamps else None


def chain(controller: awx.Controller, bed: testbed.Testbed, fleet_dir: Path, name: str, rerun: bool) -> dict:
    inventory = awx.awx_inventory(testbed.fleet_inventory(bed, fleet_dir, WEB_PASSWORD))
    controller.ssh_key = bed.private_key
    result = controller.run(awx.Job(playbook="playbooks/site.yml", inventory=inventory, name="promfleet site"))
    log = save(name, result.stdout)
    if (result.status, result.rc) != ("successful", 0):
        raise BenchError(f"{name}: {result.status} (rc={result.rc}) after {result.seconds:.1f} s, output in {log}")
    if rerun and any(result.changed().values()):
        raise BenchError(f"{name} is not idempotent: changed={result.changed()}, output in {log}")
    return {"seconds": result.seconds, "playbook": event_span(result)}


def one_round(mode: str, k: int, controller: awx.Controller) -> dict[str, dict]:
    """A fresh bed: the first converge and the re-run with ``mode``; the bed is torn down whatever happens."""
    fleet_dir = ROOT / f"{mode}{k}"
    shutil.rmtree(fleet_dir, ignore_errors=True)
    fleet_dir.mkdir(parents=True)
    controller.isolation_paths = [fleet_dir]
    bed = testbed.Testbed(testbed.FLEET_SITES, serve=testbed.releases_dir())
    try:
        bed.start()
        run = (lambda name, rerun: direct(bed, fleet_dir, name, rerun)) if mode == "direct" else \
            (lambda name, rerun: chain(controller, bed, fleet_dir, name, rerun))
        figures = {"converge": run(f"{mode}{k}-converge", False)}
        figures["rerun"] = run(f"{mode}{k}-rerun", True)
    finally:
        bed.stop()
        shutil.rmtree(fleet_dir, ignore_errors=True)
    span = figures["converge"].get("playbook")
    print(f"  {mode:6} {k}: bed {bed.timings['start']:4.1f} s, converge {figures['converge']['seconds']:5.1f} s"
          + (f" (playbook {span:.1f} s)" if span else "")
          + f", re-run {figures['rerun']['seconds']:5.1f} s (changed=0)", flush=True)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--repeat", type=int, default=2, metavar="N", help="rounds per mode (default 2)")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if os.geteuid() != 0 or not shutil.which("podman"):
        print("the test bed needs root and podman (make setup installs podman, runc and debootstrap)", file=sys.stderr)
        return 1
    testbed.PREFIX = PREFIX  # Host.container, Site.network and the clean-up read it when called
    print(f"machine: {os.cpu_count()} CPU(s), load average {load()}")
    sites = ", ".join("%s: %s" % (site, " + ".join(hosts)) for site, hosts in testbed.FLEET_SITES.items())
    print(f"bed: {sites}; EE network {awx.NETWORK}", flush=True)
    shutil.rmtree(ROOT, ignore_errors=True)
    ROOT.mkdir(parents=True)
    failures: list[str] = []
    results: dict[str, list[dict]] = {mode: [] for mode in MODES}
    try:
        started = time.monotonic()
        image = ee_image()
        revision = awx.checkout(ROOT / "checkout")
        print(f"  EE {image}, project checkout {revision[:12]} ({time.monotonic() - started:.1f} s)", flush=True)
        with awx.ReceptorNode(ROOT / "receptor") as node:
            controller = awx.Controller(node, image, ROOT / "checkout", revision, ROOT / "jobs",
                                        ssh_key=ROOT / "none", keep=False)
            try:
                for k in range(1, args.repeat + 1):
                    for mode in (MODES if k % 2 else MODES[::-1]):
                        results[mode].append(one_round(mode, k, controller))
            finally:
                controller.remove_containers()
    except (BenchError, awx.AWXError, testbed.TestbedError, subprocess.TimeoutExpired, OSError) as exc:
        failures.append(str(exc))
        print(f"  FAILED: {str(exc).splitlines()[0]}", flush=True)
    finally:
        left = [c for c in testbed.podman("ps", "--all", "--format", "{{.Names}}").stdout.split()
                if c.startswith(PREFIX)]
        if left:
            failures.append("containers left after the teardown: " + ", ".join(left))
        shutil.rmtree(ROOT, ignore_errors=True)

    def median(mode: str, step: str, key: str = "seconds") -> float | None:
        values = [r[step][key] for r in results[mode] if r[step].get(key) is not None]
        return statistics.median(values) if values else None

    rows = [("step", "direct s", "chain s", "chain/direct", "playbook in EE s", "chain overhead s")]
    for step, label in (("converge", "site.yml first converge (fresh bed)"), ("rerun", "site.yml re-run (changed=0)")):
        d, c, p = median("direct", step), median("chain", step), median("chain", step, "playbook")
        ratio, overhead = (c / d if c and d else None), (c - p if c and p else None)
        rows.append((label, fmt(d), fmt(c), fmt(ratio, 2), fmt(p), fmt(overhead)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    rounds = len(results["chain"])
    print(f"\nResults (median of {rounds} round(s) per mode; load average now {load()}):")
    for i, row in enumerate(rows):
        print("  " + row[0].ljust(widths[0]) + "  " + "  ".join(c.rjust(w) for c, w in zip(row[1:], widths[1:],
                                                                                           strict=True)))
        if i == 0:
            print("  " + "  ".join("-" * w for w in widths))
    for failure in failures:
        print(f"\nFAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
