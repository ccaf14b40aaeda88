# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""Options shared by the modules that set up a host for daemons (``daemon`` and ``machine``)."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  directories:
    description:
      - Directories, created in order when missing, then given the owner, group and mode listed.
      - A directory's parent must exist or come earlier in the list.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: The directory.
        type: path
        required: true
      owner:
        description: Owner (user name or id).
        type: str
      group:
        description: Group (name or id).
        type: str
      mode:
        description: Mode, in octal.
        type: raw
        default: "0755"
"""
