"""Alerting across datacenters, end to end: a two-peer Alertmanager cluster (Debian's) of the
inventory, two datacenters and a replica pair of globals on loopback, and a small HTTP receiver in
the test that records every notification.

The fleet is converged once for the module; each test puts back what it stops.
"""

from __future__ import annotations

import http.server
import json
import subprocess
import threading
import time

import pytest
from fleet import FAST_INTERVALS, Fleet, free_ports, get_json, metric, query, wait_for
from it_support import assert_failed, assert_succeeded, config_files, says, scratch_root, table_lines, tear_down

DATACENTERS = ["eu-west-1", "us-east-1"]
GLOBALS = ["global-a", "global-b"]
ALERTMANAGERS = ["am-a", "am-b"]
FEDERATION = float(FAST_INTERVALS["global_federation_interval"].rstrip("s"))
EVALUATION = float(FAST_INTERVALS["global_evaluation_interval"].rstrip("s"))
# The federation alerts' `for` (global_federation_alert_after: three federation intervals).
ALERT_AFTER = 3 * FEDERATION
GROUP_WAIT = 1.0
# From a datacenter going dark to the notification: the global's next federation scrape fails, the
# next evaluation sees it (pending), `for` passes, the next evaluation fires it and Prometheus sends
# it at once, the Alertmanager waits group_wait. Two seconds of slack for the processes.
BOUND = FEDERATION + EVALUATION + ALERT_AFTER + EVALUATION + GROUP_WAIT + 2.0
# How long a second notification would take to show: the second peer notifies only after the first
# one's peer timeout (15 s by default) when the first did not, so waiting longer than that proves once.
DUPLICATE_WINDOW = 20.0


class Receiver(http.server.BaseHTTPRequestHandler):
    """A webhook receiver that records the alerts of every notification."""

    notifications: list = []
    lock = threading.Lock()

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        with Receiver.lock:
            Receiver.notifications.append({"at": time.monotonic(), "status": body.get("status"),
                                           "alerts": [dict(a["labels"], status=a["status"]) for a in body["alerts"]]})
        self.send_response(200)
        self.end_headers()

    def log_message(self, *_args):
        pass


def notified(alertname: str, status: str, since: float, **labels: str) -> list:
    """Notifications since ``since`` carrying ``alertname`` in ``status`` with ``labels``."""
    with Receiver.lock:
        return [n for n in Receiver.notifications if n["at"] >= since and any(
            a.get("alertname") == alertname and a["status"] == status
            and all(a.get(k) == v for k, v in labels.items()) for a in n["alerts"])]


@pytest.fixture(scope="module")
def alerting():
    port = free_ports(1)[0]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    route = {"receiver": "test", "group_by": ["alertname", "datacenter"], "group_wait": "%ds" % GROUP_WAIT,
             "group_interval": "2s", "repeat_interval": "1h"}
    receivers = [{"name": "test", "webhook_configs": [{"url": "http://127.0.0.1:%d/hook" % port,
                                                       "send_resolved": True}]}]
    fleet = Fleet(scratch_root("alerting"), datacenters=list(DATACENTERS), globals_=list(GLOBALS),
                  alertmanagers=list(ALERTMANAGERS),
                  extra_vars={"alertmanager_route": route, "alertmanager_receivers": receivers})
    inventory = fleet.write_inventory()
    try:
        run = fleet.run("playbooks/site.yml", inventory, check=False)
        assert_succeeded(run)
        fleet.first_run = run
        yield fleet
    finally:
        server.shutdown()
        tear_down(fleet, inventory)


def supervisorctl(fleet: Fleet, action: str, program: str) -> None:
    subprocess.run(["supervisorctl", "-c", str(fleet.supervisord_conf), action, program], check=True,
                   capture_output=True, timeout=60)


def test_the_alertmanagers_form_one_cluster_and_the_table_says_so(alerting):
    rows = {line.split()[0] + line.split()[1]: line for line in table_lines(alerting.first_run)
            if line.startswith("(alertmanagers")}
    assert "2/2 in cluster" in rows["(alertmanagersglobal)"], rows
    for name in ALERTMANAGERS:
        status = get_json(alerting.url(name) + "/api/v2/status")
        assert len(status["cluster"]["peers"]) == 2


def test_every_server_sends_to_every_alertmanager_without_its_replica_label(alerting):
    expected = sorted("127.0.0.1:%d" % alerting.ports[a] for a in ALERTMANAGERS)
    for host in alerting.hosts():
        answer = get_json(alerting.url(host) + "/api/v1/alertmanagers")
        active = sorted(a["url"].split("//")[1].split("/")[0] for a in answer["data"]["activeAlertmanagers"])
        assert active == expected, host


def test_the_dead_mans_switch_reaches_the_receiver_once_for_the_replica_pair(alerting):
    wait_for(lambda: notified("Watchdog", "firing", 0), timeout=60, what="the Watchdog at the receiver")
    first = notified("Watchdog", "firing", 0)[0]["at"]
    time.sleep(max(0.0, first + DUPLICATE_WINDOW - time.monotonic()))
    assert len(notified("Watchdog", "firing", 0)) == 1, Receiver.notifications


def test_a_datacenter_gone_dark_pages_once_within_the_bound_and_resolves_when_it_returns(alerting):
    program = "promfleet-" + Fleet.server_of("us-east-1")
    stopped = time.monotonic()
    supervisorctl(alerting, "stop", program)
    try:
        wait_for(lambda: notified("FederationDatacenterDown", "firing", stopped, datacenter="us-east-1"),
                 timeout=BOUND + 30, what="FederationDatacenterDown for us-east-1 at the receiver")
        arrived = notified("FederationDatacenterDown", "firing", stopped, datacenter="us-east-1")[0]["at"]
        assert arrived - stopped <= BOUND, "the notification took %.1f s; the bound is %.1f s" % (
            arrived - stopped, BOUND)
        time.sleep(max(0.0, arrived + DUPLICATE_WINDOW - time.monotonic()))
        assert len(notified("FederationDatacenterDown", "firing", stopped, datacenter="us-east-1")) == 1
        assert not notified("FederationDatacenterDown", "firing", stopped, datacenter="eu-west-1")
        firing = query(alerting.url("global-a"), 'ALERTS{alertname="FederationDatacenterDown", alertstate="firing"}')
        assert [a["metric"]["datacenter"] for a in firing] == ["us-east-1"]
    finally:
        started = time.monotonic()
        supervisorctl(alerting, "start", program)
    wait_for(lambda: notified("FederationDatacenterDown", "resolved", started, datacenter="us-east-1"),
             timeout=60, what="FederationDatacenterDown for us-east-1 resolved at the receiver")


def test_with_one_alertmanager_stopped_notifications_still_arrive_once(alerting):
    supervisorctl(alerting, "stop", "promfleet-alertmanager-am-b")
    program = "promfleet-" + Fleet.server_of("eu-west-1")
    try:
        stopped = time.monotonic()
        supervisorctl(alerting, "stop", program)
        try:
            wait_for(lambda: notified("FederationDatacenterDown", "firing", stopped, datacenter="eu-west-1"),
                     timeout=BOUND + 30, what="FederationDatacenterDown for eu-west-1 with one Alertmanager left")
            time.sleep(DUPLICATE_WINDOW)
            assert len(notified("FederationDatacenterDown", "firing", stopped, datacenter="eu-west-1")) == 1
        finally:
            supervisorctl(alerting, "start", program)
    finally:
        supervisorctl(alerting, "start", "promfleet-alertmanager-am-b")
    wait_for(lambda: len(get_json(alerting.url("am-b") + "/api/v2/status")["cluster"]["peers"]) == 2, timeout=60,
             what="am-b back in the cluster")


@pytest.mark.parametrize("route, message", [
    ({"receiver": "test", "routes": [{"receiver": "nobody"}]},
     "route.routes[0].receiver: 'nobody' is not a receiver; the receivers are 'test'"),
    ({"receiver": "test", "routes": [{"receiver": "test", "matchers": ['severity=~"("']}]},
     "route.routes[0]: matchers[0] 'severity=~\"(\"': '(' is not a valid Go regular expression"),
    ({"receiver": "test", "group_wait": "soon"}, "route.group_wait: 'soon' is not a duration"),
    ({"receiver": "test", "routes": [{"receiver": "test"}, {"receiver": "test", "matchers": ['a="b"']}]},
     "route.routes[1]: can never be reached: route.routes[0] before it has no matchers and no continue"),
], ids=["unknown receiver", "bad matcher", "bad duration", "route that never matches"])
def test_bad_alertmanager_configuration_is_refused_naming_host_route_and_field_and_changes_nothing(
        alerting, route, message):
    before, readings = config_files(alerting), alertmanager_readings(alerting)
    data = alerting.inventory()
    data["all"]["vars"]["alertmanager_route"] = route
    run = alerting.run("playbooks/site.yml", alerting.write_inventory("bad.yml", data=data), check=False)
    assert_failed(run)
    for host in ALERTMANAGERS:
        assert says(run, "host '%s': invalid Alertmanager settings: alertmanager.yml: %s" % (host, message)), (
            run.output[-4000:])
    assert config_files(alerting) == before
    assert alertmanager_readings(alerting) == readings


def alertmanager_readings(fleet: Fleet) -> dict:
    """When each Alertmanager started and last loaded its configuration."""
    return {name: (metric(fleet.url(name), "process_start_time_seconds"),
                   metric(fleet.url(name), "alertmanager_config_last_reload_success_timestamp_seconds"))
            for name in ALERTMANAGERS}
