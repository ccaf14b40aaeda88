"""Watched machines: how soon a machine added by site.yml is seen at the global, and how few series cross to it.

Two figures, each on a throw-away fleet of the shared harness (``tests/support/fleet.py``: free loopback
ports, a private supervisord, real ``ansible-playbook`` runs, Debian's node_exporter on every watched
machine), each next to an anchor measured in the same run:

1. **Arrival** (``.tmp/it-bench-watched-arrival``): 1 datacenter with --base-machines watched machines
   (default 3) and 1 global, converged. Then, --repeats times: one more machine in the inventory and
   ``playbooks/site.yml``, timed; a thread started with the run asks the global every 0.1 s for
   ``up{instance="<machine>"}`` and watches the datacenter's target file ``targets/node.json``. Figures:
   the run's wall time, run start -> first sample at the global, target file written -> first sample at
   the global; neither server may reload or restart. The anchor, right after, on the same datacenter
   server: the hand-made way, a static job added to its ``prometheus.yml`` and SIGHUP, timed from the
   write to the first sample of that job's ``up`` at the global (its target: a node_exporter the bench
   starts itself); the original file is then restored and reloaded. Each measure starts after a random
   pause (up to 10 s with 2 s intervals), out of step with Prometheus' periodic ticks.
2. **Series** (``.tmp/it-bench-watched-series``): --datacenters datacenters (default 2) with --machines
   watched machines each (default 20), converged and left to evaluate the rules a few times. Per
   datacenter: its series (``prometheus_tsdb_head_series``, and the live ``count({__name__=~".+"})``)
   against the series the global holds from it and the samples of each federate scrape. The anchor: the
   datacenter's ``/federate`` answer for ``{job=~".+"}`` (federating everything, the hand-made setup),
   fetched in the same run, against its answer for the collection's default match.

It is a bench, not a test: no limits, but a non-zero exit when a playbook fails, a figure cannot be
measured, a server reloads or restarts when a machine is added, or something is left running. The fleets
are always torn down. Logs: ``.tmp/bench-logs/watched-*.log``. See bench/README.md.

Run it with ``.venv/bin/python bench/watched.py`` (``--repeats 3 --machines 20 --datacenters 2``).
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import math
import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "support"))

from figures import fmt, load, median  # noqa: E402
from fleet import FAST_INTERVALS, Fleet, PlaybookRun, free_ports, listening, metric, query, wait_for  # noqa: E402
from it_support import RELOADED_AT, scratch_root, server_readings, tear_down  # noqa: E402

LOG_DIR = REPO / ".tmp" / "bench-logs"
POLL_SECONDS = 0.1
NODE_EXPORTER = "/usr/bin/prometheus-node-exporter"
# What the global federates by default (the role's default, read from it), and what the hand-made setup does.
DEFAULT_MATCH: list[str] = yaml.safe_load((REPO / "roles/global/defaults/main.yml").read_text())[
    "global_federation_match"]
EVERYTHING_MATCH = ['{job=~".+"}']


class BenchError(Exception):
    """A figure that could not be measured: reported, and the bench exits non-zero."""


@dataclass
class Figures:
    """Named figures, one value per repeat."""

    values: dict[str, list[float | None]] = field(default_factory=dict)
    servers_moved: list[bool] = field(default_factory=list)  # figure 1: a reload or restart while a machine came
    failures: list[str] = field(default_factory=list)

    def add(self, name: str, value: float | None) -> None:
        self.values.setdefault(name, []).append(value)

    def at(self, name: str, i: int) -> float | None:
        values = self.values.get(name, [])
        return values[i] if i < len(values) else None

    def median(self, name: str) -> float | None:
        return median(self.values.get(name, []))

    def ratio(self, numerator: str, denominator: str, i: int) -> float | None:
        top, bottom = self.at(numerator, i), self.at(denominator, i)
        return top / bottom if top is not None and bottom else None


def intervals(seconds: int | None) -> dict[str, str]:
    """The harness's FAST_INTERVALS, or every interval set to ``seconds`` (timeouts half of it)."""
    if seconds is None:
        return dict(FAST_INTERVALS)
    return {k: f"{seconds}s" if k.endswith("_interval") else f"{max(1, seconds // 2)}s" for k in FAST_INTERVALS}


def seconds_of(duration: str) -> float:
    return float(duration.rstrip("s"))


def context_line(chosen: dict[str, str]) -> str:
    return (f"measured on {time.strftime('%Y-%m-%d %H:%M %Z')}, {os.cpu_count()} cores, "
            f"scrape/evaluation/federation every {chosen['datacenter_scrape_interval']} "
            f"(timeouts {chosen['datacenter_scrape_timeout']}), load average {load()}")


def print_markdown(header: list[str], rows: list[list[str]]) -> None:
    print("| " + " | ".join(header) + " |")
    print("|---|" + "---:|" * (len(header) - 1))
    for row in rows:
        print("| " + " | ".join(row) + " |")


def converge(fleet: Fleet, log_name: str) -> PlaybookRun:
    """``site.yml`` on the fleet's current inventory; the output is kept in the log directory."""
    run = fleet.run("playbooks/site.yml", fleet.write_inventory(), check=False)
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log = LOG_DIR / f"watched-{log_name}.log"
    log.write_text(run.output)
    if run.returncode != 0:
        raise BenchError(f"site.yml failed (rc={run.returncode}), output in {log.relative_to(REPO)}")
    return run


def config_dir(fleet: Fleet, host: str) -> Path:
    """Where the fleet's layout puts the configuration of server ``host``."""
    return Path(fleet.common_vars()["prometheus_config_dir"].replace("{{ prometheus_instance }}", "promfleet-" + host))


def first_sample(url: str, instance: str) -> float | None:
    """Timestamp of the earliest `up` sample of ``instance`` that ``url`` holds (its first scrape there)."""
    found = query(url, 'up{instance="%s"}[15m]' % instance)
    return min(float(ts) for s in found for ts, _value in s["values"]) if found else None


class ArrivalWatch(threading.Thread):
    """Every 0.1 s: does the global answer ``up{instance=<instance>}`` with a sample? And, when given a
    target file, since when does that file name the instance? Moments are wall clock (``time.time()``)."""

    def __init__(self, global_url: str, instance: str, target_file: Path | None = None) -> None:
        super().__init__(daemon=True)
        self.global_url, self.instance, self.target_file = global_url, instance, target_file
        self.file_written: float | None = None  # mtime of the first version of the file naming the instance
        self.at_global: float | None = None
        self.polls = self.unanswered = 0
        self.stop = threading.Event()
        self.done = threading.Event()

    def run(self) -> None:
        promql = 'up{instance="%s"}' % self.instance
        while not self.stop.is_set():
            if self.target_file is not None and self.file_written is None:
                with contextlib.suppress(OSError):
                    if f'"{self.instance}"' in self.target_file.read_text():
                        self.file_written = self.target_file.stat().st_mtime
            try:
                found = query(self.global_url, promql)
            except (OSError, ValueError, KeyError):
                found = []
                self.unanswered += 1
            self.polls += 1
            if found:
                self.at_global = time.time()
                break
            self.stop.wait(POLL_SECONDS)
        self.done.set()

    def wait(self, timeout: float, what: str) -> float:
        """The moment of the first sample at the global; BenchError when none came within ``timeout``."""
        if not self.done.wait(timeout):
            self.stop.set()
            raise BenchError(f"no sample of up{{instance=\"{self.instance}\"}} at the global {timeout:.0f} s after "
                             f"{what} ({self.polls} polls, {self.unanswered} unanswered)")
        return self.at_global


def server_pid(fleet: Fleet, host: str) -> int:
    done = subprocess.run(["supervisorctl", "-c", str(fleet.supervisord_conf), "pid", "promfleet-" + host],
                          capture_output=True, text=True, check=False)
    pid = done.stdout.strip()
    if not pid.isdigit() or pid == "0":
        raise BenchError(f"supervisorctl pid promfleet-{host}: {done.stdout.strip()} {done.stderr.strip()}")
    return int(pid)


def reload_by_sighup(fleet: Fleet, host: str) -> float:
    """SIGHUP to the server's process; the moment it reports the reload done (its success timestamp)."""
    url = fleet.url(host)
    before = metric(url, RELOADED_AT)
    os.kill(server_pid(fleet, host), signal.SIGHUP)

    def reloaded() -> float | None:
        if metric(url, "prometheus_config_last_reload_successful") != 1:
            raise BenchError(f"{host} refused the configuration it was sent with SIGHUP")
        stamp = metric(url, RELOADED_AT)
        return stamp if stamp > before else None

    return wait_for(reloaded, timeout=30, interval=0.05, what=f"{host} to reload")


# -- figure 1 ---------------------------------------------------------------------------------------------------

def pause(chosen: dict[str, str]) -> None:
    """Sleep a random part of the period of Prometheus' clocks (its 5 s discovery and scrape-reload ticks, the
    scrape and federation intervals), so that a measure does not start in step with the previous arrival."""
    intervals = ("datacenter_scrape_interval", "global_federation_interval")
    period = math.lcm(5, *(int(seconds_of(chosen[k])) for k in intervals))
    time.sleep(random.uniform(0, period))


def add_machine_once(fleet: Fleet, name: str, k: int, timeout: float, figures: Figures) -> None:
    """One more watched machine in the first datacenter, through site.yml."""
    datacenter = fleet.datacenters[0]
    server, global_url = fleet.server_of(datacenter), fleet.url(fleet.globals_[0])
    fleet.add_machine(datacenter, name)
    fleet.write_inventory()
    before = server_readings(fleet)
    watch = ArrivalWatch(global_url, name, config_dir(fleet, server) / "targets" / "node.json")
    watch.start()
    started = time.time()
    try:
        run = converge(fleet, f"arrival-add{k}")
        at_global = watch.wait(timeout, "the end of site.yml")
    finally:
        watch.stop.set()
    if watch.file_written is None:
        raise BenchError(f"the target file never named {name}, yet the global has its sample")
    at_datacenter = first_sample(fleet.url(server), name)
    after = server_readings(fleet)
    figures.add("site.yml s", run.seconds)
    figures.add("start -> global s", at_global - started)
    figures.add("file -> global s", at_global - watch.file_written)
    figures.add("file -> dc scrape s", None if at_datacenter is None else at_datacenter - watch.file_written)
    moved = {f"{host} {what}": (before[host][what], value)
             for host, readings in after.items() for what, value in readings.items() if value != before[host][what]}
    figures.servers_moved.append(bool(moved))
    scraped = "-" if at_datacenter is None else f"+{at_datacenter - started:.2f}"
    print(f"  add {name}: site.yml {run.seconds:.1f} s (changed={run.changed()}); target file written at "
          f"+{watch.file_written - started:.2f} s, first scrape at the datacenter {scraped} s, first sample at the "
          f"global +{at_global - started:.2f} s; started/reloaded of {', '.join(after)}: "
          f"{'MOVED ' + str(moved) if moved else 'unchanged'}", flush=True)
    if moved:
        figures.failures.append(f"adding {name} reloaded or restarted a server: {moved}")


def anchor_once(fleet: Fleet, exporter_port: int, k: int, timeout: float, figures: Figures) -> None:
    """The hand-made way on the same datacenter server: a static job in prometheus.yml, and SIGHUP."""
    datacenter = fleet.datacenters[0]
    server, global_url = fleet.server_of(datacenter), fleet.url(fleet.globals_[0])
    path = config_dir(fleet, server) / "prometheus.yml"
    original = path.read_text()
    config = yaml.safe_load(original)
    instance = f"{datacenter}-anchor-{k}"
    config["scrape_configs"].append({"job_name": f"anchor_{k}", "static_configs": [
        {"targets": [f"127.0.0.1:{exporter_port}"], "labels": {"instance": instance}}]})
    watch = ArrivalWatch(global_url, instance)
    watch.start()
    written = time.time()
    try:
        path.write_text(yaml.safe_dump(config, sort_keys=False))  # in place: owner and mode stay
        reloaded = reload_by_sighup(fleet, server)
        at_global = watch.wait(timeout, "the reload")
    finally:
        watch.stop.set()
        path.write_text(original)
        reload_by_sighup(fleet, server)
    at_datacenter = first_sample(fleet.url(server), instance)
    figures.add("anchor -> global s", at_global - written)
    figures.add("anchor -> dc scrape s", None if at_datacenter is None else at_datacenter - written)
    scraped = "-" if at_datacenter is None else f"+{at_datacenter - written:.2f}"
    print(f"  anchor {instance}: prometheus.yml written and SIGHUP; reload done at +{reloaded - written:.2f} s, "
          f"first scrape at the datacenter {scraped} s, first sample at "
          f"the global +{at_global - written:.2f} s (original restored and reloaded)", flush=True)


def bench_arrival(base_machines: int, repeats: int, chosen: dict[str, str]) -> Figures:
    figures = Figures()
    datacenter = "dc01"
    fleet = Fleet(scratch_root("bench-watched-arrival"), datacenters=[datacenter], extra_vars=chosen,
                  watched={datacenter: [f"{datacenter}-node-{i:02d}" for i in range(1, base_machines + 1)]})
    interval = seconds_of(chosen["datacenter_scrape_interval"])
    timeout = 30 + 10 * interval
    exporter_port = free_ports(1)[0]
    exporter = None
    print(f"\nFigure 1: 1 datacenter with {base_machines} watched machines + 1 global, root {fleet.root}", flush=True)
    try:
        run = converge(fleet, "arrival-converge")
        print(f"  converged in {run.seconds:.1f} s", flush=True)
        wait_for(lambda: len(query(fleet.url(fleet.globals_[0]), 'up{job="node"} == 1')) == base_machines,
                 timeout=timeout, what="every machine's up at the global")
        exporter = subprocess.Popen([NODE_EXPORTER, f"--web.listen-address=127.0.0.1:{exporter_port}"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: listening(exporter_port), timeout=30, what="the anchor's node_exporter")
        for k in range(1, repeats + 1):
            pause(chosen)
            add_machine_once(fleet, f"{datacenter}-node-{base_machines + k:02d}", k, timeout, figures)
            pause(chosen)
            anchor_once(fleet, exporter_port, k, timeout, figures)
    except (BenchError, AssertionError, OSError, ValueError, KeyError) as exc:
        figures.failures.append(f"figure 1: {exc}")
        print(f"  FAILED: {str(exc).splitlines()[0]}", flush=True)
    finally:
        if exporter is not None:
            exporter.terminate()
            try:
                exporter.wait(timeout=10)
            except subprocess.TimeoutExpired:
                exporter.kill()
                exporter.wait()
        figures.failures += teardown(fleet, "arrival", (exporter_port,))
    return figures


def report_arrival(figures: Figures, base_machines: int, chosen: dict[str, str]) -> None:
    print(f"\nFigure 1: a watched machine added by site.yml, until its first sample at the global "
          f"(1 datacenter, {base_machines}+k machines, 1 global; {context_line(chosen)})\n")
    names = ["site.yml s", "start -> global s", "file -> dc scrape s", "file -> global s",
             "anchor -> dc scrape s", "anchor -> global s"]
    header = ["run", "site.yml wall s", "run start -> at global s", "target file -> 1st DC scrape s",
              "target file -> at global s", "anchor: prometheus.yml + SIGHUP -> 1st DC scrape s",
              "anchor -> at global s", "ours / anchor", "reload or restart"]
    runs = range(len(figures.servers_moved))
    ratios = [figures.ratio("file -> global s", "anchor -> global s", i) for i in runs]
    rows = [[str(i + 1), *(fmt(figures.at(n, i), 2) for n in names), fmt(ratios[i], 2),
             "MOVED" if figures.servers_moved[i] else "none"] for i in runs]
    rows.append([f"median of {len(rows)}", *(f"**{fmt(figures.median(n), 2)}**" for n in names),
                 f"**{fmt(median(ratios), 2)}**", ""])
    print_markdown(header, rows)
    ours, anchor = figures.median("file -> global s"), figures.median("anchor -> global s")
    if ours is not None and anchor:
        print(f"\nours / anchor: median of the runs' ratios {fmt(median(ratios), 2)}, ratio of the medians "
              f"{ours / anchor:.2f}")


# -- figure 2 ---------------------------------------------------------------------------------------------------

@dataclass
class Series:
    """The series of one datacenter, and what of them the global gets."""

    datacenter: str
    head: float
    live: float
    at_global: float
    at_global_all: float
    per_scrape: float
    federate_ours: tuple[int, int, int]  # series, bytes as text, bytes gzipped
    federate_everything: tuple[int, int, int]


def federate(url: str, matches: list[str]) -> tuple[int, int, int]:
    """Series, bytes of text and bytes received (gzip, as a scraper asks) of one /federate answer."""
    request = urllib.request.Request(f"{url}/federate?" + urllib.parse.urlencode([("match[]", m) for m in matches]),
                                     headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(request, timeout=30) as response:
        received = response.read()
        body = gzip.decompress(received) if response.headers.get("Content-Encoding") == "gzip" else received
    series = sum(1 for line in body.splitlines() if line and not line.startswith(b"#"))
    return series, len(body), len(received)


def count(url: str, promql: str) -> float:
    found = query(url, f"count({promql})")
    return float(found[0]["value"][1]) if found else 0.0


def bench_series(datacenters: int, machines: int, chosen: dict[str, str]) -> tuple[list[Series], list[str]]:
    names = [f"dc{i:02d}" for i in range(1, datacenters + 1)]
    fleet = Fleet(scratch_root("bench-watched-series"), datacenters=names, extra_vars=chosen,
                  watched={dc: [f"{dc}-node-{i:02d}" for i in range(1, machines + 1)] for dc in names})
    global_url = fleet.url(fleet.globals_[0])
    evaluation = seconds_of(chosen["datacenter_evaluation_interval"])
    timeout = 60 + 10 * evaluation
    found: list[Series] = []
    failures: list[str] = []
    print(f"\nFigure 2: {datacenters} datacenters with {machines} watched machines each + 1 global, root {fleet.root}",
          flush=True)
    try:
        run = converge(fleet, "series-converge")
        print(f"  converged in {run.seconds:.1f} s", flush=True)
        for dc in names:
            url = fleet.url(fleet.server_of(dc))
            wait_for(lambda url=url: count(url, 'up{job="node"} == 1') == machines, timeout=timeout,
                     what=f"every node target of {dc} up")
            # rates need two samples: once the global has the CPU rate of the datacenter, every rule produced
            wait_for(lambda dc=dc: query(global_url, 'job:node_cpu_utilisation:ratio_rate5m{datacenter="%s"}' % dc),
                     timeout=timeout, what=f"the CPU rate of {dc} at the global")
        time.sleep(3 * evaluation + seconds_of(chosen["global_federation_interval"]))
        for dc in names:
            url = fleet.url(fleet.server_of(dc))
            per_scrape = query(global_url, 'scrape_samples_scraped{job="federate-%s"}' % dc)
            found.append(Series(
                datacenter=dc, head=metric(url, "prometheus_tsdb_head_series"),
                live=count(url, '{__name__=~".+"}'),
                at_global=count(global_url, '{datacenter="%s", job!~"federate-.+"}' % dc),
                at_global_all=count(global_url, '{datacenter="%s"}' % dc),
                per_scrape=float(per_scrape[0]["value"][1]) if per_scrape else 0.0,
                federate_ours=federate(url, DEFAULT_MATCH), federate_everything=federate(url, EVERYTHING_MATCH)))
    except (BenchError, AssertionError, OSError, ValueError, KeyError) as exc:
        failures.append(f"figure 2: {exc}")
        print(f"  FAILED: {str(exc).splitlines()[0]}", flush=True)
    finally:
        failures += teardown(fleet, "series")
    return found, failures


def report_series(found: list[Series], machines: int, chosen: dict[str, str]) -> None:
    print(f"\nFigure 2: series of each datacenter ({machines} watched machines) against the series federated to the "
          f"global (match {' '.join(DEFAULT_MATCH)}; {context_line(chosen)})\n")
    header = ["datacenter", "DC head series", "DC live series", "at the global (job!~federate-.+)",
              "at the global, all with the datacenter label", "samples per federate scrape", "share %",
              "anchor: /federate {job=~\".+\"} series", "ours: /federate series", "anchor / ours series",
              "bytes per scrape, gzip: anchor / ours"]
    rows = []
    for s in found:
        rows.append([s.datacenter, f"{s.head:.0f}", f"{s.live:.0f}", f"{s.at_global:.0f}", f"{s.at_global_all:.0f}",
                     f"{s.per_scrape:.0f}", f"**{100 * s.at_global / s.live:.2f}**",
                     str(s.federate_everything[0]), str(s.federate_ours[0]),
                     f"**{s.federate_everything[0] / s.federate_ours[0]:.0f}**",
                     f"{s.federate_everything[2]} / {s.federate_ours[2]} "
                     f"({s.federate_everything[2] / s.federate_ours[2]:.0f}x)"])
    print_markdown(header, rows)


# -- both -------------------------------------------------------------------------------------------------------

def teardown(fleet: Fleet, name: str, more_ports: tuple[int, ...] = ()) -> list[str]:
    """playbooks/teardown.yml on everything the fleet has (checked by the harness); what went wrong."""
    failures = []
    try:
        tear_down(fleet, fleet.write_inventory())
    except AssertionError as exc:
        failures.append(f"teardown of {name}: {str(exc)[-2000:]}")
    left = [f"port {p}" for p in more_ports if listening(p)]
    if left:
        failures.append(f"left listening after {name}: {', '.join(left)}")
    print(f"  torn down; left behind: {'; '.join(failures) or 'nothing'}", flush=True)
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--only", choices=["arrival", "series"], help="run one figure only (default: both)")
    parser.add_argument("--repeats", type=int, default=3, metavar="N",
                        help="figure 1: machines added one after the other, each with its anchor (default 3)")
    parser.add_argument("--base-machines", type=int, default=3, metavar="M",
                        help="figure 1: watched machines of the first converge (default 3)")
    parser.add_argument("--datacenters", type=int, default=2, metavar="D", help="figure 2: datacenters (default 2)")
    parser.add_argument("--machines", type=int, default=20, metavar="M",
                        help="figure 2: watched machines per datacenter (default 20)")
    parser.add_argument("--interval", type=int, metavar="SECONDS",
                        help="every scrape, evaluation and federation interval (timeouts half of it); default: "
                             "the harness's FAST_INTERVALS (2 s, timeouts 1 s)")
    args = parser.parse_args(argv)
    if min(args.repeats, args.base_machines, args.datacenters, args.machines) < 1 or (args.interval or 2) < 2:
        parser.error("--repeats, --base-machines, --datacenters and --machines must be at least 1, --interval 2")
    if not Path(NODE_EXPORTER).exists():
        parser.error(f"{NODE_EXPORTER} is missing (Debian's prometheus-node-exporter)")

    chosen = intervals(args.interval)
    print("intervals: " + ", ".join(f"{k}={v}" for k, v in chosen.items()))
    print(f"machine: {os.cpu_count()} cores, load average {load()}", flush=True)
    failures: list[str] = []
    arrival, series = None, None
    if args.only in (None, "arrival"):
        arrival = bench_arrival(args.base_machines, args.repeats, chosen)
        failures += arrival.failures
    if args.only in (None, "series"):
        series, more = bench_series(args.datacenters, args.machines, chosen)
        failures += more
    if arrival is not None:
        report_arrival(arrival, args.base_machines, chosen)
    if series:
        report_series(series, args.machines, chosen)
    for failure in failures:
        print(f"\nFAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
