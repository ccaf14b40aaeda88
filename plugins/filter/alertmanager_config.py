# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""Filters of the alertmanager role (docs: alertmanager_config.yml, alertmanager_problems.yml); the
logic is in module_utils/host/alertmanager.py, the model of alertmanager.yml in model/alertmanager.py."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.promfleet.federation.plugins.module_utils.errors import PromfleetError
from ansible_collections.promfleet.federation.plugins.module_utils.host import alertmanager


def alertmanager_config(settings: dict, templates_dir: str) -> dict:
    """alertmanager.yml built from an Alertmanager's settings (the role's variables by name), checked by
    the engine like the release line of ``alertmanager_version`` loads it."""
    try:
        return alertmanager.checked_config(dict(settings or {}), templates_dir)
    except PromfleetError as exc:
        raise AnsibleFilterError(str(exc)) from exc


def alertmanager_problems(settings: dict, templates_dir: str) -> list:
    """What no run could succeed with in an Alertmanager's settings, its alertmanager.yml included."""
    return alertmanager.problems(dict(settings or {}), templates_dir)


class FilterModule:
    """promfleet.federation alertmanager filters."""

    def filters(self) -> dict:
        return {"alertmanager_config": alertmanager_config, "alertmanager_problems": alertmanager_problems}
