"""playbooks/upgrade.yml: a rolling upgrade of a 2.42 federation (two datacenters, one global) to 3.5.

One fleet for the whole module, converged on 2.42 with site.yml; the tests run in file order:

1. a canary that cannot start the new release: the rollout stops there, the canary is back on 2.42 and
   federated, the other datacenter was not touched, the run fails naming the server;
2. the upgrade to 3.5: every server on 3.5, the series written on 2.42 still there, every datacenter federated;
3. a second run changes nothing;
4. 3.5 -> 2.42 is refused before anything changes, naming the host and both versions.

The target release is in the inventory (all vars), as upgrade.yml wants it; ``prometheus_upgrade_previous`` gives the
2.42 binaries a rollback puts back (the binary install method cannot derive them).
"""

from __future__ import annotations

import json
import time
import urllib.parse

import pytest
import releases
from fleet import Fleet, federated_datacenters, open_url, wait_for
from it_support import (
    assert_failed,
    assert_succeeded,
    config_files,
    says,
    scratch_root,
    server_readings,
    tear_down,
)

DATACENTERS = ["eu-west-1", "us-east-1"]
CANARY = Fleet.server_of("eu-west-1")  # the first datacenter by name
OTHER = Fleet.server_of("us-east-1")
OLD, NEW = releases.release("2.42")["version"], releases.release("3.5")["version"]


def version_of(url: str) -> str:
    with open_url(url + "/api/v1/status/buildinfo") as response:
        return json.load(response)["data"]["version"]


def query_at(url: str, promql: str, at: float) -> list[dict]:
    params = urllib.parse.urlencode({"query": promql, "time": "%.3f" % at})
    with open_url("%s/api/v1/query?%s" % (url, params)) as response:
        return json.load(response)["data"]["result"]


def all_federated(fleet: Fleet) -> bool:
    return federated_datacenters(fleet.url(fleet.globals_[0])) == set(fleet.datacenters)


def fresh_at_global(fleet: Fleet, datacenter: str, max_age: float = 4.0) -> bool:
    """The newest federated `up` of ``datacenter`` at the global is younger than ``max_age`` seconds."""
    ages = query_at(fleet.url(fleet.globals_[0]),
                    'time() - max(timestamp(up{datacenter="%s", job!~"federate-.+"}))' % datacenter, time.time())
    return bool(ages) and float(ages[0]["value"][1]) < max_age


class Upgrade:
    def __init__(self, fleet: Fleet):
        self.fleet = fleet
        self.old_inventory = fleet.write_inventory("old.yml")
        data = fleet.inventory()
        data["all"]["vars"].update(releases.binary_vars(NEW), prometheus_upgrade_previous=releases.binary_vars(OLD))
        self.inventory = fleet.write_inventory("new.yml", data=data)
        # The canary gets a "release" that cannot start: its promtool is 3.5's (the config checks pass),
        # its prometheus exits at once. Only the service start tells.
        fake = fleet.root / "broken-release" / "prometheus"
        fake.parent.mkdir(mode=0o755)
        fake.write_text("#!/bin/sh\necho 'prometheus: this release cannot start (test)' >&2\nexit 1\n")
        fake.chmod(0o755)
        Fleet.datacenter_host(data, "eu-west-1").update(prometheus_binary_path=str(fake), prometheus_start_timeout=10)
        self.broken_inventory = fleet.write_inventory("broken-canary.yml", data=data)
        self.before = 0.0  # a time when every server had written series on the old release

    def run(self, inventory, *args):
        return self.fleet.run("playbooks/upgrade.yml", inventory, *args, check=False)


@pytest.fixture(scope="module")
def upgrade():
    fleet = Fleet(scratch_root("upgrade"), datacenters=list(DATACENTERS), release="2.42")
    state = Upgrade(fleet)
    try:
        assert_succeeded(fleet.run("playbooks/site.yml", state.old_inventory, check=False))
        wait_for(lambda: all_federated(fleet), timeout=30, what="every datacenter at the global")
        state.before = time.time()
        yield state
    finally:
        tear_down(fleet, state.old_inventory)


def test_a_canary_that_cannot_start_stops_the_rollout_and_is_rolled_back(upgrade):
    fleet = upgrade.fleet
    run = upgrade.run(upgrade.broken_inventory)
    assert_failed(run)
    assert says(run, "upgrade stopped at %s (datacenter eu-west-1)" % CANARY), run.output[-6000:]
    assert says(run, "Rolled back to %s (TSDB kept)" % OLD), run.output[-6000:]
    # The global went first and is on the new release; the other datacenter was never touched.
    assert version_of(fleet.url("global-a")).startswith(NEW)
    assert version_of(fleet.url(OTHER)).startswith(OLD)
    assert OTHER not in {host for host, counts in run.recap().items() if counts.get("changed")}
    # The canary is back on its release, and federated (fresh) again.
    assert version_of(fleet.url(CANARY)).startswith(OLD)
    assert wait_for(lambda: all_federated(fleet) and fresh_at_global(fleet, "eu-west-1"), timeout=20,
                    what="eu-west-1 fresh at the global after the rollback")


def test_upgrade_to_3_5_keeps_the_data_and_the_federation(upgrade):
    fleet = upgrade.fleet
    run = upgrade.run(upgrade.inventory)
    assert_succeeded(run)
    for host in fleet.hosts():
        assert version_of(fleet.url(host)).startswith(NEW), host
        # Series written on 2.42, before any upgrade, are still there (same TSDB directory).
        assert query_at(fleet.url(host), 'up{job="prometheus"}', upgrade.before), "%s lost its 2.42 data" % host
    assert query_at(fleet.url("global-a"), 'up{datacenter="us-east-1", job!~"federate-.+"}', upgrade.before)
    assert wait_for(lambda: all_federated(fleet), timeout=20, what="every datacenter at the global")
    for datacenter in DATACENTERS:
        assert wait_for(lambda dc=datacenter: fresh_at_global(fleet, dc), timeout=20, what="%s fresh" % datacenter)


def test_a_second_upgrade_changes_nothing(upgrade):
    run = upgrade.run(upgrade.inventory)
    assert_succeeded(run)
    assert run.changed() == 0, "a second run changed something: %s\n%s" % (run.recap(), run.output[-6000:])


def test_a_downgrade_from_3_5_to_2_42_is_refused_before_anything_changes(upgrade):
    fleet = upgrade.fleet
    files, readings = config_files(fleet), server_readings(fleet)
    run = upgrade.run(upgrade.old_inventory)
    assert_failed(run)
    for host in fleet.hosts():
        assert says(run, "upgrade refused: server %s runs Prometheus %s and the target release %s is older"
                    % (host, NEW, OLD)), run.output[-6000:]
    assert run.changed() == 0
    assert config_files(fleet) == files
    assert server_readings(fleet) == readings, "a server restarted or reloaded"
