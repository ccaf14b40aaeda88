"""Fixtures of the AWX job tests: the chain AWX runs a job with, once per session, torn down whatever happens.

- ``bed``: the machines of tests/hosts (``testbed.FLEET_SITES``: dc1 with a server and a watched machine,
  dc2 with a server, a global) and ``dc3-prom-a``, a machine the inventory does not have yet (the
  add-a-datacenter job's survey names it), under the prefix ``pfa-`` so that this session and a
  tests/hosts session (``pft-``) can run side by side without either's clean-up removing the other's.
- ``ee_image``: the project's execution environment (scripts/ee_image.sh builds or loads it;
  PROMFLEET_EE_IMAGE names another one).
- ``receptor``: a receptor node configured as AWX configures an execution node (tests/support/awx.py).
- ``controller``: AWX's part: the project (a checkout of the work tree), the machine credential (the bed's
  key), the fleet's folder as a path exposed to isolated jobs (its ``pki/`` and ``report/``).
- ``site_job``: the first site.yml job on the fresh bed, shared by the tests.

Timings (bed start, receptor, each job, teardown) are printed at the end of the session.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import testbed
from awx import NEW_SITE, Controller, Job, JobResult, ReceptorNode, awx_inventory, checkout
from fleet import REPO

# bedfleet (tests/hosts): how the tests query the bed's servers over TLS
sys.path.insert(0, str(REPO / "tests" / "hosts"))
from bedfleet import WEB_PASSWORD  # noqa: E402

PREFIX = "pfa-"
TIMINGS: dict[str, float] = {}
EE_SCRIPT = REPO / "scripts" / "ee_image.sh"
MODULE_ORDER = ["test_job_directory.py", "test_site_job.py", "test_add_datacenter_job.py"]


def pytest_collection_modifyitems(items):
    def order(item) -> int:
        name = item.path.name
        return MODULE_ORDER.index(name) if name in MODULE_ORDER else len(MODULE_ORDER)

    items.sort(key=order)


@pytest.fixture(scope="session")
def timings() -> dict[str, float]:
    """Seconds per step, printed in the session summary."""
    return TIMINGS


@pytest.fixture(scope="session")
def ee_image() -> str:
    """The execution environment's image name, built or loaded once."""
    if os.environ.get("PROMFLEET_EE_IMAGE"):
        return os.environ["PROMFLEET_EE_IMAGE"]
    if not EE_SCRIPT.exists():
        pytest.fail("no scripts/ee_image.sh: set PROMFLEET_EE_IMAGE to an execution environment image", pytrace=False)
    started = time.monotonic()
    done = subprocess.run(["bash", str(EE_SCRIPT)], cwd=REPO, capture_output=True, text=True, check=False,
                          env=testbed.podman_env(), timeout=1800)
    if done.returncode != 0:
        pytest.fail("scripts/ee_image.sh failed (rc=%d):\n%s" % (done.returncode, (done.stdout + done.stderr)[-4000:]),
                    pytrace=False)
    TIMINGS["EE image (ee_image.sh)"] = time.monotonic() - started
    return done.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="session")
def bed():
    """The machines, started once; the releases cache is served to them over HTTP."""
    if os.geteuid() != 0 or not shutil.which("podman"):
        pytest.fail("the test bed needs root and podman: run `make setup` as root", pytrace=False)
    testbed.PREFIX = PREFIX  # Host.container, Site.network and the clean-up read it when called
    bed = testbed.Testbed({**testbed.FLEET_SITES, **NEW_SITE}, serve=testbed.releases_dir())
    try:
        with bed:
            TIMINGS["bed start"] = bed.timings["start"]
            yield bed
    finally:
        if "stop" in bed.timings:
            TIMINGS["bed teardown"] = bed.timings["stop"]


@pytest.fixture(scope="session")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("awx")


@pytest.fixture(scope="session")
def receptor(scratch):
    with ReceptorNode(scratch / "receptor") as node:
        TIMINGS["receptor start"] = node.seconds
        yield node


@pytest.fixture(scope="session")
def fleet_dir(scratch) -> Path:
    """The fleet's persistent folder on this machine (the CA under pki/, the verdict under report/): a path
    AWX exposes to isolated jobs, so the EE sees it at the same path."""
    path = scratch / "fleet"
    path.mkdir()
    return path


@pytest.fixture(scope="session")
def controller(receptor, ee_image, bed, fleet_dir, scratch):
    started = time.monotonic()
    revision = checkout(scratch / "checkout")
    TIMINGS["project checkout"] = time.monotonic() - started
    control = Controller(receptor, ee_image, scratch / "checkout", revision, scratch / "jobs",
                         ssh_key=bed.private_key, isolation_paths=[fleet_dir])
    try:
        yield control
    finally:
        control.remove_containers()


@pytest.fixture(scope="session")
def inventory(bed, fleet_dir) -> dict:
    """The bed's inventory as AWX's inventory script prints it. The fleet's web password is not in it: it
    comes as a survey answer (``survey``), an extra var tagged ``!unsafe`` like every one AWX passes."""
    data = testbed.fleet_inventory(bed, fleet_dir, WEB_PASSWORD)
    del data["all"]["vars"]["promfleet_web_password"]
    for site in NEW_SITE:
        del data["all"]["children"]["datacenters"]["children"]["dc_" + site]
    return awx_inventory(data)


@pytest.fixture(scope="session")
def survey() -> dict:
    return {"promfleet_web_password": WEB_PASSWORD}


@pytest.fixture(scope="session")
def run_job(controller, inventory, survey):
    """Run a job template of the project: playbook, name; timed under ``timing``."""

    def run(playbook: str, name: str, timing: str, answers: dict | None = None, **job) -> JobResult:
        """``answers``: the job template's own survey answers, besides the web password."""
        result = controller.run(Job(playbook=playbook, inventory=inventory, survey={**survey, **(answers or {})},
                                    name=name, **job))
        TIMINGS[timing] = result.seconds
        return result

    return run


@pytest.fixture(scope="session")
def site_job(run_job) -> JobResult:
    """site.yml as a job on the fresh bed (nothing installed before)."""
    return run_job("playbooks/site.yml", "promfleet site", "site job (converge)",
                   extra_vars={"promfleet_job_note": "{{ lookup('pipe', 'id') }}"})


def pytest_terminal_summary(terminalreporter):
    if TIMINGS:
        terminalreporter.section("AWX chain timings")
        for step, seconds in TIMINGS.items():
            terminalreporter.write_line("%-28s %6.1f s" % (step, seconds))
