"""The systemd unit of a Prometheus on a host is one systemd accepts, and runs the server as configured.

The prometheus role plans the server with its defaults (tests/integration/playbooks/render_systemd_unit.yml
writes the description it hands the daemon role); the unit is rendered from it as the daemon module
does (``host/definitions.py``, with the fields tasks/run.yml of the daemon role passes), named
``<instance>.service`` as the module names it, then checked with ``systemd-analyze verify``. That
needs no running systemd: it parses the file (and the units it refers to) offline, and checks that
ExecStart's binary exists. The real systemd runs it in the tests of issue 13's hosts.
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess

import pytest
import yaml
from fleet import run_playbook
from it_support import assert_succeeded, scratch_root

from ansible_collections.promfleet.federation.plugins.module_utils.host.definitions import systemd_unit

HOST = "eu-west-1-prom-a"
INSTANCE = "promfleet-eu-west-1-prom-a"  # prometheus_instance of HOST
PORT = 9191  # only written into the unit; nothing listens


@pytest.fixture(scope="module")
def unit(request):
    """Path of the unit rendered for HOST, listening on 127.0.0.1:PORT, other settings the role's defaults."""
    root = scratch_root("systemd-unit")
    inventory = root / "hosts.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {HOST: {
        "ansible_connection": "local",
        "ansible_python_interpreter": "{{ ansible_playbook_python }}",
    }}}}))
    description_file = root / "description.json"
    # The package method: systemd-analyze verify wants the binary to exist (Debian's, installed by setup).
    settings = {"description_file": str(description_file), "prometheus_listen_address": "127.0.0.1",
                "prometheus_port": PORT, "prometheus_install_method": "package", "prometheus_version": "2.42.0"}
    run = run_playbook("tests/integration/playbooks/render_systemd_unit.yml", [inventory],
                       "-e", json.dumps(settings), check=False)
    try:
        assert_succeeded(run)
        description = json.loads(description_file.read_text())
        service = description["service"]
        path = root / (description["instance"] + ".service")
        path.write_text(systemd_unit({
            "title": description["title"], "user": description["user"], "group": description["group"],
            "binary": description["binary"], "flags": description["flags"],
            "stop_timeout": service["stop_timeout"], "writable": service["writable"],
        }))
        yield path
    finally:
        shutil.rmtree(root, ignore_errors=True)


def directives(unit_path, name: str) -> list[str]:
    prefix = name + "="
    return [line[len(prefix):] for line in unit_path.read_text().splitlines() if line.startswith(prefix)]


def test_unit_passes_systemd_analyze_verify(unit):
    done = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 0, "systemd-analyze verify failed (rc=%d):\n%s" % (done.returncode, output)
    # Unknown keys or bad values are only warnings ("<file>:<line>: ..."), with rc 0.
    about_unit = [line for line in output.splitlines() if unit.name in line]
    assert not about_unit, "systemd-analyze verify warns about the unit:\n%s\n--- unit ---\n%s" % (
        "\n".join(about_unit), unit.read_text())


def test_unit_reloads_prometheus_with_sighup(unit):
    assert directives(unit, "ExecReload") == ["/bin/kill -HUP $MAINPID"]


def test_unit_starts_prometheus_with_its_config_storage_and_listen_address(unit):
    (exec_start,) = directives(unit, "ExecStart")
    binary, *flags = shlex.split(exec_start)
    assert binary == "/usr/bin/prometheus"
    assert "--config.file=/etc/promfleet/%s/prometheus.yml" % INSTANCE in flags
    assert "--storage.tsdb.path=/var/lib/promfleet/%s" % INSTANCE in flags
    assert "--web.listen-address=127.0.0.1:%d" % PORT in flags


def test_unit_lets_prometheus_write_its_data_directory_only(unit):
    assert directives(unit, "ProtectSystem") == ["strict"]
    assert directives(unit, "ReadWritePaths") == ["/var/lib/promfleet/%s" % INSTANCE]
