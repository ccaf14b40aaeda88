#!/usr/bin/python
# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""Module prometheus_config: the logic lives in plugins/module_utils/host/config_files.py."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: prometheus_config
short_description: Write prometheus.yml and its rule files, validated, atomically
description:
  - Writes a whole C(prometheus.yml) and, optionally, the rule files it loads.
  - The configuration is validated by the collection's engine first (the model of Prometheus
    O(schema_version)); when it fails nothing is written and the error names the job, rule
    and field.
  - The new files are then written to temporary files next to their destinations and checked
    together with C(promtool check config), on a copy of the new configuration whose rule file
    entry names the staged rule files, so promtool checks exactly what will be installed.
    When promtool refuses them nothing is changed and the error is promtool's output.
  - Every destination is replaced with a rename (fsync of the file, C(os.replace), fsync of the
    directory), so a process killed at any time leaves the old or the new file, never part of one.
  - Before the installed C(prometheus.yml) is replaced, it is copied to C(<path>.last-good) when
    it still passes validation (engine, and promtool with the rule files then installed), for a
    rollback by M(promfleet.federation.prometheus_reload). When the module manages the rule files
    (O(rule_files) given), the rule files installed at that moment are kept with it, in one file
    C(<path>.last-good-rules.json), written atomically.
  - Files whose content and attributes are already right are not touched, not even their mtime.
  - Secrets (passwords, credentials, bearer tokens, client secrets, secret headers) never appear
    in the returned values, in the diff or in the logged module arguments; they show as
    C(<redacted>).
  - The module does not reload Prometheus.
author:
  - promfleet maintainers (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - promfleet.federation.schema_version
options:
  path:
    description:
      - Path of the C(prometheus.yml) to write. Its directory must exist.
    type: path
    required: true
  config:
    description:
      - The whole C(prometheus.yml) as a dictionary, written as YAML in block style with the keys in
        the order given.
      - With O(rule_files), C(<rules_dir>/*.yml) is appended to its C(rule_files) list unless an entry
        already names it; other entries are kept.
    type: dict
    required: true
  rule_files:
    description:
      - Rule files to write into O(rules_dir), file name to content (a dictionary with a C(groups)
        list, as in a Prometheus rule file). Names are plain file names ending in C(.yml).
      - When given (even empty), O(rules_dir) is managed by this module, the C(*.yml) files in it are
        exactly these, and any other C(*.yml) file in it is removed; files with other names are left
        alone (Prometheus does not load them).
      - When not given, O(rules_dir) is neither read nor changed.
    type: dict
  rules_dir:
    description:
      - Directory of the rule files. Created (mode O(mode) plus search permission where read is
        granted, owner O(owner), group O(group)) when it is missing and there are files to write.
      - Defaults to the directory C(rules) next to O(path).
    type: path
  owner:
    description:
      - User name or uid that owns the written files. Default is the owner of the file being
        replaced, or the user running the module for a new file.
    type: str
  group:
    description:
      - Group name or gid of the written files. Default is the group of the file being replaced, or
        the group of the user running the module for a new file.
    type: str
  mode:
    description:
      - Mode of the written files, as an octal string like V('0640') (or the number YAML makes of
        an unquoted C(0640)). Symbolic modes are not supported.
    type: raw
    default: '0640'
  promtool:
    description:
      - Path of C(promtool). Default is C(promtool) found on E(PATH).
    type: path
  validate_with_promtool:
    description:
      - V(auto) runs C(promtool check config) when promtool exists, V(always) fails when it does not,
        V(never) relies on the engine alone (rule files are then not checked at all).
    type: str
    choices: [auto, always, never]
    default: auto
attributes:
  platform:
    platforms: posix
  check_mode:
    support: full
    details:
      - The engine validates; promtool (when it runs) checks a copy staged in a temporary directory
        away from the destination. Nothing at the destination is created, changed or removed.
      - In check mode relative paths in the configuration other than C(rule_files) (certificates,
        C(file_sd_configs) files) are resolved by promtool against the temporary directory; use
        absolute paths.
  diff_mode:
    support: full
    details:
      - Shows C(prometheus.yml) with secrets redacted on both sides, and every rule file written
        or removed.
requirements:
  - PyYAML on the managed host (ansible-core depends on it, so it is there when Ansible is).
notes:
  - Leftover temporary files (C(.<name>.<random>.tmp)) can remain next to the destinations when the
    module is killed; Prometheus never loads them.
seealso:
  - name: promtool check config
    description: Prometheus' own validation, which this module runs.
    link: https://prometheus.io/docs/prometheus/latest/command-line/promtool/
"""

EXAMPLES = r"""
- name: Write prometheus.yml and a rule file
  promfleet.federation.prometheus_config:
    path: /etc/prometheus/prometheus.yml
    owner: root
    group: prometheus
    config:
      global:
        scrape_interval: 15s
        external_labels:
          datacenter: eu-west-1
      scrape_configs:
        - job_name: node
          static_configs:
            - targets: ["localhost:9100"]
        - job_name: app
          basic_auth:
            username: scraper
            password: "{{ vault_app_scrape_password }}"
          static_configs:
            - targets: ["app.example.com:8080"]
    rule_files:
      aggregates.yml:
        groups:
          - name: aggregates
            rules:
              - record: job:up:sum
                expr: sum by (job) (up)
  register: prometheus_config
  notify: Reload prometheus

- name: Show what would change, secrets redacted (run with --check --diff)
  promfleet.federation.prometheus_config:
    path: /etc/prometheus/prometheus.yml
    config: "{{ prometheus_config_dict }}"
    validate_with_promtool: always
"""

RETURN = r"""
path:
  description: Absolute path of the prometheus.yml.
  returned: always
  type: str
  sample: /etc/prometheus/prometheus.yml
checksum:
  description: SHA-256 of the prometheus.yml as written (or as it would be written in check mode).
  returned: always
  type: str
  sample: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
rule_files:
  description: Absolute paths of the managed rule files, sorted; empty without O(rule_files).
  returned: always
  type: list
  elements: str
  sample: [/etc/prometheus/rules/aggregates.yml]
mtime:
  description:
    - The latest modification time (seconds since the epoch) of the installed prometheus.yml, rule
      files and rules directory, after this run; null when none exists (check mode on a new host).
    - A server whose C(prometheus_config_last_reload_success_timestamp_seconds) is older has not
      loaded these files, for instance after a run that was interrupted between writing and reloading.
  returned: always
  type: float
  sample: 1795716000.123
backup_path:
  description:
    - Path of the last good prometheus.yml (C(<path>.last-good)) when there is one, else null.
  returned: always
  type: str
  sample: /etc/prometheus/prometheus.yml.last-good
config:
  description:
    - The configuration as validated (relabel rules with every field explicit), secrets replaced by
      C(<redacted>).
  returned: always
  type: dict
  sample: {global: {scrape_interval: 15s}, scrape_configs: [{job_name: app, basic_auth: {username: scraper,
           password: "<redacted>"}, static_configs: [{targets: ["app.example.com:8080"]}]}]}
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.promfleet.federation.plugins.module_utils.errors import PromfleetError
from ansible_collections.promfleet.federation.plugins.module_utils.host import checkers, config_files
from ansible_collections.promfleet.federation.plugins.module_utils.host.files import resolve_attributes
from ansible_collections.promfleet.federation.plugins.module_utils.model import promconfig
from ansible_collections.promfleet.federation.plugins.module_utils.model.documents import YAML_IMPORT_ERROR
from ansible_collections.promfleet.federation.plugins.module_utils.model.redact import redact
from ansible_collections.promfleet.federation.plugins.module_utils.model.versions import DEFAULT_SCHEMA_VERSION

ARGUMENT_SPEC = {
    "path": {"type": "path", "required": True},
    "config": {"type": "dict", "required": True},
    "rule_files": {"type": "dict"},
    "rules_dir": {"type": "path"},
    "owner": {"type": "str"},
    "group": {"type": "str"},
    "mode": {"type": "raw", "default": "0640"},
    "promtool": {"type": "path"},
    "validate_with_promtool": {"type": "str", "choices": ["auto", "always", "never"], "default": "auto"},
    "schema_version": {"type": "str", "default": DEFAULT_SCHEMA_VERSION, "aliases": ["prometheus_version"]},
}


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    params = module.params
    # the logged arguments show the configuration redacted, like the result and the diff
    invocation = {"module_args": dict(params, config=redact(params["config"]))}
    if YAML_IMPORT_ERROR is not None:
        module.fail_json(msg=missing_required_lib("PyYAML"), exception=YAML_IMPORT_ERROR, invocation=invocation)
    try:
        attributes = resolve_attributes(params["owner"], params["group"], params["mode"])
        engine = promconfig.engine(params["schema_version"])
        plan = config_files.plan(params["path"], params["config"], params["rule_files"], params["rules_dir"],
                                 attributes, engine)
        promtool = checkers.find_binary(params["promtool"], params["validate_with_promtool"], "promtool", "promtool")
        checker = checkers.promtool_config(promtool)
        if module.check_mode:
            config_files.check(plan, checker)
            changed = plan.changed
        else:
            changed = config_files.apply(plan, checker, engine)
    except (PromfleetError, OSError) as exc:
        module.fail_json(msg=str(exc), invocation=invocation)
    module.exit_json(invocation=invocation, **config_files.result(plan, changed))


if __name__ == "__main__":
    main()
