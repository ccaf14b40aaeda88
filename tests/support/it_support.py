"""Helpers of the integration tests: scratch roots, checked teardown, assertions on playbook runs.

Every fleet lives under ``/work/main/.tmp/it-<name>`` (mode 0755 all the way down, so the
``prometheus`` user reaches its directories; pytest's own tmp dirs are 0700). Whatever a test
starts is torn down with ``playbooks/teardown.yml``, and the teardown is checked: no process
with the root in its command line, no port of the fleet listening.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from fleet import REPO, Fleet, PlaybookRun, listening, metric, processes_matching

SCRATCH = REPO / ".tmp"


def scratch_root(name: str) -> Path:
    """An empty ``.tmp/it-<name>`` (0755), cleared of what an interrupted earlier session left."""
    SCRATCH.mkdir(mode=0o755, exist_ok=True)
    root = SCRATCH / ("it-" + name)
    if root.exists():
        _stop_leftovers(root)
        shutil.rmtree(root)
    root.mkdir(mode=0o755)
    root.chmod(0o755)
    return root


def _pids_under(root: Path) -> list[int]:
    """Processes whose command line names ``root`` (all of them were started by a test)."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(root) + "/" in cmdline:
            pids.append(int(proc.name))
    return pids


def _stop_leftovers(root: Path) -> None:
    """Last resort after a failed teardown: stop the fleet's private supervisord, then its processes by id."""
    conf = root / "supervisor" / "supervisord.conf"
    if conf.exists():
        subprocess.run(["supervisorctl", "-c", str(conf), "shutdown"], capture_output=True, check=False, timeout=90)
    deadline = time.monotonic() + 30
    while _pids_under(root) and time.monotonic() < deadline:
        time.sleep(0.5)
    for pid in _pids_under(root):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def leftovers(fleet: Fleet) -> list[str]:
    """What still runs of ``fleet``: processes naming its root, and its ports that still listen."""
    found = processes_matching(str(fleet.root) + "/")
    found += ["port %d (%s) still listens" % (port, host) for host, port in fleet.ports.items() if listening(port)]
    return found


def assert_nothing_runs(fleet: Fleet) -> None:
    left = leftovers(fleet)
    assert not left, "still running:\n" + "\n".join(left)


def tear_down(fleet: Fleet, inventory: Path | None = None, always: bool = True) -> None:
    """Run playbooks/teardown.yml, then check that nothing is left; clean up by force if something is.

    With ``always=False`` the playbook runs only when something was started (a supervisord
    configuration or a process exists), which keeps the refused-preflight tests cheap.
    """
    started = (fleet.root / "supervisor").exists() or bool(leftovers(fleet))
    run = None
    if always or started:
        run = fleet.run("playbooks/teardown.yml", inventory, check=False)
        deadline = time.monotonic() + 15
        while leftovers(fleet) and time.monotonic() < deadline:
            time.sleep(0.5)
    left = leftovers(fleet)
    if left:
        _stop_leftovers(fleet.root)
    shutil.rmtree(fleet.root, ignore_errors=True)
    if run is not None:
        assert run.returncode == 0, "playbooks/teardown.yml failed (rc=%d):\n%s" % (run.returncode, run.output[-6000:])
    assert not left, "playbooks/teardown.yml left these running:\n" + "\n".join(left)


START_TIME = "process_start_time_seconds"
RELOADED_AT = "prometheus_config_last_reload_success_timestamp_seconds"


def server_readings(fleet: Fleet) -> dict[str, dict[str, float]]:
    """When each server started, and when it last loaded its configuration."""
    return {h: {"started": metric(fleet.url(h), START_TIME), "reloaded": metric(fleet.url(h), RELOADED_AT)}
            for h in fleet.hosts()}


def says(run: PlaybookRun, phrase: str) -> bool:
    """Whether the run's output contains ``phrase``, whatever line breaks the YAML callback put in it."""
    return " ".join(phrase.split()) in " ".join(run.output.split())


def table_lines(run: PlaybookRun) -> list[str]:
    """The lines of the verify table a run printed (the debug task prints them as a YAML list)."""
    return [line.strip()[2:] for line in run.output.splitlines()
            if line.strip().startswith("- ") and ("  ok" in line or "FAILED" in line or "DATACENTER" in line)]


def assert_succeeded(run: PlaybookRun) -> None:
    assert run.returncode == 0, "ansible-playbook failed (rc=%d):\n%s" % (run.returncode, run.output[-6000:])


def assert_failed(run: PlaybookRun) -> None:
    assert run.returncode != 0, "ansible-playbook succeeded where it should fail:\n%s" % run.output[-6000:]


def config_files(fleet: Fleet) -> dict[str, bytes]:
    """Bytes of every configuration file the role writes: prometheus.yml, rule files, supervisord programs."""
    files = {}
    for top in ("etc", "supervisor/programs"):
        base = fleet.root / top
        for path in sorted(base.rglob("*")) if base.exists() else []:
            if path.is_file():
                files[str(path.relative_to(fleet.root))] = path.read_bytes()
    return files


@dataclass
class ConvergedFleet:
    """A fleet after a successful ``playbooks/site.yml``, with the inventory it ran on."""

    fleet: Fleet
    inventory: Path
    first_run: PlaybookRun

    def run(self, *args: str) -> PlaybookRun:
        return self.fleet.run("playbooks/site.yml", self.inventory, *args, check=False)

    @property
    def global_url(self) -> str:
        return self.fleet.url(self.fleet.globals_[0])

    @property
    def datacenter_servers(self) -> list[str]:
        return [self.fleet.server_of(dc) for dc in self.fleet.datacenters]
