# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""Action prometheus_plan (docs: plugins/modules/prometheus_plan.py): the logic lives in
plugins/module_utils/fleet/plan.py. It runs on the controller only."""

from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.promfleet.federation.plugins.module_utils.errors import PromfleetError
from ansible_collections.promfleet.federation.plugins.module_utils.fleet import plan
from ansible_collections.promfleet.federation.plugins.module_utils.model.versions import DEFAULT_SCHEMA_VERSION

ARGUMENT_SPEC = {
    "deployment": {"type": "str", "choices": ["host", "kubernetes"], "required": True},
    "config": {"type": "dict", "default": {}},
    "scrape_configs": {"type": "list", "elements": "dict", "default": []},
    "rule_files": {"type": "dict", "default": {}},
    "target_files": {"type": "dict", "default": {}},
    "targets_dir": {"type": "str"},
    "schema_version": {"type": "str", "default": DEFAULT_SCHEMA_VERSION},
    "release": {"type": "str"},
    "daemon": {"type": "dict"},
    "extra_flags": {"type": "list", "elements": "str", "default": []},
    "listen_address": {"type": "str", "default": ""},
    "port": {"type": "int"},
    "kubernetes": {"type": "dict"},
    "kubernetes_defaults": {"type": "dict", "default": {}},
    "server": {"type": "dict"},
    "server_role": {"type": "str", "choices": ["datacenter", "global"]},
    "fact": {"type": "str", "default": "prometheus_plan"},
}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _validation, args = self.validate_argument_spec(
            argument_spec=ARGUMENT_SPEC,
            required_if=[("deployment", "host", ("daemon",)),
                         ("deployment", "kubernetes", ("kubernetes",))],
        )
        host = (task_vars or {}).get("inventory_hostname", "")
        try:
            if args["server_role"]:
                plan.check_server_role(host, args["server"], args["server_role"])
            config = plan.whole_config(args["config"], args["scrape_configs"])
            if args["deployment"] == "kubernetes":
                planned = plan.plan_kubernetes(host, config, args["rule_files"], args["schema_version"],
                                               args["kubernetes"], args["kubernetes_defaults"])
            else:
                plan.host_problems(host, args["daemon"], args["extra_flags"], args["listen_address"], args["port"],
                                   args["release"], args["schema_version"])
                planned = plan.plan_host(config, args["rule_files"], args["schema_version"], args["daemon"],
                                         args["target_files"], args["targets_dir"])
        except PromfleetError as exc:
            result.update(failed=True, msg=str(exc))
            return result
        # The plan holds prometheus.yml, which may hold credentials: the result is never shown,
        # not even with -v. A failure above is, with the engine's message.
        result.update(changed=False, ansible_facts={args["fact"]: planned}, _ansible_no_log=True,
                      msg="planned the %s server %s" % (planned["deployment"], host))
        return result
