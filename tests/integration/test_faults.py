"""Faults during site.yml, on real Prometheus servers: bad input on a running fleet, a machine
that is down, and a run killed while it writes the configuration.

Each test that needs its own fleet builds one in ``.tmp/it-<name>`` and tears it down.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from fleet import REPO, VENV_BIN, Fleet, ansible_env, federated_datacenters, free_ports, query, wait_for
from it_support import (
    assert_failed,
    assert_succeeded,
    config_files,
    says,
    scratch_root,
    server_readings,
    tear_down,
)

BAD_JOB = {
    "job_name": "app",
    "static_configs": [{"targets": ["127.0.0.1:1"]}],
    "relabel_configs": [{"source_labels": ["__address__"], "regex": "(", "target_label": "x"}],
}


def test_an_invalid_job_is_refused_before_it_is_written_and_running_servers_do_not_change(federation):
    files_before, servers_before = config_files(federation.fleet), server_readings(federation.fleet)
    run = federation.run("-e", json.dumps({"prometheus_scrape_configs": [BAD_JOB]}))
    assert_failed(run)
    assert says(run, "job \"app\", relabel_configs: relabel rule 1: regex: invalid regex '(': missing closing )"), \
        run.output[-4000:]
    assert run.changed() == 0
    assert config_files(federation.fleet) == files_before
    assert server_readings(federation.fleet) == servers_before, "a server restarted or reloaded"


def test_a_password_of_a_scrape_job_is_never_printed_not_even_with_check_diff_and_verbose(federation):
    secret = "it-s3cret-never-printed"
    job = {"job_name": "app", "basic_auth": {"username": "scraper", "password": secret},
           "static_configs": [{"targets": ["127.0.0.1:1"]}]}
    files_before = config_files(federation.fleet)
    run = federation.run("--check", "--diff", "-v", "-e", json.dumps({"prometheus_scrape_configs": [job]}))
    assert_succeeded(run)
    assert says(run, "job_name: app"), run.output[-4000:]  # the diff of prometheus.yml was shown
    assert secret not in run.output
    assert config_files(federation.fleet) == files_before


# --- a datacenter server down during site.yml --------------------------------------------------------


def unreachable(inventory: dict, datacenter: str, port: int) -> dict:
    """``inventory`` with the server of ``datacenter`` reached over SSH on a loopback port where nothing listens."""
    Fleet.datacenter_host(inventory, datacenter).update(
        ansible_connection="ssh", ansible_host="127.0.0.1", ansible_port=port,
        ansible_ssh_common_args="-o ConnectTimeout=3 -o BatchMode=yes -o StrictHostKeyChecking=no")
    return inventory


@pytest.fixture(scope="class")
def one_server_down():
    """A fleet whose us-east-1 server cannot be reached during the first site.yml, then can."""
    fleet = Fleet(scratch_root("faults-down"), datacenters=["eu-west-1", "us-east-1"])
    inventory = fleet.write_inventory()
    down = fleet.write_inventory("down.yml", data=unreachable(fleet.inventory(), "us-east-1", free_ports(1)[0]))
    try:
        yield {"fleet": fleet, "inventory": inventory,
               "run": fleet.run("playbooks/site.yml", down, check=False)}
    finally:
        tear_down(fleet, inventory)


class TestOneDatacenterServerDown:
    def test_the_run_fails_naming_the_server_it_could_not_reach(self, one_server_down):
        run = one_server_down["run"]
        assert_failed(run)
        assert run.recap()["us-east-1-prom-a"]["unreachable"] == 1
        assert says(run, "datacenter us-east-1: server us-east-1-prom-a was not reached in this run"), \
            run.output[-4000:]

    def test_the_other_datacenter_and_the_global_converge(self, one_server_down):
        recap = one_server_down["run"].recap()
        for host in ("eu-west-1-prom-a", "global-a"):
            assert recap[host]["failed"] == 0 and recap[host]["unreachable"] == 0, recap
        fleet = one_server_down["fleet"]
        assert query(fleet.url("global-a"), 'up{datacenter="eu-west-1", job!~"federate-.+"}')

    def test_the_global_already_has_the_federation_job_of_the_missing_datacenter(self, one_server_down):
        fleet = one_server_down["fleet"]
        jobs = {s["metric"]["job"] for s in query(fleet.url("global-a"), 'up{job=~"federate-.+"}')}
        assert jobs == {"federate-eu-west-1", "federate-us-east-1"}

    def test_a_rerun_with_the_server_back_converges_and_verifies(self, one_server_down):
        fleet = one_server_down["fleet"]
        run = fleet.run("playbooks/site.yml", one_server_down["inventory"], check=False)
        assert_succeeded(run)
        assert says(run, "federation verified")
        assert federated_datacenters(fleet.url("global-a")) == {"eu-west-1", "us-east-1"}


# --- a run killed while it writes the configuration ----------------------------------------------------

EXTRA = {
    "datacenter_extra_recording_rules": [
        {"name": "it_kill", "rules": [{"record": "job:it_kill_up:max", "expr": "max by (job) (up)"}]},
    ],
    "prometheus_scrape_configs": [
        {"job_name": "it-kill", "static_configs": [{"targets": ["127.0.0.1:1"]}]},
    ],
}
WRITE_TASK = ("TASK [promfleet.federation.daemon : "
              "Write the configuration, run the service and prove the configuration live]")


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (children first found, then theirs), from /proc."""
    children: dict[int, list[int]] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            # the field after the command (which may hold spaces) is the state, then the parent
            parent = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(proc.name))
    found, queue = [], [pid]
    while queue:
        for child in children.get(queue.pop(), []):
            found.append(child)
            queue.append(child)
    return found


def run_and_kill_while_writing(fleet: Fleet, inventory, delay: float) -> str:
    """Start site.yml with EXTRA and SIGKILL it, every process it started included, ``delay``
    seconds after the write task starts; returns the output seen. Ansible's workers start their own
    session (ansible-core 2.19 WorkerProcess._detach calls setsid), so the process group does not
    reach them: each one is killed by id too, or an orphaned worker outlives the test."""
    command = [str(VENV_BIN / "ansible-playbook"), "-i", str(inventory), "playbooks/site.yml", "-e", json.dumps(EXTRA)]
    process = subprocess.Popen(command, cwd=REPO, env=ansible_env(), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    seen = []
    try:
        for line in process.stdout:
            seen.append(line)
            if WRITE_TASK in line:
                time.sleep(delay)
                break
    finally:
        below = descendants(process.pid)
        os.killpg(process.pid, signal.SIGKILL)
        for pid in below:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        process.wait(timeout=60)
    return "".join(seen)


def whole_files(fleet: Fleet) -> dict[str, object]:
    """Every prometheus.yml and rule file of the fleet, parsed (a torn file would not parse)."""
    found = {}
    for path in sorted((fleet.root / "etc").rglob("*.yml")):
        found[str(path.relative_to(fleet.root))] = yaml.safe_load(path.read_bytes())
    return found


@pytest.fixture(scope="class")
def killed_runs():
    """A converged fleet; then site.yml with a change, killed during the write at several moments."""
    fleet = Fleet(scratch_root("faults-kill"), datacenters=["eu-west-1", "us-east-1"])
    inventory = fleet.write_inventory()
    try:
        assert_succeeded(fleet.run("playbooks/site.yml", inventory, check=False))
        old = whole_files(fleet)
        observed = []
        for delay in [0.0, 0.5, 1.0, random.uniform(0, 1.5)]:
            output = run_and_kill_while_writing(fleet, inventory, delay)
            assert WRITE_TASK in output, output[-3000:]
            observed.append((delay, whole_files(fleet)))
        yield {"fleet": fleet, "inventory": inventory, "old": old, "observed": observed}
    finally:
        tear_down(fleet, inventory)


def is_new(files: dict, name: str) -> bool:
    content = files[name]
    if name.endswith("prometheus.yml"):
        return "it-kill" in [job["job_name"] for job in content.get("scrape_configs", [])]
    return any(group["name"] == "it_kill" for group in content.get("groups", []))


class TestKilledWhileWriting:
    def test_every_file_is_the_old_or_the_new_one_never_a_mix(self, killed_runs):
        old = killed_runs["old"]
        for delay, files in killed_runs["observed"]:
            for name, content in files.items():
                assert name in old or is_new(files, name), "unexpected file %s after a kill at %.2f s" % (name, delay)
                if name in old and content != old[name]:
                    assert is_new(files, name), "%s is neither old nor new after a kill at %.2f s" % (name, delay)

    def test_a_rerun_converges_and_verifies(self, killed_runs):
        fleet = killed_runs["fleet"]
        run = fleet.run("playbooks/site.yml", killed_runs["inventory"], "-e", json.dumps(EXTRA), check=False)
        assert_succeeded(run)
        assert says(run, "federation verified")
        files = whole_files(fleet)
        assert all(is_new(files, name) for name in files if name.endswith("prometheus.yml") and "global" not in name)
        assert not list((fleet.root / "etc").rglob("*.tmp")), "temporary files left behind"
        readings = server_readings(fleet)
        again = fleet.run("playbooks/site.yml", killed_runs["inventory"], "-e", json.dumps(EXTRA), check=False)
        assert_succeeded(again)
        assert again.changed() == 0, again.recap()
        assert server_readings(fleet) == readings
        assert wait_for(lambda: query(fleet.url("eu-west-1-prom-a"), "job:it_kill_up:max"), timeout=30,
                        what="the new rule evaluated after the re-run")
