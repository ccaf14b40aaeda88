# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""The attributes of the action plugins that run on the controller only."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
attributes:
  action:
    support: full
    description: Runs on the controller only.
  platform:
    support: full
    platforms: all
    description: It runs on the controller, whatever the target.
"""
