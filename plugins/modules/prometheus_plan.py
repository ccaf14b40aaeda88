# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""Documentation of the prometheus_plan action (plugins/action/prometheus_plan.py)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: prometheus_plan
short_description: Check one Prometheus server's whole configuration once, and plan what it becomes where it runs
version_added: 0.1.0
description:
  - Runs on the controller and changes nothing. It is what the roles' preflight runs for every
    server before any server changes, and what they carry to the steps that write files or apply
    objects, so each configuration goes through the engine once per run.
  - Builds the server's whole C(prometheus.yml) - O(config) with O(scrape_configs) appended to its
    jobs and the entry that loads the rule files - and checks it with the collection's engine for
    O(schema_version) (every job, relabel rule and field; errors name the job, the rule index and
    the field, and say what would be right).
  - For a server on a host (O(deployment=host)) the rule files load from the rules directory of O(daemon). For a server
    in a cluster (O(deployment=kubernetes)) the rule files become ConfigMap keys C(<name>.rules.yml)
    and every object is rendered from O(kubernetes) (its options checked, naming
    C(prometheus_kubernetes.<option>)).
  - Sets the fact O(fact) to the plan. The plan holds C(prometheus.yml), which may hold credentials,
    so the task's result is never shown, not even with C(-v); a failure is, with the engine's message.
author:
  - promfleet maintainers (!UNKNOWN)
extends_documentation_fragment:
  - promfleet.federation.controller
  - promfleet.federation.schema_version.read_only
options:
  deployment:
    description: Where the server runs (the topology's C(deployment), from C(promfleet.federation.deployment)).
    type: str
    choices: [host, kubernetes]
    required: true
  config:
    description: The server's C(prometheus.yml) as its role builds it.
    type: dict
    default: {}
  scrape_configs:
    description: The user's extra scrape jobs, appended to those of O(config).
    type: list
    elements: dict
    default: []
  rule_files:
    description: Rule files, C(<name>.yml) to a mapping with C(groups).
    type: dict
    default: {}
  target_files:
    description:
      - For a server on a host, file_sd target files, a path in O(targets_dir) to its target groups (a list of
        C(targets) and C(labels)), as the C(watched_target_files) filter gives them. Each is checked by the
        engine as a C(static_config) would be, then becomes a file of the daemon description that is written
        atomically without a reload (the server reads it itself).
    type: dict
    default: {}
  targets_dir:
    description:
      - Directory of the target files on the host. The daemon creates it and then holds exactly O(target_files)
        in it, removing a target file no job reads any more.
    type: str
  schema_version:
    description: The configuration schema (C(major.minor)) the engine checks against.
    type: str
    default: "3.13"
  release:
    description:
      - The Prometheus release the server runs (the roles' I(prometheus_version)). For a server on a host,
        the preflight refuses a release the engine does not model, a O(schema_version) newer than the
        release, and server flags the release refuses or ignores (those 3.0 removed, such as
        C(--storage.tsdb.retention); features 3.x ignores, such as C(--enable-feature=agent); flags newer
        than the release), naming the host, the flag and the release.
    type: str
  daemon:
    description:
      - For a server on a host, the description the C(promfleet.federation.daemon) role runs it from
        (C(daemon_description)); required with O(deployment=host).
      - Its C(config.path) and C(config.rules_dir) say where C(prometheus.yml) and the rule files go; its
        C(install) settings are checked (a tarball install without a URL or a C(sha256:<64 hex digits>)
        checksum is refused); the plan carries it with the checked configuration as C(config.content).
    type: dict
  extra_flags:
    description:
      - For a server on a host, the user's extra flags; C(--web.enable-lifecycle) is refused unless the
        server listens on loopback (O(listen_address)) or a C(--web.config.file=) flag is given too.
    type: list
    elements: str
    default: []
  listen_address:
    description: For a server on a host, the address it listens on.
    type: str
    default: ""
  port:
    description: For a server on a host, the port it listens on (for the message).
    type: int
  kubernetes:
    description: The server's C(prometheus_kubernetes) options. Required with O(deployment=kubernetes).
    type: dict
  kubernetes_defaults:
    description: Options a calling role sets under O(kubernetes) (the global role turns service discovery off).
    type: dict
    default: {}
  server:
    description:
      - The host's place in the topology (C(prometheus_server), from the C(topology) entry point of the
        C(prometheus) role).
    type: dict
  server_role:
    description: The role the calling role runs the server for; the host must have it in O(server).
    type: str
    choices: [datacenter, global]
  fact:
    description: Name of the fact that gets the plan.
    type: str
    default: prometheus_plan
notes:
  - The plan is C(deployment), C(config) and C(rule_files), plus for a host C(target_files) and C(daemon) (the
    description with the configuration), for a cluster C(objects) and
    C(kubernetes) (namespace, name, port, reloader, workload, other_workload, owned_labels, last_good,
    field_manager, config_map_data).
seealso:
  - module: promfleet.federation.daemon
  - module: promfleet.federation.prometheus_config
"""

EXAMPLES = r"""
- name: Check the server's configuration before anything changes
  promfleet.federation.prometheus_plan:
    deployment: host
    config: "{{ my_prometheus_yml }}"
    rule_files: {aggregates.yml: "{{ my_rules }}"}
    schema_version: "3.13"
    daemon: "{{ my_daemon_description }}"
"""

RETURN = r"""
ansible_facts:
  description: The fact named by O(fact), holding the plan (never shown).
  returned: success
  type: dict
"""
