"""The scrape_preset filter: the presets of the config engine, for roles and playbooks."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.promfleet.federation.plugins.filter.prometheus_config import scrape_preset


def test_a_kubernetes_preset_comes_back_checked_with_explicit_relabel_rules():
    job = scrape_preset("kubernetes_pods")
    assert job["job_name"] == "kubernetes-pods"
    assert job["kubernetes_sd_configs"] == [{"role": "pod"}]
    assert all("action" in rule and "regex" in rule for rule in job["relabel_configs"])


def test_the_custom_service_preset_takes_its_own_metrics_path():
    job = scrape_preset("kubernetes_service", name="cart", namespace="shop", metrics_path="/internal/metrics")
    assert (job["job_name"], job["metrics_path"]) == ("cart", "/internal/metrics")


def test_an_unknown_option_is_an_error_listing_the_options_of_the_preset():
    with pytest.raises(AnsibleFilterError, match="preset kubernetes_service: .*; it takes name, namespace, "
                                                 "metrics_path, port, job_name"):
        scrape_preset("kubernetes_service", name="cart", path="/x")


def test_an_unknown_preset_is_an_error_listing_the_presets():
    with pytest.raises(AnsibleFilterError, match="unknown preset 'kubernetes_pod'; the presets are node, "):
        scrape_preset("kubernetes_pod")


def test_a_mapping_names_its_preset_so_that_a_list_can_be_mapped():
    job = scrape_preset({"preset": "kubernetes_service", "name": "cart", "port": 8080})
    assert job["job_name"] == "cart"
    assert {"source_labels": ["__address__"], "action": "keep", "regex": ".+:8080"}.items() <= \
        job["relabel_configs"][1].items()


@pytest.mark.parametrize("name", ["kubernetes_pods", "kubernetes_service_endpoints"])
def test_on_3_x_the_presets_of_anyones_applications_fall_back_to_the_text_format(name):
    # 3.x marks a target down when it answers without a Content-Type, unless the job names a fallback.
    assert scrape_preset(name, version="3.5")["fallback_scrape_protocol"] == "PrometheusText0.0.4"
    assert "fallback_scrape_protocol" not in scrape_preset(name, version="2.53")


def test_the_custom_service_preset_falls_back_too():
    job = scrape_preset({"preset": "kubernetes_service", "name": "billing"}, version="3.13")
    assert job["fallback_scrape_protocol"] == "PrometheusText0.0.4"


def test_presets_of_exporters_that_set_their_content_type_have_no_fallback():
    assert "fallback_scrape_protocol" not in scrape_preset("kubernetes_nodes", version="3.5")
