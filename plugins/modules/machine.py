#!/usr/bin/python
# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""Module machine: the logic lives in plugins/module_utils/host/machine.py."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: machine
short_description: Make a machine ready for the daemons of the Prometheus ecosystem it runs
version_added: 0.1.0
description:
  - The machine-wide part of running daemons such as Prometheus - what every instance of a machine
    shares. The C(promfleet.federation.daemon) role runs it when an instance finds the machine
    lacking (M(promfleet.federation.daemon) with O(promfleet.federation.daemon#module:machine=report)).
  - It holds the machine's lock (O(lock)) for the whole step, so that several instances of one
    machine that find it lacking at once take turns - the first does the work, the others find it done.
  - In this order, so that nothing is created on a machine where the daemon cannot run - the
    O(packages) (installed with the machine's package manager - apt without recommends, its package
    lists refreshed when they do not know a package) or the release O(archive) (downloaded, its sha256
    checked, unpacked); the O(binaries), which must run (else it fails with O(binaries_hint)); the
    system O(group) and O(user), the machine-wide O(directories); then on systemd the
    O(disable_services) that packages brought are stopped and disabled, and elsewhere supervisord is
    made to run - a supervisord of the collection's own (O(supervisord.private)) also gets its
    directories and its configuration first (its socket and pid file in O(supervisord.run_dir), its
    log in O(supervisord.log_dir)).
  - It resolves O(service_manager=auto) the way the daemons will be run - systemd where it is PID 1,
    supervisord elsewhere - and returns it in RV(service_manager).
author:
  - promfleet maintainers (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - promfleet.federation.host_files
options:
  packages:
    description: Distribution packages the daemons come from; the missing ones are installed.
    type: list
    elements: str
    default: []
  archive:
    description: A release archive the daemons come from (the tarball install method).
    type: dict
    suboptions:
      url:
        description: Where to download it.
        type: str
        required: true
      checksum:
        description:
          - Its checksum, C(sha256:<64 hex digits>), or C(sha256:<URL>) of a checksum list with a line for the
            archive's file name (read once, remembered next to the archive); a download with another checksum
            fails and is not kept.
        type: str
        required: true
      path:
        description: Where the archive is kept on the machine; it is downloaded again when its checksum differs.
        type: path
        required: true
      unpack_dir:
        description: Where it is unpacked, without its top directory (replaced whole).
        type: path
        required: true
      hint:
        description: The setting the user gives O(archive.checksum) with, for the message of a mismatch.
        type: str
        default: the archive checksum
  binaries:
    description: Executables that must run with C(--version) once the packages or the archive are there.
    type: list
    elements: path
    default: []
  package_choice:
    description:
      - The auto install method. The distribution's O(package_choice.packages) replace O(packages) and
        O(archive) when their candidate versions are of release line O(package_choice.line), and
        O(package_choice.binaries) maps the archive's paths in O(binaries) to theirs; otherwise the archive
        stays. Decided at every run.
    type: dict
    suboptions:
      packages:
        description: The packages that carry the daemon.
        type: list
        elements: str
        required: true
      line:
        description: The release line (C(major.minor)) their candidates must be of.
        type: str
        required: true
      binaries:
        description: The archive's paths of the binaries mapped to the packages' paths.
        type: dict
        required: true
  binaries_hint:
    description: What to do when O(binaries) do not run, for the message.
    type: str
    default: install them, or use another install method
  user:
    description: System user the daemons run as; created (no home, no login shell) when missing.
    type: str
    required: true
  group:
    description: Primary group of O(user); created when missing.
    type: str
    required: true
  service_manager:
    description: How the daemons are run; V(auto) is systemd where it is PID 1, supervisord elsewhere.
    type: str
    choices: [auto, systemd, supervisord]
    default: auto
  disable_services:
    description: Services that packages brought and that would run next to the collection's
      instances (Debian's C(prometheus) package starts one on port 9090, C(prometheus-node-exporter) one on
      9100); on systemd stopped and disabled, elsewhere stopped through their init script
      C(/etc/init.d/<name>) when it runs.
    type: list
    elements: str
    default: []
  supervisord:
    description: Where supervisord is the service manager.
    type: dict
    suboptions:
      package:
        description: Package that brings C(supervisord), installed when it is missing.
        type: str
        default: supervisor
      private:
        description: Run a supervisord of the collection's own, configured at O(supervisord.conf).
        type: bool
        default: false
      conf:
        description: Configuration of the supervisord that runs the programs.
        type: path
        default: /etc/supervisor/supervisord.conf
      log_dir:
        description: Where a private supervisord writes its log (C(supervisord.log)), with its programs' logs.
        type: path
        default: /var/log/promfleet
      program_dir:
        description: Directory of the programs the configuration includes.
        type: path
        default: /etc/supervisor/conf.d
      run_dir:
        description: Directory of its socket and pid file (C(supervisord.pid)).
        type: path
        default: /run/promfleet
  lock:
    description: The file whose lock the instances of the machine take turns on.
    type: path
    default: /run/promfleet/machine.lock
attributes:
  check_mode:
    support: full
    details: Says what would be installed, created, stopped or started; nothing changes, and no lock is taken.
  diff_mode:
    support: full
    details: Shows the directories it would create and the private supervisord's configuration.
  platform:
    platforms: posix
notes:
  - Needs root.
seealso:
  - module: promfleet.federation.daemon
"""

EXAMPLES = r"""
- name: Make the machine ready for Prometheus under a supervisord of the collection's own
  promfleet.federation.machine:
    packages: [prometheus]
    binaries: [/usr/bin/prometheus, /usr/bin/promtool]
    user: prometheus
    group: prometheus
    disable_services: [prometheus]
    directories:
      - {path: /var/log/promfleet, mode: "0755"}
    supervisord:
      private: true
      conf: /etc/promfleet/supervisor/supervisord.conf
      program_dir: /etc/promfleet/supervisor/programs

- name: Or from a release archive
  promfleet.federation.machine:
    archive:
      url: https://example.org/prometheus-2.53.3.linux-amd64.tar.gz
      checksum: sha256:0000000000000000000000000000000000000000000000000000000000000000
      path: /opt/promfleet/prometheus-2.53.3.tar.gz
      unpack_dir: /opt/promfleet/prometheus-2.53.3
    binaries: [/opt/promfleet/prometheus-2.53.3/prometheus, /opt/promfleet/prometheus-2.53.3/promtool]
    user: prometheus
    group: prometheus
"""

RETURN = r"""
service_manager:
  description: The service manager the daemons are run with, O(service_manager) resolved.
  returned: always
  type: str
  sample: supervisord
done:
  description: What was done (in check mode, what would be).
  returned: always
  type: list
  elements: str
  sample: [installed the packages prometheus, supervisor, created the system user prometheus]
msg:
  description: What was done.
  returned: always
  type: str
  sample: the machine has everything its daemons need
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.promfleet.federation.plugins.module_utils.errors import PromfleetError
from ansible_collections.promfleet.federation.plugins.module_utils.host import machine


def main() -> None:
    module = AnsibleModule(argument_spec=machine.ARGUMENT_SPEC, supports_check_mode=True)
    try:
        result = machine.converge(module.params, module.check_mode)
    except (PromfleetError, OSError) as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
