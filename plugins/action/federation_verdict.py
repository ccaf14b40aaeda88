# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""Action federation_verdict (docs: plugins/modules/federation_verdict.py): the logic lives in
plugins/module_utils/fleet/report.py. It runs on the controller only."""

from __future__ import annotations

import os

from ansible.plugins.action import ActionBase

from ansible_collections.promfleet.federation.plugins.module_utils.errors import PromfleetError
from ansible_collections.promfleet.federation.plugins.module_utils.fleet import report

ARGUMENT_SPEC = {
    "topology": {"type": "dict"},
    "report_dir": {"type": "str"},
    "fact": {"type": "str", "default": "prometheus_verify"},
    "fail": {"type": "bool", "default": True},
}
REPORT_DIR_ENV = "PROMFLEET_REPORT_DIR"
REPORT_DIR_NAME = "promfleet-report"
CHECK_MODE_NOTE = ("check mode: this run started and changed nothing, so the table shows the fleet as it is now; "
                   "it does not fail the run")


def topology_of(hostvars) -> dict | None:
    """The ``prometheus_topology`` fact of the run: every server has the same one."""
    for host in hostvars:
        found = hostvars[host].get("prometheus_topology")
        if found:
            return found
    return None


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        hostvars = task_vars["hostvars"]
        topology = args["topology"] or topology_of(hostvars)
        if not topology:
            result.update(failed=True, msg="no topology: run the topology entry point of promfleet.federation."
                                           "prometheus on the servers first (playbooks/verify.yml does)")
            return result
        # The directory the user ran ansible-playbook from, not the playbook's.
        directory = args["report_dir"] or os.environ.get(REPORT_DIR_ENV) or os.path.join(os.getcwd(), REPORT_DIR_NAME)
        try:
            verdict = report.verdict(topology, report.observations_of(topology, hostvars, args["fact"]))
            written = [] if self._task.check_mode else report.write_report(directory, verdict)
        except (PromfleetError, OSError) as exc:
            result.update(failed=True, msg="the federation report could not be made: %s" % exc)
            return result
        lines = verdict["table"].split("\n")
        if self._task.check_mode and not verdict["ok"]:
            lines += ["", CHECK_MODE_NOTE]
        # Printed like a debug message: the table is what a person reads at the end of a run.
        result.update(changed=False, msg=lines, ok=verdict["ok"], failures=verdict["failures"],
                      report_files=written, stats=verdict["stats"],
                      _ansible_verbose_always=True)
        if args["fail"] and not verdict["ok"] and not self._task.check_mode:
            result["failed"] = True
        return result
