# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""The option that names the configuration schema a module checks or simulates config for, and the
attributes of the modules that only compute (``promfleet.federation.schema_version.read_only``)."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  schema_version:
    description:
      - The Prometheus release line (C(major.minor)) whose configuration schema and semantics apply,
        from C(2.42) to C(2.53); other versions are refused. It is not the release installed on a
        machine (C(2.42.0)), which names a package or an archive.
      - Fields that version does not know are refused with an error that names the version
        that introduced them.
      - Relabeling follows Prometheus 2.x, checked against C(promtool) of Prometheus 2.42.
    type: str
    default: "2.42"
    aliases: [prometheus_version]
"""

    # Modules that compute and change nothing on any host.
    READ_ONLY = r"""
attributes:
  check_mode:
    support: full
    description: Runs the same in check mode; it never changes anything.
  diff_mode:
    support: none
    description: Nothing changes, so there is nothing to show.
notes:
  - Always returns C(changed=false).
"""
