#!/usr/bin/python
# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""Module prometheus_reload: the logic lives in plugins/module_utils/host/."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: prometheus_reload
short_description: Reload a Prometheus configuration, verify it, roll back on failure
description:
  - Makes a running Prometheus load its configuration again, with C(POST /-/reload)
    (O(method=http)) or with SIGHUP (O(method=signal)), and verifies the result.
  - The reload counts as done only when C(prometheus_config_last_reload_successful) is 1 AND
    C(prometheus_config_last_reload_success_timestamp_seconds) is newer than it was before the
    reload (read from C(/metrics) just before), within O(timeout) seconds. A successful flag alone
    is not proof; it may be the one from before.
  - With O(config_path), the configuration the server reports afterwards (C(/api/v1/status/config))
    is compared with the file; see O(config_path) for what "equal" means. A difference fails the task.
  - When the reload fails and O(rollback) is true, C(<config_path>.last-good) (kept by
    M(promfleet.federation.prometheus_config)) is copied back over O(config_path) atomically, and
    the rule files kept with it in C(<config_path>.last-good-rules.json) are put back in their
    directory (files written since are removed),
    Prometheus is reloaded again and that reload is verified; the task still FAILS, with
    Prometheus' own error text and a note that the rollback happened (RV(rolled_back)).
  - The error text is, for O(method=http), the body of Prometheus' HTTP 500 answer
    (C(failed to reload config) and the reason, which often names no file). SIGHUP gives no answer
    and the metric only says that the reload failed, so for O(method=signal) the message says that.
    For both, when promtool is found and C(promtool check config) refuses O(config_path), its output
    (which names the file, the rule and the error) is added.
  - With O(method=signal) and a successful flag that is already 0 before the reload (an earlier
    reload failed), a failure can only be told by the O(timeout) running out.
  - Reloading always reports RV(ignore:changed).
author:
  - promfleet maintainers (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - promfleet.federation.prometheus_connection
options:
  method:
    description:
      - V(http) posts to C(/-/reload); Prometheus must run with C(--web.enable-lifecycle)
        (without it it answers 403 and the task fails saying so). The answer is synchronous.
      - V(signal) sends SIGHUP to O(pid), to the pid in O(pidfile), or through O(service_manager).
        The HTTP API is still used to read the metrics that prove the reload.
    type: str
    choices: [http, signal]
    default: http
  pid:
    description:
      - Process id of Prometheus, for O(method=signal).
    type: int
  pidfile:
    description:
      - File holding the process id of Prometheus, for O(method=signal).
    type: path
  service_manager:
    description:
      - For O(method=signal), send SIGHUP through V(supervisord)
        (C(supervisorctl -c <supervisord_conf> signal HUP <service_name>)) or V(systemd)
        (C(systemctl reload <service_name>), which needs C(ExecReload) to send SIGHUP).
      - Exactly one of O(pid), O(pidfile) and O(service_manager) is needed with O(method=signal).
    type: str
    choices: [supervisord, systemd]
  service_name:
    description:
      - Program (supervisord) or unit (systemd) name of Prometheus. Required with O(service_manager).
    type: str
  supervisord_conf:
    description:
      - Configuration file of the supervisord that runs Prometheus, passed to C(supervisorctl -c).
        Without it supervisorctl finds its default configuration.
    type: path
  config_path:
    description:
      - The C(prometheus.yml) the server loads. Needed for the rollback and for the comparison.
      - The comparison after a successful reload parses both as YAML and checks that every field
        the file sets has the same value in the configuration the server reports; fields only
        the server shows (Prometheus prints its defaults) are ignored. Values count as equal when
        identical, or durations of the same length (V(60s) and V(1m)), or a non-empty secret that
        the server shows as C(<secret>) (secrets are not compared), or a relative path that the
        server shows joined to the directory of O(config_path), or an C(action) differing only in
        case. Lists must have the same length and order.
    type: path
  rollback:
    description:
      - On a failed reload, restore O(config_path) from C(<config_path>.last-good) and the rule files
        from C(<config_path>.last-good-rules.json) (each a temporary file in the same directory, then
        a rename; owner and mode of O(config_path)), and reload again.
      - Nothing is restored without O(config_path), or when the last-good file is missing. When the
        files already equal the last good ones, nothing is restored and the task fails saying so.
    type: bool
    default: true
  timeout:
    description:
      - Seconds to wait for the proof of each reload (the first and the one after a rollback).
    type: float
    default: 30.0
  promtool:
    description:
      - Path of C(promtool), used only to explain a failed SIGHUP reload. Default is C(promtool) on
        E(PATH); without it the message has no details.
    type: path
attributes:
  platform:
    platforms: posix
  check_mode:
    support: full
    details:
      - Reads the reload state (and, with O(config_path), the configuration the server reports and
        the differences from the file, in RV(config_differences)), checks that the pid exists, and
        reports what it would do, with RV(ignore:changed) true. Nothing is sent, signalled or written.
  diff_mode:
    support: none
notes:
  - Partial apply. When the YAML loads but a later step fails (for example a rule file with
    invalid PromQL), Prometheus may already run new scrape jobs while the rules stay old, and
    C(/api/v1/status/config) already shows the new YAML. The metrics are the only proof, which is why
    this module trusts them and reloads the last good file after a failure.
requirements:
  - PyYAML on the managed host (ansible-core depends on it, so it is there when Ansible is).
seealso:
  - module: promfleet.federation.prometheus_config
  - module: promfleet.federation.prometheus_info
  - name: Prometheus configuration reloading
    description: The two ways to reload and the C(--web.enable-lifecycle) flag.
    link: https://prometheus.io/docs/prometheus/latest/configuration/configuration/
"""

EXAMPLES = r"""
- name: Reload through the lifecycle API and check the server runs the file
  promfleet.federation.prometheus_reload:
    url: http://localhost:9090
    config_path: /etc/prometheus/prometheus.yml

- name: Reload with SIGHUP through supervisord
  promfleet.federation.prometheus_reload:
    url: http://localhost:9090
    method: signal
    service_manager: supervisord
    service_name: prometheus
    supervisord_conf: /etc/supervisor/supervisord.conf
    config_path: /etc/prometheus/prometheus.yml

- name: Reload with systemd, no rollback
  promfleet.federation.prometheus_reload:
    method: signal
    service_manager: systemd
    service_name: prometheus
    rollback: false
    timeout: 60
"""

RETURN = r"""
method:
  description: O(method) as used.
  returned: always
  type: str
  sample: http
reload_seconds:
  description:
    - Seconds from the POST or signal until the reload was verified (or found failed); null in check mode.
  returned: always
  type: float
  sample: 0.052
last_reload_success_timestamp:
  description:
    - C(prometheus_config_last_reload_success_timestamp_seconds) before the reload and after it
      (after the rollback's reload when there was one); equal in check mode.
  returned: always
  type: dict
  contains:
    before:
      description: Before the reload.
      type: float
    after:
      description: After the reload.
      type: float
  sample: {before: 1795716000.123, after: 1795716060.456}
rolled_back:
  description: Whether the last good files were restored and reloaded.
  returned: always
  type: bool
  sample: false
restored_files:
  description: The files the rollback wrote or removed (the config and rule files), in that order.
  returned: always
  type: list
  elements: str
  sample: [/etc/prometheus/rules/alerts.yml, /etc/prometheus/prometheus.yml]
config_differences:
  description:
    - With O(config_path), where the configuration the server reports differs from the file
      (see O(config_path)); after a successful reload a non-empty list fails the task.
  returned: always
  type: list
  elements: str
  sample: ['scrape_configs: 2 items in the file, 1 on the server']
msg:
  description: What was done.
  returned: always
  type: str
  sample: reloaded with POST /-/reload and verified in 0.052 s
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.promfleet.federation.plugins.module_utils.errors import PromfleetError
from ansible_collections.promfleet.federation.plugins.module_utils.host import checkers, reload
from ansible_collections.promfleet.federation.plugins.module_utils.host.client import (
    CONNECTION_ARGUMENT_SPEC,
    CONNECTION_MUTUALLY_EXCLUSIVE,
    CONNECTION_REQUIRED_TOGETHER,
    PrometheusClient,
)
from ansible_collections.promfleet.federation.plugins.module_utils.model.documents import YAML_IMPORT_ERROR

ARGUMENT_SPEC = dict(
    CONNECTION_ARGUMENT_SPEC,
    method={"type": "str", "choices": ["http", "signal"], "default": "http"},
    pid={"type": "int"},
    pidfile={"type": "path"},
    service_manager={"type": "str", "choices": ["supervisord", "systemd"]},
    service_name={"type": "str"},
    supervisord_conf={"type": "path"},
    config_path={"type": "path"},
    rollback={"type": "bool", "default": True},
    timeout={"type": "float", "default": 30.0},
    promtool={"type": "path"},
)


def main() -> None:
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC,
        mutually_exclusive=CONNECTION_MUTUALLY_EXCLUSIVE + [("pid", "pidfile", "service_manager")],
        required_together=CONNECTION_REQUIRED_TOGETHER,
        required_if=[
            ("method", "signal", ("pid", "pidfile", "service_manager"), True),
            ("service_manager", "supervisord", ("service_name",)),
            ("service_manager", "systemd", ("service_name",)),
        ],
        supports_check_mode=True,
    )
    params = module.params
    if YAML_IMPORT_ERROR is not None:
        module.fail_json(msg=missing_required_lib("PyYAML"), exception=YAML_IMPORT_ERROR)
    trigger = reload.Trigger(params["method"], params["pid"], params["pidfile"], params["service_manager"],
                             params["service_name"], params["supervisord_conf"])
    try:
        promtool = checkers.find_binary(params["promtool"], "auto", "promtool", "promtool")
        result = reload.reload(PrometheusClient.from_params(params), trigger, params["timeout"],
                               params["config_path"], params["rollback"], checkers.promtool_config(promtool),
                               module.check_mode)
    except (PromfleetError, OSError) as exc:
        failure = {"method": params["method"], "rolled_back": False, "restored_files": []}
        failure.update(getattr(exc, "result", {}))
        module.fail_json(msg=str(exc), **failure)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
