"""site.yml with the whole federation in Kubernetes: each datacenter in its own cluster (alpha,
beta) and the global in cluster alpha too, next to a datacenter, in a namespace of its own.

What this tier proves: the global role renders the global's prometheus.yml into its cluster
(federating each datacenter at its federation_url, scraping itself in its pod), without any
Kubernetes API access, while the datacenters keep theirs; a second run changes nothing; teardown
removes the objects (and deleting the ClusterRole the global never had does not fail). No pod
runs (there is no kubelet), so verify.yml fails naming the servers, the global included, that do
not answer at their federation_url.
"""

from __future__ import annotations

import pytest
import yaml
from fleet import Fleet, free_ports
from it_support import says, scratch_root
from kube import site_in_clusters
from kubernetes import client

DATACENTERS = {"eu-west-1": 0, "us-east-1": 1}  # datacenter -> index of its cluster in `clusters`
GLOBAL = "global-a"
GLOBAL_CLUSTER = 0  # alpha, which also holds eu-west-1
# Namespaces of their own, so that nothing here meets the objects of test_site_kubernetes.
DATACENTER_NAMESPACE = "datacenters"
GLOBAL_NAMESPACE = "global"
# The names the kubernetes role gives the servers' objects (the kubernetes_name filter).
GLOBAL_NAME = "promfleet-global-a"
INSTANCE_LABEL = "app.kubernetes.io/instance"


def datacenter_name(datacenter: str) -> str:
    return "promfleet-%s-prom-a" % datacenter


@pytest.fixture(scope="module")
def site(clusters):
    """The federation in the clusters; site.yml run twice, teardown after."""
    fleet = Fleet(scratch_root("kube-global"), datacenters=list(DATACENTERS))
    inventory = fleet.inventory()
    ports = dict(zip([*DATACENTERS, GLOBAL], free_ports(len(DATACENTERS) + 1), strict=True))
    for datacenter, index in DATACENTERS.items():
        fleet.datacenter_host(inventory, datacenter)["prometheus_kubernetes"] = clusters[index].prometheus_kubernetes(
            DATACENTER_NAMESPACE, ports[datacenter], service_type="NodePort")
    fleet.global_host(inventory, GLOBAL)["prometheus_kubernetes"] = clusters[GLOBAL_CLUSTER].prometheus_kubernetes(
        GLOBAL_NAMESPACE, ports[GLOBAL])
    namespaces = [(clusters[GLOBAL_CLUSTER], GLOBAL_NAMESPACE)]
    namespaces += [(cluster, DATACENTER_NAMESPACE) for cluster in clusters]
    with site_in_clusters(fleet, inventory, namespaces) as runs:
        yield {"fleet": fleet, "ports": ports, **runs}


def global_config(clusters) -> dict:
    data = client.CoreV1Api(clusters[GLOBAL_CLUSTER].api_client()).read_namespaced_config_map(
        GLOBAL_NAME, GLOBAL_NAMESPACE).data
    return yaml.safe_load(data["prometheus.yml"])


def cluster_role_objects(cluster, instance: str) -> list[str]:
    """"<kind> <name>" of the ClusterRoles and ClusterRoleBindings that carry the labels of server ``instance``."""
    rbac = client.RbacAuthorizationV1Api(cluster.api_client())
    selector = "%s=%s" % (INSTANCE_LABEL, instance)
    return (["ClusterRole " + role.metadata.name for role in rbac.list_cluster_role(label_selector=selector).items]
            + ["ClusterRoleBinding " + binding.metadata.name
               for binding in rbac.list_cluster_role_binding(label_selector=selector).items])


def test_every_server_converges_and_only_the_verification_fails(site):
    recap = site["first"].recap()
    for host in [*map(Fleet.server_of, DATACENTERS), GLOBAL]:
        assert recap[host]["failed"] == 0 and recap[host]["unreachable"] == 0, (recap, site["first"].output[-4000:])
    assert recap["localhost"]["failed"] == 1


def test_the_verification_asks_the_global_at_its_federation_url(site):
    assert says(site["first"], "global %s (http://127.0.0.1:%d) does not answer" % (GLOBAL, site["ports"][GLOBAL])), (
        site["first"].output[-4000:])


def test_the_global_runs_in_its_cluster_and_not_on_its_host(site, clusters):
    assert GLOBAL_NAME in clusters[GLOBAL_CLUSTER].promfleet_config_maps(GLOBAL_NAMESPACE)
    assert not (site["fleet"].root / "etc" / "promfleet-global-a").exists()


def test_the_global_federates_each_datacenter_at_its_federation_url(site, clusters):
    jobs = {job["job_name"]: job for job in global_config(clusters)["scrape_configs"]}
    for datacenter in DATACENTERS:
        job = jobs["federate-%s" % datacenter]
        assert job["static_configs"][0]["targets"] == ["127.0.0.1:%d" % site["ports"][datacenter]]
        assert (job["metrics_path"], job["scheme"], job["honor_labels"]) == ("/federate", "http", True)


def test_the_global_scrapes_itself_in_its_pod_and_labels_its_series(site, clusters):
    config = global_config(clusters)
    assert config["scrape_configs"][0] == {"job_name": "prometheus",
                                           "static_configs": [{"targets": ["localhost:9090"]}]}
    assert config["global"]["external_labels"] == {"replica": GLOBAL}


def test_the_global_has_no_kubernetes_api_access(site, clusters):
    cluster = clusters[GLOBAL_CLUSTER]
    assert cluster_role_objects(cluster, GLOBAL_NAME) == []
    deployment = client.AppsV1Api(cluster.api_client()).read_namespaced_deployment(GLOBAL_NAME, GLOBAL_NAMESPACE)
    assert deployment.spec.template.spec.automount_service_account_token is False


def test_the_datacenters_keep_their_access_for_service_discovery(site, clusters):
    for datacenter, index in DATACENTERS.items():
        role = "promfleet-%s-%s" % (DATACENTER_NAMESPACE, datacenter_name(datacenter))
        assert cluster_role_objects(clusters[index], datacenter_name(datacenter)) == [
            "ClusterRole " + role, "ClusterRoleBinding " + role]


def test_a_second_run_changes_nothing(site):
    assert site["second"].changed() == 0, site["second"].recap()
