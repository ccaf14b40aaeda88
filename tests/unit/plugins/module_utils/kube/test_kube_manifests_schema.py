"""Every object kube_manifests renders passes the Kubernetes 1.30 OpenAPI schema in strict mode
(kubernetes-validate: no unknown fields, right types, required fields present)."""

from __future__ import annotations

import copy

import kubernetes_validate
import pytest

from ansible_collections.promfleet.federation.plugins.module_utils.kube.manifests import manifests

KUBERNETES_VERSION = "1.30"
CONFIG = "global:\n  scrape_interval: 30s\nrule_files:\n  - /etc/prometheus/*.rules.yml\n"
RULES = {"node.rules.yml": "groups:\n  - name: node\n    rules: []\n"}
BASE = {"namespace": "monitoring", "name": "prom-eu1"}
COMBINATIONS = {
    "defaults": {},
    "no-service-discovery": {"service_discovery": False},
    "statefulset-nodeport": {
        "workload": "StatefulSet",
        "storage_size": "50Gi",
        "storage_class": "fast-ssd",
        "service_type": "NodePort",
        "node_port": 30090,
    },
    "sidecar": {"reloader": "sidecar", "reloader_interval": 10, "labels": {"team": "observability"}},
    "http": {
        "reloader": "http",
        "extra_args": ["--web.enable-lifecycle", "--log.level=debug"],
        "image_pull_policy": "Always",
        "resources": {"requests": {"cpu": 1, "memory": "1Gi"}, "limits": {"memory": "4Gi"}},
        "labels": {"example.com/tier": "monitoring"},
        "cluster_role_name": "prometheus.eu1",
    },
    "statefulset-sidecar-no-class": {
        "workload": "StatefulSet",
        "storage_class": "",
        "service_type": "NodePort",
        "reloader": "sidecar",
    },
}


def rendered(combination: str) -> list[dict]:
    return manifests({**BASE, **COMBINATIONS[combination]}, CONFIG, RULES)


@pytest.mark.parametrize("combination", list(COMBINATIONS))
def test_every_object_passes_the_strict_schema(combination):
    for obj in rendered(combination):
        assert kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True) == KUBERNETES_VERSION, obj["kind"]


def test_the_strict_schema_reports_an_unknown_field():
    workload = copy.deepcopy(rendered("defaults")[5])
    workload["spec"]["template"]["spec"]["containers"][0]["readOnly"] = True
    with pytest.raises(kubernetes_validate.ValidationError, match="'readOnly' was unexpected"):
        kubernetes_validate.validate(workload, KUBERNETES_VERSION, strict=True)
