"""The presets and the ``scrape_config`` module's target simulation against the real promtool (2.42).

Debian's Prometheus 2.42 is built without Kubernetes service discovery: its promtool refuses
``kubernetes_sd_configs`` ("field kubernetes_sd_configs not found in type config.ScrapeConfig"), and
no Kubernetes discovery runs offline anyway. So promtool checks the presets with their
``kubernetes_sd_configs`` replaced by ``static_configs``, and the targets Kubernetes would discover
are static targets carrying the ``__meta_kubernetes_*`` labels: the module gets them as
``discovered_targets`` under the real preset, promtool as static targets of the same job.
"""

from __future__ import annotations

import json
import random
import subprocess
import tempfile
from pathlib import Path

import promtool
import pytest

from ansible_collections.promfleet.federation.plugins.module_utils.model.explain import explain_scrape_config
from ansible_collections.promfleet.federation.plugins.module_utils.model.presets import (
    PRESETS,
    SERVICE_ACCOUNT_DIR,
    preset,
)
from ansible_collections.promfleet.federation.plugins.modules.scrape_config import argument_spec

SEED = 20240612
TARGETS = 300
PRESET_ARGUMENTS = {"kubernetes_service": {"name": "billing-api", "namespace": "shop", "port": "metrics"}}


def check_config(config: dict) -> subprocess.CompletedProcess:
    """``promtool check config`` on ``config`` (a prometheus.yml as a dict, written as JSON)."""
    with tempfile.TemporaryDirectory(prefix="promtool-") as tmp:
        path = Path(tmp) / "prometheus.yml"
        path.write_text(json.dumps(config), encoding="utf-8")
        return subprocess.run([promtool.PROMTOOL, "check", "config", str(path)], capture_output=True, text=True,
                              check=False)


def without_kubernetes_discovery(job: dict, static_configs: list) -> dict:
    """``job`` with its ``kubernetes_sd_configs`` replaced by ``static_configs``, for Debian's promtool."""
    replaced = {key: value for key, value in job.items() if key != "kubernetes_sd_configs"}
    replaced["static_configs"] = static_configs
    return replaced


def module_result(job: dict, discovered_targets: list, global_config: dict | None = None) -> dict:
    """``explain_scrape_config`` with the fields of ``job`` as options, as AnsibleModule would pass them."""
    params = {name: spec.get("default") for name, spec in argument_spec().items()}
    params.update(job)
    params["discovered_targets"] = discovered_targets
    params["global_config"] = global_config
    return explain_scrape_config(params)


def with_files_in(job: dict, directory: Path) -> dict:
    """``job`` with the service account's CA and token files, which promtool checks exist, in ``directory``."""
    text = json.dumps(job)
    for name in ("ca.crt", "token"):
        (directory / name).write_text("stand-in\n", encoding="utf-8")
        text = text.replace(SERVICE_ACCOUNT_DIR + "/" + name, str(directory / name))
    return json.loads(text)


@pytest.mark.parametrize("name", list(PRESETS))
def test_promtool_accepts_the_preset(name, tmp_path):
    job = module_result(preset(name, **PRESET_ARGUMENTS.get(name, {})), None)["scrape_config"]
    if "kubernetes_sd_configs" in job:
        job = without_kubernetes_discovery(job, [{"targets": ["10.0.0.1:8080"]}])
    run = check_config({"scrape_configs": [with_files_in(job, tmp_path)]})
    assert run.returncode == 0, run.stdout + run.stderr


def test_promtool_also_refuses_relabel_configs_under_kubernetes_sd_configs():
    """The mistake the module explains; promtool only says the field is unknown (and Debian's
    promtool does not even get that far)."""
    job = {"job_name": "pods", "kubernetes_sd_configs": [{"role": "pod", "relabel_configs": []}]}
    assert check_config({"scrape_configs": [job]}).returncode == 1


# ---------------------------------------------------------------- generated targets

NAMESPACES = ["shop", "shop", "staging", "default", ""]
SERVICES = ["billing-api"] * 4 + ["billing-api-v2", "old-billing-api", "billingxapi", "cart", "kubernetes"]
PORT_NAMES = ["metrics", "metrics", "http", "https", ""]
# "host-N/x" is refused by Prometheus ("not a valid hostname")
ADDRESSES = ["10.0.0.%d", "10.0.0.%d:8080", "svc-%d.shop.svc:9090", "[fd00::%d]:8080", "[fd00::%d]"] * 5 + ["host-%d/x"]
ANNOTATIONS = {
    "scrape": ["true", "false", ""],
    "scheme": ["https", "http", "ftp", ""],
    "path": ["/stats", "", "/metrics/x"],
    "port": ["9102", "", "abc"],
}
PHASES = ["Running", "Pending", "Succeeded", "Failed", ""]


def generated_target(rng: random.Random, number: int, kind: str) -> dict:
    """One target as Kubernetes discovery of role ``kind`` might produce it; ``case_id`` keeps
    every target apart in promtool's answer."""
    labels = {
        "__address__": rng.choice(ADDRESSES) % (number % 250 + 1),
        "case_id": str(number),
        "__meta_kubernetes_namespace": rng.choice(NAMESPACES),
        "__meta_kubernetes_service_name": rng.choice(SERVICES),
        "__meta_kubernetes_service_port_name": rng.choice(PORT_NAMES),
        "__meta_kubernetes_endpoint_port_name": rng.choice(PORT_NAMES),
        "__meta_kubernetes_service_label_app": rng.choice(["cart", "billing", ""]),
        "__meta_kubernetes_pod_node_name": rng.choice(["node-1", "node-2"]),
        "__meta_kubernetes_pod_name": "pod-%d" % number,
        "__meta_kubernetes_pod_phase": rng.choice(PHASES),
        "__meta_kubernetes_pod_label_team": rng.choice(["a", "b", ""]),
    }
    for name, values in ANNOTATIONS.items():
        labels["__meta_kubernetes_%s_annotation_prometheus_io_%s" % (kind, name)] = rng.choice(values)
    return {name: value for name, value in labels.items() if value != ""}


def static_configs(targets: list) -> list:
    """Each target as its own static group, its labels (all but the address) as the group's labels."""
    return [{"targets": [target["__address__"]],
             "labels": {name: value for name, value in target.items() if name != "__address__"}}
            for target in targets]


def compare(job: dict, targets: list, global_config: dict | None = None) -> None:
    """The module's targets for ``job`` (with ``targets`` discovered) equal promtool's for the same
    job with ``targets`` static.

    promtool 2.42 prints targets in no fixed order and prints a refused target as empty objects, so
    the kept targets are compared as a set of final labels (``case_id`` keeps them apart), the
    dropped and the refused targets by their number. Discovered labels are not compared: promtool
    2.42 prints them after relabeling has partly overwritten them whenever a rule changed the target
    before it was kept or dropped (``relabel.Process`` reuses their memory: ``job`` missing,
    ``__address__`` already rewritten, labels of a labelmap among them), where the module gives the
    labels as they were before relabeling."""
    result = module_result(job, targets, global_config)
    config = {"scrape_configs": [without_kubernetes_discovery(result["scrape_config"], static_configs(targets))]}
    if global_config:
        config["global"] = global_config
    rc, answer, output = promtool.check_service_discovery(config, job["job_name"])
    assert rc == 0 and answer is not None, output
    assert len(answer) == len(result["targets"])
    got, expected = outcome(result["targets"]), outcome(answer)
    print("%s: %d targets, %d kept, %d dropped, %d refused" % (
        job["job_name"], len(targets), len(got[0]), got[1], got[2]))
    assert got == expected


def outcome(entries: list) -> tuple[set, int, int]:
    """The final labels of the kept targets, and the numbers of dropped and refused targets."""
    kept = {json.dumps(entry["labels"], sort_keys=True) for entry in entries if entry["labels"]}
    refused = sum(1 for entry in entries if "error" in entry)
    dropped = sum(1 for entry in entries if not entry["labels"]) - refused
    return kept, dropped, refused


@pytest.mark.parametrize(
    "arguments",
    [{"name": "billing-api"}, {"name": "billing-api", "namespace": "shop"},
     {"name": "billing-api", "namespace": "shop", "port": "metrics", "metrics_path": "/internal/metrics"}],
    ids=["name", "name-namespace", "name-namespace-port"],
)
def test_custom_service_targets_equal_promtools(arguments):
    rng = random.Random(SEED)
    targets = [generated_target(rng, number, "service") for number in range(TARGETS)]
    compare(preset("kubernetes_service", **arguments), targets)


@pytest.mark.parametrize("name,kind", [("kubernetes_service_endpoints", "service"), ("kubernetes_pods", "pod")])
def test_annotated_targets_equal_promtools(name, kind):
    rng = random.Random(SEED + 1)
    targets = [generated_target(rng, number, kind) for number in range(TARGETS)]
    compare(preset(name), targets)


def test_job_settings_and_global_defaults_equal_promtools():
    rng = random.Random(SEED + 2)
    targets = [generated_target(rng, number, "service") for number in range(TARGETS)]
    job = dict(preset("kubernetes_nodes"), job_name="kubelets", params={"collect[]": ["cpu", "mem"]},
               metrics_path="/metrics/resource")
    compare(job, targets, {"scrape_interval": "5s"})
