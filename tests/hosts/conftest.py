"""Fixtures of the tests on real machines: one test bed per session, torn down whatever happens.

The bed (tests/support/testbed.py, ``FLEET_SITES``) holds two datacenters, ``dc1`` (a Prometheus
server and a machine it watches) and ``dc2`` (a server), and a global, each in a subnet of its own.
``converged`` is site.yml run once on it, shared by the modules; a module that needs the fleet
up after teardown.yml converges it again. Timings (bed start, playbook runs, teardown) are printed
at the end of the session.

The modules run in the order of a story: the bed, the converged fleet, security on the wire,
faults; the tests that tear the fleet down come last (``@pytest.mark.teardown``).
"""

from __future__ import annotations

import os
import shutil

import pytest
from bedfleet import Converged
from testbed import FLEET_SITES, Testbed, releases_dir

TIMINGS: dict[str, float] = {}
MODULE_ORDER = ["test_testbed.py", "test_systemd_hosts.py", "test_wire.py", "test_faults.py"]


def pytest_configure(config):
    config.addinivalue_line("markers", "teardown: tears the fleet down; runs after every other test of tests/hosts")


def pytest_collection_modifyitems(items):
    def order(item) -> tuple[int, int]:
        name = item.path.name
        in_hosts = item.path.parent.name == "hosts"
        module = MODULE_ORDER.index(name) if in_hosts and name in MODULE_ORDER else len(MODULE_ORDER)
        return (1 if item.get_closest_marker("teardown") else 0, module)

    items.sort(key=order)


@pytest.fixture(scope="session")
def bed():
    """The machines, started once; the releases cache is served to them over HTTP."""
    if os.geteuid() != 0 or not shutil.which("podman"):
        pytest.fail("the test bed needs root and podman: run `make setup` as root (it installs podman, runc and "
                    "debootstrap)", pytrace=False)
    testbed = Testbed(FLEET_SITES, serve=releases_dir())
    try:
        with testbed:
            TIMINGS["bed start"] = testbed.timings["start"]
            yield testbed
    finally:
        if "stop" in testbed.timings:
            TIMINGS["bed teardown"] = testbed.timings["stop"]


@pytest.fixture(scope="session")
def timings() -> dict[str, float]:
    """Seconds per step, printed in the session summary."""
    return TIMINGS


@pytest.fixture(scope="session")
def fleet(bed, timings, tmp_path_factory) -> Converged:
    """site.yml run once over SSH against the fresh hosts of the bed (nothing installed before)."""
    converged = Converged(bed, tmp_path_factory.mktemp("systemd-hosts"), timings)
    converged.first_run = converged.run(timing="site.yml converge")
    return converged


@pytest.fixture()
def converged(fleet) -> Converged:
    """The converged fleet (converged again when a test before tore it down)."""
    fleet.converge()
    return fleet


def pytest_terminal_summary(terminalreporter):
    if TIMINGS:
        terminalreporter.section("test bed timings")
        for step, seconds in TIMINGS.items():
            terminalreporter.write_line("%-28s %6.1f s" % (step, seconds))
