"""A datacenter gone dark: from its Prometheus stopped to the FederationDatacenterDown notification, and back.

The fleet of tests/integration/test_alerting.py, built by the shared harness (``tests/support/fleet.py``: free
loopback ports, a private supervisord, real ``ansible-playbook`` runs) in ``.tmp/it-bench-alerting``: two
datacenters, a replica pair of globals, a two-peer Alertmanager cluster (Debian's 0.25) whose route sends every
alert to a webhook receiver in this process, which records the arrival of every notification.

Then, --repeats times (default 3), once the fleet is quiet (both globals federate both datacenters, no alert but
the Watchdog, every Alertmanager holding the Watchdog's group only) and after a random pause within the period of
the federation and evaluation intervals: the first datacenter's Prometheus is stopped (``supervisorctl stop``:
the datacenter goes dark), and the bench waits for the first FederationDatacenterDown notification of that
datacenter at the receiver. Reported: the time from the stop to it, split by the global that fired first into
its first failed federate scrape, the alert pending and firing (raw samples of ``up`` and ``ALERTS`` there),
next to the bound computed from the fleet's intervals, with its terms. The outage is held 20 s after the
notification (longer than the second Alertmanager peer's wait before it notifies in place of the first), plus a
random part of the same period. Then the Prometheus is started again; reported: the time to the ``resolved``
notification. The bench then waits until the fleet is quiet again (every Alertmanager has dropped the outage's
group: nothing of it is in flight) and lists what the receiver got for the outage, in order: firing, then
resolved, once each, is right for two globals and two Alertmanagers. The notifications of any other alert
meanwhile are listed too, and every notification is kept in ``.tmp/bench-logs/alerting-notifications.jsonl``.

There is no anchor: no collection ships federation alerts to compare with (bench/README.md says why). It is a
bench, not a test: no limits, but a non-zero exit when a playbook fails, a notification does not come, an outage
is not notified exactly once firing and once resolved, or something is left running. The fleet is always torn
down. Logs: ``.tmp/bench-logs/alerting-*``.

Run it with ``.venv/bin/python bench/alerting.py`` (``--repeats 3``, 2 s intervals, group_interval 2 s;
``--interval S``, ``--group-interval S``).
"""

from __future__ import annotations

import argparse
import datetime
import http.server
import json
import math
import os
import random
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "support"))

from figures import fmt, load, median  # noqa: E402
from fleet import Fleet, PlaybookRun, free_ports, listening, metric, query, wait_for  # noqa: E402
from it_support import scratch_root  # noqa: E402
from watched import BenchError, context_line, intervals, print_markdown, seconds_of, teardown  # noqa: E402

LOG_DIR = REPO / ".tmp" / "bench-logs"
DATACENTERS = ["dc01", "dc02"]
GLOBALS = ["global-a", "global-b"]
ALERTMANAGERS = ["am-a", "am-b"]
ALERT = "FederationDatacenterDown"
# The route of the Alertmanagers: the receiver in this process, a new group notified after GROUP_WAIT (as in
# tests/integration/test_alerting.py; group_interval is --group-interval).
GROUP_WAIT = 1
# The second Alertmanager peer notifies only when the first has not, after its peer timeout (15 s): a
# duplicate would show within this window after the first notification.
DUPLICATE_WINDOW = 20.0
# Alertmanager drops a group emptied by a resolved notification on its 30 s maintenance tick; before that, a
# new alert of the group waits for group_interval instead of group_wait. The bench waits for it between outages.
QUIET_TIMEOUT = 90.0
# The terms of the bound, named: seconds each.
Terms = list[tuple[str, float]]


@dataclass
class Arrival:
    """One notification at the receiver: when it came (wall clock), the Alertmanager that sent it (its external
    URL), its alerts (labels, status and startsAt), and the whole body as sent."""

    at: float
    sender: str
    alerts: list[dict[str, str]]
    body: dict


class Receiver:
    """A webhook receiver on a free loopback port that records every notification it is sent."""

    def __init__(self) -> None:
        self.port = free_ports(1)[0]
        self.arrivals: list[Arrival] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                alerts = [dict(a["labels"], status=a["status"], startsAt=a["startsAt"]) for a in body["alerts"]]
                with receiver.lock:
                    receiver.arrivals.append(Arrival(time.time(), body.get("externalURL", ""), alerts, body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def matching(self, alertname: str, status: str, since: float, datacenter: str | None = None) -> list[Arrival]:
        """The notifications since ``since`` carrying ``alertname`` of ``datacenter`` (None: of none) in ``status``."""
        with self.lock:
            return [n for n in self.arrivals if n.at >= since and any(
                a.get("alertname") == alertname and a["status"] == status and a.get("datacenter") == datacenter
                for a in n.alerts)]

    def times(self, alertname: str, status: str, since: float, datacenter: str | None = None) -> list[float]:
        """When the notifications of ``matching`` came."""
        return [n.at for n in self.matching(alertname, status, since, datacenter)]

    def save(self, path: Path) -> None:
        """Every notification, one JSON object a line: its arrival (wall clock) and its body."""
        with self.lock:
            path.write_text("".join(json.dumps({"at": n.at, **n.body}) + "\n" for n in self.arrivals))

    def alerts(self, alertname: str, datacenter: str, since: float) -> list[tuple[Arrival, dict[str, str]]]:
        """Every notification since ``since`` with its alert ``alertname`` of ``datacenter``, in order."""
        with self.lock:
            return [(n, a) for n in self.arrivals if n.at >= since for a in n.alerts
                    if a.get("alertname") == alertname and a.get("datacenter") == datacenter]

    def others(self, since: float, datacenter: str) -> list[str]:
        """Every alert notified since ``since`` other than ALERT of ``datacenter`` and the Watchdog."""
        with self.lock:
            return [" ".join(a[k] for k in ("alertname", "datacenter", "status") if k in a)
                    for n in self.arrivals if n.at >= since for a in n.alerts
                    if a.get("alertname") != "Watchdog"
                    and not (a.get("alertname") == ALERT and a.get("datacenter") == datacenter)]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass(frozen=True)
class Notice:
    """A notification of ALERT for the datacenter of an outage, as the receiver got it."""

    status: str  # firing or resolved
    after_dark: float  # seconds after the stop command
    sender: str  # the Alertmanager that sent it
    earlier: bool  # its alert started before the outage: the alert of an earlier outage

    @property
    def letter(self) -> str:
        return ("F" if self.status == "firing" else "R") + ("*" if self.earlier else "")

    def __str__(self) -> str:
        return f"{self.letter} +{self.after_dark:.2f} s from {self.sender}"


@dataclass
class Outage:
    """One outage of a datacenter: moments in seconds after the stop command (dark) or the start command (restart),
    and every notification of ALERT for the datacenter from the stop until the fleet was quiet again."""

    stop_s: float  # supervisorctl stop, until the process exited
    failed_s: float | None  # first failed federate scrape at the leading global
    pending_s: float | None
    firing_s: float | None
    notified_s: float  # first notification at the receiver
    leading: str  # the global that fired first
    restart_at: float  # the start command, seconds after dark
    start_s: float  # supervisorctl start, until the process ran
    federated_s: float | None  # first successful federate scrape, at either global
    resolved_s: float  # first resolved notification
    notices: list[Notice] = field(default_factory=list)
    others: list[str] = field(default_factory=list)  # other alerts notified, "<alertname> <datacenter> <status>"

    @property
    def paged(self) -> int:
        """Firing notifications while the datacenter was dark."""
        return sum(1 for n in self.notices if n.status == "firing" and n.after_dark < self.restart_at)

    @property
    def sequence(self) -> str:
        """What the receiver got, in order: "F R" is right."""
        return " ".join(n.letter for n in self.notices)


def alertmanager_of(fleet: Fleet, external_url: str) -> str:
    """The Alertmanager of the fleet whose external URL (in the notifications it sends) is ``external_url``."""
    port = urllib.parse.urlsplit(external_url).port
    return next((a for a in ALERTMANAGERS if fleet.ports[a] == port), external_url)


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def supervisorctl(fleet: Fleet, action: str, program: str) -> None:
    subprocess.run(["supervisorctl", "-c", str(fleet.supervisord_conf), action, program], check=True,
                   capture_output=True, timeout=60)


def converge(fleet: Fleet) -> PlaybookRun:
    """``site.yml`` on the fleet; the output is kept in the log directory."""
    run = fleet.run("playbooks/site.yml", fleet.write_inventory(), check=False)
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log = LOG_DIR / "alerting-converge.log"
    log.write_text(run.output)
    if run.returncode != 0:
        raise BenchError(f"site.yml failed (rc={run.returncode}), output in {log.relative_to(REPO)}")
    return run


def bound_terms(fleet: Fleet, chosen: dict[str, str]) -> Terms:
    """The terms of the bound, dark to notification: the federation interval of the fleet, and the evaluation
    interval and ``for`` of ALERT as the first global runs them (its rules API)."""
    groups = get_json(fleet.url(GLOBALS[0]) + "/api/v1/rules?type=alert")["data"]["groups"]
    found = [(g["interval"], r["duration"]) for g in groups for r in g["rules"] if r["name"] == ALERT]
    if not found:
        raise BenchError(f"{GLOBALS[0]} has no alerting rule {ALERT}")
    evaluation, hold = found[0]
    return [("federation interval (the next federate scrape fails)", seconds_of(chosen["global_federation_interval"])),
            ("evaluation (pending)", evaluation),
            ("for (global_federation_alert_after)", hold),
            ("evaluation (firing, sent at once)", evaluation),
            ("group_wait", GROUP_WAIT)]


def first_sample(url: str, selector: str, since: float, value: str | None = None) -> float | None:
    """Timestamp of the earliest raw sample of ``selector`` at ``url`` since ``since`` (with ``value``)."""
    window = math.ceil(time.time() - since) + 5
    found = query(url, f"{selector}[{window}s]")
    return min((float(ts) for s in found for ts, v in s["values"]
                if float(ts) >= since and (value is None or v == value)), default=None)


def alert_steps(fleet: Fleet, datacenter: str, dark: float) -> tuple[str, float | None, float | None, float | None]:
    """The global that fired first, and when it first failed to federate ``datacenter``, and had ALERT pending
    and firing (wall clock)."""
    alerts = f'ALERTS{{alertname="{ALERT}", datacenter="{datacenter}", alertstate="%s"}}'
    steps = {g: (first_sample(fleet.url(g), f'up{{job="federate-{datacenter}"}}', dark, "0"),
                 first_sample(fleet.url(g), alerts % "pending", dark),
                 first_sample(fleet.url(g), alerts % "firing", dark)) for g in GLOBALS}
    fired = [g for g in GLOBALS if steps[g][2] is not None]
    leading = min(fired, key=lambda g: steps[g][2]) if fired else GLOBALS[0]
    return (leading, *steps[leading])


def quiet(fleet: Fleet) -> None:
    """Wait until both globals federate every datacenter with no alert but the Watchdog pending or firing, and
    every Alertmanager holds one aggregation group (the Watchdog's)."""
    def ready() -> bool:
        for host in GLOBALS:
            url = fleet.url(host)
            if len(query(url, 'up{job=~"federate-.+"} == 1')) != len(DATACENTERS):
                return False
            if query(url, 'ALERTS{alertname!="Watchdog"}'):
                return False
        return all(metric(fleet.url(a), "alertmanager_dispatcher_aggregation_groups") == 1 for a in ALERTMANAGERS)

    wait_for(ready, timeout=QUIET_TIMEOUT, interval=0.5,
             what="the fleet quiet (every datacenter federated, no alert but the Watchdog, its group alone)")


def outage(fleet: Fleet, receiver: Receiver, datacenter: str, bound: float, period: int) -> Outage:
    """Stop ``datacenter``'s Prometheus, wait for the notification, hold (DUPLICATE_WINDOW and a random part of
    ``period``), start it again, wait for resolved, then for the fleet to be quiet again: every notification of the
    outage is in."""
    server = fleet.server_of(datacenter)
    program = "promfleet-" + server
    dark = time.time()
    supervisorctl(fleet, "stop", program)
    stopped = time.time()
    try:
        if listening(fleet.ports[server]):
            raise BenchError(f"{server} still listens after supervisorctl stop")
        first = wait_for(lambda: receiver.times(ALERT, "firing", dark, datacenter), timeout=bound + 30,
                         interval=0.05, what=f"{ALERT} for {datacenter} at the receiver")[0]
        leading, failed, pending, firing = alert_steps(fleet, datacenter, dark)
        time.sleep(max(0.0, first + DUPLICATE_WINDOW + random.uniform(0, period) - time.time()))
    finally:
        restarted = time.time()
        supervisorctl(fleet, "start", program)
        started = time.time()
    resolved = wait_for(lambda: receiver.times(ALERT, "resolved", restarted, datacenter), timeout=60 + bound,
                        interval=0.05, what=f"{ALERT} for {datacenter} resolved at the receiver")[0]
    federated = [first_sample(fleet.url(g), f'up{{job="federate-{datacenter}"}}', restarted, "1") for g in GLOBALS]
    time.sleep(max(0.0, resolved + DUPLICATE_WINDOW - time.time()))
    quiet(fleet)
    notices = [Notice(alert["status"], n.at - dark, alertmanager_of(fleet, n.sender), started_at(alert) < dark)
               for n, alert in receiver.alerts(ALERT, datacenter, dark)]
    return Outage(stop_s=stopped - dark, failed_s=None if failed is None else failed - dark,
                  pending_s=None if pending is None else pending - dark,
                  firing_s=None if firing is None else firing - dark, notified_s=first - dark, leading=leading,
                  restart_at=restarted - dark, start_s=started - restarted, resolved_s=resolved - restarted,
                  federated_s=min((f - restarted for f in federated if f is not None), default=None),
                  notices=notices, others=receiver.others(dark, datacenter))


def started_at(alert: dict[str, str]) -> float:
    """The ``startsAt`` of a notified alert (RFC 3339, UTC), to the second, as a Unix time."""
    return datetime.datetime.fromisoformat(alert["startsAt"][:19]).replace(tzinfo=datetime.UTC).timestamp()


def describe(k: int, o: Outage, bound: float) -> str:
    others = ", ".join(sorted(set(o.others))) or "none"
    return (f"  outage {k}: stop took {o.stop_s:.2f} s; at {o.leading}: first failed federate scrape "
            f"+{fmt(o.failed_s, 2)} s, pending +{fmt(o.pending_s, 2)} s, firing +{fmt(o.firing_s, 2)} s; "
            f"first notification +{o.notified_s:.2f} s (bound {bound:g} s). Started again at +{o.restart_at:.2f} s "
            f"(took {o.start_s:.2f} s): federated +{fmt(o.federated_s, 2)} s and resolved notification "
            f"+{o.resolved_s:.2f} s after the restart. {ALERT} notifications (F firing, R resolved, * the alert of an "
            f"earlier outage; s after dark): {'; '.join(map(str, o.notices))}. Other alerts notified: {others}")


def bench(repeats: int, chosen: dict[str, str], group_interval: int) -> tuple[list[Outage], Terms, list[str]]:
    receiver = Receiver()
    route = {"receiver": "bench", "group_by": ["alertname", "datacenter"], "group_wait": f"{GROUP_WAIT}s",
             "group_interval": f"{group_interval}s", "repeat_interval": "1h"}
    receivers = [{"name": "bench", "webhook_configs": [{"url": receiver.url, "send_resolved": True}]}]
    fleet = Fleet(scratch_root("bench-alerting"), datacenters=list(DATACENTERS), globals_=list(GLOBALS),
                  alertmanagers=list(ALERTMANAGERS),
                  extra_vars={**chosen, "alertmanager_route": route, "alertmanager_receivers": receivers})
    datacenter = DATACENTERS[0]
    clocks = ("global_federation_interval", "global_evaluation_interval")
    period = math.lcm(*(int(seconds_of(chosen[k])) for k in clocks))
    outages: list[Outage] = []
    terms: Terms = []
    failures: list[str] = []
    print(f"\n{len(DATACENTERS)} datacenters, globals {' '.join(GLOBALS)}, Alertmanagers {' '.join(ALERTMANAGERS)}; "
          f"root {fleet.root}; receiver {receiver.url}", flush=True)
    try:
        run = converge(fleet)
        print(f"  converged in {run.seconds:.1f} s", flush=True)
        wait_for(lambda: receiver.times("Watchdog", "firing", 0), timeout=60, what="the Watchdog at the receiver")
        terms = bound_terms(fleet, chosen)
        bound = sum(value for _name, value in terms)
        prometheus = get_json(fleet.url(GLOBALS[0]) + "/api/v1/status/buildinfo")["data"]["version"]
        alertmanager = get_json(fleet.url(ALERTMANAGERS[0]) + "/api/v2/status")["versionInfo"]["version"]
        print(f"  Prometheus {prometheus}, Alertmanager {alertmanager}; {bound_line(terms)}", flush=True)
        for k in range(1, repeats + 1):
            quiet(fleet)
            time.sleep(random.uniform(0, period))
            found = outage(fleet, receiver, datacenter, bound, period)
            outages.append(found)
            print(describe(k, found, bound), flush=True)
            if found.sequence != "F R":
                failures.append(f"outage {k}: the receiver got {found.sequence} for {ALERT} of {datacenter} "
                                f"(F firing, R resolved, * an earlier outage's alert); F R is right")
    except (BenchError, AssertionError, OSError, ValueError, KeyError, subprocess.SubprocessError) as exc:
        failures.append(f"outage {len(outages) + 1}: {exc}")
        print(f"  FAILED: {str(exc).splitlines()[0]}", flush=True)
    finally:
        receiver.close()
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        receiver.save(LOG_DIR / "alerting-notifications.jsonl")
        failures += teardown(fleet, "alerting", (receiver.port,))
    return outages, terms, failures


def bound_line(terms: Terms) -> str:
    return f"bound {sum(v for _n, v in terms):g} s = " + " + ".join(f"{name} {value:g} s" for name, value in terms)


def report(outages: list[Outage], terms: Terms, chosen: dict[str, str], group_interval: int) -> None:
    bound = sum(value for _name, value in terms)
    print(f"\n{ALERT}: a datacenter's Prometheus stopped (dark) -> first notification at the receiver, and started "
          f"again -> resolved ({len(DATACENTERS)} datacenters, {len(GLOBALS)} globals, {len(ALERTMANAGERS)} "
          f"Alertmanagers, group_wait {GROUP_WAIT}s, group_interval {group_interval}s; {context_line(chosen)})\n")
    print(bound_line(terms) + "\n")
    header = ["outage", "stop s", "dark -> 1st failed federate scrape s", "dark -> pending s", "dark -> firing s",
              "dark -> notification s", "bound s", "firing notifications while dark", "restart -> federated s",
              "restart -> resolved notification s", "the receiver got (F firing, R resolved, * earlier alert)",
              "other alerts notified"]
    columns = ["stop_s", "failed_s", "pending_s", "firing_s", "notified_s"]
    rows = [[str(k), *(fmt(getattr(o, c), 2) for c in columns), f"{bound:g}", str(o.paged), fmt(o.federated_s, 2),
             fmt(o.resolved_s, 2), o.sequence, ", ".join(sorted(set(o.others))) or "none"]
            for k, o in enumerate(outages, start=1)]
    rows.append([f"median of {len(outages)}",
                 *(f"**{fmt(median([getattr(o, c) for o in outages]), 2)}**" for c in columns), f"{bound:g}", "",
                 f"**{fmt(median([o.federated_s for o in outages]), 2)}**",
                 f"**{fmt(median([o.resolved_s for o in outages]), 2)}**", "", ""])
    print_markdown(header, rows)
    notified, resolved = [o.notified_s for o in outages], [o.resolved_s for o in outages]
    print(f"\ndark -> notification: {', '.join(fmt(v, 2) for v in notified)} s, median {fmt(median(notified), 2)} s, "
          f"bound {bound:g} s; firing notifications while dark: {', '.join(str(o.paged) for o in outages)}; "
          f"the receiver got: {', '.join(o.sequence for o in outages)}; restart -> resolved notification: "
          f"{', '.join(fmt(v, 2) for v in resolved)} s, median {fmt(median(resolved), 2)} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--repeats", type=int, default=3, metavar="N", help="outages, one after the other (default 3)")
    parser.add_argument("--interval", type=int, metavar="SECONDS",
                        help="every scrape, evaluation and federation interval (timeouts half of it); default: "
                             "the harness's FAST_INTERVALS (2 s, timeouts 1 s)")
    parser.add_argument("--group-interval", type=int, default=2, metavar="SECONDS",
                        help="group_interval of the Alertmanagers' route (default 2, as tests/integration/"
                             "test_alerting.py); group_wait is 1 s")
    args = parser.parse_args(argv)
    if args.repeats < 1 or (args.interval or 2) < 2 or args.group_interval < 1:
        parser.error("--repeats and --group-interval must be at least 1, --interval 2")

    chosen = intervals(args.interval)
    print("intervals: " + ", ".join(f"{k}={v}" for k, v in chosen.items()))
    print(f"Alertmanager route: group_wait {GROUP_WAIT}s, group_interval {args.group_interval}s, repeat_interval 1h")
    print(f"machine: {os.cpu_count()} cores, load average {load()}", flush=True)
    outages, terms, failures = bench(args.repeats, chosen, args.group_interval)
    if outages:
        report(outages, terms, chosen, args.group_interval)
    for failure in failures:
        print(f"\nFAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
