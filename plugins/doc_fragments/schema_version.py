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
        from C(2.42) to C(2.55) and from C(3.0) to C(3.13); other versions are refused. It is not
        the release installed on a machine (C(3.13.0)), which names a package or an archive.
      - Fields that version does not know are refused with an error that names the version
        that introduced them (or, for the fields 3.0 removed, the version that removed them).
      - "Relabeling follows that line: before 3.0 an address without a port gets C(:80) or C(:443);
        from 3.0 C(.) matches a newline and any non-empty UTF-8 text is a label name; C((?<name>re))
        is accepted from 2.51 (built with Go 1.22). Checked against C(promtool) of Prometheus 2.42,
        2.53 and 3.5; the other lines are modelled from upstream's changelogs."
      - The default is the current long-term support line, 3.13.
    type: str
    default: "3.13"
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
