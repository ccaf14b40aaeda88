"""The relabel module run by ansible: its result, and its failure with the engine's message."""

from __future__ import annotations

import fleet

SERVICE_RULE = {"source_labels": ["__meta_kubernetes_service_name"], "target_label": "service"}
KEEP_SHOP = {"source_labels": ["__meta_kubernetes_namespace"], "regex": "shop", "action": "keep"}


def run_module(args: dict, *options: str) -> dict:
    """The result of ``ansible localhost -m promfleet.federation.relabel -a <args>``."""
    return fleet.run_module("promfleet.federation.relabel", args, *options)


def test_module_runs_through_ansible_in_check_mode():
    host = run_module({"rules": [KEEP_SHOP, SERVICE_RULE],
                       "labels": [{"__meta_kubernetes_namespace": "shop", "__meta_kubernetes_service_name": "cart"},
                                  {"__meta_kubernetes_namespace": "staging"}]}, "--check")
    assert (host["changed"], host["results"], len(host["rules"])) == (
        False,
        [{"labels": {"__meta_kubernetes_namespace": "shop", "__meta_kubernetes_service_name": "cart",
                     "service": "cart"}, "dropped": False},
         {"labels": None, "dropped": True}],
        2,
    )


def test_module_fails_with_the_engines_message():
    host = run_module({"rules": [{"action": "keepequal", "source_labels": ["a"]}]})
    assert (host.get("failed"), host["msg"]) == (True, "relabel rule 1: action keepequal needs target_label")
