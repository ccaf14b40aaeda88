"""Specification of the Kubernetes objects of one Prometheus server (plugins/module_utils/kube_manifests.py)."""

from __future__ import annotations

import fnmatch

import pytest

from ansible_collections.promfleet.federation.plugins.module_utils.errors import ManifestError
from ansible_collections.promfleet.federation.plugins.module_utils.kube.manifests import (
    CONFIG_DIR,
    CONFIG_FILE,
    DEFAULTS,
    EXEC_RELOAD_COMMAND,
    manifests,
    normalize_options,
    pod_template_fingerprint,
    rule_files_glob,
)

CONFIG = "global:\n  scrape_interval: 30s\nrule_files:\n  - /etc/prometheus/*.rules.yml\n"
RULES = {"node.rules.yml": "groups:\n  - name: node\n    rules: []\n"}
BASE = {"namespace": "monitoring", "name": "prom-eu1"}
INSTANCE_LABELS = {
    "app.kubernetes.io/name": "prometheus",
    "app.kubernetes.io/instance": "prom-eu1",
    "app.kubernetes.io/managed-by": "promfleet.federation",
}
SELECTOR = {"app.kubernetes.io/name": "prometheus", "app.kubernetes.io/instance": "prom-eu1"}
HARDENED = {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "capabilities": {"drop": ["ALL"]}}


def render(config: str = CONFIG, rule_files: dict | None = None, **options) -> list[dict]:
    return manifests({**BASE, **options}, config, RULES if rule_files is None else rule_files)


def by_kind(objects: list[dict], kind: str) -> dict:
    (found,) = [obj for obj in objects if obj["kind"] == kind]
    return found


def pod_spec(**options) -> dict:
    objects = render(**options)
    return by_kind(objects, options.get("workload", "Deployment"))["spec"]["template"]["spec"]


def prometheus_container(**options) -> dict:
    return pod_spec(**options)["containers"][0]


def error_of(options: dict, config: str = CONFIG, rule_files: dict | None = None) -> str:
    with pytest.raises(ManifestError) as caught:
        manifests(options, config, RULES if rule_files is None else rule_files)
    return str(caught.value)


# --- options --------------------------------------------------------------------------------------


def test_normalize_options_fills_every_default():
    assert normalize_options(BASE) == {
        "namespace": "monitoring",
        "name": "prom-eu1",
        "image": "quay.io/prometheus/prometheus:v3.13.0",
        "image_pull_policy": "IfNotPresent",
        "workload": "Deployment",
        "storage_size": None,
        "storage_class": None,
        "service_type": "ClusterIP",
        "node_port": None,
        "port": 9090,
        "retention": "15d",
        "extra_args": [],
        "resources": {
            "requests": {"cpu": "100m", "memory": "512Mi"},
            "limits": {"cpu": "1", "memory": "2Gi"},
        },
        "labels": {},
        "reloader": "exec",
        "reloader_image": None,
        "reloader_interval": None,
        "service_discovery": True,
        "cluster_role_name": "promfleet-monitoring-prom-eu1",
    }


def test_normalize_options_keeps_the_order_of_defaults():
    assert list(normalize_options(BASE)) == list(DEFAULTS)


def test_an_option_given_as_none_counts_as_not_given():
    assert normalize_options({**BASE, "port": None, "storage_size": None}) == normalize_options(BASE)


def test_normalized_options_normalize_to_themselves():
    options = {
        **BASE,
        "workload": "StatefulSet",
        "reloader": "http",
        "extra_args": ["--web.enable-lifecycle", "--log.level=debug"],
        "resources": {"requests": {"cpu": 1, "memory": "1Gi"}, "limits": {"memory": "1Gi"}},
    }
    once = normalize_options(options)
    assert normalize_options(once) == once


def test_normalize_options_does_not_share_the_defaults():
    normalize_options(BASE)["resources"]["limits"]["cpu"] = "8"
    assert normalize_options(BASE)["resources"]["limits"]["cpu"] == "1"


def test_numeric_quantities_become_strings():
    options = normalize_options({**BASE, "resources": {"requests": {"cpu": 0.5}, "limits": {"cpu": 2}}})
    assert options["resources"] == {"requests": {"cpu": "0.5"}, "limits": {"cpu": "2"}}


def test_without_service_discovery_there_is_no_cluster_role_to_name():
    options = normalize_options({**BASE, "service_discovery": False})
    assert (options["service_discovery"], options["cluster_role_name"]) == (False, None)
    assert normalize_options(options) == options


def test_a_statefulset_gets_10gi_of_storage_by_default():
    assert normalize_options({**BASE, "workload": "StatefulSet"})["storage_size"] == "10Gi"


def test_the_sidecar_reloader_gets_busybox_every_5_seconds_by_default():
    options = normalize_options({**BASE, "reloader": "sidecar"})
    assert (options["reloader_image"], options["reloader_interval"]) == ("docker.io/library/busybox:1.36", 5)


# --- option errors: each names the option and says what would be right ---------------------------


def test_options_must_be_a_mapping():
    assert error_of(["monitoring"]) == "prometheus_kubernetes must be a mapping of options, got list"


def test_an_unknown_option_is_refused_with_the_list_of_options():
    assert error_of({**BASE, "replicas": 2}) == (
        "prometheus_kubernetes.replicas is not an option; the options are " + ", ".join(DEFAULTS)
    )


def test_namespace_is_required():
    assert error_of({"name": "prom-eu1"}) == (
        "prometheus_kubernetes.namespace is required: the namespace to run Prometheus in, e.g. 'monitoring'"
    )


def test_name_is_required():
    assert error_of({"namespace": "monitoring", "name": None}) == (
        "prometheus_kubernetes.name is required: the server's instance name, e.g. 'prometheus-eu1'"
    )


def test_namespace_must_be_a_dns_label():
    assert error_of({**BASE, "namespace": "Monitoring"}) == (
        "prometheus_kubernetes.namespace is 'Monitoring'; it must be a DNS-1123 label: at most 63 lowercase "
        "letters, digits and '-', starting and ending with a letter or digit, e.g. 'monitoring'"
    )


def test_name_must_start_with_a_letter_because_it_names_the_service():
    assert error_of({**BASE, "name": "1prom"}) == (
        "prometheus_kubernetes.name is '1prom'; it must be a DNS-1035 label (it names the Service): at most 63 "
        "lowercase letters, digits and '-', starting with a letter and ending with a letter or digit, "
        "e.g. 'prometheus-eu1'"
    )


def test_name_must_not_exceed_63_characters():
    assert error_of({**BASE, "name": "p" * 64}).startswith("prometheus_kubernetes.name is 'pppp")


def test_a_statefulset_name_must_leave_room_for_the_revision_hash():
    name = "p" * 53
    assert error_of({**BASE, "name": name, "workload": "StatefulSet"}) == (
        "prometheus_kubernetes.name is %r (53 characters); with workload: StatefulSet it must have at most 52, "
        "because the pods carry a controller-revision-hash label of <name>-<10 characters>" % name
    )


def test_image_must_be_an_image_reference():
    assert error_of({**BASE, "image": "prometheus latest"}) == (
        "prometheus_kubernetes.image is 'prometheus latest'; it must be an image reference like "
        "'quay.io/prometheus/prometheus:v3.13.0'"
    )


def test_image_pull_policy_must_be_a_kubernetes_policy():
    assert error_of({**BASE, "image_pull_policy": "always"}) == (
        "prometheus_kubernetes.image_pull_policy is 'always'; it must be one of IfNotPresent, Always, Never"
    )


def test_workload_must_be_deployment_or_statefulset():
    assert error_of({**BASE, "workload": "DaemonSet"}) == (
        "prometheus_kubernetes.workload is 'DaemonSet'; it must be one of Deployment, StatefulSet"
    )


def test_storage_size_only_applies_to_a_statefulset():
    assert error_of({**BASE, "storage_size": "50Gi"}) == (
        "prometheus_kubernetes.storage_size only applies with workload: StatefulSet (it is Deployment); "
        "remove it or set workload: StatefulSet"
    )


def test_storage_size_must_be_a_quantity():
    assert error_of({**BASE, "workload": "StatefulSet", "storage_size": "10 GB"}) == (
        "prometheus_kubernetes.storage_size is '10 GB'; it must be a Kubernetes quantity like 10Gi, 512Mi, 500m or 2"
    )


def test_storage_class_only_applies_to_a_statefulset():
    assert error_of({**BASE, "storage_class": "fast"}) == (
        "prometheus_kubernetes.storage_class only applies with workload: StatefulSet (it is Deployment); "
        "remove it or set workload: StatefulSet"
    )


def test_storage_class_must_be_a_dns_subdomain():
    assert error_of({**BASE, "workload": "StatefulSet", "storage_class": "Fast_SSD"}) == (
        "prometheus_kubernetes.storage_class is 'Fast_SSD'; it must be a DNS-1123 subdomain: at most 253 "
        "lowercase letters, digits, '-' and '.', starting and ending with a letter or digit"
    )


def test_service_type_must_be_clusterip_or_nodeport():
    assert error_of({**BASE, "service_type": "LoadBalancer"}) == (
        "prometheus_kubernetes.service_type is 'LoadBalancer'; it must be one of ClusterIP, NodePort"
    )


def test_node_port_only_applies_to_a_nodeport_service():
    assert error_of({**BASE, "node_port": 30090}) == (
        "prometheus_kubernetes.node_port only applies with service_type: NodePort (it is ClusterIP); "
        "remove it or set service_type: NodePort"
    )


def test_node_port_must_be_in_the_node_port_range():
    assert error_of({**BASE, "service_type": "NodePort", "node_port": 9090}) == (
        "prometheus_kubernetes.node_port is 9090; it must be a port number from 30000 to 32767 "
        "(the API server's default node port range), or left unset to let Kubernetes pick one"
    )


def test_port_must_be_one_a_non_root_process_can_listen_on():
    assert error_of({**BASE, "port": 80}) == (
        "prometheus_kubernetes.port is 80; it must be a port number from 1024 to 65535: Prometheus runs as "
        "a non-root user without capabilities, so it cannot listen on a lower port"
    )


def test_port_must_be_a_number_not_a_string():
    assert error_of({**BASE, "port": "9090"}).startswith("prometheus_kubernetes.port is '9090'; it must be")


def test_retention_must_be_a_prometheus_duration():
    assert error_of({**BASE, "retention": "15 days"}) == (
        "prometheus_kubernetes.retention is '15 days'; it must be a Prometheus duration like 15d, 12h or 1y"
    )


def test_extra_args_must_be_a_list_of_strings():
    assert error_of({**BASE, "extra_args": "--log.level=debug"}) == (
        "prometheus_kubernetes.extra_args is '--log.level=debug'; it must be a list of strings like "
        "['--log.level=debug']"
    )


@pytest.mark.parametrize(
    "arg, source",
    [
        ("--config.file=/tmp/p.yml", "the ConfigMap mounted at /etc/prometheus"),
        ("--storage.tsdb.path=/data", "the data volume mounted at /prometheus"),
        ("--web.listen-address=:9091", "prometheus_kubernetes.port"),
        ("--storage.tsdb.retention.time=30d", "prometheus_kubernetes.retention"),
    ],
)
def test_extra_args_must_not_set_a_flag_the_engine_sets(arg, source):
    flag = arg.split("=")[0]
    assert error_of({**BASE, "extra_args": ["--log.level=debug", arg]}) == (
        "prometheus_kubernetes.extra_args[1] is %r; the engine sets %s from %s: remove it" % (arg, flag, source)
    )


def test_extra_args_must_not_enable_the_lifecycle_api_without_the_http_reloader():
    assert error_of({**BASE, "extra_args": ["--web.enable-lifecycle"]}) == (
        "prometheus_kubernetes.extra_args has --web.enable-lifecycle, which also lets anyone who reaches the "
        "port stop the server (/-/quit); it is only set with reloader: http, which adds it itself"
    )


def test_resources_need_requests_and_limits():
    assert error_of({**BASE, "resources": {"requests": {"cpu": "1"}}}) == (
        "prometheus_kubernetes.resources is {'requests': {'cpu': '1'}}; it must be a mapping with requests and "
        "limits, e.g. {requests: {cpu: 100m, memory: 512Mi}, limits: {cpu: 1, memory: 2Gi}}"
    )


def test_resource_limits_must_not_be_empty():
    assert error_of({**BASE, "resources": {"requests": {"cpu": "1"}, "limits": {}}}) == (
        "prometheus_kubernetes.resources.limits is {}; it must be a mapping of resource name to quantity, "
        "e.g. {cpu: 100m, memory: 512Mi}"
    )


def test_resource_amounts_must_be_quantities():
    resources = {"requests": {"memory": "512MB"}, "limits": {"memory": "2Gi"}}
    assert error_of({**BASE, "resources": resources}) == (
        "prometheus_kubernetes.resources.requests.memory is '512MB'; it must be a Kubernetes quantity like "
        "10Gi, 512Mi, 500m or 2"
    )


def test_labels_must_be_a_mapping():
    assert error_of({**BASE, "labels": ["team"]}) == (
        "prometheus_kubernetes.labels is ['team']; it must be a mapping of label name to value, "
        "e.g. {team: observability}"
    )


def test_label_names_must_be_kubernetes_label_names():
    assert error_of({**BASE, "labels": {"team name": "obs"}}) == (
        "prometheus_kubernetes.labels['team name'] is not a valid label name; use an optional DNS subdomain "
        "prefix and '/', then at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter "
        "or digit"
    )


def test_labels_must_not_replace_the_instance_labels():
    assert error_of({**BASE, "labels": {"app.kubernetes.io/instance": "other"}}) == (
        "prometheus_kubernetes.labels['app.kubernetes.io/instance'] is set by the engine; choose another label name"
    )


def test_label_values_must_be_strings():
    assert error_of({**BASE, "labels": {"tier": 1}}) == (
        "prometheus_kubernetes.labels['tier'] is 1; a label value must be a string of at most 63 letters, "
        "digits, '-', '_' and '.', starting and ending with a letter or digit (quote numbers)"
    )


def test_reloader_must_be_exec_sidecar_or_http():
    assert error_of({**BASE, "reloader": "inotify"}) == (
        "prometheus_kubernetes.reloader is 'inotify'; it must be one of exec, sidecar, http"
    )


def test_reloader_image_only_applies_to_the_sidecar_reloader():
    assert error_of({**BASE, "reloader_image": "busybox:1.37"}) == (
        "prometheus_kubernetes.reloader_image only applies with reloader: sidecar (it is exec); "
        "remove it or set reloader: sidecar"
    )


def test_reloader_interval_must_be_a_positive_number_of_seconds():
    assert error_of({**BASE, "reloader": "sidecar", "reloader_interval": 0}) == (
        "prometheus_kubernetes.reloader_interval is 0; it must be a whole number of seconds, 1 or more"
    )


def test_cluster_role_name_must_be_a_dns_subdomain():
    assert error_of({**BASE, "cluster_role_name": "Prometheus"}) == (
        "prometheus_kubernetes.cluster_role_name is 'Prometheus'; it must be a DNS-1123 subdomain: at most 253 "
        "lowercase letters, digits, '-' and '.', starting and ending with a letter or digit"
    )


@pytest.mark.parametrize("value", ["false", "no", 0])
def test_service_discovery_must_be_a_boolean(value):
    assert error_of({**BASE, "service_discovery": value}) == (
        "prometheus_kubernetes.service_discovery is %r; it must be true or false (a YAML boolean, not quoted)"
        % (value,)
    )


def test_cluster_role_name_only_applies_with_service_discovery():
    assert error_of({**BASE, "service_discovery": False, "cluster_role_name": "prometheus-eu1"}) == (
        "prometheus_kubernetes.cluster_role_name only applies with service_discovery: true (it is false); "
        "remove it or set service_discovery: true"
    )


def test_the_config_must_be_text():
    assert error_of(BASE, config="") == "config_yaml must be the text of prometheus.yml, got ''"


def test_rule_files_must_be_named_for_the_glob_of_the_config():
    assert error_of(BASE, rule_files={"node.yml": "groups: []\n"}) == (
        "rule_files: 'node.yml' is not a file name ending in .rules.yml (letters, digits, '_', '.', '-', not "
        "starting with '.' or '_'), e.g. 'node.rules.yml'; prometheus.yml loads /etc/prometheus/*.rules.yml"
    )


def test_rule_files_must_not_be_hidden_files():
    assert error_of(BASE, rule_files={"..data.rules.yml": "groups: []\n"}).startswith(
        "rule_files: '..data.rules.yml' is not a file name ending in .rules.yml"
    )


def test_rule_files_must_be_yaml_text():
    assert error_of(BASE, rule_files={"node.rules.yml": {"groups": []}}) == (
        "rule_files['node.rules.yml']: the content must be the YAML text of the rule file, got dict"
    )


def test_config_and_rules_must_fit_in_a_configmap():
    big = {"big.rules.yml": "#" * (1024 * 1024)}
    assert error_of(BASE, rule_files=big) == (
        "prometheus.yml and the rule files hold %d bytes; a ConfigMap holds at most 1048576: move rules to "
        "fewer or shorter files, or out of this server" % (1024 * 1024 + len(CONFIG))
    )


# --- the objects ----------------------------------------------------------------------------------


def test_the_objects_come_in_apply_order():
    assert [obj["kind"] for obj in render()] == [
        "Namespace",
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "ConfigMap",
        "Deployment",
        "Service",
    ]


def test_without_service_discovery_there_is_no_cluster_role_and_no_binding():
    assert [obj["kind"] for obj in render(service_discovery=False)] == [
        "Namespace",
        "ServiceAccount",
        "ConfigMap",
        "Deployment",
        "Service",
    ]


def test_every_object_carries_the_instance_labels_and_the_extra_labels():
    for obj in render(labels={"team": "observability"}):
        assert obj["metadata"]["labels"] == {**INSTANCE_LABELS, "team": "observability"}, obj["kind"]


def test_namespaced_objects_live_in_the_namespace_and_are_named_for_the_server():
    for obj in render():
        if obj["kind"] in ("Namespace", "ClusterRole", "ClusterRoleBinding"):
            assert "namespace" not in obj["metadata"], obj["kind"]
        else:
            assert (obj["metadata"]["namespace"], obj["metadata"]["name"]) == ("monitoring", "prom-eu1"), obj["kind"]


def test_the_namespace_object_is_the_namespace():
    assert by_kind(render(), "Namespace")["metadata"]["name"] == "monitoring"


def test_the_cluster_role_grants_read_access_for_discovery_and_the_metrics_endpoint_and_nothing_else():
    assert by_kind(render(), "ClusterRole")["rules"] == [
        {
            "apiGroups": [""],
            "resources": ["nodes", "nodes/metrics", "services", "endpoints", "pods"],
            "verbs": ["get", "list", "watch"],
        },
        {"nonResourceURLs": ["/metrics"], "verbs": ["get"]},
    ]


def test_the_cluster_role_is_named_for_namespace_and_server_by_default():
    assert by_kind(render(), "ClusterRole")["metadata"]["name"] == "promfleet-monitoring-prom-eu1"


def test_the_cluster_role_binding_gives_the_role_to_the_service_account():
    binding = by_kind(render(cluster_role_name="prometheus-eu1"), "ClusterRoleBinding")
    assert binding["metadata"]["name"] == "prometheus-eu1"
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": "prometheus-eu1",
    }
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "prom-eu1", "namespace": "monitoring"}]


def test_the_configmap_holds_the_config_first_then_each_rule_file_by_name():
    rules = {"z.rules.yml": "groups: []\n", "a.rules.yml": "groups: []\n"}
    data = by_kind(render(rule_files=rules), "ConfigMap")["data"]
    assert list(data) == ["prometheus.yml", "a.rules.yml", "z.rules.yml"]
    assert data["prometheus.yml"] == CONFIG


def test_the_rule_files_glob_loads_the_rule_files_and_not_the_config():
    assert rule_files_glob() == "/etc/prometheus/*.rules.yml"
    assert fnmatch.fnmatch(CONFIG_DIR + "/node.rules.yml", rule_files_glob())
    assert not fnmatch.fnmatch(CONFIG_FILE, rule_files_glob())


def test_the_config_is_mounted_read_only_where_the_config_flag_points():
    container = prometheus_container()
    assert "--config.file=" + CONFIG_FILE in container["args"]
    assert {"name": "config", "mountPath": "/etc/prometheus", "readOnly": True} in container["volumeMounts"]
    assert {"name": "config", "configMap": {"name": "prom-eu1"}} in pod_spec()["volumes"]


# --- the pod --------------------------------------------------------------------------------------


def test_the_pod_runs_as_nobody_under_the_runtime_default_seccomp_profile():
    assert pod_spec()["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 65534,
        "runAsGroup": 65534,
        "fsGroup": 65534,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


@pytest.mark.parametrize("reloader", ["exec", "sidecar", "http"])
def test_every_container_is_hardened_and_bounded(reloader):
    for container in pod_spec(reloader=reloader)["containers"]:
        assert container["securityContext"] == HARDENED, container["name"]
        assert set(container["resources"]) == {"requests", "limits"}, container["name"]


def test_the_pod_uses_its_service_account_and_mounts_its_token_for_discovery():
    spec = pod_spec()
    assert (spec["serviceAccountName"], spec["automountServiceAccountToken"]) == ("prom-eu1", True)


def test_without_service_discovery_the_pod_keeps_its_service_account_but_gets_no_token():
    spec = pod_spec(service_discovery=False)
    assert (spec["serviceAccountName"], spec["automountServiceAccountToken"]) == ("prom-eu1", False)


def test_prometheus_gets_the_default_resources():
    assert prometheus_container()["resources"] == {
        "requests": {"cpu": "100m", "memory": "512Mi"},
        "limits": {"cpu": "1", "memory": "2Gi"},
    }


def test_readiness_and_liveness_are_probed_over_http_on_the_port():
    container = prometheus_container(port=9091)
    assert container["ports"] == [{"name": "http", "containerPort": 9091, "protocol": "TCP"}]
    assert container["readinessProbe"] == {
        "httpGet": {"path": "/-/ready", "port": "http"},
        "initialDelaySeconds": 5,
        "periodSeconds": 5,
        "timeoutSeconds": 3,
        "failureThreshold": 3,
    }
    assert container["livenessProbe"] == {
        "httpGet": {"path": "/-/healthy", "port": "http"},
        "initialDelaySeconds": 10,
        "periodSeconds": 15,
        "timeoutSeconds": 10,
        "failureThreshold": 4,
    }


def test_the_engine_flags_come_first_and_the_extra_args_after_them():
    assert prometheus_container(retention="30d", port=9091, extra_args=["--log.level=debug"])["args"] == [
        "--config.file=/etc/prometheus/prometheus.yml",
        "--storage.tsdb.path=/prometheus",
        "--storage.tsdb.retention.time=30d",
        "--web.listen-address=:9091",
        "--log.level=debug",
    ]


def test_the_http_reloader_enables_the_lifecycle_api_once():
    args = prometheus_container(reloader="http", extra_args=["--web.enable-lifecycle"])["args"]
    assert args[4:] == ["--web.enable-lifecycle"]


def test_the_exec_reloader_leaves_prometheus_pid_1_alone_in_its_process_namespace():
    spec = pod_spec()
    assert "shareProcessNamespace" not in spec
    assert [container["name"] for container in spec["containers"]] == ["prometheus"]
    assert EXEC_RELOAD_COMMAND == ("kill", "-HUP", "1")


def test_the_sidecar_reloader_shares_the_process_namespace_with_a_hardened_second_container():
    spec = pod_spec(reloader="sidecar", reloader_interval=10, image_pull_policy="Always")
    assert spec["shareProcessNamespace"] is True
    reloader = spec["containers"][1]
    assert reloader == {
        "name": "config-reloader",
        "image": "docker.io/library/busybox:1.36",
        "imagePullPolicy": "Always",
        "command": [
            "sh",
            "-c",
            'last="$(cat /etc/prometheus/..data/* | md5sum)"\n'
            "while sleep 10; do\n"
            '  now="$(cat /etc/prometheus/..data/* | md5sum)"\n'
            '  if [ "$now" != "$last" ] && killall -HUP prometheus; then last="$now"; fi\n'
            "done\n",
        ],
        "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"cpu": "100m", "memory": "32Mi"}},
        "securityContext": HARDENED,
        "volumeMounts": [{"name": "config", "mountPath": "/etc/prometheus", "readOnly": True}],
    }


def test_containers_do_not_share_their_dicts():
    spec = pod_spec(reloader="sidecar")
    first, second = spec["containers"]
    assert first["securityContext"] is not second["securityContext"]


# --- the workload ---------------------------------------------------------------------------------


def test_a_deployment_runs_one_replica_with_its_data_in_an_empty_dir():
    deployment = by_kind(render(), "Deployment")
    assert deployment["apiVersion"] == "apps/v1"
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["selector"] == {"matchLabels": SELECTOR}
    assert deployment["spec"]["template"]["spec"]["volumes"] == [
        {"name": "config", "configMap": {"name": "prom-eu1"}},
        {"name": "data", "emptyDir": {}},
    ]
    assert {"name": "data", "mountPath": "/prometheus"} in prometheus_container()["volumeMounts"]


def test_a_statefulset_claims_its_data_volume_and_names_its_service():
    spec = by_kind(render(workload="StatefulSet", storage_size="50Gi"), "StatefulSet")["spec"]
    assert spec["serviceName"] == "prom-eu1"
    assert spec["replicas"] == 1
    assert spec["volumeClaimTemplates"] == [
        {
            "metadata": {"name": "data", "labels": INSTANCE_LABELS},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "50Gi"}}},
        }
    ]
    assert spec["template"]["spec"]["volumes"] == [{"name": "config", "configMap": {"name": "prom-eu1"}}]


def test_a_statefulset_claims_from_the_storage_class_given():
    spec = by_kind(render(workload="StatefulSet", storage_class="fast-ssd"), "StatefulSet")["spec"]
    assert spec["volumeClaimTemplates"][0]["spec"]["storageClassName"] == "fast-ssd"


def test_the_claim_template_keeps_only_the_instance_labels_because_it_cannot_change_later():
    spec = by_kind(render(workload="StatefulSet", labels={"team": "obs"}), "StatefulSet")["spec"]
    assert spec["volumeClaimTemplates"][0]["metadata"]["labels"] == INSTANCE_LABELS


def test_the_selector_ignores_the_extra_labels_because_it_cannot_change_later():
    deployment = by_kind(render(labels={"team": "obs"}), "Deployment")
    assert deployment["spec"]["selector"] == {"matchLabels": SELECTOR}
    assert deployment["spec"]["template"]["metadata"]["labels"] == {**INSTANCE_LABELS, "team": "obs"}


# --- the service ----------------------------------------------------------------------------------


def test_the_service_is_cluster_ip_by_default():
    assert by_kind(render(), "Service")["spec"] == {
        "type": "ClusterIP",
        "selector": SELECTOR,
        "ports": [{"name": "http", "port": 9090, "targetPort": "http", "protocol": "TCP"}],
    }


def test_a_node_port_service_uses_the_node_port_given():
    spec = by_kind(render(service_type="NodePort", node_port=30090), "Service")["spec"]
    assert spec["type"] == "NodePort"
    assert spec["ports"] == [{"name": "http", "port": 9090, "targetPort": "http", "protocol": "TCP", "nodePort": 30090}]


def test_a_node_port_service_without_a_node_port_lets_kubernetes_pick_one():
    spec = by_kind(render(service_type="NodePort"), "Service")["spec"]
    assert "nodePort" not in spec["ports"][0]


# --- what rolls the pods --------------------------------------------------------------------------


def test_rendering_twice_gives_equal_objects():
    assert render(reloader="sidecar", labels={"b": "2", "a": "1"}) == render(
        reloader="sidecar", labels={"a": "1", "b": "2"}
    )


def test_a_config_change_leaves_the_pod_template_alone():
    before = render()
    after = render(config=CONFIG.replace("30s", "15s"))
    assert by_kind(before, "ConfigMap") != by_kind(after, "ConfigMap")
    assert pod_template_fingerprint(before) == pod_template_fingerprint(after)


def test_a_new_rule_file_leaves_the_pod_template_alone():
    before = render(workload="StatefulSet", reloader="sidecar")
    after = render(workload="StatefulSet", reloader="sidecar", rule_files={**RULES, "disk.rules.yml": "groups: []\n"})
    assert pod_template_fingerprint(before) == pod_template_fingerprint(after)


def test_the_pod_template_holds_nothing_of_the_config():
    template = by_kind(render(), "Deployment")["spec"]["template"]
    assert "annotations" not in template["metadata"]
    assert "scrape_interval" not in repr(template)


@pytest.mark.parametrize(
    "change",
    [
        {"image": "quay.io/prometheus/prometheus:v2.54.1"},
        {"extra_args": ["--log.level=debug"]},
        {"retention": "30d"},
        {"port": 9091},
        {"resources": {"requests": {"cpu": "200m", "memory": "1Gi"}, "limits": {"memory": "4Gi"}}},
        {"reloader": "sidecar"},
        {"service_discovery": False},
    ],
    ids=lambda change: next(iter(change)),
)
def test_a_change_of_image_flags_resources_or_api_access_rolls_the_pods(change):
    assert pod_template_fingerprint(render(**change)) != pod_template_fingerprint(render())


def test_the_fingerprint_is_a_sha256_of_the_workload_pod_template():
    fingerprint = pod_template_fingerprint(render())
    assert len(fingerprint) == 64 and int(fingerprint, 16) >= 0


def test_the_fingerprint_needs_a_workload():
    with pytest.raises(ManifestError, match="no Deployment or StatefulSet among the objects"):
        pod_template_fingerprint(render()[:5])
