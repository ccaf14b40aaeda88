"""How Prometheus gets on the machine: a release tarball from a URL (checksum verified), or a binary
already there. One datacenter and one global, all in one root, run in the order of this file:
refused settings first (nothing runs yet), then the tarball install, then a switch to the binary method.

The tarball is release-shaped (prometheus-<version>.linux-amd64/{prometheus,promtool}, made from
the 3.x release the tests run) and served, with a sha256sums.txt like upstream's, by a local HTTP
server on a free port.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import shlex
import tarfile
import threading
from pathlib import Path

import pytest
import releases
from fleet import Fleet, federated_datacenters, wait_for
from it_support import assert_failed, assert_nothing_runs, assert_succeeded, scratch_root, tear_down

VERSION = releases.DEFAULT
ARCHIVE = "prometheus-%s.linux-amd64.tar.gz" % VERSION
DATACENTER = "eu-west-1"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def build_release_tarball(directory: Path) -> Path:
    top = "prometheus-%s.linux-amd64" % VERSION
    archive = directory / ARCHIVE
    with tarfile.open(archive, "w:gz", compresslevel=1) as tar:
        for tool in ("prometheus", "promtool"):
            tar.add(releases.binary(VERSION, tool), arcname="%s/%s" % (top, tool))
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    other = "%s  prometheus-%s.linux-arm64.tar.gz\n" % ("0" * 64, VERSION)
    (directory / "sha256sums.txt").write_text(other + "%s  %s\n" % (digest, ARCHIVE))
    (directory / "other-sums.txt").write_text(other)
    return archive


class InstallFleet:
    def __init__(self, fleet: Fleet, url: str, sha256: str):
        self.fleet = fleet
        self.url = url
        self.sha256 = sha256
        self.inventory = fleet.write_inventory()
        self.install_dir = fleet.root / "opt"

    def tarball_vars(self, **overrides) -> dict:
        settings = {
            "prometheus_version": VERSION,
            "prometheus_install_method": "tarball",
            "prometheus_tarball_url": self.url,
            "prometheus_tarball_checksum": "sha256:" + self.sha256,
            "prometheus_install_dir": str(self.install_dir),
        }
        settings.update(overrides)
        return {k: v for k, v in settings.items() if v is not None}

    def checksum_list(self) -> str:
        """As the roles' default does with upstream's releases: the checksum from the release's list."""
        return "sha256:" + self.url.rsplit("/", 1)[0] + "/sha256sums.txt"

    def run(self, extra_vars: dict, *args: str):
        return self.fleet.run("playbooks/site.yml", self.inventory, "-e", json.dumps(extra_vars), *args, check=False)

    def program_binary(self, host: str) -> str:
        """The executable the supervisord program of ``host`` runs."""
        conf = self.fleet.root / "supervisor" / "programs" / ("promfleet-%s.conf" % host)
        (command,) = [line for line in conf.read_text().splitlines() if line.startswith("command=")]
        return shlex.split(command[len("command="):])[0]

    def created(self) -> list[str]:
        return sorted(name for name in ("etc", "data", "log", "supervisor", "opt") if (self.fleet.root / name).exists())


@pytest.fixture(scope="module")
def install():
    root = scratch_root("install-methods")
    www = root / "www"
    www.mkdir()
    archive = build_release_tarball(www)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(www)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fleet = Fleet(root, datacenters=[DATACENTER])
    try:
        yield InstallFleet(fleet, "http://127.0.0.1:%d/%s" % (server.server_address[1], ARCHIVE),
                           hashlib.sha256(archive.read_bytes()).hexdigest())
    finally:
        server.shutdown()
        server.server_close()
        tear_down(fleet, fleet.root / "inventory" / "hosts.yml")


@pytest.mark.parametrize("checksum", ["md5:" + hashlib.md5(b"x").hexdigest(), ""], ids=["md5", "empty"])
def test_malformed_checksum_is_refused_before_any_change(install, checksum):
    run = install.run(install.tarball_vars(prometheus_tarball_checksum=checksum))
    assert_failed(run)
    assert "prometheus_tarball_checksum must be sha256:<64 hex digits> or sha256:<URL of a sha256sums.txt>" \
        in run.output, run.output[-4000:]
    assert "host '%s'" % Fleet.server_of(DATACENTER) in run.output, run.output[-4000:]
    assert install.created() == [], run.output[-4000:]
    assert_nothing_runs(install.fleet)


def test_wrong_checksum_fails_naming_the_mismatch_and_starts_no_server(install):
    wrong = hashlib.sha256(b"not the archive").hexdigest()
    run = install.run(install.tarball_vars(prometheus_tarball_checksum="sha256:" + wrong))
    assert_failed(run)
    failures = "\n".join(line for line in run.output.splitlines() if "checksum" in line.lower())
    assert wrong in failures and install.sha256 in failures, run.output[-4000:]
    assert_nothing_runs(install.fleet)


def test_a_checksum_list_without_the_archive_fails_naming_it_and_starts_no_server(install):
    sums = install.url.rsplit("/", 1)[0] + "/other-sums.txt"
    run = install.run(install.tarball_vars(prometheus_tarball_checksum="sha256:" + sums))
    assert_failed(run)
    assert "the checksum list %s has no line for %s" % (sums, ARCHIVE) in run.output, run.output[-4000:]
    assert_nothing_runs(install.fleet)


@pytest.fixture(scope="module")
def tarball_converged(install):
    run = install.run(install.tarball_vars(prometheus_tarball_checksum=install.checksum_list()))
    assert_succeeded(run)
    return run


def test_the_checksum_read_from_the_list_is_remembered_next_to_the_archive(install, tarball_converged):
    remembered = install.install_dir / ("prometheus-%s.tar.gz.sha256" % VERSION)
    assert remembered.read_text().split()[1] == "sha256:" + install.sha256


def test_tarball_install_runs_the_unpacked_binary(install, tarball_converged):
    unpacked = install.install_dir / ("prometheus-%s" % VERSION) / "prometheus"
    for host in install.fleet.hosts():
        assert install.program_binary(host) == str(unpacked)


def test_tarball_install_federates(install, tarball_converged):
    global_url = install.fleet.url(install.fleet.globals_[0])
    assert wait_for(lambda: federated_datacenters(global_url) == {DATACENTER}, timeout=30,
                    what="%s at the global" % DATACENTER)


def test_tarball_install_second_run_changes_nothing(install, tarball_converged):
    run = install.run(install.tarball_vars(prometheus_tarball_checksum=install.checksum_list()))
    assert_succeeded(run)
    assert run.changed() == 0, "a second run changed something: %s\n%s" % (run.recap(), run.output[-6000:])


def binary_vars(prometheus: str, promtool: str = releases.binary(VERSION, "promtool")) -> dict:
    return {"prometheus_install_method": "binary",
            "prometheus_binary_path": prometheus, "prometheus_promtool_path": promtool}


@pytest.fixture(scope="module")
def binary_converged(install):
    run = install.run(binary_vars(releases.binary(VERSION)))
    assert_succeeded(run)
    return run


def test_binary_method_runs_the_given_binary(install, binary_converged):
    for host in install.fleet.hosts():
        assert install.program_binary(host) == releases.binary(VERSION)


def test_binary_method_federates(install, binary_converged):
    global_url = install.fleet.url(install.fleet.globals_[0])
    assert wait_for(lambda: federated_datacenters(global_url) == {DATACENTER}, timeout=30,
                    what="%s at the global" % DATACENTER)


def test_missing_binary_fails_naming_its_path(install):
    missing = str(install.fleet.root / "nowhere" / "prometheus")
    run = install.run(binary_vars(missing))
    assert_failed(run)
    failures = "\n".join(line for line in run.output.splitlines() if missing in line)
    assert "cannot be run" in failures, run.output[-4000:]


@pytest.fixture
def two_servers_one_machine():
    """Two datacenter servers and a global on this one machine, nothing converged yet."""
    fleet = Fleet(scratch_root("install-two-servers"), datacenters=[DATACENTER, "us-east-1"])
    yield fleet
    tear_down(fleet, fleet.root / "inventory" / "hosts.yml", always=False)


def test_missing_binary_stops_every_server_of_the_machine_before_any_change(two_servers_one_machine):
    # Install runs once per machine, on its first server; when it fails, the machine's other
    # servers must not go on to write configuration for a Prometheus that is not there.
    fleet = two_servers_one_machine
    missing = str(fleet.root / "nowhere" / "prometheus")
    run = fleet.run("playbooks/site.yml", None, "-e", json.dumps(binary_vars(missing)), check=False)
    assert_failed(run)
    assert missing in run.output, run.output[-4000:]
    created = sorted(name for name in ("etc", "data", "log", "supervisor") if (fleet.root / name).exists())
    assert created == [], "the failed install still let other servers write %s:\n%s" % (created, run.output[-4000:])
    assert_nothing_runs(fleet)


def test_auto_installs_the_archive_where_the_distribution_lacks_the_line(install, binary_converged):
    # Debian bookworm's candidate is 2.42: for 3.x, auto falls back to the release archive.
    run = install.run(install.tarball_vars(prometheus_install_method="auto",
                                           prometheus_tarball_checksum=install.checksum_list()))
    assert_succeeded(run)
    unpacked = install.install_dir / ("prometheus-%s" % VERSION) / "prometheus"
    for host in install.fleet.hosts():
        assert install.program_binary(host) == str(unpacked)


@pytest.fixture
def auto_on_the_distributions_line():
    fleet = Fleet(scratch_root("install-auto-package"), datacenters=[DATACENTER], release="2.42")
    yield fleet
    tear_down(fleet, fleet.root / "inventory" / "hosts.yml", always=False)


def test_auto_takes_the_distributions_package_where_it_carries_the_line(auto_on_the_distributions_line):
    # Debian bookworm's candidate is 2.42.0 (installed by setup): auto takes it and downloads nothing
    # (the default tarball URL, on github.com, cannot be reached from here).
    fleet = auto_on_the_distributions_line
    settings = {"prometheus_install_method": "auto", "prometheus_version": "2.42.0",
                "prometheus_install_dir": str(fleet.root / "opt")}
    run = fleet.run("playbooks/site.yml", None, "-e", json.dumps(settings), check=False)
    assert_succeeded(run)
    for host in fleet.hosts():
        conf = fleet.root / "supervisor" / "programs" / ("promfleet-%s.conf" % host)
        (command,) = [line for line in conf.read_text().splitlines() if line.startswith("command=")]
        assert shlex.split(command[len("command="):])[0] == "/usr/bin/prometheus"
    assert not (fleet.root / "opt").exists()
    assert wait_for(lambda: federated_datacenters(fleet.url(fleet.globals_[0])) == {DATACENTER}, timeout=30,
                    what="%s at the global" % DATACENTER)
