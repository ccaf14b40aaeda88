#!/usr/bin/python
# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""Module daemon: the logic lives in plugins/module_utils/host/daemon.py."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: daemon
short_description: Run one instance of a Prometheus-ecosystem daemon, its configuration proven live
version_added: 0.1.0
description:
  - Converges one instance of a daemon such as Prometheus on a host in one go, in this order - the
    machine-wide step when the machine lacks what the instance needs (O(machine)); its O(directories);
    its configuration (O(config)) and other O(files), each checked by the daemon's
    own checker (C(promtool check config), C(promtool check web-config)) on a staged copy before it
    replaces the old one, written atomically, with the previous good configuration kept as
    C(<path>.last-good); its systemd unit or supervisord program (from O(binary), O(flags), O(user)
    and the like); the
    service, started when it does not run and restarted only when its definition changed or it runs
    a binary that was replaced since it started (a package upgrade); and the reload.
  - In each of O(owned_dirs), every regular file that is not one of O(files) (nor the configuration and its last
    good copies) is removed.
  - A configuration change (or a change of one of O(files) whose O(files[].reload) is true) reloads the instance
    without a restart (SIGHUP through the service
    manager, or C(POST /-/reload)), proves it live (C(<prefix>_config_last_reload_successful) is 1,
    its success timestamp moved on and, for Prometheus, the configuration the server reports equals
    the file; for Alertmanager, C(alertmanager_config_hash) is the hash of the file) and, when it is not,
    puts the last good files back, reloads them and fails with the daemon's reason and its checker's.
  - The files are also reloaded when they are newer than the configuration the daemon last loaded,
    so a run interrupted between its write and its reload converges on the next one.
  - With O(state=absent) it stops the instance and removes its unit or program and O(remove); the last
    instance of a private supervisord stops it, one instance at a time.
  - The O(config) is written as given (it is not checked by the collection's engine again; the
    roles check it before any change, M(promfleet.federation.prometheus_config) does both).
author:
  - promfleet maintainers (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - promfleet.federation.host_files
  - promfleet.federation.prometheus_connection
options:
  name:
    description: Instance name - of the systemd unit (C(<name>.service)) or supervisord program (C(<name>.conf)).
    type: str
    required: true
  state:
    description: V(present) converges the instance, V(absent) stops and removes it.
    type: str
    choices: [present, absent]
    default: present
  binary:
    description:
      - The executable the instance runs. A running process whose executable
        was replaced (C(/proc/<pid>/exe) is another file, or deleted) is restarted.
      - Required with O(state=present).
    type: path
  title:
    description: What the unit's C(Description) says, e.g. C(Prometheus eu-west-1-a (promfleet.federation)).
    type: str
  user:
    description: The user the instance runs as.
    type: str
  group:
    description: The group the instance runs as.
    type: str
  flags:
    description: Its command line flags. A change restarts it.
    type: list
    elements: str
    default: []
  stop_timeout:
    description:
      - Seconds it has to stop (Prometheus flushes its head block).
      - With O(state=absent), also how long O(port) may take to become free.
    type: int
    default: 90
  writable:
    description: Under systemd, the only paths it may write (C(ReadWritePaths); the rest is read-only).
    type: list
    elements: path
    default: []
  log_dir:
    description: Under supervisord, where its output goes (C(<log_dir>/<name>.log)).
    type: path
    default: /var/log/promfleet
  service_manager:
    description: V(auto) is systemd where it is PID 1, supervisord elsewhere.
    type: str
    choices: [auto, systemd, supervisord]
    default: auto
  systemd_unit_dir:
    description: Where the unit is written.
    type: path
    default: /etc/systemd/system
  supervisord_conf:
    description: Configuration of the supervisord that runs the program (C(supervisorctl -c)).
    type: path
    default: /etc/supervisor/supervisord.conf
  supervisord_program_dir:
    description: Directory that supervisord includes, where the program is written.
    type: path
    default: /etc/supervisor/conf.d
  supervisord_private:
    description: The supervisord is the collection's own; O(state=absent) stops it when no program is left.
    type: bool
    default: false
  supervisord_run_dir:
    description: Directory of the private supervisord's pid file, and of the lock that serializes removals.
    type: path
    default: /run/promfleet
  machine:
    description:
      - The machine-wide step, with the options of M(promfleet.federation.machine) - run first, on the machine's
        lock, when the machine lacks what the instance needs (its O(binary) and checkers, the users and groups its
        files belong to, the machine's C(directories), supervisord running). A re-run on a ready machine
        does not run it.
      - Without it, a machine that lacks something fails the task, naming what is missing.
    type: dict
  config:
    description:
      - The main configuration, as a mapping written as deterministic YAML. Secrets in it never appear
        in the diff, the result or the logged arguments.
    type: dict
    suboptions:
      path:
        description: The file (e.g. C(prometheus.yml), C(alertmanager.yml)).
        type: path
        required: true
      content:
        description: The configuration.
        type: dict
        required: true
      kind:
        description:
          - What the configuration is, which says how its secrets are redacted - V(prometheus) (C(<redacted>)),
            V(alertmanager) (C(<secret>), as Alertmanager shows them - receiver URLs and keys included).
        type: str
        choices: [prometheus, alertmanager]
        default: prometheus
      rule_files:
        description:
          - Rule files (C(<name>.yml) to a mapping with C(groups)), written to O(config.rules_dir), which
            then holds exactly these; C(<rules_dir>/*.yml) is added to the configuration's C(rule_files).
        type: dict
      rules_dir:
        description: Directory of the rule files (default C(rules) next to O(config.path)).
        type: path
      owner:
        description: Owner of the files.
        type: str
      group:
        description: Group of the files.
        type: str
      mode:
        description: Mode of the files, in octal.
        type: raw
        default: "0640"
      checker:
        description:
          - The daemon's checker, without the file, e.g. V([/usr/bin/promtool, check, config]); it runs
            on a staged copy whose rule file entry names the staged rule files.
        type: list
        elements: str
  files:
    description:
      - Other files of the instance (a web config with TLS and basic auth, Prometheus' file_sd target files), each
        checked by its checker first and written atomically (a temporary file in the same directory, then a rename).
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: The file.
        type: path
        required: true
      content:
        description: Its text.
        type: str
        required: true
      owner:
        description: Owner.
        type: str
      group:
        description: Group.
        type: str
      mode:
        description: Mode, in octal.
        type: raw
        default: "0640"
      checker:
        description: Checker run on the staged file, without the file, e.g. V([/usr/bin/promtool, check, web-config]).
        type: list
        elements: str
      reload:
        description:
          - Whether a change of its content reloads the instance (with O(config)). V(false) for a file the daemon
            rereads by itself (Prometheus' file_sd target files); it is still checked, written atomically, shown
            in the diff and named in RV(msg).
        type: bool
        default: true
      secret:
        description:
          - Whether it holds a secret (a private key, a password) - its content is then never shown, neither in the
            diff (which says that it changes, with a short digest of each side) nor in the module's arguments in
            the output.
        type: bool
        default: false
  owned_dirs:
    description:
      - Directories that hold exactly the O(files) in them; any other regular file directly in one of them is
        removed (named in RV(msg) and the diff; in check mode only reported). The configuration and its last good
        copies are kept too; subdirectories and symbolic links are left alone.
      - Each must also be one of O(directories), which creates it.
      - A removal never reloads the instance - give an owned directory only files with O(files[].reload=false),
        which the daemon rereads by itself, or files that the configuration names one by one (Alertmanager's
        templates) - a file that is not one of O(files) then is no file the configuration loads.
    type: list
    elements: path
    default: []
  ready_path:
    description:
      - The HTTP path whose 200 answer means a (re)started instance serves; it is asked until O(start_timeout).
      - V(/-/ready) for Prometheus and Alertmanager; an exporter without it names another (node_exporter V(/metrics)).
    type: str
    default: /-/ready
  reload_method:
    description: V(signal) sends SIGHUP through the service manager, V(http) posts C(/-/reload), V(none) never reloads.
    type: str
    choices: [signal, http, none]
    default: signal
  reload_proof:
    description:
      - Prefix of the metrics that prove a reload, C(<prefix>_config_last_reload_successful) and
        C(<prefix>_config_last_reload_success_timestamp_seconds) (V(prometheus), V(alertmanager)).
    type: str
    default: prometheus
  compare_config:
    description:
      - After a reload, also compare the configuration the server reports (C(/api/v1/status/config)) with the file.
    type: bool
    default: true
  compare_hash:
    description:
      - After a reload, also check that C(<prefix>_config_hash) is the hash of the file (Alertmanager's
        C(alertmanager_config_hash), the first 48 bits of its md5), so it moved when the file changed.
    type: bool
    default: false
  start_timeout:
    description: Seconds a (re)started instance has to answer O(ready_path) with 200.
    type: int
    default: 60
  reload_timeout:
    description: Seconds a reload has to be proven.
    type: float
    default: 30
  remove:
    description: With O(state=absent), the files and directories to remove (configuration, data, logs).
    type: list
    elements: path
    default: []
  port:
    description: With O(state=absent), the port the instance listened on; the module waits until it is free.
    type: int
  port_host:
    description: The address to check O(port) on.
    type: str
    default: 127.0.0.1
attributes:
  check_mode:
    support: full
    details:
      - Says what would be created, written, started, restarted or reloaded, with the diffs; nothing
        changes. The checker checks staged copies when it is installed; on a machine where it is not
        yet, the result says so.
  diff_mode:
    support: full
    details:
      - The configuration is shown with secrets replaced by C(<redacted>) (C(<secret>) for
        O(config.kind=alertmanager)).
  platform:
    platforms: posix
seealso:
  - module: promfleet.federation.machine
  - module: promfleet.federation.prometheus_config
  - module: promfleet.federation.prometheus_reload
"""

EXAMPLES = r"""
- name: Run Prometheus eu-west-1-a under supervisord
  promfleet.federation.daemon:
    name: promfleet-eu-west-1-a
    binary: /usr/bin/prometheus
    title: Prometheus eu-west-1-a (promfleet.federation)
    user: prometheus
    group: prometheus
    flags:
      - --config.file=/etc/promfleet/promfleet-eu-west-1-a/prometheus.yml
      - --storage.tsdb.path=/var/lib/promfleet/promfleet-eu-west-1-a
      - --web.listen-address=127.0.0.1:9090
    writable: [/var/lib/promfleet/promfleet-eu-west-1-a]
    service_manager: supervisord
    url: http://127.0.0.1:9090
    directories:
      - {path: /etc/promfleet/promfleet-eu-west-1-a, owner: root, group: prometheus, mode: "0750"}
      - {path: /var/lib/promfleet/promfleet-eu-west-1-a, owner: prometheus, group: prometheus, mode: "0750"}
      - {path: /etc/promfleet/promfleet-eu-west-1-a/targets, owner: root, group: prometheus, mode: "0750"}
    config:
      path: /etc/promfleet/promfleet-eu-west-1-a/prometheus.yml
      content: "{{ my_prometheus_yml }}"
      rule_files: {aggregates.yml: "{{ my_rules }}"}
      group: prometheus
      checker: [/usr/bin/promtool, check, config]
    # file_sd targets: Prometheus rereads them itself, no reload; other files in targets/ are removed.
    files:
      - path: /etc/promfleet/promfleet-eu-west-1-a/targets/node.json
        content: "{{ [{'targets': ['10.0.0.1:9100', '10.0.0.2:9100']}] | to_json }}"
        group: prometheus
        reload: false
    owned_dirs: [/etc/promfleet/promfleet-eu-west-1-a/targets]

- name: Run node_exporter, ready when /metrics answers
  promfleet.federation.daemon:
    name: promfleet-node-exporter-eu-west-1-a
    binary: /usr/bin/prometheus-node-exporter
    title: Prometheus node_exporter (promfleet.federation)
    user: node-exporter
    group: node-exporter
    flags: [--web.listen-address=0.0.0.0:9100, --no-collector.systemd]
    service_manager: supervisord
    url: http://127.0.0.1:9100
    ready_path: /metrics
    reload_method: none

- name: Run Alertmanager, its receivers' secrets redacted in the diff, a reload proven by its config hash
  promfleet.federation.daemon:
    name: promfleet-alertmanager-am-a
    binary: /usr/bin/prometheus-alertmanager
    title: Alertmanager am-a (promfleet.federation)
    user: alertmanager
    group: alertmanager
    flags:
      - --config.file=/etc/promfleet/promfleet-alertmanager-am-a/alertmanager.yml
      - --storage.path=/var/lib/promfleet/promfleet-alertmanager-am-a
      - --web.listen-address=127.0.0.1:9093
      - --cluster.listen-address=
    service_manager: supervisord
    url: http://127.0.0.1:9093
    directories:
      - {path: /etc/promfleet/promfleet-alertmanager-am-a, owner: root, group: alertmanager, mode: "0750"}
      - {path: /var/lib/promfleet/promfleet-alertmanager-am-a, owner: alertmanager, group: alertmanager, mode: "0750"}
    config:
      path: /etc/promfleet/promfleet-alertmanager-am-a/alertmanager.yml
      kind: alertmanager
      content: "{{ my_alertmanager_yml }}"
      group: alertmanager
      checker: [/usr/bin/amtool, check-config]
    reload_proof: alertmanager
    compare_config: false
    compare_hash: true

- name: Remove it again, with its data
  promfleet.federation.daemon:
    name: promfleet-eu-west-1-a
    state: absent
    service_manager: supervisord
    remove: [/etc/promfleet/promfleet-eu-west-1-a, /var/lib/promfleet/promfleet-eu-west-1-a]
    port: 9090
"""

RETURN = r"""
msg:
  description: What was done (in check mode, what would be).
  returned: always
  type: str
  sample: wrote /etc/promfleet/promfleet-eu-west-1-a/prometheus.yml; reloaded and verified in 0.012 s
service_manager:
  description: The service manager of the instance, O(service_manager) resolved.
  returned: always
  type: str
  sample: supervisord
service_action:
  description: V(started) or V(restarted) when the service was, else null.
  returned: with O(state=present)
  type: str
  sample: started
reload:
  description:
    - The reload, as M(promfleet.federation.prometheus_reload) returns it (method, reload_seconds,
      last_reload_success_timestamp, config_differences, msg); null when none was due.
    - With O(compare_hash), also config_hash (before, after and the file's).
  returned: with O(state=present)
  type: dict
  sample: {method: signal, reload_seconds: 0.012, rolled_back: false, msg: reloaded with SIGHUP ...}
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.promfleet.federation.plugins.module_utils.errors import PromfleetError
from ansible_collections.promfleet.federation.plugins.module_utils.host import config_files, daemon, machine
from ansible_collections.promfleet.federation.plugins.module_utils.host.client import (
    CONNECTION_ARGUMENT_SPEC,
    CONNECTION_MUTUALLY_EXCLUSIVE,
    CONNECTION_REQUIRED_TOGETHER,
    READY_PATH,
    PrometheusClient,
)
from ansible_collections.promfleet.federation.plugins.module_utils.host.service import MANAGERS
from ansible_collections.promfleet.federation.plugins.module_utils.model import documents
from ansible_collections.promfleet.federation.plugins.module_utils.model.documents import YAML_IMPORT_ERROR

_FILE = {
    "path": {"type": "path", "required": True},
    "owner": {"type": "str"},
    "group": {"type": "str"},
    "mode": {"type": "raw", "default": "0640"},
    "checker": {"type": "list", "elements": "str"},
}
ARGUMENT_SPEC = dict(
    CONNECTION_ARGUMENT_SPEC,
    name={"type": "str", "required": True},
    state={"type": "str", "choices": ["present", "absent"], "default": "present"},
    binary={"type": "path"},
    title={"type": "str"},
    user={"type": "str"},
    group={"type": "str"},
    flags={"type": "list", "elements": "str", "default": []},
    stop_timeout={"type": "int", "default": 90},
    writable={"type": "list", "elements": "path", "default": []},
    log_dir={"type": "path", "default": "/var/log/promfleet"},
    service_manager={"type": "str", "choices": list(MANAGERS), "default": "auto"},
    systemd_unit_dir={"type": "path", "default": "/etc/systemd/system"},
    supervisord_conf={"type": "path", "default": "/etc/supervisor/supervisord.conf"},
    supervisord_program_dir={"type": "path", "default": "/etc/supervisor/conf.d"},
    supervisord_private={"type": "bool", "default": False},
    supervisord_run_dir={"type": "path", "default": "/run/promfleet"},
    machine={"type": "dict"},
    directories={"type": "list", "elements": "dict", "default": [], "options": {
        "path": {"type": "path", "required": True},
        "owner": {"type": "str"},
        "group": {"type": "str"},
        "mode": {"type": "raw", "default": "0755"},
    }},
    config={"type": "dict", "options": dict(
        _FILE,
        content={"type": "dict", "required": True},
        kind={"type": "str", "choices": list(config_files.KINDS), "default": config_files.PROMETHEUS},
        rule_files={"type": "dict"},
        rules_dir={"type": "path"},
    )},
    files={"type": "list", "elements": "dict", "default": [], "options": dict(
        _FILE,
        content={"type": "str", "required": True},
        reload={"type": "bool", "default": True},
        secret={"type": "bool", "default": False},
    )},
    owned_dirs={"type": "list", "elements": "path", "default": []},
    ready_path={"type": "str", "default": READY_PATH},
    reload_method={"type": "str", "choices": ["signal", "http", "none"], "default": "signal"},
    reload_proof={"type": "str", "default": "prometheus"},
    compare_config={"type": "bool", "default": True},
    compare_hash={"type": "bool", "default": False},
    start_timeout={"type": "int", "default": 60},
    reload_timeout={"type": "float", "default": 30.0},
    remove={"type": "list", "elements": "path", "default": []},
    port={"type": "int"},
    port_host={"type": "str", "default": "127.0.0.1"},
)


def main() -> None:
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC,
        mutually_exclusive=CONNECTION_MUTUALLY_EXCLUSIVE,
        required_together=CONNECTION_REQUIRED_TOGETHER,
        required_if=[("state", "present", ("binary", "title", "user", "group"))],
        supports_check_mode=True,
    )
    params = module.params
    # The logged arguments show the configuration redacted, like the result and the diff.
    logged = dict(params)
    if params["config"]:
        redact = config_files.redactor(params["config"]["kind"])
        logged["config"] = dict(params["config"], content=redact(params["config"]["content"]))
    # A secret file's content is never shown, wherever it would appear.
    for spec in params["files"] or []:
        if spec["secret"]:
            module.no_log_values.add(spec["content"])
    logged["files"] = [dict(spec, content="(secret)") if spec["secret"] else spec for spec in params["files"] or []]
    invocation = {"module_args": logged}
    if documents.yaml is None:
        # A fresh minimal Debian has no PyYAML: a run installs it (the machine's package manager).
        if module.check_mode or params["state"] == "absent":
            module.fail_json(msg=missing_required_lib("PyYAML") + " (a run without check mode installs it)",
                             exception=YAML_IMPORT_ERROR, invocation=invocation)
        try:
            documents.provide_yaml(machine.package_manager(), machine.install_packages)
        except (PromfleetError, OSError) as exc:
            module.fail_json(msg="%s: %s" % (params["name"], exc), invocation=invocation)
    if params["machine"] is not None:
        checked = ArgumentSpecValidator(machine.ARGUMENT_SPEC).validate(params["machine"])
        if checked.error_messages:
            module.fail_json(msg="machine: %s" % "; ".join(checked.error_messages), invocation=invocation)
        params["machine"] = checked.validated_parameters
    try:
        if params["state"] == "absent":
            result = daemon.remove(params, module.check_mode)
        else:
            result = daemon.converge(params, PrometheusClient.from_params(params), module.check_mode)
    except (PromfleetError, OSError) as exc:
        module.fail_json(msg="%s: %s" % (params["name"], exc), invocation=invocation, **getattr(exc, "result", {}))
    module.exit_json(invocation=invocation, **result)


if __name__ == "__main__":
    main()
