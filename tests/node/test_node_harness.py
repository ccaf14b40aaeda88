"""The harness itself: a third node started beside the datacenters' runs pods that answer on their
pod IP, ClusterIP and NodePort and take an exec; stopped, it leaves nothing behind (processes,
mounts, cgroups, network namespace, veth, routes, its directory), and the other nodes run on."""

from __future__ import annotations

import subprocess
import urllib.request
from pathlib import Path

import pytest
from fleet import wait_for
from kube import Node, pod_ready
from kubernetes import client
from kubernetes.stream import stream

INDEX = 2  # node-start.sh's address block: the datacenters' nodes use 0 and 1
NODE_PORT = 30091


def ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return response.status == 200
    except OSError:
        return False


def leftovers(node: Node) -> list[str]:
    """Everything of ``node`` still on this machine."""
    found = []
    processes = subprocess.run(["ps", "-eo", "stat=,args="], capture_output=True, text=True, check=True).stdout
    found += ["process: " + line for line in processes.splitlines()
              if str(node.root_dir) in line and not line.lstrip().startswith("Z")]
    mounts = Path("/proc/self/mountinfo").read_text()
    found += ["mount: " + line for line in mounts.splitlines() if str(node.root_dir) in line]
    found += ["cgroup: " + str(path) for path in Path("/sys/fs/cgroup").glob("*" + node.env["CGROUP_ROOT"])]
    if Path("/run/netns", node.env["NODE_NETNS"]).exists():
        found.append("network namespace " + node.env["NODE_NETNS"])
    routes = subprocess.run(["ip", "route"], capture_output=True, text=True, check=True).stdout
    found += ["route: " + line for line in routes.splitlines()
              if node.env["POD_CIDR"] in line or node.env["SERVICE_CIDR"] in line or node.node_ip in line]
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, check=True).stdout
    found += ["link: " + line.split(":")[1].strip() for line in links.splitlines() if node.env["NODE_VETH"] in line]
    if node.root_dir.exists():
        found.append("directory " + str(node.root_dir))
    if Path("/run/promfleet-kube-nodes", node.name + ".node").exists():
        found.append("registry entry " + node.name)
    return found


@pytest.fixture(scope="module")
def probe(nodes, images, tmp_path_factory):
    """Node ``probe`` with one Prometheus pod behind a NodePort Service; stopped by the last test."""
    node = Node.start("probe", tmp_path_factory.mktemp("node-probe"), INDEX)
    try:
        api = node.api_client()
        labels = {"app": "probe"}
        client.CoreV1Api(api).create_namespaced_service("default", {
            "metadata": {"name": "probe"},
            "spec": {"type": "NodePort", "selector": labels,
                     "ports": [{"port": 9090, "targetPort": 9090, "nodePort": NODE_PORT}]}})
        client.CoreV1Api(api).create_namespaced_pod("default", {
            "metadata": {"name": "probe", "labels": labels},
            "spec": {"containers": [{"name": "prometheus", "image": images["PROMETHEUS_IMAGE"],
                                     "imagePullPolicy": "Never",
                                     "readinessProbe": {"httpGet": {"path": "/-/ready", "port": 9090},
                                                        "periodSeconds": 1}}]}})
        wait_for(lambda: pod_ready(client.CoreV1Api(api).read_namespaced_pod("probe", "default")),
                 timeout=60, what="pod probe ready")
        yield node
    finally:
        node.stop()


def test_the_pod_answers_on_its_pod_ip_its_cluster_ip_and_the_node_port(probe):
    core = client.CoreV1Api(probe.api_client())
    pod_ip = core.read_namespaced_pod("probe", "default").status.pod_ip
    cluster_ip = core.read_namespaced_service("probe", "default").spec.cluster_ip
    # kube-proxy writes the Service's rules a moment after the pod is ready
    urls = ["http://%s:9090/-/ready" % pod_ip, "http://%s:9090/-/ready" % cluster_ip,
            "http://%s:%d/-/ready" % (probe.node_ip, NODE_PORT)]
    wait_for(lambda: all(ready(url) for url in urls), timeout=30, what="answers at %s" % urls)


def test_an_exec_runs_in_the_container_as_its_user(probe):
    output = stream(client.CoreV1Api(probe.api_client()).connect_get_namespaced_pod_exec, "probe", "default",
                    command=["id", "-u"], stderr=True, stdin=False, stdout=True, tty=False)
    assert output.strip() == "65534"


def test_stopping_leaves_nothing_and_the_other_nodes_run_on(probe, nodes):
    probe.stop()
    assert leftovers(probe) == []
    for node in nodes.values():
        assert node_answers(node), node.name


def node_answers(node: Node) -> bool:
    """The node's API server answers (with its CA and token) and still reports the node Ready."""
    status = client.CoreV1Api(node.api_client()).read_node(node.name).status
    return any(c.type == "Ready" and c.status == "True" for c in status.conditions)
