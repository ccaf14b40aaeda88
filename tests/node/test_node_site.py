"""site.yml end to end on two real single-node clusters: each datacenter's Prometheus runs as a pod,
discovers its cluster, and a global on this host federates both over their NodePorts.

Each cluster also runs the seed's custom service: ``cart`` in namespace ``shop``, whose pod serves
its metrics at ``/internal/metrics`` (a Prometheus with ``--web.route-prefix=/internal``) and is
annotated for the pod and service-endpoint presets. A second Service, ``cart-legacy``, selects the
same pod: the custom job keeps its targets by service name, so it must not scrape that one.

The inventory sets ``prometheus_kubernetes_mount_timeout`` to 20 s while the kubelets keep their
one-minute sync period: a reload that waited for the kubelet's own refresh would fail, so every
passing reload here is refreshed by the collection's pod update.
"""

from __future__ import annotations

import copy
import json
import urllib.request

import pytest
import yaml
from fleet import Fleet, query, run_playbook, wait_for
from it_support import assert_failed, assert_succeeded, says, scratch_root, table_lines
from kube import pod_ready, site_in_clusters
from kubernetes import client

from ansible_collections.promfleet.federation.plugins.module_utils.kube.reload import data_digest

NAMESPACE = "monitoring"
NODE_PORT = 30090
SHOP = "shop"
CART_PORT = 8080
PRESET_JOBS = ["kubernetes-apiservers", "kubernetes-nodes", "kubernetes-cadvisor", "kubernetes-service-endpoints",
               "kubernetes-pods"]
LIVE = "promfleet.federation/live-config"


def server_name(datacenter: str) -> str:
    return "promfleet-%s-prom-a" % datacenter


def cart_objects(image: str) -> list[dict]:
    """The seed's custom service: a pod with its metrics at /internal/metrics, its Service, and a
    second Service of another name over the same pod."""
    labels = {"app": "cart"}
    annotations = {"prometheus.io/scrape": "true", "prometheus.io/path": "/internal/metrics",
                   "prometheus.io/port": str(CART_PORT)}
    container = {
        "name": "cart", "image": image, "imagePullPolicy": "Never",
        "args": ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus",
                 "--web.listen-address=:%d" % CART_PORT, "--web.route-prefix=/internal"],
        "ports": [{"name": "http", "containerPort": CART_PORT}],
        "readinessProbe": {"httpGet": {"path": "/internal/-/ready", "port": CART_PORT}, "periodSeconds": 1},
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                            "capabilities": {"drop": ["ALL"]}},
        "volumeMounts": [{"name": "data", "mountPath": "/prometheus"}],
    }
    deployment = {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "cart", "namespace": SHOP},
        "spec": {"replicas": 1, "selector": {"matchLabels": labels}, "template": {
            "metadata": {"labels": labels, "annotations": annotations},
            "spec": {"securityContext": {"runAsNonRoot": True, "runAsUser": 65534},
                     "automountServiceAccountToken": False, "containers": [container],
                     "volumes": [{"name": "data", "emptyDir": {}}]}}},
    }

    def service(name: str, annotated: bool) -> dict:
        return {"apiVersion": "v1", "kind": "Service",
                "metadata": {"name": name, "namespace": SHOP, "annotations": annotations if annotated else {}},
                "spec": {"selector": labels, "ports": [{"name": "http", "port": CART_PORT, "targetPort": "http"}]}}

    return [deployment, service("cart", True), service("cart-legacy", False)]


def deploy_cart(node, image: str) -> None:
    api = node.api_client()
    client.CoreV1Api(api).create_namespace({"metadata": {"name": SHOP}})
    for obj in cart_objects(image):
        if obj["kind"] == "Deployment":
            client.AppsV1Api(api).create_namespaced_deployment(SHOP, obj)
        else:
            client.CoreV1Api(api).create_namespaced_service(SHOP, obj)


def cart_ready(node) -> bool:
    pods = client.CoreV1Api(node.api_client()).list_namespaced_pod(SHOP, label_selector="app=cart").items
    return any(pod_ready(pod) for pod in pods)


def server_pod(node, datacenter: str) -> client.V1Pod:
    """The one pod of ``datacenter``'s server."""
    selector = "app.kubernetes.io/instance=%s" % server_name(datacenter)
    pods = client.CoreV1Api(node.api_client()).list_namespaced_pod(NAMESPACE, label_selector=selector).items
    assert len(pods) == 1, [p.metadata.name for p in pods]
    return pods[0]


def pod_identity(node, datacenter: str) -> tuple:
    """What a restart or a new pod would change: the pod's UID and its containers' restart counts."""
    pod = server_pod(node, datacenter)
    return pod.metadata.uid, {c.name: c.restart_count for c in pod.status.container_statuses}


def from_pod(node, path: str) -> dict:
    """GET ``path`` of the datacenter server through its NodePort, as the global reaches it."""
    with urllib.request.urlopen("http://%s:%d%s" % (node.node_ip, NODE_PORT, path), timeout=10) as response:
        return json.load(response)


def targets_by_job(node) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for target in from_pod(node, "/api/v1/targets?state=active")["data"]["activeTargets"]:
        found.setdefault(target["labels"]["job"], []).append(target)
    return found


def loaded_jobs(node) -> list[str]:
    config = yaml.safe_load(from_pod(node, "/api/v1/status/config")["data"]["yaml"])
    return [job["job_name"] for job in config["scrape_configs"]]


def config_map_data(node, name: str) -> dict:
    return client.CoreV1Api(node.api_client()).read_namespaced_config_map(name, NAMESPACE).data


def reload_timestamp(node) -> float:
    text = urllib.request.urlopen("http://%s:%d/metrics" % (node.node_ip, NODE_PORT), timeout=10).read().decode()
    line = next(line for line in text.splitlines()
                if line.startswith("prometheus_config_last_reload_success_timestamp_seconds "))
    return float(line.split()[1])


@pytest.fixture(scope="module")
def site(nodes, images):
    """The fleet: a datacenter server in each cluster, the global here; site.yml run twice."""
    for node in nodes.values():
        deploy_cart(node, images["PROMETHEUS_IMAGE"])
    for node in nodes.values():
        wait_for(lambda node=node: cart_ready(node), timeout=90, what="the cart pod of %s" % node.name)
    fleet = Fleet(scratch_root("node-site"), datacenters=list(nodes))
    inventory = fleet.inventory()
    inventory["all"]["vars"]["prometheus_kubernetes_mount_timeout"] = 20
    for datacenter, node in nodes.items():
        host = fleet.datacenter_host(inventory, datacenter)
        host["prometheus_kubernetes"] = node.prometheus_kubernetes(NAMESPACE, NODE_PORT)
        host["datacenter_kubernetes_services"] = [{"name": "cart", "namespace": SHOP,
                                                   "metrics_path": "/internal/metrics"}]
    namespaces = [(node, NAMESPACE) for node in nodes.values()]
    with site_in_clusters(fleet, inventory, namespaces) as runs:
        yield {"fleet": fleet, "data": inventory, **runs}


def failure_of(run, host: str) -> str:
    """What the run printed where ``host`` failed (for assertion messages)."""
    start = run.output.find("fatal: [%s]" % host)
    return run.output[start:start + 3000] if start >= 0 else run.output[-4000:]


def rerun(site, inventory: dict):
    """site.yml again with ``inventory`` (written over the fixture's inventory file)."""
    site["fleet"].write_inventory(site["inventory"].name, data=inventory)
    return run_playbook("playbooks/site.yml", [site["inventory"]], check=False)


def test_site_converges_and_verify_prints_a_green_table(site, nodes):
    assert_succeeded(site["first"])
    rows = table_lines(site["first"])
    for datacenter in nodes:
        assert any(row.startswith(datacenter) and "  ok" in row for row in rows), rows


def test_a_second_run_changes_nothing(site):
    assert_succeeded(site["second"])
    assert site["second"].changed() == 0, site["second"].recap()


def test_each_datacenter_server_runs_as_a_pod_non_root_with_a_read_only_root(site, nodes):
    for datacenter, node in nodes.items():
        pod = server_pod(node, datacenter)
        container = next(c for c in pod.spec.containers if c.name == "prometheus")
        assert (pod.status.phase, pod.spec.security_context.run_as_user, pod.spec.security_context.run_as_non_root,
                container.security_context.read_only_root_filesystem, container.image_pull_policy) == (
            "Running", 65534, True, True, "Never")
        assert all(status.ready for status in pod.status.container_statuses)


@pytest.mark.parametrize("datacenter", ["eu-west-1", "us-east-1"])
def test_discovery_finds_the_api_server_kubelet_cadvisor_services_pods_and_the_custom_service_all_up(
        site, nodes, datacenter):
    node = nodes[datacenter]

    def all_up():
        found = targets_by_job(node)
        wanted = ["prometheus", *PRESET_JOBS, "cart"]
        return found if all(found.get(job) and all(t["health"] == "up" for t in found[job]) for job in wanted) \
            else None

    found = wait_for(all_up, timeout=60, interval=1, what="every job of %s up (its /api/v1/targets)" % datacenter)
    assert [t["scrapeUrl"] for t in found["kubernetes-apiservers"]] == ["https://%s:6443/metrics" % node.node_ip]
    assert {t["scrapeUrl"] for t in found["kubernetes-nodes"]} == {"https://%s:10250/metrics" % node.node_ip}
    assert {t["scrapeUrl"] for t in found["kubernetes-cadvisor"]} == {
        "https://%s:10250/metrics/cadvisor" % node.node_ip}
    config = yaml.safe_load(from_pod(node, "/api/v1/status/config")["data"]["yaml"])
    assert config["global"]["external_labels"]["datacenter"] == datacenter


def test_the_custom_service_is_scraped_pod_by_pod_at_its_own_path_kept_by_its_name(site, nodes):
    for node in nodes.values():
        cart_pod = client.CoreV1Api(node.api_client()).list_namespaced_pod(SHOP, label_selector="app=cart").items[0]
        targets = targets_by_job(node)["cart"]
        assert [(t["scrapeUrl"], t["labels"]["service"], t["labels"]["namespace"], t["labels"]["pod"])
                for t in targets] == [("http://%s:%d/internal/metrics" % (cart_pod.status.pod_ip, CART_PORT),
                                       "cart", SHOP, cart_pod.metadata.name)]
        # the annotated Service is the service-endpoint preset's; cart-legacy is nobody's
        endpoints = targets_by_job(node)["kubernetes-service-endpoints"]
        assert {t["labels"]["service"] for t in endpoints} == {"cart"}


def test_the_global_federates_both_clusters_over_their_node_ports(site, nodes):
    fleet = site["fleet"]
    config = yaml.safe_load((fleet.root / "etc" / "promfleet-global-a" / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    for datacenter, node in nodes.items():
        assert jobs["federate-%s" % datacenter]["static_configs"][0]["targets"] == [
            "%s:%d" % (node.node_ip, NODE_PORT)]

    def aggregates():
        found = {r["metric"]["datacenter"]: r["value"][1]
                 for r in query(fleet.url("global-a"), 'job:up:sum{job="cart"}')}
        return found if set(found) == set(nodes) else None

    assert wait_for(aggregates, timeout=60, interval=1, what="job:up:sum of cart from both datacenters") == {
        datacenter: "1" for datacenter in nodes}


class TestAConfigChange:
    """A new scrape job for eu-west-1 only: live in its pod without a restart, through site.yml."""

    def test_is_live_in_the_pod_without_a_restart_and_the_other_cluster_is_untouched(self, site, nodes):
        eu, us = nodes["eu-west-1"], nodes["us-east-1"]
        before = pod_identity(eu, "eu-west-1"), pod_identity(us, "us-east-1")
        reloaded_at, us_reloaded_at = reload_timestamp(eu), reload_timestamp(us)
        inventory = copy.deepcopy(site["data"])
        site["fleet"].datacenter_host(inventory, "eu-west-1")["prometheus_scrape_configs"] = [
            {"job_name": "added", "static_configs": [{"targets": ["localhost:9090"]}]}]

        run = rerun(site, inventory)

        assert_succeeded(run)
        assert "added" in loaded_jobs(eu) and "added" not in loaded_jobs(us)
        assert (pod_identity(eu, "eu-west-1"), pod_identity(us, "us-east-1")) == before
        assert reload_timestamp(eu) > reloaded_at and reload_timestamp(us) == us_reloaded_at
        data = config_map_data(eu, server_name("eu-west-1"))
        assert server_pod(eu, "eu-west-1").metadata.annotations[LIVE] == data_digest(data)
        assert config_map_data(eu, server_name("eu-west-1") + "-last-good") == data
        site["data"] = inventory  # the state the next tests start from


# The job of TestAConfigChange, now with a CA file that is not in the pod. The engine and the API
# server accept it; Prometheus refuses it at the reload, because it rebuilds the HTTP client of an
# existing job within the reload. (A new job's client is built after the reload, where a failure
# is only logged: that would not be refused.)
BAD_CA_JOB = {"job_name": "added", "scheme": "https", "tls_config": {"ca_file": "/etc/prometheus/no-such-ca.pem"},
              "static_configs": [{"targets": ["localhost:9090"]}]}


@pytest.fixture(scope="module")
def refused(site, nodes):
    """site.yml with BAD_CA_JOB for eu-west-1; then the good inventory again."""
    eu = nodes["eu-west-1"]
    before = {"identity": pod_identity(eu, "eu-west-1"), "jobs": loaded_jobs(eu),
              "data": config_map_data(eu, server_name("eu-west-1"))}
    assert "added" in before["jobs"], "TestAConfigChange runs first and adds the job"
    inventory = copy.deepcopy(site["data"])
    site["fleet"].datacenter_host(inventory, "eu-west-1")["prometheus_scrape_configs"] = [BAD_CA_JOB]
    run = rerun(site, inventory)
    yield {"run": run, **before}
    assert_succeeded(rerun(site, site["data"]))  # the good inventory again, for teardown


class TestARefusedConfig:
    """The ConfigMap is put back to the last good data, the pod reloaded with it and verified, and
    the run fails naming the pod."""

    def test_the_run_fails_naming_the_pod_and_says_it_rolled_back(self, refused, nodes):
        pod = server_pod(nodes["eu-west-1"], "eu-west-1").metadata.name
        assert_failed(refused["run"])
        shown = failure_of(refused["run"], "eu-west-1-prom-a")
        assert says(refused["run"], "pod %s/%s: reload with SIGHUP" % (NAMESPACE, pod)), shown
        assert says(refused["run"], "rolled back: ConfigMap %s has the data of %s-last-good again, verified live in %s"
                    % (server_name("eu-west-1"), server_name("eu-west-1"), pod)), shown

    def test_the_pod_runs_the_last_good_config_and_was_not_restarted(self, refused, nodes):
        eu = nodes["eu-west-1"]
        assert config_map_data(eu, server_name("eu-west-1")) == refused["data"]
        assert loaded_jobs(eu) == refused["jobs"] and "bad-ca" not in loaded_jobs(eu)
        assert pod_identity(eu, "eu-west-1") == refused["identity"]
        text = urllib.request.urlopen("http://%s:%d/metrics" % (eu.node_ip, NODE_PORT), timeout=10).read().decode()
        assert "prometheus_config_last_reload_successful 1" in text
