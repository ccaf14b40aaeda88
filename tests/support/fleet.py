"""A throw-away federation on this machine: free ports, a scratch root, real playbook runs.

Shared by the integration tests, the Molecule wrapper and the bench scripts, so that all of them
build inventories and run playbooks the same way. Everything lives under ``root``; nothing is
written to /etc or /var, and a private supervisord runs the servers.
"""

from __future__ import annotations

import base64
import json
import os
import re
import socket
import ssl
import subprocess
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import releases
import yaml

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = REPO / ".venv" / "bin"

# Short intervals so that federation shows data within seconds.
FAST_INTERVALS = {
    "datacenter_scrape_interval": "2s",
    "datacenter_scrape_timeout": "1s",
    "datacenter_evaluation_interval": "2s",
    "global_scrape_interval": "2s",
    "global_scrape_timeout": "1s",
    "global_evaluation_interval": "2s",
    "global_federation_interval": "2s",
    "global_federation_timeout": "1s",
}


# TLS and basic auth are on by default: every test fleet shares one fleet CA (made by the first
# run, under .tmp), so that a host's certificate is issued once and the helpers below trust it.
TEST_PKI = REPO / ".tmp" / "pki"
WEB_USER = "promfleet"
WEB_PASSWORD = "integration-tests-only"
# The inventory variables of that: the defaults (TLS and auth on) with the shared CA and the password.
WEB_VARS = {"promfleet_pki_dir": str(TEST_PKI), "promfleet_web_password": WEB_PASSWORD}


def tls_context(ca_file: Path | None = None) -> ssl.SSLContext:
    """A client context that trusts the tests' fleet CA (or ``ca_file``) and nothing else."""
    return ssl.create_default_context(cafile=str(ca_file or TEST_PKI / "ca.crt"))


def open_url(url: str, data: bytes | None = None, method: str | None = None, timeout: float = 10,
             password: str | None = WEB_PASSWORD, headers: dict | None = None, ca_file: Path | None = None):
    """urlopen for the fleet's endpoints: over https trusting the fleet CA (or ``ca_file``), as the
    fleet's user (unless ``password`` is None); plain http as it is."""
    request = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    context = None
    if url.startswith("https://"):
        context = tls_context(ca_file)
        if password is not None:
            token = base64.b64encode(("%s:%s" % (WEB_USER, password)).encode()).decode()
            request.add_header("Authorization", "Basic " + token)
    return urllib.request.urlopen(request, timeout=timeout, context=context)


def free_ports(count: int) -> list[int]:
    """Ports nobody listens on right now (held open together, so they are distinct)."""
    sockets = []
    try:
        for _attempt in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for sock in sockets:
            sock.close()


def group_name(datacenter: str) -> str:
    return "dc_" + re.sub(r"[^A-Za-z0-9_]", "_", datacenter)


@dataclass
class Fleet:
    """A local topology: ``datacenters`` (label values) and ``globals_`` (host names)."""

    root: Path
    datacenters: list[str]
    globals_: list[str] = field(default_factory=lambda: ["global-a"])
    ports: dict[str, int] = field(default_factory=dict)
    extra_vars: dict = field(default_factory=dict)
    # The Prometheus release line every server runs (default: the 3.x release), and per host.
    release: str | None = None
    host_releases: dict[str, str] = field(default_factory=dict)
    # Watched machines per datacenter (host names): a node_exporter each, on a loopback port.
    watched: dict[str, list[str]] = field(default_factory=dict)
    # Alertmanager instances of the global cluster (host names): an HTTP and a cluster port each.
    alertmanagers: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.root = Path(self.root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)  # the prometheus user must reach its directories below
        wanted = [h for h in self.hosts() + self.machines() + self.alertmanagers
                  + [self.cluster_port_key(a) for a in self.alertmanagers] if h not in self.ports]
        self.ports.update(zip(wanted, free_ports(len(wanted)), strict=True))

    @staticmethod
    def server_of(datacenter: str) -> str:
        return "%s-prom-a" % datacenter

    def hosts(self) -> list[str]:
        return [self.server_of(dc) for dc in self.datacenters] + list(self.globals_)

    @staticmethod
    def cluster_port_key(alertmanager: str) -> str:
        """The key of an Alertmanager's cluster (gossip) port in ``ports``."""
        return alertmanager + "/cluster"

    def machines(self, datacenter: str | None = None) -> list[str]:
        """The watched machines of ``datacenter`` (default: of every datacenter)."""
        if datacenter is not None:
            return list(self.watched.get(datacenter, []))
        return [m for dc in self.datacenters for m in self.watched.get(dc, [])]

    def add_machine(self, datacenter: str, name: str) -> None:
        """Watch one more machine in ``datacenter`` (a free port for its node_exporter)."""
        self.watched.setdefault(datacenter, []).append(name)
        if name not in self.ports:
            self.ports[name] = free_ports(1)[0]

    @property
    def tls(self) -> bool:
        return bool(self.extra_vars.get("promfleet_tls", True))

    def url(self, host: str) -> str:
        return "%s://127.0.0.1:%d" % ("https" if self.tls else "http", self.ports[host])

    @property
    def supervisord_conf(self) -> Path:
        return self.root / "supervisor" / "supervisord.conf"

    def common_vars(self) -> dict:
        return {
            "ansible_connection": "local",
            "ansible_python_interpreter": "{{ ansible_playbook_python }}",
            "prometheus_listen_address": "127.0.0.1",
            "prometheus_service_manager": "supervisord",
            "prometheus_supervisord_private": True,
            "prometheus_supervisord_conf": str(self.supervisord_conf),
            "prometheus_supervisord_program_dir": str(self.root / "supervisor" / "programs"),
            "prometheus_supervisord_run_dir": str(self.root / "run"),
            "prometheus_config_dir": str(self.root / "etc") + "/{{ prometheus_instance }}",
            "prometheus_data_dir": str(self.root / "data") + "/{{ prometheus_instance }}",
            "prometheus_log_dir": str(self.root / "log"),
            "prometheus_report_dir": str(self.root / "report"),
            # Watched machines: Debian's node_exporter on loopback, under the same private supervisord.
            "node_exporter_listen_address": "127.0.0.1",
            "node_exporter_install_method": "package",
            # Alertmanagers: Debian's package on loopback, their files under the root.
            "alertmanager_listen_address": "127.0.0.1",
            "alertmanager_install_method": "package",
            "alertmanager_version": "0.25.0",
            "alertmanager_config_dir": str(self.root / "etc") + "/{{ alertmanager_instance }}",
            "alertmanager_data_dir": str(self.root / "data") + "/{{ alertmanager_instance }}",
            "node_exporter_config_dir": str(self.root / "etc") + "/{{ node_exporter_instance }}",
            **WEB_VARS,
            **releases.binary_vars(self.release),
            **FAST_INTERVALS,
            **self.extra_vars,
        }

    def host_vars(self, host: str) -> dict:
        """A server's own variables: its port, and its release where it differs from the fleet's."""
        own = {"prometheus_port": self.ports[host]}
        if host in self.host_releases:
            own.update(releases.binary_vars(self.host_releases[host]))
        return own

    def inventory(self, datacenters: list[str] | None = None) -> dict:
        """Inventory data for ``datacenters`` (default: all of them) and the globals."""
        chosen = self.datacenters if datacenters is None else datacenters
        children = {
            group_name(dc): {
                "vars": {"datacenter": dc},
                "hosts": {self.server_of(dc): self.host_vars(self.server_of(dc))},
            }
            for dc in chosen
        }
        machine_groups = {}
        for dc in chosen:
            if self.machines(dc):
                machine_groups[group_name(dc) + "_machines"] = {}
                children[group_name(dc)]["children"] = {group_name(dc) + "_machines": {"hosts": {
                    m: {"node_exporter_port": self.ports[m]} for m in self.machines(dc)}}}
        top = {
            "datacenters": {"children": children},
            "prometheus_global": {"hosts": {g: self.host_vars(g) for g in self.globals_}},
        }
        if machine_groups:
            top["watched"] = {"children": machine_groups}
        if self.alertmanagers:
            top["alertmanagers"] = {"hosts": {
                a: {"alertmanager_port": self.ports[a],
                    "alertmanager_cluster_port": self.ports[self.cluster_port_key(a)]}
                for a in self.alertmanagers}}
        return {"all": {"vars": self.common_vars(), "children": top}}

    @staticmethod
    def machine_host(inventory: dict, datacenter: str, name: str) -> dict:
        """The variables of watched machine ``name`` of ``datacenter`` in ``inventory``, to change in place."""
        group = inventory["all"]["children"]["datacenters"]["children"][group_name(datacenter)]
        return group["children"][group_name(datacenter) + "_machines"]["hosts"][name]

    @staticmethod
    def datacenter_host(inventory: dict, datacenter: str) -> dict:
        """The variables of ``datacenter``'s server in ``inventory`` (from ``inventory()``), to change in place."""
        group = inventory["all"]["children"]["datacenters"]["children"][group_name(datacenter)]
        return group["hosts"][Fleet.server_of(datacenter)]

    @staticmethod
    def global_host(inventory: dict, name: str) -> dict:
        """The variables of global server ``name`` in ``inventory`` (from ``inventory()``), to change in place."""
        return inventory["all"]["children"]["prometheus_global"]["hosts"][name]

    def write_inventory(self, name: str = "hosts.yml", datacenters: list[str] | None = None,
                        data: dict | None = None) -> Path:
        """Write ``data`` (default: ``inventory(datacenters)``) to ``<root>/inventory/<name>``."""
        path = self.root / "inventory" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(self.inventory(datacenters) if data is None else data, sort_keys=False))
        return path

    def run(self, playbook: str, inventory: Path | list[Path] | None = None, *args: str,
            check: bool = True) -> PlaybookRun:
        """Run ``playbook`` (relative to the repo) against this fleet's inventory."""
        inventories = inventory if isinstance(inventory, list) else [inventory or self.write_inventory()]
        return run_playbook(playbook, inventories, *args, check=check)


@dataclass
class PlaybookRun:
    returncode: int
    output: str
    seconds: float

    def recap(self) -> dict[str, dict[str, int]]:
        """PLAY RECAP counters per host."""
        rows = re.findall(r"^(\S+)\s+:\s+((?:\w+=\d+\s*)+)$", self.output.split("PLAY RECAP")[-1], re.M)
        return {host: {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", counters)} for host, counters in rows}

    def changed(self) -> int:
        return sum(counts.get("changed", 0) for counts in self.recap().values())


def ansible_env() -> dict:
    env = dict(os.environ)
    env["PATH"] = "%s:%s" % (VENV_BIN, env.get("PATH", ""))
    env["ANSIBLE_CONFIG"] = str(REPO / "ansible.cfg")
    env.setdefault("ANSIBLE_HOME", str(REPO / ".tmp" / "ansible-home"))
    env.setdefault("ANSIBLE_LOCAL_TEMP", str(REPO / ".tmp" / "ansible-local"))
    env["ANSIBLE_NOCOLOR"] = "1"
    env["ANSIBLE_FORCE_COLOR"] = "0"
    return env


def run_playbook(playbook: str, inventories: list[Path], *args: str, check: bool = True) -> PlaybookRun:
    """Run ansible-playbook from the repo root; raise with the output when ``check`` and it fails."""
    command = [str(VENV_BIN / "ansible-playbook"), playbook]
    for inventory in inventories:
        command += ["-i", str(inventory)]
    command += list(args)
    started = time.monotonic()
    done = subprocess.run(command, cwd=REPO, env=ansible_env(), capture_output=True, text=True, check=False)
    run = PlaybookRun(done.returncode, done.stdout + done.stderr, time.monotonic() - started)
    if check and run.returncode != 0:
        raise AssertionError("%s failed (rc=%d):\n%s" % (" ".join(command), run.returncode, run.output[-6000:]))
    return run


def query(base_url: str, promql: str) -> list[dict]:
    """Instant query; the result vector."""
    url = "%s/api/v1/query?%s" % (base_url, urllib.parse.urlencode({"query": promql}))
    with open_url(url) as response:
        return json.load(response)["data"]["result"]


def get_json(url: str) -> dict:
    """The JSON answer of a GET to one of the fleet's endpoints."""
    with open_url(url) as response:
        return json.load(response)


def metric(base_url: str, name: str) -> float:
    """Value of an unlabelled metric read straight from /metrics."""
    with open_url(base_url + "/metrics") as response:
        text = response.read().decode()
    found = re.search(r"^%s (\S+)$" % re.escape(name), text, re.M)
    if not found:
        raise AssertionError("%s not found at %s/metrics" % (name, base_url))
    return float(found.group(1))


def wait_for(predicate, timeout: float, interval: float = 0.2, what: str = "condition"):
    """Poll ``predicate`` until it returns something truthy; that value is returned."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except (OSError, ValueError, KeyError) as exc:  # server not up yet
            last_error = exc
        time.sleep(interval)
    raise AssertionError("timed out after %.0f s waiting for %s (last error: %s)" % (timeout, what, last_error))


def federated_datacenters(global_url: str) -> set[str]:
    """Datacenters whose own `up` series arrived at a global through /federate."""
    result = query(global_url, 'count by (datacenter) (up{datacenter!="", job!~"federate-.+"})')
    return {sample["metric"]["datacenter"] for sample in result}


def listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def processes_matching(text: str) -> list[str]:
    """Command lines of running processes that contain ``text``."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline:
            found.append(cmdline.strip())
    return found


def run_module(module: str, args: dict, *options: str) -> dict:
    """The result of ``ansible localhost -m <module> -a <args> <options>`` (json callback)."""
    env = ansible_env()
    env.update(ANSIBLE_STDOUT_CALLBACK="json", ANSIBLE_LOAD_CALLBACK_PLUGINS="1")
    done = subprocess.run(
        [str(VENV_BIN / "ansible"), "localhost", "-i", "localhost,", "-c", "local",
         "-e", "ansible_python_interpreter=" + str(VENV_BIN / "python"),
         "-m", module, "-a", json.dumps(args), *options],
        cwd=REPO, env=env, capture_output=True, text=True, check=False,
    )
    return json.loads(done.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]
