"""Planning one server (``fleet/plan.py``): its whole prometheus.yml through the engine once, and
what it becomes where it runs - files on a host, objects in a cluster."""

from __future__ import annotations

import pytest

from ansible_collections.promfleet.federation.plugins.module_utils.errors import ConfigError, ManifestError
from ansible_collections.promfleet.federation.plugins.module_utils.fleet import plan

CONFIG = {"global": {"scrape_interval": "15s"}, "scrape_configs": [
    {"job_name": "prometheus", "static_configs": [{"targets": ["127.0.0.1:9090"]}]}]}
RULES = {"aggregates.yml": {"groups": [{"name": "a", "rules": [{"record": "job:up:sum", "expr": "sum(up)"}]}]}}
DAEMON = {"name": "prometheus", "instance": "promfleet-eu", "install": {"method": "package"},
          "config": {"path": "/etc/promfleet/eu/prometheus.yml", "rules_dir": "/etc/promfleet/eu/rules",
                     "content": {}, "mode": "0640"}}
EXTRA = {"job_name": "node", "static_configs": [{"targets": ["10.0.0.1:9100"]}]}


def test_the_users_jobs_come_after_the_roles():
    assert [job["job_name"] for job in plan.whole_config(CONFIG, [EXTRA])["scrape_configs"]] == ["prometheus", "node"]


def test_a_host_plan_loads_the_rule_files_and_carries_the_checked_config_in_the_daemon_description():
    planned = plan.plan_host(plan.whole_config(CONFIG, [EXTRA]), RULES, "2.42", DAEMON)
    assert planned["deployment"] == "host"
    assert planned["config"]["rule_files"] == ["/etc/promfleet/eu/rules/*.yml"]
    assert planned["daemon"]["config"] == dict(DAEMON["config"], content=planned["config"], rule_files=RULES)
    assert DAEMON["config"]["content"] == {}  # the input is not changed


def test_a_host_plan_fails_with_the_engines_message():
    bad = dict(CONFIG, scrape_configs=[{"job_name": "x", "static_configs": [{"targets": ["a:1"]}],
                                        "relabel_configs": [{"regex": "("}]}])
    with pytest.raises(ConfigError, match=r"^job \"x\", relabel_configs: relabel rule 1: regex: "):
        plan.plan_host(bad, {}, "2.42", DAEMON)


TARGETS_DIR = "/etc/promfleet/eu/targets"
NODE_GROUPS = [{"targets": ["10.0.1.1:9100"], "labels": {"instance": "web1"}}]


def test_target_files_become_files_of_the_daemon_written_without_a_reload_in_a_directory_it_owns():
    daemon = dict(DAEMON, config=dict(DAEMON["config"], owner="root", group="prometheus"))
    planned = plan.plan_host(CONFIG, {}, "3.5", daemon, {TARGETS_DIR + "/node.json": NODE_GROUPS}, TARGETS_DIR)
    assert planned["daemon"]["files"] == [{
        "path": TARGETS_DIR + "/node.json",
        "content": '[\n  {\n    "labels": {\n      "instance": "web1"\n    },\n    "targets": [\n'
                   '      "10.0.1.1:9100"\n    ]\n  }\n]\n',
        "owner": "root", "group": "prometheus", "mode": "0640", "checker": None, "reload": False}]
    assert planned["daemon"]["owned_dirs"] == [TARGETS_DIR]
    assert planned["daemon"]["directories"][-1] == {"path": TARGETS_DIR, "owner": "root", "group": "prometheus",
                                                    "mode": "0750"}
    assert planned["target_files"] == {TARGETS_DIR + "/node.json": NODE_GROUPS}


def test_no_target_file_still_owns_the_directory_so_the_last_machine_removed_empties_it():
    planned = plan.plan_host(CONFIG, {}, "3.5", DAEMON, {}, TARGETS_DIR)
    assert planned["daemon"]["files"] == [] and planned["daemon"]["owned_dirs"] == [TARGETS_DIR]


@pytest.mark.parametrize("path, groups, message", [
    (TARGETS_DIR + "/node.json", {"targets": ["a:1"]},
     "target file /etc/promfleet/eu/targets/node.json: a target file must be a list of target groups"),
    (TARGETS_DIR + "/node.json", [{"targets": ["http://a:1/metrics"]}],
     "target file /etc/promfleet/eu/targets/node.json[0].targets[0]: 'http://a:1/metrics' is not a valid target"),
    (TARGETS_DIR + "/node.json", [{"targets": ["a:1"], "labels": {"rack": 12}}],
     "target file /etc/promfleet/eu/targets/node.json[0]"),
    ("/elsewhere/node.json", NODE_GROUPS, "target file /elsewhere/node.json: it must be a .json file directly in"),
])
def test_a_target_file_the_engine_refuses_fails_the_plan_naming_the_file(path, groups, message):
    with pytest.raises(ConfigError) as caught:
        plan.plan_host(CONFIG, {}, "3.5", DAEMON, {path: groups}, TARGETS_DIR)
    assert str(caught.value).startswith(message), str(caught.value)


def test_target_files_without_their_directory_are_refused():
    with pytest.raises(ConfigError, match="without the directory"):
        plan.plan_host(CONFIG, {}, "3.5", DAEMON, {TARGETS_DIR + "/node.json": NODE_GROUPS}, None)


def test_host_problems_name_the_host_and_every_setting():
    daemon = dict(DAEMON, install={"method": "tarball", "archive_url": "", "archive_checksum": "",
                                   "hints": {"archive_url": "prometheus_tarball_url"}})
    with pytest.raises(ConfigError) as failure:
        plan.host_problems("eu-1", daemon, ["--web.enable-lifecycle"], "0.0.0.0", 9090)
    message = str(failure.value)
    assert message.startswith("host 'eu-1': invalid settings: prometheus_tarball_url is empty;")
    assert "prometheus_extra_flags turns on --web.enable-lifecycle while Prometheus listens on 0.0.0.0" in message


def test_a_server_must_have_the_role_it_is_run_for():
    plan.check_server_role("eu-1", {"role": "datacenter"}, "datacenter")
    with pytest.raises(ConfigError, match="^host 'g-1' is not in a child group of the datacenters group; run the "
                                          "datacenter role on datacenter servers only \\(it is a global server\\)$"):
        plan.check_server_role("g-1", {"role": "global"}, "datacenter")
    with pytest.raises(ConfigError, match="is not in the global group; .* \\(it is in neither\\)$"):
        plan.check_server_role("x", {"role": "none"}, "global")


def test_kubernetes_options_default_the_name_to_the_hosts_and_leave_the_connection_out():
    options = plan.kubernetes_options("eu-west-1-prom-a", {"namespace": "monitoring", "kubeconfig": "/k",
                                                           "context": "c", "federation_url": "http://x:30090"},
                                      {"service_discovery": False})
    assert options == {"name": "promfleet-eu-west-1-prom-a", "service_discovery": False, "namespace": "monitoring"}


def test_the_inventorys_options_win_over_a_calling_roles_defaults():
    assert plan.kubernetes_options("h", {"namespace": "m", "service_discovery": True},
                                   {"service_discovery": False})["service_discovery"] is True


def test_rule_files_become_configmap_keys_ending_in_rules_yml():
    assert plan.kubernetes_rule_file_name("aggregates.yml") == "aggregates.rules.yml"
    assert plan.kubernetes_rule_file_name("node.rules.yml") == "node.rules.yml"


def test_a_kubernetes_plan_has_every_object_and_what_apply_and_reload_need():
    planned = plan.plan_kubernetes("eu-1", CONFIG, RULES, "2.42", {"namespace": "monitoring", "name": "prom-eu"})
    assert planned["config"]["rule_files"] == ["/etc/prometheus/*.rules.yml"]
    assert [obj["kind"] for obj in planned["objects"]] == [
        "Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "ConfigMap", "Deployment", "Service"]
    kube = planned["kubernetes"]
    assert (kube["namespace"], kube["name"], kube["workload"], kube["other_workload"], kube["last_good"]) == (
        "monitoring", "prom-eu", "Deployment", "StatefulSet", "prom-eu-last-good")
    assert sorted(kube["config_map_data"]) == ["aggregates.rules.yml", "prometheus.yml"]
    assert kube["owned_labels"] == {"app.kubernetes.io/name": "prometheus", "app.kubernetes.io/instance": "prom-eu",
                                    "app.kubernetes.io/managed-by": "promfleet.federation"}


def test_a_kubernetes_plan_refuses_a_wrong_option_naming_it():
    with pytest.raises(ManifestError, match=r"^prometheus_kubernetes\.workload "):
        plan.plan_kubernetes("eu-1", CONFIG, {}, "2.42", {"namespace": "m", "workload": "DaemonSet"})
