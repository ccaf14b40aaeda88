"""The kubernetes role against two real API servers (one per datacenter): what it applies is what
the engine renders, a second run changes nothing, the server's own validation and RBAC hold.

Every scenario runs tests/kube/playbooks/kubernetes.yml with one inventory host per cluster; the
servers are called prom-alpha and prom-beta, so an object in the wrong cluster shows.
"""

from __future__ import annotations

import copy
import functools
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from fleet import PlaybookRun, run_playbook
from kube import ApiServer
from kubernetes import client
from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.exceptions import NotFoundError

from ansible_collections.promfleet.federation.plugins.filter.kubernetes_manifests import kubernetes_manifests
from ansible_collections.promfleet.federation.plugins.module_utils.kube.manifests import (
    pod_template_fingerprint,
    rule_files_glob,
)

PLAYBOOK = "tests/kube/playbooks/kubernetes.yml"
PASSWORD = "federation-s3cret-do-not-print"
CONFIG = {
    "global": {"scrape_interval": "30s", "evaluation_interval": "30s"},
    "scrape_configs": [
        {
            "job_name": "federate-eu1",
            "metrics_path": "/federate",
            "basic_auth": {"username": "global", "password": PASSWORD},
            "static_configs": [{"targets": ["prometheus-eu1.example.com:9090"]}],
        },
    ],
}
RULES = {
    "node.rules.yml": {"groups": [{"name": "node", "rules": [{"record": "job:up:sum", "expr": "sum by (job) (up)"}]}]},
}
CONNECTION = ("kubeconfig", "context")
CLUSTER_SCOPED = ("Namespace", "ClusterRole", "ClusterRoleBinding")


# --- inventories and runs -------------------------------------------------------------------------


def host_name(cluster: ApiServer) -> str:
    return "dc-" + cluster.name


def server(cluster: ApiServer, namespace: str, config: dict | None = None, rules: dict | None = None,
           **options) -> dict:
    """The role's variables for the host of ``cluster``: server prom-<cluster> in ``namespace``, with
    ``CONFIG`` and ``RULES`` unless another config or rule files are given."""
    return {
        "prometheus_kubernetes": {
            "kubeconfig": str(cluster.kubeconfig),
            "context": cluster.context,
            "namespace": namespace,
            "name": "prom-" + cluster.name,
            **options,
        },
        "prometheus_kubernetes_config": copy.deepcopy(CONFIG if config is None else config),
        "prometheus_kubernetes_rule_files": copy.deepcopy(RULES if rules is None else rules),
    }


def write_inventory(path: Path, hosts: dict[ApiServer, dict]) -> Path:
    """An inventory with one local host per cluster, holding the variables given for it."""
    inventory = {
        "all": {
            "vars": {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                     **ApiServer.inventory_vars},
            "hosts": {host_name(cluster): variables for cluster, variables in hosts.items()},
        },
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(inventory, sort_keys=False), encoding="utf-8")
    return path


def play(path: Path, hosts: dict[ApiServer, dict], *args: str, must_pass: bool = True) -> PlaybookRun:
    return run_playbook(PLAYBOOK, [write_inventory(path, hosts)], *args, check=must_pass)


def rendered(variables: dict) -> list[dict]:
    """What the engine renders for a host's variables (the connection options are kubernetes.core's)."""
    options = {k: v for k, v in variables["prometheus_kubernetes"].items() if k not in CONNECTION}
    return kubernetes_manifests(
        variables["prometheus_kubernetes_config"], options, variables["prometheus_kubernetes_rule_files"]
    )


def changed_items(run: PlaybookRun, cluster: ApiServer) -> list[str]:
    """Labels of the loop items reported changed for the host of ``cluster``."""
    pattern = r"^changed: \[%s\] => \(item=(.*)\)(?: =>)?\s*$" % re.escape(host_name(cluster))
    return re.findall(pattern, run.output, re.M)


# --- reading the clusters -------------------------------------------------------------------------


@functools.cache
def dynamic(cluster: ApiServer) -> DynamicClient:
    return DynamicClient(cluster.api_client())


def live(cluster: ApiServer, obj: dict) -> dict | None:
    """The object of the same kind, namespace and name in ``cluster``, or None."""
    resource = dynamic(cluster).resources.get(api_version=obj["apiVersion"], kind=obj["kind"])
    try:
        return resource.get(name=obj["metadata"]["name"], namespace=obj["metadata"].get("namespace")).to_dict()
    except NotFoundError:
        return None


def of_kind(objects: list[dict], kind: str) -> dict:
    (found,) = [obj for obj in objects if obj["kind"] == kind]
    return found


def versions(cluster: ApiServer, objects: list[dict]) -> dict[str, str]:
    """resourceVersion of every object, by kind: equal before and after means untouched."""
    return {obj["kind"]: live(cluster, obj)["metadata"]["resourceVersion"] for obj in objects}


def assert_within(expected, actual, path: str = "") -> None:
    """Every field of ``expected`` is in ``actual`` with the same value; lists match item by item
    (the server only adds defaults such as terminationMessagePath)."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{path}: expected a mapping, the server has {actual!r}"
        for key, value in expected.items():
            assert key in actual, f"{path}.{key}: missing on the server"
            assert_within(value, actual[key], f"{path}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), (
            f"{path}: expected {len(expected)} items, the server has {actual!r}"
        )
        for index, (want, have) in enumerate(zip(expected, actual, strict=True)):
            assert_within(want, have, f"{path}[{index}]")
    else:
        assert expected == actual, f"{path}: expected {expected!r}, the server has {actual!r}"


def may(cluster: ApiServer, account: tuple[str, str], verb: str, resource: str = "", path: str = "") -> bool:
    """SubjectAccessReview: may the service account (namespace, name) do ``verb`` on ``resource``
    (cluster-wide) or on the non-resource ``path``?"""
    namespace, name = account
    spec = {
        "user": f"system:serviceaccount:{namespace}:{name}",
        "groups": ["system:serviceaccounts", f"system:serviceaccounts:{namespace}", "system:authenticated"],
    }
    if path:
        spec["nonResourceAttributes"] = {"verb": verb, "path": path}
    else:
        spec["resourceAttributes"] = {"verb": verb, "resource": resource}
    review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview", "spec": spec}
    return client.AuthorizationV1Api(cluster.api_client()).create_subject_access_review(review).status.allowed


# --- the server both clusters run: applied twice ---------------------------------------------------


class Applied:
    """prom-alpha and prom-beta in namespace ``monitoring``, applied twice with the same input."""

    namespace = "monitoring"

    def __init__(self, clusters: tuple[ApiServer, ApiServer], tmp: Path) -> None:
        self.clusters = clusters
        self.tmp = tmp
        self.hosts = {cluster: server(cluster, self.namespace) for cluster in clusters}
        self.first = play(tmp / "first.yml", self.hosts, "--diff", "-v")
        self.second = play(tmp / "second.yml", self.hosts, "--diff", "-v")

    def objects(self, cluster: ApiServer) -> list[dict]:
        return rendered(self.hosts[cluster])


@pytest.fixture(scope="module")
def applied(clusters: tuple[ApiServer, ApiServer], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Applied]:
    yield Applied(clusters, tmp_path_factory.mktemp("kubernetes-role"))


def test_first_run_changes_both_clusters(applied: Applied) -> None:
    recap = applied.first.recap()
    for cluster in applied.clusters:
        assert recap[host_name(cluster)]["failed"] == 0
        name = "prom-" + cluster.name
        # every object is new, in apply order; the ConfigMap's item is censored (no_log)
        assert changed_items(applied.first, cluster) == [
            "Namespace monitoring",
            "ServiceAccount monitoring/" + name,
            "ClusterRole promfleet-monitoring-" + name,
            "ClusterRoleBinding promfleet-monitoring-" + name,
            "(censored due to no_log)",
            "Deployment monitoring/" + name,
            "Service monitoring/" + name,
        ]


def test_second_run_changes_nothing(applied: Applied) -> None:
    recap = applied.second.recap()
    for cluster in applied.clusters:
        assert recap[host_name(cluster)]["changed"] == 0
        assert recap[host_name(cluster)]["failed"] == 0
    assert applied.second.changed() == 0


@pytest.mark.parametrize("kind", ["Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "ConfigMap",
                                  "Deployment", "Service"])
def test_each_cluster_holds_what_the_engine_rendered_for_it(applied: Applied, kind: str) -> None:
    for cluster in applied.clusters:
        expected = of_kind(applied.objects(cluster), kind)
        found = live(cluster, expected)
        assert found is not None, f"{kind} {expected['metadata']['name']} missing in cluster {cluster.name}"
        assert found["metadata"]["labels"] == expected["metadata"]["labels"]
        assert found["metadata"]["labels"]["app.kubernetes.io/instance"] == "prom-" + cluster.name
        if kind == "ConfigMap":
            assert found["data"] == expected["data"]  # exactly: no stray keys
        for field in ("spec", "rules", "roleRef", "subjects"):
            if field in expected and kind != "Namespace":
                assert_within(expected[field], found[field], f"{cluster.name} {kind}.{field}")


def test_the_config_map_loads_the_rule_files_and_holds_the_config(applied: Applied) -> None:
    alpha = applied.clusters[0]
    data = live(alpha, of_kind(applied.objects(alpha), "ConfigMap"))["data"]
    config = yaml.safe_load(data["prometheus.yml"])
    assert config == {**CONFIG, "rule_files": [rule_files_glob()]}
    assert yaml.safe_load(data["node.rules.yml"]) == RULES["node.rules.yml"]


def test_diff_and_verbose_output_do_not_print_the_password(applied: Applied) -> None:
    alpha = applied.clusters[0]
    # the password did reach the cluster, and the runs did print diffs of the other objects
    assert PASSWORD in live(alpha, of_kind(applied.objects(alpha), "ConfigMap"))["data"]["prometheus.yml"]
    assert "+++ after" in applied.first.output and "kind: Deployment" in applied.first.output
    assert PASSWORD not in applied.first.output
    assert PASSWORD not in applied.second.output


RBAC_ALLOWED = [(verb, resource) for resource in ("pods", "nodes", "services", "endpoints")
                for verb in ("get", "list", "watch")]
RBAC_DENIED = [("get", "secrets"), ("list", "secrets")] + [
    (verb, resource) for resource in ("pods", "configmaps") for verb in ("create", "update", "patch", "delete")
]


@pytest.mark.parametrize("verb, resource", RBAC_ALLOWED)
def test_service_account_may_read_what_service_discovery_needs(applied: Applied, verb: str, resource: str) -> None:
    for cluster in applied.clusters:
        account = (applied.namespace, "prom-" + cluster.name)
        assert may(cluster, account, verb, resource)
        # the permission comes from the role's binding: another account of the namespace lacks it
        assert not may(cluster, (applied.namespace, "someone-else"), verb, resource)


def test_service_account_may_get_metrics(applied: Applied) -> None:
    for cluster in applied.clusters:
        assert may(cluster, (applied.namespace, "prom-" + cluster.name), "get", path="/metrics")
        assert not may(cluster, (applied.namespace, "someone-else"), "get", path="/metrics")


@pytest.mark.parametrize("verb, resource", RBAC_DENIED)
def test_service_account_may_not_read_secrets_nor_change_anything(applied: Applied, verb: str, resource: str) -> None:
    for cluster in applied.clusters:
        assert not may(cluster, (applied.namespace, "prom-" + cluster.name), verb, resource)


def test_server_refuses_what_the_engine_lets_through_and_nothing_changes(applied: Applied) -> None:
    alpha, beta = applied.clusters
    broken = copy.deepcopy(applied.hosts[alpha])
    # well-formed quantities for the engine; the API server refuses requests above limits
    broken["prometheus_kubernetes"]["resources"] = {
        "requests": {"cpu": "2", "memory": "512Mi"},
        "limits": {"cpu": "1", "memory": "2Gi"},
    }
    broken["prometheus_kubernetes_config"] = {**CONFIG, "global": {"scrape_interval": "10s"}}
    assert rendered(broken)  # the engine renders it
    before = {cluster: versions(cluster, applied.objects(cluster)) for cluster in applied.clusters}

    run = play(applied.tmp / "broken.yml", {alpha: broken, beta: applied.hosts[beta]}, must_pass=False)

    assert run.returncode != 0
    assert run.recap()[host_name(alpha)]["failed"] == 1
    assert run.recap()[host_name(beta)]["failed"] == 0 and run.recap()[host_name(beta)]["changed"] == 0
    assert 'Deployment.apps \\"prom-alpha\\" is invalid' in run.output
    assert "must be less than or equal to cpu limit" in run.output and '"code":422' in run.output
    # the dry run stopped alpha before any object changed, the ConfigMap with the new config included
    for cluster in applied.clusters:
        assert versions(cluster, applied.objects(cluster)) == before[cluster]


def test_check_mode_on_a_running_server_reports_changes_and_makes_none(applied: Applied) -> None:
    hosts = copy.deepcopy(applied.hosts)
    for variables in hosts.values():
        variables["prometheus_kubernetes"]["labels"] = {"team": "observability"}
    before = {cluster: versions(cluster, applied.objects(cluster)) for cluster in applied.clusters}

    run = play(applied.tmp / "check.yml", hosts, "--check", "--diff")

    for cluster in applied.clusters:
        assert run.recap()[host_name(cluster)]["changed"] == 1
        assert "Deployment monitoring/prom-" + cluster.name in changed_items(run, cluster)
        assert versions(cluster, applied.objects(cluster)) == before[cluster]
        assert "team" not in live(cluster, of_kind(applied.objects(cluster), "Deployment"))["metadata"]["labels"]
    assert re.search(r"^\+\s+team: observability$", run.output, re.M), "the diff does not show the new label"


# --- scenarios of their own, each in its own namespace ---------------------------------------------


def test_an_option_the_engine_refuses_fails_the_play_before_any_cluster_is_touched(
    clusters: tuple[ApiServer, ApiServer], tmp_path: Path
) -> None:
    alpha, beta = clusters
    hosts = {alpha: server(alpha, "refused", name="Prom_Alpha"), beta: server(beta, "refused")}

    run = play(tmp_path / "refused.yml", hosts, must_pass=False)

    assert run.recap()[host_name(alpha)]["failed"] == 1
    assert "prometheus_kubernetes.name is 'Prom_Alpha'; it must be a DNS-1035 label" in " ".join(run.output.split())
    assert live(alpha, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "refused"}}) is None
    assert live(beta, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "refused"}}) is not None


def test_extra_scrape_jobs_and_host_style_rule_file_names_reach_the_config_map(
    clusters: tuple[ApiServer, ApiServer], tmp_path: Path
) -> None:
    alpha = clusters[0]
    variables = server(alpha, "extras", rules={"node.yml": RULES["node.rules.yml"]})
    variables["prometheus_scrape_configs"] = [{"job_name": "shop", "static_configs": [{"targets": ["shop:8080"]}]}]

    play(tmp_path / "extras.yml", {alpha: variables})

    data = client.CoreV1Api(alpha.api_client()).read_namespaced_config_map("prom-alpha", "extras").data
    assert [job["job_name"] for job in yaml.safe_load(data["prometheus.yml"])["scrape_configs"]] == [
        "federate-eu1", "shop"]
    assert yaml.safe_load(data["node.rules.yml"]) == RULES["node.rules.yml"]
    assert "node.yml" not in data


def test_a_bad_extra_scrape_job_fails_naming_it_before_the_cluster_is_touched(
    clusters: tuple[ApiServer, ApiServer], tmp_path: Path
) -> None:
    alpha = clusters[0]
    variables = server(alpha, "bad-extra")
    variables["prometheus_scrape_configs"] = [{
        "job_name": "app", "static_configs": [{"targets": ["127.0.0.1:1"]}],
        "relabel_configs": [{"source_labels": ["__address__"], "regex": "(", "target_label": "x"}]}]

    run = play(tmp_path / "bad-extra.yml", {alpha: variables}, must_pass=False)

    assert run.recap()[host_name(alpha)]["failed"] == 1
    assert "job \"app\", relabel_configs: relabel rule 1: regex: invalid regex '(': missing closing )" in " ".join(
        run.output.split())
    assert live(alpha, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "bad-extra"}}) is None


def test_check_mode_on_a_new_namespace_reports_changes_and_creates_nothing(
    clusters: tuple[ApiServer, ApiServer], tmp_path: Path
) -> None:
    hosts = {cluster: server(cluster, "check-only") for cluster in clusters}

    run = play(tmp_path / "check.yml", hosts, "--check")

    for cluster in clusters:
        assert run.recap()[host_name(cluster)]["changed"] >= 1
        assert run.recap()[host_name(cluster)]["failed"] == 0
        report = "would create in the new namespace check-only: ServiceAccount, ConfigMap, Deployment, Service"
        assert report in " ".join(run.output.split())  # the callback wraps long lines
        for obj in rendered(hosts[cluster]):
            assert live(cluster, obj) is None, f"check mode created {obj['kind']} in cluster {cluster.name}"


def test_config_change_updates_the_config_map_and_leaves_the_pod_template(
    clusters: tuple[ApiServer, ApiServer], tmp_path: Path
) -> None:
    hosts = {cluster: server(cluster, "config-change") for cluster in clusters}
    play(tmp_path / "before.yml", hosts)
    new_rules = {"alerts.rules.yml": {"groups": [{"name": "alerts", "rules": []}]}}
    changed = {
        cluster: server(cluster, "config-change", config={**CONFIG, "global": {"scrape_interval": "15s"}},
                        rules=new_rules)
        for cluster in clusters
    }
    deployments = {cluster: live(cluster, of_kind(rendered(hosts[cluster]), "Deployment")) for cluster in clusters}
    assert all(pod_template_fingerprint(rendered(changed[c])) == pod_template_fingerprint(rendered(hosts[c]))
               for c in clusters)

    run = play(tmp_path / "after.yml", changed)

    for cluster in clusters:
        assert changed_items(run, cluster) == ["(censored due to no_log)"]  # the ConfigMap, nothing else
        expected = rendered(changed[cluster])
        config_map = live(cluster, of_kind(expected, "ConfigMap"))
        assert config_map["data"] == of_kind(expected, "ConfigMap")["data"]
        assert "node.rules.yml" not in config_map["data"]  # the rule file no longer given is gone
        assert "scrape_interval: 15s" in config_map["data"]["prometheus.yml"]
        deployment = live(cluster, of_kind(expected, "Deployment"))
        assert deployment["metadata"]["generation"] == deployments[cluster]["metadata"]["generation"]
        assert deployment["spec"]["template"] == deployments[cluster]["spec"]["template"]


def test_changing_the_workload_to_a_stateful_set_removes_the_deployment(
    clusters: tuple[ApiServer, ApiServer], tmp_path: Path
) -> None:
    hosts = {cluster: server(cluster, "workload-change") for cluster in clusters}
    play(tmp_path / "deployment.yml", hosts)
    deployments = {cluster: of_kind(rendered(hosts[cluster]), "Deployment") for cluster in clusters}
    assert all(live(cluster, deployments[cluster]) for cluster in clusters)
    stateful = {cluster: server(cluster, "workload-change", workload="StatefulSet", storage_size="1Gi")
                for cluster in clusters}

    run = play(tmp_path / "statefulset.yml", stateful)
    again = play(tmp_path / "again.yml", stateful)

    for cluster in clusters:
        assert live(cluster, deployments[cluster]) is None
        stateful_set = of_kind(rendered(stateful[cluster]), "StatefulSet")
        assert_within(stateful_set["spec"], live(cluster, stateful_set)["spec"], "StatefulSet.spec")
        assert "StatefulSet workload-change/prom-" + cluster.name in changed_items(run, cluster)
        assert again.recap()[host_name(cluster)]["changed"] == 0


def test_teardown_removes_every_object_and_the_namespace_only_when_asked(
    clusters: tuple[ApiServer, ApiServer], tmp_path: Path
) -> None:
    alpha, beta = clusters
    hosts = {cluster: server(cluster, "torn-down") for cluster in clusters}
    play(tmp_path / "apply.yml", hosts)
    apps = client.AppsV1Api(alpha.api_client())
    selector = "app.kubernetes.io/instance=prom-alpha"
    assert apps.list_namespaced_replica_set("torn-down", label_selector=selector).items  # made by the controller
    assert all(live(c, obj) for c in clusters for obj in rendered(hosts[c]))
    hosts[beta]["prometheus_kubernetes_delete_namespace"] = True

    run = play(tmp_path / "teardown.yml", hosts, "-e", "entry_point=teardown")

    assert run.recap()[host_name(alpha)]["failed"] == 0 and run.recap()[host_name(beta)]["failed"] == 0
    for cluster in clusters:
        for obj in rendered(hosts[cluster]):
            if obj["kind"] == "Namespace" and cluster is alpha:
                assert live(cluster, obj) is not None, "the namespace was deleted without being asked to"
            else:
                assert live(cluster, obj) is None, f"{obj['kind']} left in cluster {cluster.name}"
    # the garbage collector removes what the Deployment made
    deadline = time.monotonic() + 60
    while apps.list_namespaced_replica_set("torn-down", label_selector=selector).items:
        assert time.monotonic() < deadline, "ReplicaSets of prom-alpha left 60 s after the teardown"
        time.sleep(1)
