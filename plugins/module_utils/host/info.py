# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""What a Prometheus server knows, for the ``prometheus_info`` module and ``playbooks/verify.yml``."""

from __future__ import annotations

from ansible_collections.promfleet.federation.plugins.module_utils.host.client import PrometheusClient
from ansible_collections.promfleet.federation.plugins.module_utils.model.redact import redact

INFO_PARTS = ("targets", "buildinfo", "runtimeinfo", "flags", "config", "reload")


def gather_info(client: PrometheusClient, gather: list, queries: list, targets_state: str = "any") -> dict:
    """The parts of ``INFO_PARTS`` named in ``gather`` and the results of the instant ``queries``.
    The configuration is redacted."""
    info = {}
    if "targets" in gather:
        info["targets"] = client.targets(targets_state)
    for part in ("buildinfo", "runtimeinfo", "flags"):
        if part in gather:
            info[part] = getattr(client, part)()
    if "config" in gather:
        info["config"] = redact(client.status_config())
    if "reload" in gather:
        info["reload"] = client.reload_state()
    if queries:
        info["queries"] = [dict(client.query(promql), query=promql) for promql in queries]
    return info
