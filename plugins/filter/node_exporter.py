# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""Filters of the node_exporter role (docs: node_exporter_problems.yml); the logic is in
module_utils/host/node_exporter.py."""

from __future__ import annotations

from ansible_collections.promfleet.federation.plugins.module_utils.host.node_exporter import problems


def node_exporter_problems(settings: dict) -> list:
    """What no run could succeed with in a node_exporter's settings (the role's variables by name)."""
    return problems(dict(settings or {}))


class FilterModule:
    """promfleet.federation node_exporter filters."""

    def filters(self) -> dict:
        return {"node_exporter_problems": node_exporter_problems}
