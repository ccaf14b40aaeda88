"""site.yml with both datacenters in Kubernetes (one real API server each) and the global on this
host: the same inventory shape, the same roles.

What this tier proves: the datacenter role renders each datacenter's configuration (its labels,
the cluster's scrape jobs, its rules) into its own cluster, the global federates the clusters'
federation_url, a second run changes nothing, and teardown removes the objects. What it cannot:
there is no kubelet, so no pod runs, and verify.yml (the end of site.yml) fails naming the
datacenter servers that do not answer. tests/node covers that part on real nodes.
"""

from __future__ import annotations

import pytest
import yaml
from fleet import Fleet, free_ports
from it_support import says, scratch_root
from kube import site_in_clusters
from kubernetes import client

DATACENTERS = {"eu-west-1": 0, "us-east-1": 1}  # datacenter -> index of its cluster in `clusters`


@pytest.fixture(scope="module")
def site(clusters):
    """A fleet whose datacenter servers live in the clusters; site.yml run twice, teardown after."""
    fleet = Fleet(scratch_root("kube-site"), datacenters=list(DATACENTERS))
    inventory = fleet.inventory()
    ports = dict(zip(DATACENTERS, free_ports(len(DATACENTERS)), strict=True))
    for datacenter, index in DATACENTERS.items():
        fleet.datacenter_host(inventory, datacenter)["prometheus_kubernetes"] = clusters[index].prometheus_kubernetes(
            "monitoring", ports[datacenter], service_type="NodePort")
    # A host-only setting this controller could not satisfy (it runs no systemd): a server in a
    # cluster must not be checked against it.
    fleet.datacenter_host(inventory, "eu-west-1")["prometheus_service_manager"] = "systemd"
    with site_in_clusters(fleet, inventory, [(cluster, "monitoring") for cluster in clusters]) as runs:
        yield {"fleet": fleet, "ports": ports, **runs}


def config_map(cluster, datacenter: str) -> dict:
    name = "promfleet-%s-prom-a" % datacenter
    return client.CoreV1Api(cluster.api_client()).read_namespaced_config_map(name, "monitoring").data


def test_every_server_converges_and_only_the_verification_fails(site):
    recap = site["first"].recap()
    for host in ["eu-west-1-prom-a", "us-east-1-prom-a", "global-a"]:
        assert recap[host]["failed"] == 0 and recap[host]["unreachable"] == 0, (recap, site["first"].output[-4000:])
    assert recap["localhost"]["failed"] == 1


def test_the_verification_names_each_datacenter_server_that_does_not_answer(site):
    for datacenter, port in site["ports"].items():
        assert says(site["first"], "datacenter %s: server %s-prom-a (http://127.0.0.1:%d) does not answer"
                    % (datacenter, datacenter, port)), site["first"].output[-4000:]


def test_each_cluster_holds_its_own_datacenter_configuration(site, clusters):
    for datacenter, index in DATACENTERS.items():
        data = config_map(clusters[index], datacenter)
        config = yaml.safe_load(data["prometheus.yml"])
        assert config["global"]["external_labels"] == {"datacenter": datacenter,
                                                       "replica": "%s-prom-a" % datacenter}
        assert [job["job_name"] for job in config["scrape_configs"]] == [
            "prometheus", "kubernetes-apiservers", "kubernetes-nodes", "kubernetes-cadvisor",
            "kubernetes-service-endpoints", "kubernetes-pods"]
        assert config["scrape_configs"][0]["static_configs"] == [{"targets": ["localhost:9090"]}]
        assert "promfleet-aggregates.rules.yml" in data


def test_a_datacenter_configuration_is_only_in_its_own_cluster(site, clusters):
    alpha = client.CoreV1Api(clusters[0].api_client())
    names = [cm.metadata.name for cm in alpha.list_namespaced_config_map("monitoring").items]
    assert "promfleet-eu-west-1-prom-a" in names and "promfleet-us-east-1-prom-a" not in names


def test_the_global_federates_each_cluster_at_its_federation_url(site):
    fleet = site["fleet"]
    config_text = (fleet.root / "etc" / "promfleet-global-a" / "prometheus.yml").read_text()
    jobs = {job["job_name"]: job for job in yaml.safe_load(config_text)["scrape_configs"]}
    for datacenter, port in site["ports"].items():
        job = jobs["federate-%s" % datacenter]
        assert job["static_configs"][0]["targets"] == ["127.0.0.1:%d" % port]
        assert (job["metrics_path"], job["scheme"], job["honor_labels"]) == ("/federate", "http", True)


def test_a_second_run_changes_nothing(site):
    assert site["second"].changed() == 0, site["second"].recap()
