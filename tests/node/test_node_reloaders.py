"""Every reloader of the kubernetes role on a real node: a config change is live in the running pod,
the pod neither replaced nor restarted, with the kubelet's sync period at its one-minute default and
``prometheus_kubernetes_mount_timeout`` at 20 s (so the pod update, not the kubelet's own sync,
refreshed the mounted files).

- ``exec``: SIGHUP by an exec into the Prometheus container;
- ``http``: ``POST /-/reload`` through the API server's pod proxy (the pod runs with the lifecycle API);
- ``sidecar``: a busybox container beside Prometheus; the role signals at once all the same.

Each runs tests/kube/playbooks/kubernetes.yml (the role alone) in a namespace of its own.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml
from fleet import PlaybookRun, run_playbook
from it_support import assert_succeeded, scratch_root
from kubernetes import client

from ansible_collections.promfleet.federation.plugins.module_utils.kube.reload import data_digest

PLAYBOOK = "tests/kube/playbooks/kubernetes.yml"
CONFIG = {
    "global": {"scrape_interval": "5s"},
    "scrape_configs": [{"job_name": "self", "static_configs": [{"targets": ["localhost:9090"]}]}],
}
CHANGED_JOB = {"job_name": "changed", "static_configs": [{"targets": ["localhost:9090"]}]}
LIVE = "promfleet.federation/live-config"


def host_vars(node, images: dict, reloader: str, config: dict) -> dict:
    options = {"kubeconfig": str(node.kubeconfig), "context": node.context, "namespace": "reload-" + reloader,
               "name": "prom-" + reloader, "image": images["PROMETHEUS_IMAGE"], "image_pull_policy": "Never",
               "reloader": reloader}
    if reloader == "sidecar":
        options["reloader_image"] = images["BUSYBOX_IMAGE"]
    return {"prometheus_kubernetes": options, "prometheus_kubernetes_config": copy.deepcopy(config),
            "prometheus_kubernetes_mount_timeout": 20, "prometheus_kubernetes_delete_namespace": True}


def run(root: Path, host: dict, *args: str) -> PlaybookRun:
    inventory = root / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"},
        "hosts": {"cluster": host}}}))
    return run_playbook(PLAYBOOK, [inventory], *args, check=False)


def the_pod(node, reloader: str) -> client.V1Pod:
    pods = client.CoreV1Api(node.api_client()).list_namespaced_pod(
        "reload-" + reloader, label_selector="app.kubernetes.io/instance=prom-" + reloader).items
    live = [pod for pod in pods if not pod.metadata.deletion_timestamp]
    assert len(live) == 1, [pod.metadata.name for pod in pods]
    return live[0]


def identity(pod: client.V1Pod) -> tuple:
    return pod.metadata.uid, {status.name: status.restart_count for status in pod.status.container_statuses}


def loaded_jobs(node, pod: client.V1Pod) -> list[str]:
    """The jobs of the configuration Prometheus in ``pod`` runs, read through the API server's pod proxy."""
    answer = client.CoreV1Api(node.api_client()).connect_get_namespaced_pod_proxy_with_path(
        "%s:9090" % pod.metadata.name, pod.metadata.namespace, "api/v1/status/config", _preload_content=False)
    return [job["job_name"] for job in yaml.safe_load(json.loads(answer.data)["data"]["yaml"])["scrape_configs"]]


@pytest.fixture(scope="module", params=["exec", "http", "sidecar"])
def changed(request, nodes, images):
    """The server applied with one reloader, then its config changed by a second run; torn down after."""
    reloader, node = request.param, nodes["eu-west-1"]
    root = scratch_root("node-reload-" + reloader)
    first = run(root, host_vars(node, images, reloader, CONFIG))
    assert_succeeded(first)
    before = identity(the_pod(node, reloader))
    config = copy.deepcopy(CONFIG)
    config["scrape_configs"].append(CHANGED_JOB)
    second = run(root, host_vars(node, images, reloader, config))
    yield {"reloader": reloader, "node": node, "first": first, "second": second, "before": before}
    assert_succeeded(run(root, host_vars(node, images, reloader, config), "-e", "entry_point=teardown"))


def test_the_first_run_proves_the_new_pod_live(changed):
    pod = the_pod(changed["node"], changed["reloader"])
    assert LIVE in (pod.metadata.annotations or {}), changed["first"].output[-3000:]


def test_the_change_is_live_in_the_same_pod_without_a_restart(changed):
    assert_succeeded(changed["second"])
    node, pod = changed["node"], the_pod(changed["node"], changed["reloader"])
    assert loaded_jobs(node, pod) == ["self", "changed"]
    assert identity(pod) == changed["before"]
    data = client.CoreV1Api(node.api_client()).read_namespaced_config_map(
        "prom-" + changed["reloader"], pod.metadata.namespace).data
    assert pod.metadata.annotations[LIVE] == data_digest(data)
