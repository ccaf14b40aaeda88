"""Reload latency of one Prometheus, from a changed configuration to a verified live reload.

For every number of scrape jobs N given with --jobs (default 1, 10 and 100), one real Prometheus
(Debian's 2.42, ``tests/support/standalone.py``) is started in ``.tmp/it-bench-reload-N<N>`` on a
free port of 127.0.0.1, with ``--web.enable-lifecycle`` and N static scrape jobs that all scrape the
server itself (``127.0.0.1:<its port>``), so a reload really rebuilds N scrape pools. Then,
--repeat times, every way of reloading gets a configuration change of its own (the label
``revision`` of the first job takes a new value) and is timed:

- bare curl: the file is written with a plain write, then ``curl -s -X POST .../-/reload``; only the
  curl is timed. The answer is synchronous, but the bench checks afterwards (untimed) that the
  reload metrics moved: curl itself proves nothing.
- engine (http, signal): the same plain write, then the collection's reload logic in this process
  (``host.reload.reload``, what the ``prometheus_reload`` module runs), with POST /-/reload and
  with SIGHUP to the pid: its ``reload_seconds`` (trigger to proof: last_reload_successful is 1 and
  the success timestamp is newer) and the wall clock of the whole call (which also reads the state
  before and compares the configuration the server reports with the file).
- module (http, signal): the collection's real path through Ansible, ``ansible localhost -m
  promfleet.federation.prometheus_config`` writing the changed configuration, then ``-m
  promfleet.federation.prometheus_reload``: the module's own ``reload_seconds`` and the wall clock of
  each ansible run (start-up included; an ``ansible.builtin.ping`` run is timed too, for scale).

It is a bench, not a test: no time limits. It exits non-zero only when a reload fails or cannot be
verified (or a server cannot be started or stopped); every N is still run. The servers are always
stopped. Logs (every measurement as a JSON line, the servers' output) are kept in .tmp/bench-logs.
See bench/README.md for what each figure means.

Run it with ``.venv/bin/python bench/reload.py`` (``--jobs 1 10 100 --repeat 5``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
for _path in (REPO / "collections", REPO / "tests" / "support"):
    sys.path.insert(0, str(_path))

from figures import fmt, load, print_table  # noqa: E402
from fleet import listening, processes_matching, run_module, wait_for  # noqa: E402  (needs the paths above)
from standalone import PROMETHEUS, PrometheusProcess  # noqa: E402

from ansible_collections.promfleet.federation.plugins.module_utils.errors import PromfleetError, ReloadError  # noqa: E402
from ansible_collections.promfleet.federation.plugins.module_utils.host import reload as host_reload  # noqa: E402
from ansible_collections.promfleet.federation.plugins.module_utils.host.checkers import promtool_config  # noqa: E402
from ansible_collections.promfleet.federation.plugins.module_utils.host.client import PrometheusClient, reload_verified  # noqa: E402

LOG_DIR = REPO / ".tmp" / "bench-logs"
CONFIG_MODULE = "promfleet.federation.prometheus_config"
RELOAD_MODULE = "promfleet.federation.prometheus_reload"
CURL = shutil.which("curl")
PROMTOOL = shutil.which("promtool")
SCRAPE_INTERVAL = "15s"


class BenchError(Exception):
    """A reload that failed or could not be verified: reported, and the bench exits non-zero."""


@dataclass
class Result:
    """Every figure of one N, one value per run (medians are taken at the end)."""

    jobs: int
    figures: dict[str, list[float]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def add(self, name: str, value: float) -> float:
        self.figures.setdefault(name, []).append(value)
        return value

    def median(self, name: str) -> float | None:
        values = self.figures.get(name)
        return statistics.median(values) if values else None


def bench_config(port: int, jobs: int, revision: int) -> dict:
    """N static jobs, all scraping the server itself; the first one carries the label ``revision``."""
    scrape_configs = []
    for i in range(jobs):
        static = {"targets": ["127.0.0.1:%d" % port]}
        if i == 0:
            static["labels"] = {"revision": str(revision)}
        scrape_configs.append({"job_name": "bench-%03d" % (i + 1), "static_configs": [static]})
    return {
        "global": {"scrape_interval": SCRAPE_INTERVAL, "scrape_timeout": "10s", "evaluation_interval": SCRAPE_INTERVAL},
        "scrape_configs": scrape_configs,
    }


class Bench:
    """One server with N jobs, and the ways of reloading it."""

    def __init__(self, server: PrometheusProcess, jobs: int, timeout: float, log) -> None:
        self.server = server
        self.jobs = jobs
        self.timeout = timeout
        self.revision = 0
        self.log = log
        self.client = PrometheusClient(server.url, timeout=timeout)

    def next_config(self) -> dict:
        self.revision += 1
        return bench_config(self.server.port, self.jobs, self.revision)

    def record(self, run_no: int, what: str, **data) -> None:
        self.log.write(json.dumps({"run": run_no, "what": what, "revision": self.revision, **data}) + "\n")
        self.log.flush()

    def state(self) -> dict:
        return self.client.reload_state()

    def curl(self, run_no: int) -> tuple[float, float]:
        """Plain write, then POST /-/reload with curl: (curl's time_total, wall clock of the curl process)."""
        before = self.state()
        self.server.write_config(self.next_config())
        started = time.perf_counter()
        done = subprocess.run([CURL, "-s", "-X", "POST", "-w", "\n%{http_code} %{time_total}",
                               self.server.url + "/-/reload"], capture_output=True, text=True, check=False)
        wall = time.perf_counter() - started
        body, _newline, trailer = done.stdout.rpartition("\n")
        code, _space, total = trailer.partition(" ")
        # not timed: what curl does not check
        after = self.state()
        self.record(run_no, "curl", rc=done.returncode, http_code=code, time_total=total, wall=wall,
                    body=body, before=before, after=after)
        if done.returncode != 0 or code != "200":
            raise BenchError("curl POST /-/reload: rc=%d, HTTP %s: %s" % (done.returncode, code, body.strip()))
        if not reload_verified(before, after):
            raise BenchError("curl got HTTP 200, but the reload metrics did not move: before %s, after %s"
                             % (before, after))
        return float(total), wall

    def engine(self, run_no: int, method: str) -> tuple[float, float]:
        """Plain write, then host.reload.reload in this process: (reload_seconds, wall of the call)."""
        self.server.write_config(self.next_config())
        trigger = host_reload.Trigger(method, pid=self.server.pid if method == "signal" else None)
        started = time.perf_counter()
        try:
            result = host_reload.reload(self.client, trigger, self.timeout, str(self.server.config_path),
                                        rollback=False, checker=promtool_config(PROMTOOL))
        except ReloadError as exc:
            self.record(run_no, "engine-" + method, failed=str(exc), result=exc.result)
            raise BenchError("engine (%s): %s" % (method, exc)) from None
        except PromfleetError as exc:
            self.record(run_no, "engine-" + method, failed=str(exc))
            raise BenchError("engine (%s): %s" % (method, exc)) from None
        wall = time.perf_counter() - started
        self.record(run_no, "engine-" + method, wall=wall, result=result)
        return result["reload_seconds"], wall

    def module(self, run_no: int, method: str) -> tuple[float, float, float]:
        """prometheus_config then prometheus_reload through ansible:
        (the module's reload_seconds, wall of the config run, wall of the reload run)."""
        config = self.next_config()
        started = time.perf_counter()
        written = run_module(CONFIG_MODULE, {"path": str(self.server.config_path), "config": config})
        config_wall = time.perf_counter() - started
        self.record(run_no, "module-config", wall=config_wall, result=written)
        if written.get("failed") or not written.get("changed"):
            raise BenchError("%s did not write the change (changed=%s): %s"
                             % (CONFIG_MODULE, written.get("changed"), written.get("msg")))
        args = {"url": self.server.url, "config_path": str(self.server.config_path), "method": method,
                "timeout": self.timeout}
        if method == "signal":
            args["pid"] = self.server.pid
        started = time.perf_counter()
        reloaded = run_module(RELOAD_MODULE, args)
        reload_wall = time.perf_counter() - started
        self.record(run_no, "module-reload-" + method, wall=reload_wall, result=reloaded)
        if reloaded.get("failed") or reloaded.get("reload_seconds") is None:
            raise BenchError("%s (%s) failed: %s" % (RELOAD_MODULE, method, reloaded.get("msg")))
        return reloaded["reload_seconds"], config_wall, reload_wall


def bench_jobs(jobs: int, repeat: int, timeout: float) -> tuple[Result, list[str]]:
    """Every run for N=jobs on one server, always stopped; returns the result and what was left behind."""
    result = Result(jobs)
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    server_log = LOG_DIR / ("reload-N%d-prometheus.log" % jobs)
    measures = LOG_DIR / ("reload-N%d.log" % jobs)
    server = None
    try:
        server = PrometheusProcess("bench-reload-N%d" % jobs, lifecycle=True, log=server_log)
        print("  server          %s, root %s, logs %s and %s"
              % (server.url, server.root, measures, server_log), flush=True)
        started = time.perf_counter()
        server.start(bench_config(server.port, jobs, 0))
        ready = time.perf_counter() - started
        wait_for(lambda: len(server.active_jobs()) == jobs, 30, what="%d active scrape jobs" % jobs)
        print("  started         ready in %.2f s (pid %d); %d scrape jobs active after %.2f s"
              % (ready, server.pid, jobs, time.perf_counter() - started), flush=True)
        with open(measures, "w") as log:
            bench = Bench(server, jobs, timeout, log)
            bench.engine(0, "http")  # warm-up, not counted: the first reload after the start
            engine_get, plain_get = request_cost(server, bench.client, max(repeat, 5))
            result.add("get_engine", engine_get)
            result.add("get_urllib", plain_get)
            print("  one request     GET /metrics takes %.3f s with the engine's client, "
                  "%.3f s with plain urllib (median of %d)" % (engine_get, plain_get, max(repeat, 5)), flush=True)
            for k in range(1, repeat + 1):
                curl_total, curl_wall = bench.curl(k)
                http, http_call = bench.engine(k, "http")
                signal, signal_call = bench.engine(k, "signal")
                module_http, config_http, run_http = bench.module(k, "http")
                module_signal, config_signal, run_signal = bench.module(k, "signal")
                result.add("curl", curl_total)
                result.add("curl_wall", curl_wall)
                result.add("engine_http", http)
                result.add("engine_http_call", http_call)
                result.add("engine_signal", signal)
                result.add("engine_signal_call", signal_call)
                result.add("module_http", module_http)
                result.add("module_signal", module_signal)
                result.add("config_run", config_http)
                result.add("config_run", config_signal)
                result.add("reload_run_http", run_http)
                result.add("reload_run_signal", run_signal)
                print("  run %d/%d         curl %.3f s (process %.3f)  engine http %.3f s (call %.3f), "
                      "signal %.3f s (call %.3f)  module http %.3f s, signal %.3f s  ansible runs: config "
                      "%.2f/%.2f s, reload http %.2f s, signal %.2f s"
                      % (k, repeat, curl_total, curl_wall, http, http_call, signal, signal_call, module_http,
                         module_signal, config_http, config_signal, run_http, run_signal), flush=True)
            pools = server.active_jobs()
            if len(pools) != jobs:
                result.failures.append("%d active scrape jobs at the end, not %d" % (len(pools), jobs))
            if server.metric("prometheus_config_last_reload_successful") != 1:
                result.failures.append("prometheus_config_last_reload_successful is not 1 at the end")
    except (BenchError, AssertionError, OSError, ValueError, KeyError, IndexError) as exc:
        result.failures.append(str(exc))
        print("  FAILED          %s" % str(exc).splitlines()[0], flush=True)
    finally:
        left = []
        if server is not None:
            root = server.root
            server.stop()
            left = ["process: %s" % cmd for cmd in processes_matching(str(root) + "/")]
            if listening(server.port):
                left.append("port %d still listens" % server.port)
            print("  stopped         left behind: %s (processes with %s/ in their command line; port %d)"
                  % ("; ".join(left) or "nothing", root, server.port), flush=True)
    if left:
        result.failures.append("left behind after stopping the server: " + "; ".join(left))
    return result, left


def request_cost(server: PrometheusProcess, client: PrometheusClient, count: int) -> tuple:
    """Median seconds of one GET /metrics with the engine's client and with plain urllib."""
    engine, plain = [], []
    for _k in range(count):
        started = time.perf_counter()
        client.metrics_text()
        engine.append(time.perf_counter() - started)
        started = time.perf_counter()
        with urllib.request.urlopen(server.url + "/metrics", timeout=10) as response:
            response.read()
        plain.append(time.perf_counter() - started)
    return statistics.median(engine), statistics.median(plain)


def ansible_baseline(repeat: int) -> float | None:
    """Median wall clock of ``ansible localhost -m ansible.builtin.ping``: ansible's own start-up."""
    walls = []
    for _k in range(repeat):
        started = time.perf_counter()
        answer = run_module("ansible.builtin.ping", {"data": "pong"})
        walls.append(time.perf_counter() - started)
        if answer.get("ping") != "pong":
            return None
    return statistics.median(walls)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 10, 100], metavar="N",
                        help="numbers of scrape jobs to bench (default: 1 10 100)")
    parser.add_argument("--repeat", type=int, default=5, metavar="K", help="runs per N; medians are reported")
    parser.add_argument("--timeout", type=float, default=30.0, metavar="S",
                        help="seconds to wait for the proof of a reload (the module's timeout; default 30)")
    args = parser.parse_args(argv)
    if args.repeat < 1 or any(n < 1 for n in args.jobs):
        parser.error("--repeat and --jobs must be at least 1")
    missing = [name for name, path in (("prometheus", PROMETHEUS), ("curl", CURL)) if not path]
    if missing:
        parser.error("needs %s on PATH (make setup installs Debian's prometheus)" % " and ".join(missing))

    version = subprocess.run([PROMETHEUS, "--version"], capture_output=True, text=True, check=False)
    print("server: %s" % (version.stdout + version.stderr).splitlines()[0])
    print("jobs: static, all scraping the server itself every %s; the change is the label `revision` of the "
          "first job" % SCRAPE_INTERVAL)
    print("machine: %d CPU(s), load average %s" % (os.cpu_count(), load()), flush=True)
    ping = ansible_baseline(args.repeat)
    print("ansible start-up: `ansible localhost -m ansible.builtin.ping` takes %s s (median of %d)"
          % (fmt(ping, 2), args.repeat), flush=True)

    results = []
    for jobs in args.jobs:
        print("\nN=%d scrape jobs, %d run(s)" % (jobs, args.repeat), flush=True)
        results.append(bench_jobs(jobs, args.repeat, args.timeout)[0])

    header = ("jobs", "curl POST s", "engine http s", "engine http call s", "engine signal s",
              "module http s", "module signal s", "config run s", "reload run http s", "reload run signal s", "ok")
    table = [header]
    for r in results:
        table.append((
            str(r.jobs),
            fmt(r.median("curl"), 3),
            fmt(r.median("engine_http"), 3),
            fmt(r.median("engine_http_call"), 3),
            fmt(r.median("engine_signal"), 3),
            fmt(r.median("module_http"), 3),
            fmt(r.median("module_signal"), 3),
            fmt(r.median("config_run"), 2),
            fmt(r.median("reload_run_http"), 2),
            fmt(r.median("reload_run_signal"), 2),
            "FAILED" if r.failures else "yes",
        ))
    print_table(table, args.repeat, f"; ansible ping {fmt(ping, 2)} s")

    failures = [(r.jobs, failure) for r in results for failure in r.failures]
    for jobs, failure in failures:
        print(f"\nFAILED (N={jobs}): {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
