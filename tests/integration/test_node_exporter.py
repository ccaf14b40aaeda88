"""The node_exporter role on this machine: Debian's node_exporter under the collection's private
supervisord, on loopback and a free port, in ``.tmp/it-node-exporter`` (its supervisord, program,
log and release archives; nothing under /etc or /var).

The tests run in the order of this file, on one host ``watched-a`` whose settings each test gives:
refused settings first (nothing is created), check mode on the fresh machine, then the package
method (bookworm's 1.5, installed by setup), collectors and flags (a change restarts it, a re-run
does not), the tarball method (trixie's 1.9 packed as upstream's release archive, with a checksum
list like upstream's, both under a file:// release URL), auto, the binary method, teardown, and
last the package's own service (started through its init script, as a postinst does where no
policy-rc.d forbids it), which the machine-wide step stops before the instance starts.
"""

from __future__ import annotations

import hashlib
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import releases
import yaml
from fleet import (
    WEB_VARS,
    PlaybookRun,
    free_ports,
    listening,
    metric,
    open_url,
    processes_matching,
    run_playbook,
    wait_for,
)
from it_support import START_TIME, assert_failed, assert_succeeded, says, scratch_root

HOST = "watched-a"
INSTANCE = "promfleet-node-exporter-watched-a"
PACKAGED = releases.node_exporter_packaged()  # bookworm's 1.5.0, installed by setup
UPSTREAM = releases.node_exporter("1.9")  # trixie's, as upstream's tarball
PACKAGE_BINARY = "/usr/bin/prometheus-node-exporter"
PLAYBOOK = """\
- name: node_exporter
  hosts: all
  gather_facts: false
  tasks:
    - name: Run the node_exporter role's entry point
      ansible.builtin.include_role:
        name: promfleet.federation.node_exporter
        tasks_from: "{{ entry }}"
"""


def collectors(text: str) -> set:
    """The collectors a node_exporter ran for one scrape (``node_scrape_collector_success``)."""
    return {line.split('collector="', 1)[1].split('"', 1)[0] for line in text.splitlines()
            if line.startswith("node_scrape_collector_success{")}


class Watched:
    """One watched machine (this one) whose inventory host is ``watched-a``."""

    def __init__(self) -> None:
        self.root = scratch_root("node-exporter")
        self.port, self.prometheus_port = free_ports(2)
        self.url = "https://127.0.0.1:%d" % self.port
        self.www = self.root / "www"
        self.playbook = self.root / "node_exporter.yml"
        self.playbook.write_text(PLAYBOOK)

    def publish_release(self) -> str:
        """Upstream's layout under ``www``: the release archive and its sha256sums.txt; its URL."""
        self.www.mkdir(exist_ok=True)
        archive = self.www / Path(UPSTREAM["tarball"]).name
        shutil.copyfile(UPSTREAM["tarball"], archive)
        digest = hashlib.sha256(archive.read_bytes()).hexdigest()
        (self.www / "sha256sums.txt").write_text("%s  node_exporter-%s.linux-arm64.tar.gz\n%s  %s\n"
                                                 % ("0" * 64, UPSTREAM["version"], digest, archive.name))
        return "file://%s" % self.www

    def inventory(self, settings: dict) -> Path:
        # The service settings come from the prometheus_* variables, as in inventories/local.
        common = {
            "ansible_connection": "local",
            "ansible_python_interpreter": "{{ ansible_playbook_python }}",
            "prometheus_service_manager": "supervisord",
            "prometheus_supervisord_private": True,
            "prometheus_supervisord_conf": str(self.root / "supervisor" / "supervisord.conf"),
            "prometheus_supervisord_program_dir": str(self.root / "supervisor" / "programs"),
            "prometheus_supervisord_run_dir": str(self.root / "run"),
            "prometheus_log_dir": str(self.root / "log"),
            "prometheus_port": self.prometheus_port,
            "node_exporter_install_dir": str(self.root / "opt"),
            "node_exporter_listen_address": "127.0.0.1",
            "node_exporter_port": self.port,
            "node_exporter_config_dir": str(self.root / "etc") + "/{{ node_exporter_instance }}",
            **WEB_VARS,
        }
        path = self.root / "inventory" / "hosts.yml"
        path.parent.mkdir(exist_ok=True)
        path.write_text(yaml.safe_dump({"all": {"vars": common, "hosts": {HOST: settings}}}, sort_keys=False))
        return path

    def run(self, settings: dict, *args: str, entry: str = "main") -> PlaybookRun:
        """The role's ``entry`` point with ``settings`` for the host; -v shows what the module did."""
        return run_playbook(str(self.playbook), [self.inventory(settings)], "-v", "-e", "entry=" + entry, *args,
                            check=False)

    @property
    def program(self) -> Path:
        return self.root / "supervisor" / "programs" / (INSTANCE + ".conf")

    @property
    def web_flag(self) -> str:
        """Its web config (TLS and basic auth, on by default), the last flag."""
        return "--web.config.file=%s" % (self.root / "etc" / INSTANCE / "web.yml")

    @property
    def log(self) -> Path:
        return self.root / "log" / (INSTANCE + ".log")

    def command(self) -> list:
        """The command line of the supervisord program."""
        (line,) = [line for line in self.program.read_text().splitlines() if line.startswith("command=")]
        return shlex.split(line[len("command="):])

    def metrics(self) -> str:
        with open_url(self.url + "/metrics") as response:
            return response.read().decode()

    def started_at(self) -> float:
        return metric(self.url, START_TIME)

    def version(self) -> str:
        (line,) = [line for line in self.metrics().splitlines() if line.startswith("node_exporter_build_info{")]
        return re.search(r'[{,]version="([^"]*)"', line).group(1)

    def created(self) -> list:
        return sorted(name for name in ("supervisor", "log", "opt", "run") if (self.root / name).exists())

    def leftovers(self) -> list:
        found = processes_matching(str(self.root) + "/")
        return found + (["port %d still listens" % self.port] if listening(self.port) else [])


@pytest.fixture(scope="module")
def watched():
    watched = Watched()
    try:
        yield watched
    finally:
        watched.run(PACKAGE, entry="teardown")
        left = watched.leftovers()
        scratch_root("node-exporter").rmdir()  # stops whatever a failed teardown left, then the root goes
        # The system user node-exporter stays, as the role leaves it (other tests may run as it now).
        assert not left, "the teardown left these running:\n" + "\n".join(left)


PACKAGE = {"node_exporter_install_method": "package", "node_exporter_version": PACKAGED["version"]}


# --- refused before any change ---------------------------------------------------------------------

@pytest.mark.parametrize("settings, field, words", [
    ({"node_exporter_collectors_enabled": ["cpu", "Thermal-Zone"]}, "node_exporter_collectors_enabled[1]",
     '"Thermal-Zone" is not a collector name'),
    ({"node_exporter_collectors_disabled": ["arp", "a.b"]}, "node_exporter_collectors_disabled[1]",
     '"a.b" is not a collector name'),
    ({"node_exporter_collectors_enabled": ["processes"], "node_exporter_collectors_disabled": ["processes"]},
     "node_exporter_collectors_enabled and node_exporter_collectors_disabled", 'both name the collector "processes"'),
    ({"node_exporter_extra_flags": ["--web.listen-address=:9100"]}, "node_exporter_extra_flags[0]",
     "--web.listen-address comes from node_exporter_listen_address and node_exporter_port"),
    ({"node_exporter_extra_flags": ["--log.level=debug", "log.format=json"]}, "node_exporter_extra_flags[1]",
     '"log.format=json" is not a flag'),
    ({"node_exporter_port": 70000}, "node_exporter_port", "70000 is not a port (1 to 65535)"),
    ({"node_exporter_port": "{{ prometheus_port }}"}, "node_exporter_port", "is prometheus_port of this host too"),
    ({"node_exporter_install_method": "tarball", "node_exporter_tarball_checksum": "md5:abc"},
     "node_exporter_tarball_checksum", "must be sha256:<64 hex digits> or sha256:<URL of a sha256sums.txt>"),
    ({"node_exporter_install_method": "tarball", "node_exporter_tarball_url": ""}, "node_exporter_tarball_url",
     "is empty; the tarball method needs the URL of a release archive"),
    ({"node_exporter_install_method": "apt"}, "node_exporter_install_method", "value of node_exporter_install_method "
     "must be one of: auto, package, tarball, binary, got: apt"),
    ({"node_exporter_port": "ninety"}, "node_exporter_port", "is of type str and we were unable to convert to int"),
    ({"node_exporter_collectors_enabled": "processes,arp"}, "node_exporter_collectors_enabled",
     'must be a list (got the string "processes,arp")'),
], ids=["enabled-name", "disabled-name", "on-and-off", "listen-flag", "not-a-flag", "port-range", "prometheus-port",
        "checksum", "tarball-url", "install-method", "port-type", "collectors-type"])
def test_bad_settings_are_refused_naming_the_host_and_the_field_and_nothing_changes(watched, settings, field, words):
    run = watched.run(dict(PACKAGE, **settings))
    assert_failed(run)
    assert HOST in run.output and field in run.output, run.output[-3000:]
    assert says(run, words), run.output[-3000:]
    assert watched.created() == [] and watched.leftovers() == []


# --- check mode on a machine where nothing runs yet ---------------------------------------------------

def test_check_mode_on_a_fresh_machine_says_what_it_would_do_and_creates_nothing(watched):
    run = watched.run(PACKAGE, "--check", "--diff")
    assert_succeeded(run)
    # On the machine, one step would change; the controller may prepare the fleet's PKI first (the
    # first run of a fresh CA), which check mode does not hold back: it is not the machine's.
    tasks = run.output.split("\nTASK [")
    on_the_machine = [task for task in tasks if "\nchanged: [%s]" % HOST in task]
    on_the_controller = [task for task in tasks if "\nchanged: [%s -> localhost]" % HOST in task]
    assert len(on_the_machine) == 1, run.output[-3000:]
    assert run.changed() == 1 + len(on_the_controller), run.output[-3000:]
    assert all(task.startswith("promfleet.federation.pki : ") for task in on_the_controller), on_the_controller
    assert says(run, "would have started %s (it did not run)" % INSTANCE), run.output[-3000:]
    assert "+command=%s --web.listen-address=127.0.0.1:%d" % (PACKAGE_BINARY, watched.port) in run.output
    assert watched.created() == [] and watched.leftovers() == []


# --- the package method ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def packaged(watched):
    run = watched.run(PACKAGE)
    assert_succeeded(run)
    return run


def test_the_package_method_runs_the_distributions_binary(watched, packaged):
    assert watched.command() == [PACKAGE_BINARY, "--web.listen-address=127.0.0.1:%d" % watched.port, watched.web_flag]
    assert watched.version() == PACKAGED["version"]
    assert 'user=node-exporter' in watched.program.read_text().splitlines()


def test_the_packages_own_service_does_not_run(watched, packaged):
    status = subprocess.run(["/etc/init.d/prometheus-node-exporter", "status"], capture_output=True, check=False)
    assert status.returncode != 0, status.stdout


def test_a_second_run_changes_nothing_and_leaves_it_running(watched, packaged):
    started = watched.started_at()
    run = watched.run(PACKAGE)
    assert_succeeded(run)
    assert run.changed() == 0, run.output[-3000:]
    assert watched.started_at() == started


# --- flags: a change restarts it, the same flags again do not ---------------------------------------------

COLLECTORS = dict(PACKAGE, node_exporter_collectors_enabled=["processes"], node_exporter_collectors_disabled=["arp"])


def test_collectors_turned_on_and_off_are_what_it_runs(watched, packaged):
    assert {"arp"} <= collectors(watched.metrics()) and "processes" not in collectors(watched.metrics())
    run = watched.run(COLLECTORS)
    assert_succeeded(run)
    assert watched.command()[1:] == ["--web.listen-address=127.0.0.1:%d" % watched.port, "--collector.processes",
                                     "--no-collector.arp", watched.web_flag]
    ran = collectors(watched.metrics())
    assert "processes" in ran and "arp" not in ran


def test_check_mode_with_other_flags_shows_the_restart_and_does_not_restart(watched, packaged):
    watched.run(COLLECTORS)
    started, program = watched.started_at(), watched.program.read_text()
    run = watched.run(dict(COLLECTORS, node_exporter_extra_flags=["--web.max-requests=20"]), "--check", "--diff")
    assert_succeeded(run)
    assert run.changed() == 1 and says(run, "would have restarted %s (its program changed)" % INSTANCE)
    wanted = watched.command()[:-1] + ["--web.max-requests=20", watched.web_flag]
    assert "+command=%s" % shlex.join(wanted) in run.output
    assert watched.program.read_text() == program and watched.started_at() == started


def test_a_flag_change_restarts_it_and_the_same_flags_again_do_not(watched, packaged):
    watched.run(COLLECTORS)
    started = watched.started_at()
    settings = dict(COLLECTORS, node_exporter_extra_flags=["--web.max-requests=20"])
    run = watched.run(settings)
    assert_succeeded(run)
    assert says(run, "restarted %s (its program changed)" % INSTANCE), run.output[-3000:]
    restarted = wait_for(lambda: watched.started_at() > started and watched.started_at(), timeout=10,
                         what="a new process")
    again = watched.run(settings)
    assert_succeeded(again)
    assert again.changed() == 0, again.output[-3000:]
    assert watched.started_at() == restarted


# --- the tarball, auto and binary methods -------------------------------------------------------------

@pytest.fixture(scope="module")
def release_url(watched):
    return watched.publish_release()


def tarball(release_url: str, **settings) -> dict:
    """The tarball method with the role's default URL and checksum list under ``release_url``."""
    return dict({"node_exporter_install_method": "tarball", "node_exporter_version": UPSTREAM["version"],
                 "node_exporter_release_url": release_url}, **settings)


def test_the_tarball_method_runs_the_unpacked_release(watched, packaged, release_url):
    run = watched.run(tarball(release_url))
    assert_succeeded(run)
    unpacked = watched.root / "opt" / ("node_exporter-%s" % UPSTREAM["version"]) / "node_exporter"
    assert watched.command() == [str(unpacked), "--web.listen-address=127.0.0.1:%d" % watched.port, watched.web_flag]
    assert wait_for(lambda: watched.version() == UPSTREAM["version"], timeout=10, what="the tarball's release")
    # The checksum read from the release's list is remembered next to the archive.
    remembered = watched.root / "opt" / ("node_exporter-%s.tar.gz.sha256" % UPSTREAM["version"])
    assert remembered.read_text().split()[1] == "sha256:" + UPSTREAM["sha256"]
    again = watched.run(tarball(release_url))
    assert_succeeded(again)
    assert again.changed() == 0, again.output[-3000:]


def test_a_wrong_checksum_fails_naming_both_and_installs_nothing(watched, packaged, release_url):
    wrong = "sha256:" + "1" * 64
    run = watched.run(tarball(release_url, node_exporter_version="1.9.9", node_exporter_tarball_url=(
        release_url + "/" + Path(UPSTREAM["tarball"]).name), node_exporter_tarball_checksum=wrong))
    assert_failed(run)
    assert says(run, "has the checksum sha256:%s, not the checksum %s that node_exporter_tarball_checksum gives"
                % (UPSTREAM["sha256"], wrong)), run.output[-3000:]
    assert not (watched.root / "opt" / "node_exporter-1.9.9").exists()


@pytest.mark.parametrize("release, binary", [
    (PACKAGED, PACKAGE_BINARY),
    (UPSTREAM, "{root}/opt/node_exporter-{version}/node_exporter"),
], ids=["distribution-carries-the-line", "distribution-lacks-the-line"])
def test_auto_takes_the_package_where_the_distribution_carries_the_line_else_the_tarball(
        watched, packaged, release_url, release, binary):
    run = watched.run(tarball(release_url, node_exporter_install_method="auto",
                              node_exporter_version=release["version"]))
    assert_succeeded(run)
    assert watched.command()[0] == binary.format(root=watched.root, version=release["version"])
    assert wait_for(lambda: watched.version() == release["version"], timeout=10, what="release %s" % release["version"])


def test_the_binary_method_runs_the_given_binary(watched, packaged):
    binary = releases.node_exporter_binary(UPSTREAM["version"])
    run = watched.run({"node_exporter_install_method": "binary", "node_exporter_binary_path": binary})
    assert_succeeded(run)
    assert watched.command()[0] == binary
    assert wait_for(lambda: watched.version() == UPSTREAM["version"], timeout=10, what="the given binary's release")


def test_a_binary_that_is_not_there_fails_naming_it_and_the_setting(watched, packaged):
    missing = str(watched.root / "nowhere" / "node_exporter")
    run = watched.run({"node_exporter_install_method": "binary", "node_exporter_binary_path": missing})
    assert_failed(run)
    assert says(run, "%s cannot be run; the binary install method leaves them so: set node_exporter_binary_path"
                % missing), run.output[-3000:]


# --- teardown ---------------------------------------------------------------------------------------------

def test_teardown_stops_it_and_removes_its_program_and_log(watched, packaged):
    run = watched.run(PACKAGE)
    assert_succeeded(run)
    assert watched.log.exists()
    run = watched.run(PACKAGE, entry="teardown")
    assert_succeeded(run)
    assert says(run, "stopped the private supervisord (no program left)"), run.output[-3000:]
    assert not watched.program.exists() and not watched.log.exists()
    assert watched.leftovers() == []
    again = watched.run(PACKAGE, entry="teardown")
    assert_succeeded(again)
    assert again.changed() == 0, again.output[-3000:]


def test_a_package_service_that_runs_is_stopped_before_the_instance_starts(watched, packaged):
    # Where no policy-rc.d forbids it, the package's postinst starts its init script on *:9100.
    script = "/etc/init.d/prometheus-node-exporter"
    # What the init script makes, removed again unless it was there before.
    log, run_dir = Path("/var/log/prometheus/prometheus-node-exporter.log"), Path("/run/prometheus")
    if listening(9100):
        pytest.skip("something else listens on port 9100")
    log_existed, run_dir_existed = log.exists(), run_dir.exists()
    subprocess.run([script, "start"], capture_output=True, check=True)
    try:
        wait_for(lambda: listening(9100), timeout=10, what="the package's service on port 9100")
        # Nothing runs after the teardown: the machine-wide step starts the private supervisord again.
        run = watched.run(PACKAGE)
        assert_succeeded(run)
        assert says(run, "stopped the package's service prometheus-node-exporter (%s stop)" % script), \
            run.output[-3000:]
        assert not listening(9100) and watched.version() == PACKAGED["version"]
    finally:
        subprocess.run([script, "stop"], capture_output=True, check=False)
        if not log_existed:
            log.unlink(missing_ok=True)
        if not run_dir_existed and run_dir.is_dir() and not any(run_dir.iterdir()):
            run_dir.rmdir()
    assert_succeeded(watched.run(PACKAGE, entry="teardown"))
