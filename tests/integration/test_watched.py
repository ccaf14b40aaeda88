"""What each datacenter watches, end to end: real node_exporters (Debian's) on watched machines of
the inventory, a service with its own metrics path, real datacenter servers reading file_sd target
files, and a global federating their aggregates.

The fleet is converged once for the module (two datacenters, one machine each, one global); the
tests that add or remove a machine put it back.
"""

from __future__ import annotations

import http.server
import json
import stat
import threading

import pytest
from fleet import FAST_INTERVALS, Fleet, free_ports, listening, query, wait_for
from it_support import (
    assert_failed,
    assert_succeeded,
    config_files,
    says,
    scratch_root,
    server_readings,
    table_lines,
    tear_down,
)

DATACENTERS = ["eu-west-1", "us-east-1"]
MACHINES = {"eu-west-1": ["eu-west-1-node-1"], "us-east-1": ["us-east-1-node-1"]}
# How soon a new machine shows at each: at its datacenter, one update of Prometheus' discovery
# manager (it hands target changes to the scrapers at most every 5 s, whatever the file_sd watch
# saw) and two scrape intervals; at the global, after that, one rule evaluation and one
# federation interval more.
DISCOVERY_UPDATE = 5.0
SCRAPE = float(FAST_INTERVALS["datacenter_scrape_interval"].rstrip("s"))
AT_DATACENTER = DISCOVERY_UPDATE + 2 * SCRAPE
AT_GLOBAL = 2 * SCRAPE + float(FAST_INTERVALS["datacenter_evaluation_interval"].rstrip("s")) + float(
    FAST_INTERVALS["global_federation_interval"].rstrip("s"))
# The custom service's own metrics path, and what it serves there.
SERVICE_PATH = "/internal/metrics"
SERVICE_BODY = b"# TYPE checkout_orders_total counter\ncheckout_orders_total 42\n"


class _Service(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        found = self.path.split("?")[0] == SERVICE_PATH
        self.send_response(200 if found else 404)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.end_headers()
        if found:
            self.wfile.write(SERVICE_BODY)

    def log_message(self, *_args):
        pass


class Watching:
    def __init__(self, fleet: Fleet, service_port: int) -> None:
        self.fleet = fleet
        self.service_port = service_port

    def inventory(self) -> dict:
        data = self.fleet.inventory()
        Fleet.machine_host(data, "eu-west-1", "eu-west-1-node-1")["watched_services"] = [
            {"name": "checkout", "port": self.service_port, "metrics_path": SERVICE_PATH}]
        return data

    def run(self, *args: str, data: dict | None = None, check: bool = False):
        inventory = self.fleet.write_inventory(data=data or self.inventory())
        return self.fleet.run("playbooks/site.yml", inventory, *args, check=check)

    @property
    def dc_url(self) -> str:
        return self.fleet.url(Fleet.server_of("eu-west-1"))

    @property
    def global_url(self) -> str:
        return self.fleet.url("global-a")

    def target_file(self, job: str, datacenter: str = "eu-west-1"):
        return self.fleet.root / "etc" / ("promfleet-" + Fleet.server_of(datacenter)) / "targets" / (job + ".json")


@pytest.fixture(scope="module")
def watching():
    service_port = free_ports(1)[0]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", service_port), _Service)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    fleet = Fleet(scratch_root("watched"), datacenters=list(DATACENTERS),
                  watched={dc: list(machines) for dc, machines in MACHINES.items()})
    state = Watching(fleet, service_port)
    try:
        run = state.run()
        assert_succeeded(run)
        state.first_run = run
        yield state
    finally:
        server.shutdown()
        tear_down(fleet, fleet.write_inventory(data=state.inventory()))


def node_instances(url: str) -> set:
    return {s["metric"]["instance"] for s in query(url, 'up{job="node"} == 1')}


def node_count_at_global(url: str, datacenter: str) -> float | None:
    found = query(url, 'job:up:sum{job="node", datacenter="%s"}' % datacenter)
    return float(found[0]["value"][1]) if found else None


def test_each_datacenter_scrapes_the_node_exporters_of_its_own_machines_only(watching):
    for dc, machines in MACHINES.items():
        assert node_instances(watching.fleet.url(Fleet.server_of(dc))) == set(machines)


def _memory_of_every_datacenter(url: str) -> list:
    found = query(url, '{__name__=~"job:node_memory.*", job="node"}')
    return found if {s["metric"]["datacenter"] for s in found} == set(DATACENTERS) else []


def test_the_global_has_the_job_aggregates_of_the_node_exporters_with_the_datacenter_label(watching):
    for dc in DATACENTERS:
        assert wait_for(lambda dc=dc: node_count_at_global(watching.global_url, dc) == 1, timeout=30,
                        what="job:up:sum of job node at the global for %s" % dc)
    # Each datacenter's recording rule runs on its own schedule: wait for both.
    memory = wait_for(lambda: _memory_of_every_datacenter(watching.global_url), timeout=30,
                      what="a node memory aggregate at the global for every datacenter")
    assert {s["metric"]["datacenter"] for s in memory} == set(DATACENTERS)
    assert all(0 < float(s["value"][1]) < 1 for s in memory if s["metric"]["__name__"].endswith("ratio"))


def test_the_service_is_scraped_at_its_own_path_and_kept_by_name(watching):
    samples = query(watching.dc_url, "checkout_orders_total")
    assert [(s["metric"]["job"], s["metric"]["service"], s["metric"]["instance"], s["value"][1]) for s in samples] == [
        ("checkout", "checkout", "eu-west-1-node-1", "42")]


def test_one_target_file_per_job_readable_by_the_server_only(watching):
    directory = watching.target_file("node").parent
    assert sorted(p.name for p in directory.iterdir()) == ["checkout.json", "node.json"]
    groups = json.loads(watching.target_file("node").read_text())
    assert groups == [{"targets": ["127.0.0.1:%d" % watching.fleet.ports["eu-west-1-node-1"]],
                       "labels": {"instance": "eu-west-1-node-1"}}]
    assert stat.S_IMODE(watching.target_file("node").stat().st_mode) == 0o640
    assert json.loads(watching.target_file("checkout").read_text())[0]["labels"]["__metrics_path__"] == SERVICE_PATH


def test_the_verify_table_shows_the_watched_machines_of_each_datacenter(watching):
    rows = {line.split()[0]: line.split() for line in table_lines(watching.first_run)}
    assert rows["DATACENTER"][:4] == ["DATACENTER", "SERVERS", "WATCHED", "TARGETS"]
    # eu-west-1: one machine with its node_exporter and the service, and the server itself
    assert rows["eu-west-1"][:5] == ["eu-west-1", "eu-west-1-prom-a", "1/1", "up", "3/3"], rows
    assert rows["us-east-1"][:5] == ["us-east-1", "us-east-1-prom-a", "1/1", "up", "2/2"], rows


def test_a_second_run_changes_nothing(watching):
    run = watching.run()
    assert_succeeded(run)
    assert run.changed() == 0, "a second run changed something: %s\n%s" % (run.recap(), run.output[-6000:])


def test_adding_a_machine_changes_a_target_file_only_and_shows_at_the_global_without_a_reload(watching):
    fleet = watching.fleet
    before = server_readings(fleet)
    configs_before = {k: v for k, v in config_files(fleet).items() if k.endswith("prometheus.yml")}
    fleet.add_machine("eu-west-1", "eu-west-1-node-2")
    try:
        check = watching.run("--check", "--diff")
        assert_succeeded(check)
        assert says(check, "+++ after: %s" % watching.target_file("node"))
        assert not listening(fleet.ports["eu-west-1-node-2"]), "check mode started the new node_exporter"
        assert len(json.loads(watching.target_file("node").read_text())) == 1, "check mode wrote the target file"

        run = watching.run()
        assert_succeeded(run)
        wait_for(lambda: "eu-west-1-node-2" in node_instances(watching.dc_url), timeout=AT_DATACENTER,
                 what="the new machine up at its datacenter within a discovery update and two scrape intervals")
        wait_for(lambda: node_count_at_global(watching.global_url, "eu-west-1") == 2, timeout=AT_GLOBAL,
                 what="the global's job:up:sum of job node for eu-west-1 to move to 2")
        after = server_readings(fleet)
        assert after == before, "a server reloaded or restarted when a machine was added: %s -> %s" % (before, after)
        assert {k: v for k, v in config_files(fleet).items() if k.endswith("prometheus.yml")} == configs_before
    finally:
        # Retire it the documented way: its node_exporter first, then out of the inventory.
        retire = fleet.run("playbooks/teardown.yml", fleet.write_inventory(data=watching.inventory()),
                           "--limit", "eu-west-1-node-2", check=False)
        fleet.watched["eu-west-1"].remove("eu-west-1-node-2")
    assert_succeeded(retire)
    assert not listening(fleet.ports["eu-west-1-node-2"]), "teardown left the node_exporter listening"
    run = watching.run()
    assert_succeeded(run)
    wait_for(lambda: node_instances(watching.dc_url) == {"eu-west-1-node-1"}, timeout=AT_DATACENTER,
             what="the removed machine gone from its datacenter")
    wait_for(lambda: node_count_at_global(watching.global_url, "eu-west-1") == 1, timeout=AT_GLOBAL,
             what="the global's job:up:sum of job node for eu-west-1 back to 1")
    assert server_readings(fleet) == before, "a server reloaded or restarted when a machine was removed"


def test_bad_input_of_watched_machines_is_refused_naming_host_and_field_and_changes_nothing(watching):
    fleet = watching.fleet
    files_before, readings_before = config_files(fleet), server_readings(fleet)
    data = watching.inventory()
    node = Fleet.machine_host(data, "eu-west-1", "eu-west-1-node-1")
    node["watched_exporters"] = [{"name": "my-sql", "port": 9104}, {"name": "redis", "port": 99999},
                                 {"name": "probe", "port": 9115, "scheme": "ftp", "labels": {"job": "x"}}]
    node["watched_labels"] = {"instance": "x"}
    Fleet.machine_host(data, "us-east-1", "us-east-1-node-1").update(
        node_exporter_port=fleet.ports["us-east-1-prom-a"], node_exporter_enabled="maybe")
    run = watching.run(data=data)
    assert_failed(run)
    for phrase in [
        "host 'eu-west-1-node-1': watched_exporters[0].name is 'my-sql'; it names the scrape job, so it must be an "
        "identifier",
        "host 'eu-west-1-node-1': watched_exporters[1].port is 99999; it must be a TCP port number from 1 to 65535",
        "host 'eu-west-1-node-1': watched_exporters[2].scheme is 'ftp'; use http or https",
        "host 'eu-west-1-node-1': watched_exporters[2].labels: label 'job' is set by the collection",
        "host 'eu-west-1-node-1': watched_labels: label 'instance' is set by the collection",
        "host 'us-east-1-node-1': node_exporter_enabled is 'maybe'; it must be true or false",
        "hosts 'us-east-1-prom-a' (prometheus_port) and 'us-east-1-node-1' (node_exporter_port) run on the same "
        "machine and both use port %d" % fleet.ports["us-east-1-prom-a"],
    ]:
        assert says(run, phrase), "%r not in:\n%s" % (phrase, run.output[-6000:])
    assert config_files(fleet) == files_before
    assert server_readings(fleet) == readings_before
