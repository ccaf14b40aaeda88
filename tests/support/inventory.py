"""Ansible's own inventory machinery, for tests that hand filters the `hostvars` a play would."""

from __future__ import annotations

from pathlib import Path

from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
from ansible.vars.hostvars import HostVars
from ansible.vars.manager import VariableManager


def hostvars_for(*sources: Path | str) -> HostVars:
    """The ``hostvars`` of a play over the inventory ``sources`` (files or directories)."""
    loader = DataLoader()
    inventory = InventoryManager(loader=loader, sources=[str(s) for s in sources])
    variable_manager = VariableManager(loader=loader, inventory=inventory)
    return HostVars(inventory, variable_manager, loader)
