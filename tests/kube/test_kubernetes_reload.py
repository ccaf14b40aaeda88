"""prometheus_kubernetes_reload against a real API server and a real Prometheus.

There is no kubelet in this tier, so no pod runs. A pod object stands for the running server: the
test sets its status (Running, ready, pod IP) as a kubelet would, and a real Prometheus listens on
that IP, a non-loopback address of this machine (the API server refuses to proxy to loopback). What
this proves: the pod lookup by the engine's labels, the readiness rules, the decision from the
pod's annotation and Prometheus' own /metrics read through the API server's pod proxy with the
kubeconfig's credentials, check mode, and the last-good copy. What it cannot: the exec into the pod
(the kubelet answers it) and the kubelet's refresh of the mounted files; tests/node does, on real nodes.
"""

from __future__ import annotations

import fcntl
import json
import socket
import struct

import pytest
import yaml
from fleet import run_module, wait_for
from kubernetes import client
from standalone import PrometheusProcess

MODULE = "promfleet.federation.prometheus_kubernetes_reload"
NAMESPACE = "reload"
NAME = "promfleet-eu-west-1-prom-a"
LABELS = {"app.kubernetes.io/name": "prometheus", "app.kubernetes.io/instance": NAME,
          "app.kubernetes.io/managed-by": "promfleet.federation"}
ANNOTATION = "promfleet.federation/live-config"
RELOADED_AT = "prometheus_config_last_reload_success_timestamp_seconds"


def machine_address() -> str:
    """An IPv4 address of this machine that is not loopback: the pod IP the API server proxies to.
    Read from the interfaces with the SIOCGIFADDR ioctl, so no tool (ip, ifconfig) is needed."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        for _index, name in socket.if_nameindex():
            request = struct.pack("256s", name.encode()[:15])
            try:
                answer = fcntl.ioctl(probe.fileno(), 0x8915, request)  # SIOCGIFADDR
            except OSError:  # the interface has no IPv4 address
                continue
            address = socket.inet_ntoa(answer[20:24])
            if not address.startswith("127."):
                return address
    finally:
        probe.close()
    raise AssertionError("this machine has no non-loopback IPv4 address for the API server to proxy to")


@pytest.fixture(scope="module")
def server(clusters):
    """A real Prometheus on a non-loopback address, and the namespace its pod objects live in."""
    prometheus = PrometheusProcess("kube-reload", lifecycle=False, address=machine_address())
    core = client.CoreV1Api(clusters[0].api_client())
    core.create_namespace({"metadata": {"name": NAMESPACE}})
    wait_for(lambda: core.list_namespaced_service_account(NAMESPACE).items, timeout=30,
             what="the namespace's default service account")
    try:
        prometheus.start(prometheus.config("app"))
        yield {"prometheus": prometheus, "core": core, "cluster": clusters[0],
               "data": {"prometheus.yml": prometheus.config_path.read_text()}}
    finally:
        prometheus.stop()
        core.delete_namespace(NAMESPACE)


def make_pod(server, name: str, running: bool, annotation: str | None = None) -> None:
    """A pod object of the server; ``running`` sets the status a kubelet would report for a ready
    Prometheus at this machine's address."""
    core = server["core"]
    metadata = {"name": name, "labels": LABELS, "annotations": {ANNOTATION: annotation} if annotation else {}}
    core.create_namespaced_pod(NAMESPACE, {"metadata": metadata, "spec": {
        "containers": [{"name": "prometheus", "image": "quay.io/prometheus/prometheus:v3.13.0"}]}})
    if running:
        core.patch_namespaced_pod_status(name, NAMESPACE, {"status": {
            "phase": "Running", "podIP": server["prometheus"].address,
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [{"name": "prometheus", "ready": True, "restartCount": 0, "image": "prometheus",
                                   "imageID": "", "state": {"running": {}}}]}})


@pytest.fixture
def pods(server):
    """Pods created by a test are deleted after it."""
    yield server
    server["core"].delete_collection_namespaced_pod(NAMESPACE, grace_period_seconds=0)
    wait_for(lambda: not server["core"].list_namespaced_pod(NAMESPACE).items, timeout=30, what="the pods to go")
    server["core"].delete_collection_namespaced_config_map(NAMESPACE, label_selector="app.kubernetes.io/component")


def reload_module(server, data: dict | None = None, *options: str) -> dict:
    # No kubelet starts a pod here, so a Pending pod stays Pending: waiting for the pods to settle
    # would only cost the whole ready_timeout.
    return run_module(MODULE, {"kubeconfig": str(server["cluster"].kubeconfig), "context": server["cluster"].context,
                               "namespace": NAMESPACE, "name": NAME, "port": server["prometheus"].port,
                               "data": data or server["data"], "ready_timeout": 1}, *options)


def digest_of(server, data: dict) -> str:
    return reload_module(server, data, "--check")["digest"]


def last_good(server) -> dict | None:
    found = server["core"].list_namespaced_config_map(NAMESPACE, field_selector="metadata.name=%s-last-good" % NAME)
    return found.items[0].data if found.items else None


def test_pods_that_do_not_run_yet_are_left_alone(pods):
    make_pod(pods, "pending-0", running=False)
    result = reload_module(pods)
    assert result.get("failed") is not True, result
    assert result["changed"] is False
    assert result["pods"] == [{"pod": "pending-0", "action": "skip",
                               "reason": "it is Pending; it reads the ConfigMap when it starts"}]
    assert last_good(pods) is None


def test_a_pod_that_runs_the_configmap_is_not_reloaded_and_its_data_is_kept_as_last_good(pods):
    reloaded_at = pods["prometheus"].metric(RELOADED_AT)
    make_pod(pods, "live-0", running=True, annotation=digest_of(pods, pods["data"]))
    result = reload_module(pods)
    assert result.get("failed") is not True, result
    assert result["changed"] is False
    assert [(p["pod"], p["action"]) for p in result["pods"]] == [("live-0", "live")]
    assert pods["prometheus"].metric(RELOADED_AT) == reloaded_at, "the module reloaded a pod that runs the data"
    assert last_good(pods) == pods["data"]


def test_check_mode_names_the_pods_a_new_configmap_would_reload_and_changes_nothing(pods):
    reloaded_at = pods["prometheus"].metric(RELOADED_AT)
    make_pod(pods, "live-0", running=True, annotation=digest_of(pods, pods["data"]))
    make_pod(pods, "pending-1", running=False)
    changed = dict(pods["data"], **{"extra.rules.yml": yaml.safe_dump({"groups": []})})
    result = reload_module(pods, changed, "--check")
    assert result.get("failed") is not True, result
    assert result["changed"] is True
    assert result["msg"] == ("would wait for the mounted files, then reload with SIGHUP "
                             "(exec kill -HUP 1 in container prometheus): live-0")
    assert [(p["pod"], p["action"]) for p in result["pods"]] == [("live-0", "reload"), ("pending-1", "skip")]
    assert pods["core"].read_namespaced_pod("live-0", NAMESPACE).metadata.annotations[ANNOTATION] == \
        digest_of(pods, pods["data"])
    assert pods["prometheus"].metric(RELOADED_AT) == reloaded_at
    assert last_good(pods) is None


def test_a_pod_whose_last_reload_failed_is_due_for_a_reload_even_with_the_same_configmap(pods):
    prometheus = pods["prometheus"]
    make_pod(pods, "live-0", running=True, annotation=digest_of(pods, pods["data"]))
    good = prometheus.config_path.read_text()
    prometheus.config_path.write_text("scrape_configs: [{job_name: broken, scrape_interval: not-a-duration}]\n")
    try:
        prometheus.process.send_signal(1)
        wait_for(lambda: prometheus.metric("prometheus_config_last_reload_successful") == 0, timeout=30,
                 what="the failed reload")
        result = reload_module(pods, None, "--check")
        assert result["changed"] is True, result
        assert result["pods"][0]["reason"] == "its last reload failed since this ConfigMap was verified in it"
    finally:
        prometheus.config_path.write_text(good)
        prometheus.process.send_signal(1)
        wait_for(lambda: prometheus.metric("prometheus_config_last_reload_successful") == 1, timeout=30,
                 what="the good config again")


def test_a_missing_configmap_is_named(pods):
    result = run_module(MODULE, {"kubeconfig": str(pods["cluster"].kubeconfig), "context": pods["cluster"].context,
                                 "namespace": NAMESPACE, "name": "promfleet-nowhere"})
    assert result["failed"] is True
    assert result["msg"] == "ConfigMap reload/promfleet-nowhere does not exist: apply the server first"


def test_a_wrong_context_is_named(pods):
    result = run_module(MODULE, {"kubeconfig": str(pods["cluster"].kubeconfig), "context": "no-such-context",
                                 "namespace": NAMESPACE, "name": NAME, "data": pods["data"]})
    assert result["failed"] is True
    assert result["msg"].startswith("reload/%s: cannot reach the cluster: " % NAME), result["msg"]
    assert "no-such-context" in result["msg"]


def test_the_data_is_never_shown(pods):
    secret = "s3cr3t-in-basic-auth"
    data = {"prometheus.yml": pods["data"]["prometheus.yml"] + "# password: %s\n" % secret}
    result = reload_module(pods, data, "--check")
    assert secret not in json.dumps(result)
