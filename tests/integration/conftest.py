"""Fixtures of the integration tests: the converged federation shared by the tests that read it."""

from __future__ import annotations

import pytest
from fleet import Fleet
from it_support import ConvergedFleet, assert_succeeded, scratch_root, tear_down

# The shared federation: two datacenters and one global.
DATACENTERS = ["eu-west-1", "us-east-1"]


@pytest.fixture(scope="session")
def federation():
    """Two datacenters and a global, converged once and shared by the tests that only read it
    (and by those that change it and put it back)."""
    fleet = Fleet(scratch_root("federation"), datacenters=list(DATACENTERS))
    inventory = fleet.write_inventory()
    try:
        run = fleet.run("playbooks/site.yml", inventory, check=False)
        assert_succeeded(run)
        yield ConvergedFleet(fleet, inventory, run)
    finally:
        tear_down(fleet, inventory)
