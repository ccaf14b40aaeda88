"""One real Prometheus (Debian's package, 2.42) started from Python, without Ansible or supervisord.

Shared by the integration tests of the modules that talk to a server (``prometheus_reload``) and by
``bench/reload.py``. The server runs in its own scratch root ``.tmp/it-<name>`` (``it_support.scratch_root``), on a
free port of 127.0.0.1, as the user running Python.
Whoever calls ``start`` must call ``stop`` (a fixture finalizer, a ``finally``).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.request
from collections.abc import Sequence
from pathlib import Path

import releases
import yaml
from fleet import free_ports, metric, wait_for
from it_support import scratch_root

PROMETHEUS = releases.binary(releases.DEFAULT)


class PrometheusProcess:
    """A Prometheus in its own scratch root (0755 parents), on a free port of ``address`` (127.0.0.1).

    ``lifecycle`` adds ``--web.enable-lifecycle`` (``POST /-/reload``); ``flags`` are appended to
    the command line as given; ``log`` is where its output goes (default ``<root>/prometheus.log``,
    removed with the root by ``stop``: give a path outside the root to keep it).
    """

    def __init__(self, name: str, lifecycle: bool = True, flags: Sequence[str] = (),
                 log: Path | None = None, ready_timeout: float = 30, address: str = "127.0.0.1") -> None:
        self.root = scratch_root(name)
        self.port = free_ports(1)[0]
        self.address = address
        self.url = "http://%s:%d" % (address, self.port)
        self.config_path = self.root / "prometheus.yml"
        self.lifecycle = lifecycle
        self.flags = list(flags)
        self.ready_timeout = ready_timeout
        self.process: subprocess.Popen | None = None
        self.log = Path(log) if log else self.root / "prometheus.log"

    @property
    def pid(self) -> int:
        return self.process.pid

    def config(self, *jobs: str, rule_file: str | None = None, extra_job: dict | None = None) -> dict:
        """A config scraping the server itself as job ``self`` plus one job per name in ``jobs``
        (targets that do not listen: they only have to be known)."""
        scrape_configs = [{"job_name": "self", "static_configs": [{"targets": ["127.0.0.1:%d" % self.port]}]}]
        for job in jobs:
            scrape_configs.append({"job_name": job, "static_configs": [{"targets": ["127.0.0.1:1"]}]})
        if extra_job:
            scrape_configs.append(extra_job)
        config = {"global": {"scrape_interval": "1s", "evaluation_interval": "1s"}, "scrape_configs": scrape_configs}
        if rule_file:
            config["rule_files"] = [rule_file]
        return config

    def write_config(self, config: dict) -> bytes:
        data = yaml.safe_dump(config, sort_keys=False).encode()
        self.config_path.write_bytes(data)
        return data

    def start(self, config: dict) -> None:
        self.write_config(config)
        command = [
            PROMETHEUS,
            "--config.file=%s" % self.config_path,
            "--storage.tsdb.path=%s" % (self.root / "data"),
            "--web.listen-address=%s:%d" % (self.address, self.port),
        ]
        if self.lifecycle:
            command.append("--web.enable-lifecycle")
        command += self.flags
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        wait_for(self.ready, self.ready_timeout, what="Prometheus on port %d to be ready" % self.port)

    def ready(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError("Prometheus exited:\n" + self.log.read_text()[-3000:])
        return metric(self.url, "prometheus_config_last_reload_successful") == 1

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """Terminate (then kill) the process if it runs, and remove the root."""
        if self.running():
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=20)
        shutil.rmtree(self.root, ignore_errors=True)

    def active_jobs(self) -> set:
        """Jobs of the active targets (what the scrape manager runs now)."""
        with urllib.request.urlopen(self.url + "/api/v1/targets?state=active", timeout=10) as response:
            targets = json.load(response)["data"]["activeTargets"]
        return {target["labels"]["job"] for target in targets}

    def wait_for_jobs(self, present: set, absent: set = frozenset(), timeout: float = 20) -> None:
        """Target updates reach the scrape manager a few seconds after a reload (discovery throttle)."""
        def settled():
            jobs = self.active_jobs()
            return present <= jobs and not absent & jobs

        wait_for(settled, timeout, what="active jobs to include %s and not %s" % (sorted(present), sorted(absent)))

    def metric(self, name: str) -> float:
        return metric(self.url, name)
