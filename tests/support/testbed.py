"""A test bed of real machines: Debian bookworm hosts booting systemd as PID 1 in podman containers.

Each host has its own address on a podman bridge network, one network per site (a datacenter,
the globals), and runs sshd taking a key made for the run. Ansible reaches them over SSH like any
other machine (``inventory_vars``). The image is a fresh minimal Debian install, built once by
``scripts/testbed_image.sh`` (``make setup``) and cached outside the checkout.

    with Testbed({"dc1": ["dc1-prom-a", "dc1-web-1"], "global": ["global-a"]}) as bed:
        bed.inventory_vars("dc1-prom-a")   # ansible_host, ansible_user, ansible_ssh_private_key_file, ...
        bed.run("dc1-web-1", "systemctl is-active ssh")
        bed.cut("dc1-web-1"); bed.restore("dc1-web-1")
        bed.release_url(path)              # a file of the releases cache, served to the hosts over HTTP

Hosts of different sites reach each other through this machine, which routes between the bridges
(the CNI bridge plugin turns on IP forwarding; its firewall plugin accepts forwarded traffic of
every container). Traffic leaving a site is masqueraded by CNI: a host sees a peer of another
site as that site's gateway address.

Everything the bed makes carries the prefix ``pft-``; ``Testbed.clean_leftovers()`` (run at every
start) removes what a crashed run left behind, and leaving the ``with`` block removes the rest:
containers, networks with their IPAM state, the key pair, the HTTP server.

``fleet_inventory`` turns a bed into the collection's inventory (a site ``dc<N>`` is a datacenter,
its ``*-prom-*`` hosts servers and the others machines it watches; the site ``global`` holds the
globals; tarballs from the releases cache). Run as a script, it keeps a bed up for tools that are
not Python (the Molecule scenario ``hosts``, scripts/molecule_hosts.sh):

    python tests/support/testbed.py up --state STATE.json --inventory HOSTS.yml --root DIR &
    python tests/support/testbed.py down --state STATE.json

``up`` writes the inventory, then the state file (its pid, the hosts) once the hosts run, and
serves the releases cache until it gets SIGTERM; ``down`` stops it and removes what is left. Its
names carry the prefix ``pfm-`` (``--prefix``), so that it and the bed of tests/hosts (``pft-``) can
run at the same time without either's clean-up removing the other's machines.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import ipaddress
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
IMAGE_SCRIPT = REPO / "scripts" / "testbed_image.sh"
PREFIX = "pft-"
# Site networks are /24s taken from here, skipping any that overlaps a route or a podman network.
SUBNET_POOL = ipaddress.ip_network("10.213.0.0/16")
# The first host address of a site (gateway .1).
FIRST_HOST = 10
# podman on this VM: runc (crun rejects the hybrid cgroup layout), explicit ulimits (no CAP_SYS_RESOURCE).
CONTAINERS_CONF = """\
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
"""
SSH_OPTIONS = ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
               "-o", "LogLevel=ERROR", "-o", "BatchMode=yes", "-o", "ConnectTimeout=3"]
CNI_STATE = Path("/var/lib/cni/networks")


class TestbedError(RuntimeError):
    """A podman, ssh or boot step of the bed failed; the message holds the command and its output."""


def cache_dir() -> Path:
    """$PROMFLEET_CACHE, else ~/.cache/promfleet (as scripts/testbed_image.sh and scripts/kube/build.sh)."""
    if os.environ.get("PROMFLEET_CACHE"):
        return Path(os.environ["PROMFLEET_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "promfleet"


@functools.cache
def podman_env() -> dict:
    """The environment podman runs with: this VM's containers.conf through CONTAINERS_CONF."""
    conf = cache_dir() / "testbed-containers.conf"
    if not conf.exists() or conf.read_text() != CONTAINERS_CONF:
        conf.parent.mkdir(parents=True, exist_ok=True)
        conf.write_text(CONTAINERS_CONF)
    return {**os.environ, "CONTAINERS_CONF": str(conf)}


def command(args: list[str], check: bool = True, timeout: float = 120, env: dict | None = None,
            ) -> subprocess.CompletedProcess:
    """Run ``args``; raise TestbedError with the output when ``check`` and it fails."""
    done = subprocess.run(args, capture_output=True, text=True, check=False, timeout=timeout, env=env)
    if check and done.returncode != 0:
        output = (done.stdout + done.stderr).strip()[-3000:]
        raise TestbedError("%s failed (rc=%d): %s" % (" ".join(args), done.returncode, output))
    return done


def podman(*args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
    return command(["podman", *args], check=check, timeout=timeout, env=podman_env())


def image() -> str:
    """The host image, loaded from the cache (or built, when `make setup` has not run)."""
    name = command(["bash", str(IMAGE_SCRIPT), "--print-name"]).stdout.strip()
    if podman("image", "exists", name, check=False).returncode != 0:
        command(["bash", str(IMAGE_SCRIPT)], timeout=900)
    return name


def used_subnets() -> list[ipaddress.IPv4Network]:
    """Subnets of this machine's IPv4 routes and of every podman network."""
    found = []
    routes = command(["ip", "-4", "-o", "route", "show", "table", "all"]).stdout
    for line in routes.splitlines():
        words = line.split()
        if words and words[0] in ("local", "broadcast", "unreachable", "blackhole", "prohibit"):
            words = words[1:]
        if words and words[0] != "default":
            with contextlib.suppress(ValueError):
                found.append(ipaddress.ip_network(words[0], strict=False))
    for network in json.loads(podman("network", "ls", "--format", "json").stdout or "[]"):
        for subnet in network.get("subnets") or []:
            net = ipaddress.ip_network(subnet["subnet"], strict=False)
            if net.version == 4:
                found.append(net)
    return found


def free_subnets(count: int) -> list[ipaddress.IPv4Network]:
    """``count`` /24s of SUBNET_POOL that overlap no route and no podman network."""
    used = used_subnets()
    chosen = []
    for candidate in SUBNET_POOL.subnets(new_prefix=24):
        if not any(candidate.overlaps(u) for u in used):
            chosen.append(candidate)
            if len(chosen) == count:
                return chosen
    raise TestbedError("no free /24 left in %s" % SUBNET_POOL)


@dataclass
class Host:
    name: str
    site: str
    address: str
    mac: str = ""

    @property
    def container(self) -> str:
        return PREFIX + self.name


@dataclass
class Site:
    name: str
    subnet: ipaddress.IPv4Network

    @property
    def network(self) -> str:
        return PREFIX + self.name

    @property
    def gateway(self) -> str:
        return str(self.subnet.network_address + 1)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class names it so
        pass


class Testbed:
    """Hosts per site, started in parallel; a context manager that leaves nothing behind.

    ``sites`` maps a site name (a network) to its host names, e.g. ``{"dc1": ["dc1-prom-a"],
    "global": ["global-a"]}``. ``serve`` is a directory the hosts may download from
    (``release_url``): by default the Prometheus releases cache of scripts/releases.py.
    """

    def __init__(self, sites: dict[str, list[str]], serve: Path | None = None, memory: str = "512m",
                 boot_timeout: float = 90) -> None:
        names = [h for hosts in sites.values() for h in hosts]
        if len(set(names)) != len(names):
            raise ValueError("a host name appears twice: %s" % names)
        self.site_hosts = {site: list(hosts) for site, hosts in sites.items()}
        self.serve = Path(serve) if serve else None
        self.memory = memory
        self.boot_timeout = boot_timeout
        self.sites: dict[str, Site] = {}
        self.hosts: dict[str, Host] = {}
        self.key_dir: Path | None = None
        self._http: http.server.ThreadingHTTPServer | None = None
        self.timings: dict[str, float] = {}

    # --- life cycle --------------------------------------------------------------------------

    def __enter__(self) -> Testbed:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        started = time.monotonic()
        self.clean_leftovers()
        name = image()
        self.key_dir = Path(tempfile.mkdtemp(prefix=PREFIX + "keys-"))
        command(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "promfleet-testbed",
                 "-f", str(self.private_key)])
        for site, subnet in zip(self.site_hosts, free_subnets(len(self.site_hosts)), strict=True):
            self.sites[site] = Site(site, subnet)
            podman("network", "create", "--subnet", str(subnet), "--gateway", self.sites[site].gateway,
                   self.sites[site].network)
            for index, host in enumerate(self.site_hosts[site]):
                self.hosts[host] = Host(host, site, str(subnet.network_address + FIRST_HOST + index))
        with ThreadPoolExecutor(max_workers=len(self.hosts)) as pool:
            list(pool.map(lambda h: self._run_container(h, name), self.hosts.values()))
            list(pool.map(self._wait_booted, self.hosts.values()))
        if self.serve is not None:
            self._start_http()
        self.timings["start"] = time.monotonic() - started

    def stop(self) -> None:
        """Remove the containers, the networks (and their IPAM state), the keys; stop the HTTP server."""
        started = time.monotonic()
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            self._http = None
        containers = [h.container for h in self.hosts.values()]
        if containers:
            podman("rm", "--force", "--time", "10", *containers, check=False, timeout=120)
        for site in self.sites.values():
            _remove_network(site.network)
        if self.key_dir is not None:
            shutil.rmtree(self.key_dir, ignore_errors=True)
            self.key_dir = None
        self.hosts.clear()
        self.sites.clear()
        self.timings["stop"] = time.monotonic() - started

    @staticmethod
    def clean_leftovers() -> None:
        """Remove containers, networks and key folders named ``pft-*`` (PREFIX: a crashed run's), with
        their IPAM state."""
        containers = podman("ps", "--all", "--format", "{{.Names}}").stdout.split()
        ours = [c for c in containers if c.startswith(PREFIX)]
        if ours:
            podman("rm", "--force", "--time", "5", *ours, check=False)
        for network in podman("network", "ls", "--format", "{{.Name}}").stdout.split():
            if network.startswith(PREFIX):
                _remove_network(network)
        if CNI_STATE.is_dir():
            for state in CNI_STATE.glob(PREFIX + "*"):
                shutil.rmtree(state, ignore_errors=True)
        for keys in Path(tempfile.gettempdir()).glob(PREFIX + "keys-*"):
            shutil.rmtree(keys, ignore_errors=True)

    def _run_container(self, host: Host, image_name: str) -> None:
        site = self.sites[host.site]
        podman("run", "--detach", "--name", host.container, "--hostname", host.name,
               "--systemd=always", "--network", site.network, "--ip", host.address,
               "--volume", "%s:/root/.ssh/authorized_keys:ro,Z" % self.public_key,
               "--memory", self.memory, image_name)

    def _wait_booted(self, host: Host) -> None:
        """Until sshd takes the key and systemd says the machine is running (or degraded)."""
        deadline = time.monotonic() + self.boot_timeout
        last = ""
        while time.monotonic() < deadline:
            done = self.ssh(host.name, "systemctl is-system-running --wait", check=False, timeout=60)
            state = done.stdout.strip()
            if state in ("running", "degraded"):
                return
            last = (done.stdout + done.stderr).strip()
            time.sleep(0.3)
        raise TestbedError("%s did not boot within %.0f s: %s" % (host.name, self.boot_timeout, last))

    # --- access ------------------------------------------------------------------------------

    @property
    def private_key(self) -> Path:
        assert self.key_dir is not None, "the bed is not started"
        return self.key_dir / "id_ed25519"

    @property
    def public_key(self) -> Path:
        return self.private_key.with_suffix(".pub")

    def address(self, host: str) -> str:
        return self.hosts[host].address

    def gateway(self, host: str) -> str:
        """This machine's address on ``host``'s network."""
        return self.sites[self.hosts[host].site].gateway

    def inventory_vars(self, host: str) -> dict:
        """Connection variables of ``host`` for an Ansible inventory (SSH as root with the run's key)."""
        return {
            "ansible_host": self.address(host),
            "ansible_user": "root",
            "ansible_connection": "ssh",
            "ansible_ssh_private_key_file": str(self.private_key),
            # A cut-off host is given up by the ServerAlive* options of the repository's ansible.cfg.
            "ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null",
            "ansible_python_interpreter": "/usr/bin/python3",
        }

    def run(self, host: str, cmd: str | list[str], check: bool = True,
            timeout: float = 60) -> subprocess.CompletedProcess:
        """Run ``cmd`` (a shell line, or argv) on ``host`` with `podman exec` (works while cut off)."""
        argv = ["sh", "-c", cmd] if isinstance(cmd, str) else list(cmd)
        return podman("exec", self.hosts[host].container, *argv, check=check, timeout=timeout)

    def ssh(self, host: str, cmd: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
        """Run ``cmd`` on ``host`` over SSH, as Ansible reaches it."""
        return command(["ssh", *SSH_OPTIONS, "-i", str(self.private_key),
                        "root@%s" % self.address(host), cmd], check=check, timeout=timeout)

    # --- faults ------------------------------------------------------------------------------

    def cut(self, host: str) -> None:
        """Take ``host`` off its network: nothing reaches it and it reaches nothing."""
        h = self.hosts[host]
        h.mac = self._interfaces(h)[self.sites[h.site].network][1]
        podman("network", "disconnect", self.sites[h.site].network, h.container)
        if self._interfaces(h):
            raise TestbedError("%s still has an address after the disconnect" % host)

    def restore(self, host: str) -> None:
        """Put ``host`` back on its network with the same address and MAC address (so that no
        neighbour cache, this machine's or a peer's, holds a stale one)."""
        h = self.hosts[host]
        network = self.sites[h.site].network
        podman("network", "connect", "--ip", h.address, *(["--mac-address", h.mac] if h.mac else []),
               network, h.container)
        if self._interfaces(h).get(network, ("",))[0] != h.address:
            raise TestbedError("%s came back without its address %s" % (host, h.address))

    def _interfaces(self, host: Host) -> dict[str, tuple[str, str]]:
        """network -> (address, MAC address) of ``host``'s connections."""
        data = json.loads(podman("inspect", "--format", "json", host.container).stdout)[0]
        networks = data["NetworkSettings"].get("Networks") or {}
        return {name: (n.get("IPAddress"), n.get("MacAddress")) for name, n in networks.items() if n.get("IPAddress")}

    # --- files for the hosts -----------------------------------------------------------------

    def _start_http(self) -> None:
        """Serve ``serve`` on the gateway of the first site; every host reaches it through its own gateway."""
        handler = functools.partial(_QuietHandler, directory=str(self.serve))
        bind = next(iter(self.sites.values())).gateway
        self._http = http.server.ThreadingHTTPServer((bind, 0), handler)
        threading.Thread(target=self._http.serve_forever, daemon=True, name="testbed-http").start()

    @property
    def http_base(self) -> str:
        if self._http is None:
            raise TestbedError("the bed serves no directory (Testbed(serve=...))")
        address, port = self._http.server_address[:2]
        return "http://%s:%d" % (address, port)

    def release_url(self, path: str | Path) -> str:
        """The URL the hosts download ``path`` (a file under ``serve``, absolute or relative) from."""
        assert self.serve is not None
        relative = Path(path).resolve().relative_to(self.serve.resolve()) if Path(path).is_absolute() else Path(path)
        return "%s/%s" % (self.http_base, relative.as_posix())


def _remove_network(name: str) -> None:
    podman("network", "rm", "--force", name, check=False)
    shutil.rmtree(CNI_STATE / name, ignore_errors=True)


# --- the collection's inventory on a bed ---------------------------------------------------------

# The bed's fleet: datacenter dc1 (a server and a machine it watches), datacenter dc2 (a server)
# and a global, each site in a subnet of its own.
FLEET_SITES = {
    "dc1": ["dc1-prom-a", "dc1-web-1"],
    "dc2": ["dc2-prom-a"],
    "global": ["global-a"],
}
# The Prometheus and node_exporter releases the hosts install (tarballs of the releases cache).
NODE_EXPORTER = "1.9.0"


def releases_dir() -> Path:
    """The releases cache of scripts/releases.py (each tarball in a folder of its own there)."""
    import releases  # noqa: PLC0415 - tests/support, imported only where a fleet is built

    return Path(releases.release(releases.DEFAULT)["tarball"]).parents[1]


def is_server(host: str) -> bool:
    return "-prom-" in host


def fleet_inventory(bed: Testbed, root: Path, password: str,
                    host_vars: Mapping[str, Mapping] | None = None) -> dict:
    """The inventory of site.yml on ``bed``: its ``dc*`` sites are datacenters (the site name is the
    ``datacenter`` label), ``*-prom-*`` hosts their servers, the others watched machines; the site
    ``global`` holds the globals. Systemd units, tarballs served by the bed, the fleet CA under
    ``root``/pki, FAST_INTERVALS; ``host_vars`` adds variables per host."""
    import releases  # noqa: PLC0415
    from fleet import FAST_INTERVALS  # noqa: PLC0415

    prometheus = releases.release(releases.DEFAULT)
    node_exporter = releases.node_exporter(NODE_EXPORTER)
    extra = dict(host_vars or {})

    def host(name: str) -> dict:
        return {**bed.inventory_vars(name), **extra.get(name, {})}

    datacenters, watched = {}, {}
    for site, hosts in bed.site_hosts.items():
        if site == "global":
            continue
        group = "dc_" + site.replace("-", "_")
        datacenters[group] = {"vars": {"datacenter": site},
                              "hosts": {h: host(h) for h in hosts if is_server(h)}}
        machines = [h for h in hosts if not is_server(h)]
        if machines:
            datacenters[group]["children"] = {group + "_machines": {"hosts": {m: host(m) for m in machines}}}
            watched[group + "_machines"] = {}
    common = {
        "prometheus_service_manager": "systemd",
        "prometheus_install_method": "tarball",
        "prometheus_version": prometheus["version"],
        "prometheus_tarball_url": bed.release_url(prometheus["tarball"]),
        "prometheus_tarball_checksum": "sha256:" + prometheus["sha256"],
        "node_exporter_install_method": "tarball",
        "node_exporter_version": node_exporter["version"],
        "node_exporter_tarball_url": bed.release_url(node_exporter["tarball"]),
        "node_exporter_tarball_checksum": "sha256:" + node_exporter["sha256"],
        "prometheus_report_dir": str(Path(root) / "report"),
        "promfleet_pki_dir": str(Path(root) / "pki"),
        "promfleet_web_password": password,
        **FAST_INTERVALS,
    }
    children = {
        "datacenters": {"children": datacenters},
        "prometheus_global": {"hosts": {h: host(h) for h in bed.site_hosts.get("global", [])}},
    }
    if watched:
        children["watched"] = {"children": watched}
    return {"all": {"vars": common, "children": children}}


# --- command line: a bed for tools that are not Python ------------------------------------------

def _up(state: Path, inventory: Path, root: Path, password: str) -> int:
    import yaml  # noqa: PLC0415

    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, lambda *_: stopping.set())
    with Testbed(FLEET_SITES, serve=releases_dir()) as bed:
        root.mkdir(parents=True, exist_ok=True)
        inventory.parent.mkdir(parents=True, exist_ok=True)
        inventory.write_text(yaml.safe_dump(fleet_inventory(bed, root, password), sort_keys=False))
        temporary = state.with_suffix(".tmp")
        temporary.write_text(json.dumps({
            "pid": os.getpid(), "prefix": PREFIX, "inventory": str(inventory), "root": str(root),
            "hosts": {h.name: {"site": h.site, "address": h.address} for h in bed.hosts.values()},
            "private_key": str(bed.private_key), "http": bed.http_base, "timings": bed.timings,
        }, indent=2))
        temporary.replace(state)
        print("test bed up in %.1f s: %s" % (bed.timings["start"], ", ".join(
            "%s %s" % (h.name, h.address) for h in bed.hosts.values())), flush=True)
        while not stopping.wait(1):
            pass
    print("test bed down in %.1f s" % bed.timings["stop"], flush=True)
    return 0


def _down(state: Path, timeout: float = 90) -> int:
    if state.exists():
        global PREFIX  # noqa: PLW0603 - the command line's own process
        PREFIX = json.loads(state.read_text()).get("prefix", PREFIX)
        pid = json.loads(state.read_text())["pid"]
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                os.kill(pid, 0)  # ProcessLookupError once it is gone
                time.sleep(0.2)
        state.unlink()
    Testbed.clean_leftovers()  # whatever an `up` that died left behind
    return 0


def main(argv: list[str] | None = None) -> int:
    import argparse  # noqa: PLC0415

    parser = argparse.ArgumentParser(description="Start (up) or stop (down) the test bed of real hosts.")
    parser.add_argument("action", choices=["up", "down"])
    parser.add_argument("--state", type=Path, required=True, help="JSON file: written by up once the hosts run")
    parser.add_argument("--inventory", type=Path, help="the inventory up writes (default: hosts.yml next to --state)")
    parser.add_argument("--root", type=Path, help="the fleet's folder: pki/, report/ (default: --state's folder)")
    parser.add_argument("--password", default=os.environ.get("PROMFLEET_WEB_PASSWORD", "testbed-only"))
    parser.add_argument("--prefix", default="pfm-", help="of the containers, networks and keys (default: pfm-)")
    args = parser.parse_args(argv)
    global PREFIX  # noqa: PLW0603 - the command line's own process
    PREFIX = args.prefix
    state = args.state.resolve()
    if args.action == "down":
        return _down(state)
    root = (args.root or state.parent).resolve()
    return _up(state, (args.inventory or state.parent / "hosts.yml").resolve(), root, args.password)


if __name__ == "__main__":
    raise SystemExit(main())
