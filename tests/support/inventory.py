"""Ansible's own inventory machinery, for tests that hand filters the `hostvars` a play would."""

from __future__ import annotations

from pathlib import Path

from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import init_plugin_loader
from ansible.vars.hostvars import HostVars
from ansible.vars.manager import VariableManager


def hostvars_for(*sources: Path | str) -> HostVars:
    """The ``hostvars`` of a play over the inventory ``sources`` (files or directories)."""
    # Inventory variables may use lookups (the local inventory reads the releases index).
    init_plugin_loader([str(Path(__file__).resolve().parents[2] / "collections")])
    loader = DataLoader()
    inventory = InventoryManager(loader=loader, sources=[str(s) for s in sources])
    variable_manager = VariableManager(loader=loader, inventory=inventory)
    return HostVars(inventory, variable_manager, loader)
