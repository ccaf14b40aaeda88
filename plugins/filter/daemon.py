# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""Filters of the daemon machinery (docs: daemon_install_problems.yml); the logic is in
module_utils/host/description.py."""

from __future__ import annotations

from ansible_collections.promfleet.federation.plugins.module_utils.host.description import install_problems


def daemon_install_problems(install: dict) -> list:
    """What no run could succeed with in a daemon's install settings (``daemon_description.install``)."""
    return install_problems(dict(install or {}))


class FilterModule:
    """promfleet.federation daemon filters."""

    def filters(self) -> dict:
        return {"daemon_install_problems": daemon_install_problems}
