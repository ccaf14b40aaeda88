"""The in-cluster reload end to end against a fake cluster (``kube.reload.reload`` with a stand-in for
``Cluster``): a good ConfigMap is proven live and kept as last good; a bad one is rolled back to the
last good data, reloaded and verified in every ready pod, and the failure still reported; without a
last good copy nothing is rolled back. The fake's kubelet refreshes a pod's mounted files when the
pod is updated (and never on its own, as if its sync period were endless); its Prometheus refuses a
configuration that contains ``BROKEN``."""

from __future__ import annotations

import hashlib

import pytest
import yaml

from ansible_collections.promfleet.federation.plugins.module_utils.errors import KubeReloadError
from ansible_collections.promfleet.federation.plugins.module_utils.host.commands import CommandResult
from ansible_collections.promfleet.federation.plugins.module_utils.kube import reload as kube_reload

NAMESPACE = "monitoring"
NAME = "prom-eu"
GOOD = {"prometheus.yml": "global:\n  scrape_interval: 15s\n", "a.rules.yml": "groups: []\n"}
NEWER = {"prometheus.yml": "global:\n  scrape_interval: 30s\n", "a.rules.yml": "groups: []\n"}
BROKEN = {"prometheus.yml": "global:\n  scrape_interval: 30s\n# BROKEN\n", "a.rules.yml": "groups: []\n"}


class FakePrometheus:
    """The Prometheus of one pod: it loads the pod's mounted files on SIGHUP, unless they are BROKEN."""

    def __init__(self, pod: FakePod) -> None:
        self.pod = pod
        self.url = "https://apiserver/api/v1/namespaces/%s/pods/%s:9090/proxy" % (NAMESPACE, pod.name)

    def reload_state(self, prefix: str = "prometheus") -> dict:
        return {"successful": self.pod.successful, "timestamp": self.pod.timestamp}

    def status_config(self) -> dict:
        return yaml.safe_load(self.pod.loaded["prometheus.yml"])


class FakePod:
    def __init__(self, name: str, data: dict) -> None:
        self.name = name
        self.loaded = dict(data)
        self.mounted = dict(data)
        self.successful = True
        self.timestamp = 1000.0
        self.annotations: dict = {}
        self.sighups = 0

    @property
    def annotation(self) -> str | None:
        return self.annotations.get(kube_reload.LIVE_ANNOTATION)

    @annotation.setter
    def annotation(self, digest: str) -> None:
        self.annotations[kube_reload.LIVE_ANNOTATION] = digest

    def as_api_object(self) -> dict:
        annotations = dict(self.annotations) or None
        return {"metadata": {"name": self.name, "annotations": annotations},
                "status": {"phase": "Running", "containerStatuses": [{"name": "prometheus", "ready": True}]}}

    def sighup(self, mounted: dict) -> None:
        self.sighups += 1
        if "BROKEN" in mounted["prometheus.yml"]:
            self.successful = False
            return
        self.loaded = dict(mounted)
        self.successful = True
        self.timestamp += 1


class FakeCluster:
    """What ``kube.reload`` asks of a cluster: pods, ConfigMaps, exec into the Prometheus container,
    and each pod's Prometheus. A pod's mounted files take the server's ConfigMap when the pod is updated."""

    def __init__(self, pods: list, config_maps: dict) -> None:
        self.pods_by_name = {pod.name: pod for pod in pods}
        self.config_maps = {name: dict(data) for name, data in config_maps.items()}
        self.commands: list = []
        self.signals: list = []

    def pods(self, namespace: str, selector: dict) -> list:
        assert selector == {"app.kubernetes.io/instance": NAME, "app.kubernetes.io/managed-by": "promfleet.federation"}
        return [pod.as_api_object() for pod in self.pods_by_name.values()]

    def replicas(self, namespace: str, name: str) -> int | None:
        assert name == NAME
        return len(self.pods_by_name)

    def config_map_data(self, namespace: str, name: str) -> dict | None:
        data = self.config_maps.get(name)
        return None if data is None else dict(data)

    def put_config_map_data(self, namespace: str, name: str, data: dict, labels: dict) -> None:
        assert labels["app.kubernetes.io/component"] == "last-good"
        self.config_maps[name] = dict(data)

    def restore_config_map_data(self, namespace: str, name: str, data: dict) -> None:
        self.config_maps[name] = dict(data)

    def annotate(self, namespace: str, pod: str, annotation: str, digest: str) -> None:
        self.pods_by_name[pod].annotations[annotation] = digest
        self.pods_by_name[pod].mounted = dict(self.config_maps[NAME])  # the kubelet sees the pod change

    def execute(self, namespace: str, pod: str, command: list, container: str = "prometheus") -> str:
        self.commands.append((pod, list(command)))
        if command[:2] == ["sh", "-c"] and "sha256sum" in command[2]:
            return "".join("%s  /etc/prometheus/%s\n" % (hashlib.sha256(text.encode()).hexdigest(), key)
                           for key, text in sorted(self.pods_by_name[pod].mounted.items()))
        if list(command) == ["killall", "-HUP", "prometheus"] and container == "config-reloader":
            self.signals.append((pod, container))
            self.pods_by_name[pod].sighup(self.pods_by_name[pod].mounted)
            return ""
        if list(command) == ["kill", "-HUP", "1"] and container == "prometheus":
            self.signals.append((pod, container))
            self.pods_by_name[pod].sighup(self.pods_by_name[pod].mounted)
            return ""
        raise AssertionError("unexpected command %r" % (command,))

    def run(self, namespace: str, pod: str, argv: list, timeout: float = 60, check: bool = True) -> CommandResult:
        assert argv[:3] == ["promtool", "check", "config"]
        broken = "BROKEN" in self.pods_by_name[pod].mounted["prometheus.yml"]
        output = "FAILED: /etc/prometheus/prometheus.yml: BROKEN marker\n" if broken else "SUCCESS\n"
        return CommandResult(tuple(argv), 1 if broken else 0, output)

    def prometheus(self, namespace: str, pod: str, port: int) -> FakePrometheus:
        return FakePrometheus(self.pods_by_name[pod])


def run_reload(cluster: FakeCluster, data: dict) -> dict:
    cluster.config_maps[NAME] = dict(data)  # what the role applied just before
    return kube_reload.reload(cluster, NAMESPACE, NAME, data=data, mount_timeout=5, timeout=2)


def test_a_good_configmap_is_proven_live_in_every_pod_and_kept_as_last_good():
    cluster = FakeCluster([FakePod("p-0", GOOD), FakePod("p-1", GOOD)], {NAME: GOOD})
    result = run_reload(cluster, NEWER)
    assert result["changed"] is True and result["rolled_back"] is False
    assert [pod.loaded for pod in cluster.pods_by_name.values()] == [NEWER, NEWER]
    assert {pod.annotation for pod in cluster.pods_by_name.values()} == {kube_reload.data_digest(NEWER)}
    assert cluster.config_maps[NAME + "-last-good"] == NEWER


def test_each_pod_is_updated_with_the_requested_digest_so_that_its_kubelet_refreshes_the_files_at_once():
    cluster = FakeCluster([FakePod("p-0", GOOD)], {NAME: GOOD})
    result = run_reload(cluster, NEWER)
    pod = cluster.pods_by_name["p-0"]
    assert pod.annotations[kube_reload.REQUEST_ANNOTATION] == kube_reload.data_digest(NEWER)
    assert (pod.loaded, result["pods"][0]["mount_seconds"] < 1) == (NEWER, True)


def test_the_sidecar_reloader_signals_prometheus_by_name_from_the_reloader_container():
    cluster = FakeCluster([FakePod("p-0", GOOD)], {NAME: GOOD})
    cluster.config_maps[NAME] = dict(NEWER)
    kube_reload.reload(cluster, NAMESPACE, NAME, reloader="sidecar", data=NEWER, mount_timeout=5, timeout=2)
    assert (cluster.signals, cluster.pods_by_name["p-0"].loaded) == ([("p-0", "config-reloader")], NEWER)


def test_a_pod_that_runs_the_configmap_already_gets_no_signal():
    pod = FakePod("p-0", NEWER)
    pod.annotation = kube_reload.data_digest(NEWER)
    cluster = FakeCluster([pod], {NAME: NEWER, NAME + "-last-good": NEWER})
    result = run_reload(cluster, NEWER)
    assert (result["changed"], pod.sighups, cluster.commands) == (False, 0, [])


def test_a_bad_configmap_is_rolled_back_to_the_last_good_data_reloaded_and_verified_and_the_run_fails():
    cluster = FakeCluster([FakePod("p-0", GOOD), FakePod("p-1", GOOD)], {NAME: GOOD, NAME + "-last-good": GOOD})
    with pytest.raises(KubeReloadError) as failure:
        run_reload(cluster, BROKEN)
    message = str(failure.value)
    assert message.startswith("pod monitoring/p-0: reload with SIGHUP (exec kill -HUP 1 in container prometheus) "
                              "failed: Prometheus reported the reload as failed")
    assert "promtool check config in the pod says: FAILED: /etc/prometheus/prometheus.yml: BROKEN marker" in message
    assert message.endswith("rolled back: ConfigMap prom-eu has the data of prom-eu-last-good again, verified live "
                            "in p-0, p-1")
    assert failure.value.result["rolled_back"] is True
    assert cluster.config_maps[NAME] == GOOD
    assert all(pod.successful and pod.loaded == GOOD for pod in cluster.pods_by_name.values())
    assert cluster.config_maps[NAME + "-last-good"] == GOOD


def test_without_a_last_good_copy_nothing_is_rolled_back():
    cluster = FakeCluster([FakePod("p-0", GOOD)], {NAME: GOOD})
    with pytest.raises(KubeReloadError, match="no rollback: ConfigMap prom-eu-last-good is missing or equals the new "
                                              "data$") as failure:
        run_reload(cluster, BROKEN)
    assert failure.value.result["rolled_back"] is False
    assert cluster.config_maps[NAME] == BROKEN


def test_with_rollback_off_the_failure_is_reported_and_the_configmap_stays():
    cluster = FakeCluster([FakePod("p-0", GOOD)], {NAME: BROKEN, NAME + "-last-good": GOOD})
    with pytest.raises(KubeReloadError) as failure:
        kube_reload.reload(cluster, NAMESPACE, NAME, data=BROKEN, mount_timeout=5, timeout=2, rollback=False)
    assert failure.value.result["rolled_back"] is False
    assert cluster.config_maps[NAME] == BROKEN
