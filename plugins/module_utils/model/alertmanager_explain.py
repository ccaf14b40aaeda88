# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""Where an alertmanager.yml routes alerts, explained offline: the logic behind the
``alertmanager_routes`` module, which only maps its parameters to this function."""

from __future__ import annotations

from ansible_collections.promfleet.federation.plugins.module_utils.model.alertmanager import (
    DEFAULT_ALERTMANAGER_VERSION,
    route_alerts,
)


def explain_routes(params: dict) -> dict:
    """The alertmanager_routes module's result for its parameters (``config``, ``alerts``,
    ``version``; unset options None): ``routes``, for each alert the routes that take it, in order.

    Raises ``AlertmanagerConfigError`` for a configuration Alertmanager (or the model) refuses, and
    ``LabelSetError`` for an alert that is not a mapping of label names to strings."""
    version = params.get("version") or DEFAULT_ALERTMANAGER_VERSION
    return {"routes": route_alerts(params.get("config"), params.get("alerts") or [], version)}
