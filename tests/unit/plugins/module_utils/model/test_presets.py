"""Scrape config presets: their exact form, what their relabeling keeps, and how options merge over them."""

from __future__ import annotations

import pytest

from ansible_collections.promfleet.federation.plugins.module_utils.errors import PresetError
from ansible_collections.promfleet.federation.plugins.module_utils.model import presets
from ansible_collections.promfleet.federation.plugins.module_utils.model.presets import (
    PRESETS,
    go_quote_meta,
    merge_preset,
    preset,
)
from ansible_collections.promfleet.federation.plugins.module_utils.model.promconfig import (
    normalize_scrape_config,
)
from ansible_collections.promfleet.federation.plugins.module_utils.model.targets import target_labels

CA_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"
TOKEN_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/token"
ARGUMENTS = {"kubernetes_service": {"name": "billing-api"}}


def scraped(config: dict, discovered: dict) -> dict | None:
    """The target's final labels under the preset's job (kubernetes SD stood in by ``discovered``)."""
    return target_labels(discovered, config)


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_passes_the_config_model(name):
    config = preset(name, **ARGUMENTS.get(name, {}))
    assert normalize_scrape_config(config)["job_name"] == config["job_name"]


def test_node_scrapes_localhost_9100_by_default():
    assert preset("node") == {"job_name": "node", "static_configs": [{"targets": ["localhost:9100"]}]}


def test_node_takes_its_targets():
    assert preset("node", targets=["a:9100", "b:9100"])["static_configs"] == [{"targets": ["a:9100", "b:9100"]}]


def test_kubernetes_apiservers_keeps_the_https_endpoint_of_default_kubernetes():
    assert preset("kubernetes_apiservers") == {
        "job_name": "kubernetes-apiservers",
        "scheme": "https",
        "tls_config": {"ca_file": CA_FILE},
        "authorization": {"credentials_file": TOKEN_FILE},
        "kubernetes_sd_configs": [{"role": "endpoints"}],
        "relabel_configs": [
            {
                "source_labels": [
                    "__meta_kubernetes_namespace",
                    "__meta_kubernetes_service_name",
                    "__meta_kubernetes_endpoint_port_name",
                ],
                "action": "keep",
                "regex": "default;kubernetes;https",
            }
        ],
    }


def test_kubernetes_apiservers_drops_other_endpoints():
    endpoint = {
        "__address__": "10.0.0.1:6443",
        "__meta_kubernetes_namespace": "default",
        "__meta_kubernetes_service_name": "kubernetes",
        "__meta_kubernetes_endpoint_port_name": "metrics",
    }
    assert scraped(preset("kubernetes_apiservers"), endpoint) is None


def test_kubernetes_nodes_scrape_kubelets_with_node_labels():
    node = {"__address__": "10.0.0.5:10250", "__meta_kubernetes_node_label_zone": "a"}
    assert scraped(preset("kubernetes_nodes"), node) == {
        "__address__": "10.0.0.5:10250",
        "__metrics_path__": "/metrics",
        "__scheme__": "https",
        "__scrape_interval__": "1m",
        "__scrape_timeout__": "10s",
        "instance": "10.0.0.5:10250",
        "job": "kubernetes-nodes",
        "zone": "a",
    }


def test_kubernetes_cadvisor_is_the_kubelet_at_metrics_cadvisor():
    config = preset("kubernetes_cadvisor")
    assert (config["metrics_path"], config["kubernetes_sd_configs"]) == ("/metrics/cadvisor", [{"role": "node"}])


ANNOTATED_SERVICE = {
    "__address__": "10.1.2.3:8080",
    "__meta_kubernetes_namespace": "shop",
    "__meta_kubernetes_service_name": "cart",
    "__meta_kubernetes_service_label_app": "cart",
    "__meta_kubernetes_service_annotation_prometheus_io_scrape": "true",
    "__meta_kubernetes_service_annotation_prometheus_io_scheme": "https",
    "__meta_kubernetes_service_annotation_prometheus_io_path": "/stats",
    "__meta_kubernetes_service_annotation_prometheus_io_port": "9102",
    "__meta_kubernetes_pod_node_name": "n1",
}


def test_kubernetes_service_endpoints_takes_scheme_path_and_port_from_annotations():
    assert scraped(preset("kubernetes_service_endpoints"), ANNOTATED_SERVICE) == {
        "__address__": "10.1.2.3:9102",
        "__metrics_path__": "/stats",
        "__scheme__": "https",
        "__scrape_interval__": "1m",
        "__scrape_timeout__": "10s",
        "app": "cart",
        "instance": "10.1.2.3:9102",
        "job": "kubernetes-service-endpoints",
        "namespace": "shop",
        "node": "n1",
        "service": "cart",
    }


def test_kubernetes_service_endpoints_drops_services_without_the_scrape_annotation():
    endpoint = dict(ANNOTATED_SERVICE, __meta_kubernetes_service_annotation_prometheus_io_scrape="false")
    assert scraped(preset("kubernetes_service_endpoints"), endpoint) is None


def test_kubernetes_pods_drops_pods_that_are_not_running():
    pod = {
        "__address__": "10.1.2.4",
        "__meta_kubernetes_pod_annotation_prometheus_io_scrape": "true",
        "__meta_kubernetes_pod_phase": "Succeeded",
    }
    assert scraped(preset("kubernetes_pods"), pod) is None


def test_kubernetes_pods_adds_the_annotated_port_to_an_address_without_one():
    pod = {
        "__address__": "10.1.2.4",
        "__meta_kubernetes_namespace": "shop",
        "__meta_kubernetes_pod_name": "cart-0",
        "__meta_kubernetes_pod_annotation_prometheus_io_scrape": "true",
        "__meta_kubernetes_pod_annotation_prometheus_io_port": "9102",
        "__meta_kubernetes_pod_phase": "Running",
    }
    assert scraped(preset("kubernetes_pods"), pod)["instance"] == "10.1.2.4:9102"


def test_kubernetes_service_picks_the_service_by_name_in_its_namespace():
    assert preset("kubernetes_service", name="billing-api", namespace="shop", metrics_path="/internal/metrics") == {
        "job_name": "billing-api",
        "metrics_path": "/internal/metrics",
        "kubernetes_sd_configs": [{"role": "endpoints", "namespaces": {"names": ["shop"]}}],
        "relabel_configs": [
            {
                "source_labels": ["__meta_kubernetes_namespace", "__meta_kubernetes_service_name"],
                "action": "keep",
                "regex": "shop;billing-api",
            },
            {"source_labels": ["__meta_kubernetes_namespace"], "action": "replace", "target_label": "namespace"},
            {"source_labels": ["__meta_kubernetes_service_name"], "action": "replace", "target_label": "service"},
            {"source_labels": ["__meta_kubernetes_pod_name"], "action": "replace", "target_label": "pod"},
        ],
    }


def service(name: str, namespace: str = "shop", port_name: str = "http", port: str = "8080") -> dict:
    """One endpoint of service ``name``: a pod's address and port, as role endpoints finds it."""
    return {
        "__address__": "10.1.2.3:%s" % port,
        "__meta_kubernetes_namespace": namespace,
        "__meta_kubernetes_service_name": name,
        "__meta_kubernetes_endpoint_port_name": port_name,
        "__meta_kubernetes_pod_name": "%s-7d9f" % name,
    }


def test_kubernetes_service_keeps_each_pod_of_the_named_service_with_its_metrics_path():
    config = preset("kubernetes_service", name="billing-api", metrics_path="/internal/metrics")
    assert scraped(config, service("billing-api")) == {
        "__address__": "10.1.2.3:8080",
        "__metrics_path__": "/internal/metrics",
        "__scheme__": "http",
        "__scrape_interval__": "1m",
        "__scrape_timeout__": "10s",
        "instance": "10.1.2.3:8080",
        "job": "billing-api",
        "namespace": "shop",
        "pod": "billing-api-7d9f",
        "service": "billing-api",
    }


def test_kubernetes_service_name_match_is_anchored():
    config = preset("kubernetes_service", name="billing-api")
    assert [scraped(config, service(name)) for name in ("billing-api-v2", "old-billing-api")] == [None, None]


def test_kubernetes_service_name_matches_literally():
    config = preset("kubernetes_service", name="a.b")
    assert scraped(config, service("axb")) is None


def test_kubernetes_service_drops_other_namespaces():
    config = preset("kubernetes_service", name="billing-api", namespace="shop")
    assert scraped(config, service("billing-api", namespace="staging")) is None


def test_kubernetes_service_port_number_keeps_that_port_only():
    config = preset("kubernetes_service", name="billing-api", port=9090)
    kept = [scraped(config, service("billing-api", port=port)) is not None for port in ("8080", "9090")]
    assert kept == [False, True]


def test_kubernetes_service_port_name_keeps_that_port_only():
    config = preset("kubernetes_service", name="billing-api", port="metrics")
    kept = [scraped(config, service("billing-api", port_name=name)) is not None for name in ("http", "metrics")]
    assert kept == [False, True]


def test_kubernetes_service_needs_a_name():
    with pytest.raises(PresetError, match=r"^preset kubernetes_service needs name, the name of the service, got ''$"):
        preset("kubernetes_service", name="")


def test_unknown_preset_lists_the_presets():
    with pytest.raises(PresetError) as info:
        preset("nodes")
    assert str(info.value) == (
        "unknown preset 'nodes'; the presets are node, kubernetes_apiservers, kubernetes_nodes, kubernetes_cadvisor, "
        "kubernetes_service_endpoints, kubernetes_pods, kubernetes_service"
    )


def test_unknown_preset_option_names_what_the_preset_takes():
    with pytest.raises(PresetError) as info:
        preset("node", target=["a:9100"])
    assert str(info.value) == "preset node: got an unexpected keyword argument 'target'; it takes job_name, targets"


def test_merge_replaces_the_presets_values_with_the_given_ones():
    merged = merge_preset(preset("kubernetes_cadvisor"), {"job_name": "cadvisor", "metrics_path": "/cadvisor"})
    assert (merged["job_name"], merged["metrics_path"], merged["scheme"]) == ("cadvisor", "/cadvisor", "https")


def test_merge_ignores_options_not_given():
    assert merge_preset({"job_name": "node", "scheme": "https"}, {"scheme": None}) == {
        "job_name": "node",
        "scheme": "https",
    }


def test_merge_appends_relabel_rules_after_the_presets():
    base = {"job_name": "j", "relabel_configs": [{"action": "labeldrop", "regex": "a"}]}
    merged = merge_preset(base, {"relabel_configs": [{"action": "labeldrop", "regex": "b"}]})
    assert merged["relabel_configs"] == [{"action": "labeldrop", "regex": "a"}, {"action": "labeldrop", "regex": "b"}]


def test_go_quote_meta_escapes_what_go_escapes():
    assert go_quote_meta("a.b+c*d?e(f)g|h[i]j{k}l^m$n\\o-p_q") == (
        "a\\.b\\+c\\*d\\?e\\(f\\)g\\|h\\[i\\]j\\{k\\}l\\^m\\$n\\\\o-p_q"
    )


def test_a_fallback_protocol_the_config_sets_is_kept_on_3_x():
    config = {"job_name": "pods", "fallback_scrape_protocol": "OpenMetricsText1.0.0"}
    assert presets.for_version(config, "kubernetes_pods", "3.5") == config
