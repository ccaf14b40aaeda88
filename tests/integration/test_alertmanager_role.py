"""The alertmanager role on this machine: two instances of Debian's Alertmanager 0.25 (the package
method) clustered with each other under the collection's private supervisord, on loopback and free
ports, in ``.tmp/it-alertmanager`` (its supervisord, programs, configuration, data and logs; nothing
under /etc or /var).

The tests run in the order of this file, on two hosts ``am-a`` and ``am-b`` of one machine (the local
topology: distinct ports, cluster ports and directories): refused settings and configurations first
(nothing is created), check mode on the fresh machine, the cluster, a re-run, a configuration change
(reloaded, not restarted, proven by the reload metrics and the configuration hash), secrets in the
diff, templates, a reload Alertmanager refuses (rolled back), the tarball method (Debian's binaries
packed as upstream's release archive under a file:// release URL) and auto, and last the teardown.
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
import tarfile
from pathlib import Path

import pytest
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

HOSTS = ("am-a", "am-b")
INSTANCES = {host: "promfleet-alertmanager-" + host for host in HOSTS}
BINARY = "/usr/bin/prometheus-alertmanager"
AMTOOL = "/usr/bin/amtool"
PACKAGE = {"alertmanager_install_method": "package", "alertmanager_version": "0.25.0"}
RELOADED_AT = "alertmanager_config_last_reload_success_timestamp_seconds"
HASH = "alertmanager_config_hash"
PLAYBOOK = """\
- name: alertmanager
  hosts: all
  gather_facts: false
  tasks:
    - name: Run the alertmanager role's entry point
      ansible.builtin.include_role:
        name: promfleet.federation.alertmanager
        tasks_from: "{{ entry }}"
"""
# Secrets of receivers: never in a diff or a result.
WEBHOOK_URL = "https://hooks.example.com/services/s3cr3t-webhook-token"
SLACK_URL = "https://hooks.slack.com/services/T000/B000/s3cr3t-slack-token"
ROUTE = {"receiver": "default", "group_by": ["alertname", "datacenter"], "group_wait": "30s",
         "group_interval": "5m", "repeat_interval": "4h"}


class Unsafe(str):
    """Text Ansible must not template (a Go template): written as ``!unsafe`` in the inventory."""


yaml.SafeDumper.add_representer(Unsafe, lambda dumper, text: dumper.represent_scalar("!unsafe", str(text)))


def config_hash(data: bytes) -> float:
    """``alertmanager_config_hash`` of a file's bytes: the first 48 bits of its md5, little-endian."""
    return float(int.from_bytes(hashlib.md5(data).digest()[:6], "little"))


def with_routes(*routes: dict, **root) -> dict:
    return dict(ROUTE, routes=list(routes), **root)


def notifying(*routes: dict) -> dict:
    """Receivers with secrets, and a route to each: the settings of a configuration change."""
    return {
        "alertmanager_route": with_routes({"receiver": "hook", "matchers": ['severity="page"']},
                                          {"receiver": "chat", "matchers": ['severity="warning"']}, *routes),
        "alertmanager_receivers": [
            {"name": "default"},
            {"name": "hook", "webhook_configs": [{"url": WEBHOOK_URL}]},
            {"name": "chat", "slack_configs": [{"api_url": SLACK_URL, "channel": "#alerts"}]},
        ],
    }


class Cluster:
    """Two Alertmanagers of this machine, peers of each other."""

    def __init__(self) -> None:
        self.root = scratch_root("alertmanager")
        ports = free_ports(4)
        self.ports = {"am-a": ports[0], "am-b": ports[1]}
        self.cluster_ports = {"am-a": ports[2], "am-b": ports[3]}
        self.playbook = self.root / "alertmanager.yml"
        self.playbook.write_text(PLAYBOOK)

    def url(self, host: str) -> str:
        return "https://127.0.0.1:%d" % self.ports[host]

    def host_vars(self, host: str) -> dict:
        other = HOSTS[1 - HOSTS.index(host)]
        return {"alertmanager_port": self.ports[host], "alertmanager_cluster_port": self.cluster_ports[host],
                "alertmanager_cluster_peers": ["127.0.0.1:%d" % self.cluster_ports[other]]}

    def inventory(self, settings: dict, hosts: dict | None = None) -> Path:
        """``settings`` for both hosts (over the package method and the hosts' own ports and peers), ``hosts``
        per host; the service settings come from the prometheus_* variables, as in inventories/local."""
        common = {
            "ansible_connection": "local",
            "ansible_python_interpreter": "{{ ansible_playbook_python }}",
            "prometheus_service_manager": "supervisord",
            "prometheus_supervisord_private": True,
            "prometheus_supervisord_conf": str(self.root / "supervisor" / "supervisord.conf"),
            "prometheus_supervisord_program_dir": str(self.root / "supervisor" / "programs"),
            "prometheus_supervisord_run_dir": str(self.root / "run"),
            "prometheus_log_dir": str(self.root / "log"),
            "alertmanager_listen_address": "127.0.0.1",
            "alertmanager_config_dir": str(self.root / "etc") + "/{{ alertmanager_instance }}",
            "alertmanager_data_dir": str(self.root / "data") + "/{{ alertmanager_instance }}",
            **WEB_VARS,
            **PACKAGE,
            **settings,
        }
        own = {host: dict({name: value for name, value in self.host_vars(host).items() if name not in settings},
                          **(hosts or {}).get(host, {})) for host in HOSTS}
        path = self.root / "inventory" / "hosts.yml"
        path.parent.mkdir(exist_ok=True)
        path.write_text(yaml.safe_dump({"all": {"vars": common, "hosts": own}}, sort_keys=False))
        return path

    def run(self, settings: dict | None = None, *args: str, entry: str = "main", hosts: dict | None = None
            ) -> PlaybookRun:
        """The role's ``entry`` point on both hosts; -v shows what the module did and returned."""
        return run_playbook(str(self.playbook), [self.inventory(settings or {}, hosts)], "-v", "-e", "entry=" + entry,
                            *args, check=False)

    def config_dir(self, host: str) -> Path:
        return self.root / "etc" / INSTANCES[host]

    def config_file(self, host: str) -> Path:
        return self.config_dir(host) / "alertmanager.yml"

    def program(self, host: str) -> Path:
        return self.root / "supervisor" / "programs" / (INSTANCES[host] + ".conf")

    def command(self, host: str) -> list:
        (line,) = [line for line in self.program(host).read_text().splitlines() if line.startswith("command=")]
        return shlex.split(line[len("command="):])

    def metric(self, host: str, name: str) -> float:
        return metric(self.url(host), name)

    def status(self, host: str) -> dict:
        with open_url(self.url(host) + "/api/v2/status") as response:
            return json.load(response)

    def readings(self) -> dict:
        """When each instance started, last loaded its configuration, and the hash of what it loaded."""
        return {host: {"started": self.metric(host, START_TIME), "reloaded": self.metric(host, RELOADED_AT),
                       "hash": self.metric(host, HASH)} for host in HOSTS}

    def publish_release(self) -> str:
        """Debian's binaries in upstream's layout under ``www``: the release archive of 0.25.0 and its
        sha256sums.txt; their URL."""
        www = self.root / "www"
        www.mkdir(exist_ok=True)
        top = "alertmanager-%s.linux-amd64" % PACKAGE["alertmanager_version"]
        archive = www / (top + ".tar.gz")
        with tarfile.open(archive, "w:gz") as tar:
            tar.add(BINARY, arcname=top + "/alertmanager")
            tar.add(AMTOOL, arcname=top + "/amtool")
        digest = hashlib.sha256(archive.read_bytes()).hexdigest()
        (www / "sha256sums.txt").write_text("%s  %s\n" % (digest, archive.name))
        return "file://%s" % www

    def created(self) -> list:
        return sorted(name for name in ("supervisor", "log", "etc", "data", "run") if (self.root / name).exists())

    def leftovers(self) -> list:
        found = processes_matching(str(self.root) + "/")
        ports = list(self.ports.values()) + list(self.cluster_ports.values())
        return found + ["port %d still listens" % port for port in ports if listening(port)]


@pytest.fixture(scope="module")
def cluster():
    cluster = Cluster()
    try:
        yield cluster
    finally:
        cluster.run(entry="teardown")
        left = cluster.leftovers()
        scratch_root("alertmanager").rmdir()  # stops whatever a failed teardown left, then the root goes
        # The system user alertmanager stays, as the role leaves it.
        assert not left, "the teardown left these running:\n" + "\n".join(left)


# --- refused before any change ---------------------------------------------------------------------

@pytest.mark.parametrize("settings, words", [
    ({"alertmanager_route": with_routes({"receiver": "pager", "matchers": ['severity="page"']})},
     "alertmanager.yml: route.routes[0].receiver: 'pager' is not a receiver; the receivers are 'default'"),
    ({"alertmanager_route": with_routes({"receiver": "default", "matchers": ['severity=~"(page"']})},
     """alertmanager.yml: route.routes[0]: matchers[0] 'severity=~"(page"': '(page' is not a valid Go regular
     expression"""),
    ({"alertmanager_route": with_routes({"receiver": "default", "matchers": ['severity="page"'],
                                         "group_wait": "5 minutes"})},
     "alertmanager.yml: route.routes[0].group_wait: '5 minutes' is not a duration"),
    ({"alertmanager_route": dict(ROUTE, repeat_interval="0s")},
     "alertmanager.yml: route.repeat_interval: cannot be zero"),
    ({"alertmanager_cluster_peers": ["127.0.0.1"]},
     'alertmanager_cluster_peers[0]: "127.0.0.1" is not a peer; write <host>:<cluster port>'),
    ({"alertmanager_extra_flags": ["--storage.path=/tmp/elsewhere"]},
     "alertmanager_extra_flags[0]: --storage.path comes from alertmanager_data_dir; set that instead"),
    ({"alertmanager_templates": {"../escape.tmpl": "x"}},
     'alertmanager_templates: "../escape.tmpl" is not a file name'),
    ({"alertmanager_version": "0.24.0"},
     "alertmanager_version: Alertmanager version 0.24 is not modelled by the engine"),
    ({"alertmanager_install_method": "tarball", "alertmanager_tarball_checksum": "md5:abc"},
     "alertmanager_tarball_checksum must be sha256:<64 hex digits> or sha256:<URL of a sha256sums.txt>"),
], ids=["unknown-receiver", "bad-matcher", "bad-duration", "zero-repeat-interval", "peer", "role-flag",
        "template-name", "version", "checksum"])
def test_bad_settings_and_configurations_are_refused_naming_the_host_and_the_field_and_nothing_changes(
        cluster, settings, words):
    run = cluster.run(settings)
    assert_failed(run)
    assert says(run, "host 'am-a': invalid") and says(run, "host 'am-b': invalid"), run.output[-3000:]
    assert says(run, words), run.output[-3000:]
    assert cluster.created() == [] and cluster.leftovers() == []


# --- check mode on a machine where nothing runs yet ---------------------------------------------------

def test_check_mode_on_a_fresh_machine_says_what_it_would_do_and_creates_nothing(cluster):
    run = cluster.run({}, "--check", "--diff")
    assert_succeeded(run)
    assert run.changed() == 2, run.output[-3000:]
    for host in HOSTS:
        assert says(run, "would have started %s (it did not run)" % INSTANCES[host]), run.output[-3000:]
        assert "+command=%s --config.file=%s" % (BINARY, cluster.config_file(host)) in run.output
    assert cluster.created() == [] and cluster.leftovers() == []


# --- the cluster ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def converged(cluster):
    run = cluster.run()
    assert_succeeded(run)
    return run


def test_both_instances_run_the_packages_binary_with_their_own_ports_and_directories(cluster, converged):
    for host in HOSTS:
        other = HOSTS[1 - HOSTS.index(host)]
        assert cluster.command(host) == [
            BINARY,
            "--config.file=%s" % cluster.config_file(host),
            "--storage.path=%s" % (cluster.root / "data" / INSTANCES[host]),
            "--web.listen-address=127.0.0.1:%d" % cluster.ports[host],
            "--cluster.listen-address=127.0.0.1:%d" % cluster.cluster_ports[host],
            "--cluster.peer=127.0.0.1:%d" % cluster.cluster_ports[other],
            # TLS and basic auth (on by default) over HTTP, mutual TLS over the gossip
            "--web.config.file=%s" % (cluster.config_dir(host) / "web.yml"),
            "--cluster.tls-config=%s" % (cluster.config_dir(host) / "cluster-tls.yml"),
        ]
        assert "user=alertmanager" in cluster.program(host).read_text().splitlines()
        assert open_url(cluster.url(host) + "/-/ready").status == 200


def test_the_two_instances_form_one_cluster(cluster, converged):
    for host in HOSTS:
        wait_for(lambda host=host: cluster.metric(host, "alertmanager_cluster_members") == 2, timeout=60,
                 what="two members in the cluster of %s" % host)
        peers = {peer["address"] for peer in cluster.status(host)["cluster"]["peers"]}
        assert peers == {"127.0.0.1:%d" % port for port in cluster.cluster_ports.values()}


def test_verify_records_the_members_each_instance_sees(cluster, converged):
    run = cluster.run(entry="verify")
    assert_succeeded(run)
    names = sorted(peer["name"] for peer in cluster.status("am-a")["cluster"]["peers"])
    # -v shows each fact: {cluster_status: ..., peers: [<the names of both members>]}.
    seen = re.findall(r"prometheus_verify:\s+cluster_status: (\w+)\s+peers:\s+- (\S+)\s+- (\S+)", run.output)
    assert len(seen) == 2, run.output[-3000:]
    for status, *peers in seen:
        assert status in ("settling", "ready") and peers == names, run.output[-3000:]


def test_the_configuration_written_is_the_default_one_and_the_loaded_one(cluster, converged):
    for host in HOSTS:
        data = cluster.config_file(host).read_bytes()
        assert yaml.safe_load(data) == {"route": ROUTE, "receivers": [{"name": "default"}]}
        assert cluster.metric(host, HASH) == config_hash(data)


def test_a_second_run_changes_nothing_and_leaves_them_running(cluster, converged):
    before = cluster.readings()
    run = cluster.run()
    assert_succeeded(run)
    assert run.changed() == 0, run.output[-3000:]
    assert cluster.readings() == before


# --- a configuration change: reloaded, not restarted --------------------------------------------------

def test_check_mode_shows_a_configuration_change_with_its_secrets_redacted_and_changes_nothing(cluster, converged):
    before = cluster.readings()
    files = {host: cluster.config_file(host).read_bytes() for host in HOSTS}
    run = cluster.run(notifying(), "--check", "--diff")
    assert_succeeded(run)
    assert run.changed() == 2 and says(run, "would reload %s" % INSTANCES["am-a"]), run.output[-3000:]
    assert "api_url: <secret>" in run.output and "url: <secret>" in run.output, run.output[-3000:]
    assert "s3cr3t" not in run.output
    assert {host: cluster.config_file(host).read_bytes() for host in HOSTS} == files
    assert cluster.readings() == before


def test_a_configuration_change_reloads_without_a_restart_proven_by_the_timestamp_and_the_hash(cluster, converged):
    before = cluster.readings()
    run = cluster.run(notifying(), "--diff")
    assert_succeeded(run)
    after = cluster.readings()
    for host in HOSTS:
        data = cluster.config_file(host).read_bytes()
        assert WEBHOOK_URL.encode() in data and SLACK_URL.encode() in data  # written as given
        assert after[host]["started"] == before[host]["started"]
        assert after[host]["reloaded"] > before[host]["reloaded"]
        assert after[host]["hash"] != before[host]["hash"] and after[host]["hash"] == config_hash(data)
        assert says(run, "wrote %s" % cluster.config_file(host))
        assert says(run, "reloaded with SIGHUP through supervisorctl"), run.output[-3000:]
    # The module's result (-v) and the diff show the receivers, never their secrets.
    assert "s3cr3t" not in run.output, [line for line in run.output.splitlines() if "s3cr3t" in line]
    assert "url: <secret>" in run.output and "api_url: <secret>" in run.output
    again = cluster.run(notifying())
    assert_succeeded(again)
    assert again.changed() == 0, again.output[-3000:]


# --- templates ----------------------------------------------------------------------------------------

TEMPLATE = Unsafe('{{ define "promfleet.title" }}[{{ .Status }}] {{ .CommonLabels.alertname }}{{ end }}\n')
BROKEN_TEMPLATE = Unsafe('{{ define "promfleet.title" }}[{{ .Status }}\n')


def test_a_template_is_written_listed_in_the_configuration_and_reloads(cluster, converged):
    before = cluster.readings()
    run = cluster.run(dict(notifying(), alertmanager_templates={"promfleet.tmpl": TEMPLATE}))
    assert_succeeded(run)
    for host in HOSTS:
        path = cluster.config_dir(host) / "templates" / "promfleet.tmpl"
        assert path.read_text() == str(TEMPLATE)
        assert yaml.safe_load(cluster.config_file(host).read_text())["templates"] == [str(path)]
        assert cluster.metric(host, RELOADED_AT) > before[host]["reloaded"]
        assert cluster.metric(host, START_TIME) == before[host]["started"]


def test_a_broken_template_is_refused_by_amtool_and_nothing_changes(cluster, converged):
    settings = dict(notifying(), alertmanager_templates={"promfleet.tmpl": TEMPLATE})
    assert_succeeded(cluster.run(settings))
    before = cluster.readings()
    path = cluster.config_dir("am-a") / "templates" / "promfleet.tmpl"
    run = cluster.run(dict(settings, alertmanager_templates={"promfleet.tmpl": BROKEN_TEMPLATE}))
    assert_failed(run)
    assert says(run, "amtool template render --template.text=ok --template.glob refused the new %s; nothing was "
                     "changed" % path), run.output[-3000:]
    assert path.read_text() == str(TEMPLATE)
    assert cluster.readings() == before


def test_a_file_that_is_not_a_template_is_removed_from_the_templates_directory(cluster, converged):
    settings = dict(notifying(), alertmanager_templates={"promfleet.tmpl": TEMPLATE})
    assert_succeeded(cluster.run(settings))
    stray = cluster.config_dir("am-a") / "templates" / "stray.tmpl"
    stray.write_text("left behind\n")
    run = cluster.run(settings)
    assert_succeeded(run)
    assert says(run, "removed %s (not a file of %s)" % (stray, stray.parent)), run.output[-3000:]
    assert sorted(path.name for path in stray.parent.iterdir()) == ["promfleet.tmpl"]
    again = cluster.run(settings)
    assert_succeeded(again)
    assert again.changed() == 0, again.output[-3000:]


# --- a reload Alertmanager refuses: rolled back ---------------------------------------------------------

def test_a_reload_alertmanager_refuses_is_rolled_back_and_fails_naming_the_instance(cluster, converged):
    # amtool check-config accepts a CA file that does not exist; Alertmanager refuses it when it builds
    # the receiver's HTTP client at the reload (and keeps running its previous configuration).
    settings = notifying()
    assert_succeeded(cluster.run(settings))
    good = {host: cluster.config_file(host).read_bytes() for host in HOSTS}
    before = cluster.readings()
    missing_ca = str(cluster.root / "missing-ca.pem")
    receivers = [dict(receiver, webhook_configs=[{"url": WEBHOOK_URL, "http_config": {
        "tls_config": {"ca_file": missing_ca}}}]) if receiver["name"] == "hook" else receiver
        for receiver in settings["alertmanager_receivers"]]
    run = cluster.run(dict(settings, alertmanager_receivers=receivers))
    assert_failed(run)
    for host in HOSTS:
        path = cluster.config_file(host)
        assert says(run, "%s: reload with SIGHUP through supervisorctl" % INSTANCES[host]), run.output[-3000:]
        assert says(run, "Alertmanager reported the reload as failed (alertmanager_config_last_reload_successful "
                         "is 0; its log has the reason)"), run.output[-3000:]
        assert says(run, "rolled back: restored %s from the last good copies and reloaded, verified" % path), \
            run.output[-3000:]
        # The last good configuration is on disk again, and it is the one Alertmanager runs.
        assert path.read_bytes() == good[host]
        assert cluster.metric(host, "alertmanager_config_last_reload_successful") == 1
        assert cluster.metric(host, HASH) == config_hash(good[host]) == before[host]["hash"]
        assert cluster.metric(host, START_TIME) == before[host]["started"]
    assert "s3cr3t" not in run.output
    assert_succeeded(cluster.run(settings))


# --- the tarball and auto install methods -----------------------------------------------------------------

def test_the_tarball_method_runs_the_unpacked_release_and_the_cluster_forms_again(cluster, converged):
    settings = {"alertmanager_install_method": "tarball", "alertmanager_release_url": cluster.publish_release(),
                "alertmanager_install_dir": str(cluster.root / "opt")}
    run = cluster.run(settings)
    assert_succeeded(run)
    unpacked = cluster.root / "opt" / ("alertmanager-%s" % PACKAGE["alertmanager_version"])
    for host in HOSTS:
        assert says(run, "restarted %s (its program changed)" % INSTANCES[host]), run.output[-3000:]
        assert cluster.command(host)[0] == str(unpacked / "alertmanager")
        wait_for(lambda host=host: cluster.metric(host, "alertmanager_cluster_members") == 2, timeout=60,
                 what="two members in the cluster of %s again" % host)
    again = cluster.run(settings)
    assert_succeeded(again)
    assert again.changed() == 0, again.output[-3000:]


def test_auto_takes_the_package_where_the_distribution_carries_the_line(cluster, converged):
    run = cluster.run({"alertmanager_install_method": "auto", "alertmanager_install_dir": str(cluster.root / "opt"),
                       "alertmanager_release_url": "file:///nowhere"})
    assert_succeeded(run)
    assert [cluster.command(host)[0] for host in HOSTS] == [BINARY, BINARY]


# --- teardown ---------------------------------------------------------------------------------------------

def test_teardown_stops_both_and_removes_everything_and_nothing_listens(cluster, converged):
    assert_succeeded(cluster.run())
    run = cluster.run(entry="teardown")
    assert_succeeded(run)
    assert says(run, "stopped the private supervisord (no program left)"), run.output[-3000:]
    for host in HOSTS:
        assert not cluster.program(host).exists() and not cluster.config_dir(host).exists()
        assert not (cluster.root / "data" / INSTANCES[host]).exists()
        assert not (cluster.root / "log" / (INSTANCES[host] + ".log")).exists()
    assert cluster.leftovers() == []
    again = cluster.run(entry="teardown")
    assert_succeeded(again)
    assert again.changed() == 0, again.output[-3000:]
