"""The test bed itself: real machines that boot systemd, take the run's key and reach each other."""

from __future__ import annotations

import pytest
import testbed
from bedfleet import GLOBAL, HOSTS, MACHINE, SERVER, SERVER2

# Connect to host:port from inside a host (a fresh host has python3, not curl).
CONNECT = "import socket, sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3).close()"


def reaches(bed, source: str, address: str, port: int) -> bool:
    return bed.run(source, ["python3", "-c", CONNECT, address, str(port)], check=False).returncode == 0


@pytest.mark.parametrize("host", HOSTS)
def test_each_host_boots_systemd_as_pid_1_and_takes_the_key_over_ssh(bed, host):
    assert bed.ssh(host, "cat /proc/1/comm").stdout.strip() == "systemd"
    assert bed.ssh(host, "systemctl is-system-running").stdout.strip() in ("running", "degraded")
    assert bed.ssh(host, "hostname").stdout.strip() == host


def test_each_site_has_a_subnet_of_its_own(bed):
    assert bed.address(SERVER).rsplit(".", 1)[0] == bed.address(MACHINE).rsplit(".", 1)[0]
    assert bed.address(SERVER).rsplit(".", 1)[0] != bed.address(GLOBAL).rsplit(".", 1)[0]
    assert bed.address(SERVER2).rsplit(".", 1)[0] not in {bed.address(h).rsplit(".", 1)[0] for h in (SERVER, GLOBAL)}


def test_hosts_of_different_sites_reach_each_other(bed):
    assert reaches(bed, SERVER, bed.address(GLOBAL), 22)
    assert reaches(bed, GLOBAL, bed.address(SERVER), 22)
    assert reaches(bed, GLOBAL, bed.address(MACHINE), 22)
    assert reaches(bed, GLOBAL, bed.address(SERVER2), 22)
    assert reaches(bed, SERVER2, bed.address(SERVER), 22)


def test_the_hosts_download_from_this_machine(bed):
    (bed.serve / "index.json").stat()  # the releases cache is what is served
    fetch = "import urllib.request, sys; urllib.request.urlopen(sys.argv[1], timeout=5).read()"
    for host in (SERVER, GLOBAL):
        bed.run(host, ["python3", "-c", fetch, bed.release_url(bed.serve / "index.json")])


def test_a_cut_host_is_unreachable_until_restored_with_its_address(bed):
    address = bed.address(MACHINE)
    bed.cut(MACHINE)
    try:
        assert not reaches(bed, SERVER, address, 22)
        assert bed.ssh(MACHINE, "true", check=False, timeout=20).returncode != 0
    finally:
        bed.restore(MACHINE)
    assert reaches(bed, SERVER, address, 22)
    assert reaches(bed, GLOBAL, address, 22)
    assert bed.ssh(MACHINE, "hostname").stdout.strip() == MACHINE


def test_the_host_image_lacks_pyyaml_so_the_collection_must_install_it(bed):
    done = testbed.podman("run", "--rm", "--network", "none", testbed.image(),
                          "dpkg-query", "-W", "-f", "${Status}", "python3-yaml", check=False)
    assert "install ok installed" not in done.stdout, done.stdout
