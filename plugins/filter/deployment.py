# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""The filter that says where a server runs (docs: deployment.yml); the decision is
module_utils/fleet/topology.py's ``deployment_of``, the one place it is made."""

from __future__ import annotations

from ansible_collections.promfleet.federation.plugins.module_utils.fleet.topology import deployment_of


def deployment(prometheus_kubernetes=None) -> str:
    """``kubernetes`` when the host has ``prometheus_kubernetes`` (given here, None when it has none),
    else ``host``."""
    return deployment_of({} if prometheus_kubernetes is None else {"prometheus_kubernetes": prometheus_kubernetes})


class FilterModule:
    """promfleet.federation deployment filter."""

    def filters(self) -> dict:
        return {"deployment": deployment}
