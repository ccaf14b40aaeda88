"""The federation on the test bed, and how the tests talk to it.

Two datacenters and a global, each in a subnet of its own (``testbed.FLEET_SITES``): ``dc1`` with a
Prometheus server (``dc1-prom-a``) and a machine it watches (``dc1-web-1``, a node_exporter),
``dc2`` with a server (``dc2-prom-a``), and ``global-a``. TLS and basic auth are the collection's
default: every endpoint serves HTTPS with a certificate of the fleet CA (made on this machine under
the run's ``pki/``) and asks for the fleet's user.
"""

from __future__ import annotations

import base64
import json
import re
import ssl
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import yaml
from fleet import REPO, VENV_BIN, PlaybookRun, ansible_env
from testbed import fleet_inventory

DATACENTERS = {"dc1": "dc1-prom-a", "dc2": "dc2-prom-a"}
SERVER = "dc1-prom-a"
SERVER2 = "dc2-prom-a"
MACHINE = "dc1-web-1"
GLOBAL = "global-a"
HOSTS = [SERVER, SERVER2, MACHINE, GLOBAL]
PORT = 9090
NODE_EXPORTER_PORT = 9100
UNIT = {SERVER: "promfleet-dc1-prom-a", SERVER2: "promfleet-dc2-prom-a", GLOBAL: "promfleet-global-a",
        MACHINE: "promfleet-node-exporter-dc1-web-1"}
WEB_USER = "promfleet"
WEB_PASSWORD = "testbed-only"
# A playbook run that takes longer hangs (a converge of the bed takes about a minute).
RUN_TIMEOUT = 600


def get(url: str, ca: str | None = None, auth: tuple[str, str] | None = None, timeout: float = 10) -> bytes:
    """GET ``url``; HTTPS checked against ``ca`` (a CA file), basic auth with ``auth`` (user, password)."""
    request = urllib.request.Request(url)
    if auth is not None:
        token = base64.b64encode(("%s:%s" % auth).encode()).decode()
        request.add_header("Authorization", "Basic " + token)
    context = ssl.create_default_context(cafile=ca) if ca else None
    with urllib.request.urlopen(request, timeout=timeout, context=context) as response:
        return response.read()


def query(base_url: str, promql: str, **http) -> list[dict]:
    """Instant query at ``base_url``; the result vector."""
    url = "%s/api/v1/query?%s" % (base_url, urllib.parse.urlencode({"query": promql}))
    return json.loads(get(url, **http))["data"]["result"]


def metric(base_url: str, name: str, **http) -> float:
    """An unlabelled metric read from ``base_url``/metrics."""
    text = get(base_url + "/metrics", **http).decode()
    found = re.search(r"^%s (\S+)$" % re.escape(name), text, re.M)
    assert found, "%s not in %s/metrics" % (name, base_url)
    return float(found.group(1))


def eventually(predicate, timeout: float = 60, what: str = "condition", interval: float = 0.5):
    """Poll ``predicate`` until it returns something truthy, which is returned."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except (OSError, ValueError, KeyError) as exc:
            last = exc
        time.sleep(interval)
    raise AssertionError("timed out after %.0f s waiting for %s (last error: %s)" % (timeout, what, last))


def unit_state(bed, host: str) -> dict[str, str]:
    """systemd's view of ``host``'s service: ActiveState, MainPID, NRestarts, FragmentPath."""
    shown = bed.run(host, ["systemctl", "show", "-p", "ActiveState,MainPID,NRestarts,FragmentPath",
                           UNIT[host] + ".service"]).stdout
    return dict(line.split("=", 1) for line in shown.splitlines() if "=" in line)


class Converged:
    """The inventory of the bed, and the playbook runs made with it."""

    def __init__(self, bed, root: Path, timings: dict) -> None:
        self.bed = bed
        self.root = root
        self.timings = timings
        # Variables per host on top of the bed's inventory (tests change them, then re-run).
        self.host_vars: dict[str, dict] = {host: {} for host in HOSTS}
        self.first_run: PlaybookRun | None = None
        # Whether the last run was teardown.yml (the next user converges again).
        self.torn_down = False

    @property
    def server_vars(self) -> dict:
        return self.host_vars[SERVER]

    def inventory(self) -> Path:
        data = fleet_inventory(self.bed, self.root, WEB_PASSWORD, self.host_vars)
        path = self.root / "hosts.yml"
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        return path

    @property
    def ca(self) -> Path:
        """The fleet CA the first run made on this machine."""
        return self.root / "pki" / "ca.crt"

    @property
    def http(self) -> dict:
        """The CA and credentials of ``get`` for the fleet's endpoints."""
        return {"ca": str(self.ca), "auth": (WEB_USER, WEB_PASSWORD)}

    def url(self, host: str, port: int = PORT) -> str:
        return "https://%s:%d" % (self.bed.address(host), port)

    def query(self, host: str, promql: str) -> list[dict]:
        return query(self.url(host), promql, **self.http)

    def get_json(self, host: str, path: str) -> dict:
        return json.loads(get(self.url(host) + path, **self.http))

    def run(self, playbook: str = "playbooks/site.yml", timing: str | None = None, check: bool = True,
            ) -> PlaybookRun:
        command = [str(VENV_BIN / "ansible-playbook"), playbook, "-i", str(self.inventory())]
        started = time.monotonic()
        try:
            finished = subprocess.run(command, cwd=REPO, env=ansible_env(), capture_output=True, text=True,
                                      check=False, timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired as exc:
            output = exc.stdout or b""
            output = output.decode(errors="replace") if isinstance(output, bytes) else output
            raise AssertionError("%s did not end within %d s:\n%s" % (playbook, RUN_TIMEOUT, output[-6000:])) from None
        done = PlaybookRun(finished.returncode, finished.stdout + finished.stderr, time.monotonic() - started)
        if timing:
            self.timings[timing] = done.seconds
        self.torn_down = playbook.endswith("teardown.yml") and done.returncode == 0
        assert not check or done.returncode == 0, "%s failed (rc=%d):\n%s" % (
            playbook, done.returncode, done.output[-8000:])
        return done

    def start(self, name: str, playbook: str = "playbooks/site.yml") -> subprocess.Popen:
        """ansible-playbook started in the background, in a process group of its own; its output
        goes to ``root``/``name``.log (``background_output``)."""
        with (self.root / (name + ".log")).open("w") as log:
            return subprocess.Popen([str(VENV_BIN / "ansible-playbook"), playbook, "-i", str(self.inventory())],
                                    cwd=REPO, env=ansible_env(), stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True)

    def background_output(self, name: str) -> str:
        return (self.root / (name + ".log")).read_text()

    def converge(self) -> None:
        """Run site.yml when the last run tore the fleet down."""
        if self.torn_down:
            self.run(timing="site.yml converge again")

    def federated_datacenters(self) -> set[str]:
        """Datacenters whose own targets' ``up`` the global has now (federated in the last minute)."""
        result = self.query(GLOBAL, 'count by (datacenter) (up{datacenter!="", job!~"federate-.+"})')
        return {sample["metric"]["datacenter"] for sample in result}
