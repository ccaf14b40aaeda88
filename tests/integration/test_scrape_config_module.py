"""The scrape_config module run by ansible: its result with secrets redacted, and its failure."""

from __future__ import annotations

import json

import fleet


def run_module(args: dict) -> dict:
    """The result of ``ansible localhost -m promfleet.federation.scrape_config -a <args> --check``."""
    return fleet.run_module("promfleet.federation.scrape_config", args, "--check")


def test_module_runs_through_ansible_and_hides_the_password():
    host = run_module({"job_name": "billing-api", "preset": "kubernetes_service",
                       "preset_options": {"name": "billing-api"},
                       "basic_auth": {"username": "u", "password": "hunter2"},
                       "discovered_targets": [{"__address__": "10.1.2.3:8080",
                                               "__meta_kubernetes_service_name": "billing-api"}]})
    assert (host["changed"], host["scrape_config"]["basic_auth"], host["targets"][0]["labels"]["service"],
            "hunter2" in json.dumps(host)) == (False, {"username": "u", "password": "<redacted>"}, "billing-api",
                                               False)


def test_module_fails_on_misplaced_relabel_rules():
    host = run_module({"job_name": "pods", "kubernetes_sd_configs": [{"role": "pod", "relabel_configs": []}]})
    assert (host.get("failed"), host["msg"]) == (True, (
        'job "pods": kubernetes_sd_configs[0]: relabel_configs is not a field of a kubernetes_sd_config; '
        "relabel rules belong to the scrape job: move them out one level, next to kubernetes_sd_configs"))
