#!/usr/bin/python
# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""Module prometheus_info: the logic lives in plugins/module_utils/host/."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: prometheus_info
short_description: Read what a running Prometheus server knows
description:
  - Reads from the HTTP API of a Prometheus server its targets, build and runtime information,
    command line flags, loaded configuration and the state of the last configuration reload, and
    runs PromQL instant queries.
  - Read-only; never changes anything (RV(ignore:changed) is always false).
  - The configuration is the one the server has loaded (C(/api/v1/status/config)), parsed, with
    every secret shown as C(<redacted>).
author:
  - promfleet maintainers (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - promfleet.federation.prometheus_connection
options:
  gather:
    description:
      - The parts to read. The result has a key for each of them.
    type: list
    elements: str
    choices: [targets, buildinfo, runtimeinfo, flags, config, reload]
    default: [targets, buildinfo, runtimeinfo, flags, config, reload]
  targets_state:
    description:
      - Which targets to read when O(gather) has V(targets), as the C(state) parameter of
        C(/api/v1/targets).
    type: str
    choices: [any, active, dropped]
    default: any
  queries:
    description:
      - PromQL instant queries to run; their results are in RV(queries), in the same order.
    type: list
    elements: str
    default: []
attributes:
  platform:
    platforms: posix
  check_mode:
    support: full
    details:
      - The module only reads; it runs the same in check mode.
  diff_mode:
    support: none
requirements:
  - PyYAML on the managed host (ansible-core depends on it, so it is there when Ansible is).
seealso:
  - module: promfleet.federation.prometheus_reload
  - name: Prometheus HTTP API
    description: The endpoints this module reads.
    link: https://prometheus.io/docs/prometheus/latest/querying/api/
"""

EXAMPLES = r"""
- name: Read targets, configuration and reload state
  promfleet.federation.prometheus_info:
    url: http://localhost:9090
  register: prometheus

- name: Fail on any target that is down
  ansible.builtin.assert:
    that: prometheus.targets.activeTargets | rejectattr('health', 'eq', 'up') | list | length == 0
    fail_msg: "{{ prometheus.targets.activeTargets | rejectattr('health', 'eq', 'up') | map(attribute='lastError') }}"

- name: Run queries on a server behind basic authentication
  promfleet.federation.prometheus_info:
    url: https://prometheus.example.com
    url_username: admin
    url_password: "{{ vault_prometheus_password }}"
    ca_path: /etc/ssl/certs/internal-ca.pem
    gather: [buildinfo]
    queries:
      - count by (job) (up)
      - sum(up == 0)
  register: prometheus
"""

RETURN = r"""
targets:
  description:
    - C(data) of C(/api/v1/targets) as Prometheus gives it, keys C(activeTargets) (each with
      C(labels), C(discoveredLabels), C(scrapePool), C(scrapeUrl), C(health), C(lastError),
      C(lastScrape), C(lastScrapeDuration), ...) and C(droppedTargets) (each with C(discoveredLabels)).
  returned: when O(gather) has V(targets)
  type: dict
  sample: {activeTargets: [{scrapePool: node, scrapeUrl: "http://localhost:9100/metrics", health: up,
           lastError: "", labels: {instance: "localhost:9100", job: node}}], droppedTargets: []}
buildinfo:
  description: C(data) of C(/api/v1/status/buildinfo).
  returned: when O(gather) has V(buildinfo)
  type: dict
  sample: {version: 2.42.0+ds, revision: 2.42.0+ds-5+deb12u1, branch: debian/sid, goVersion: go1.19.8}
runtimeinfo:
  description: C(data) of C(/api/v1/status/runtimeinfo).
  returned: when O(gather) has V(runtimeinfo)
  type: dict
  sample: {startTime: "2026-11-26T18:00:00.000Z", reloadConfigSuccess: true, lastConfigTime: "2026-11-26T18:05:00Z"}
flags:
  description: C(data) of C(/api/v1/status/flags), flag name (without dashes) to value as a string.
  returned: when O(gather) has V(flags)
  type: dict
  sample: {"config.file": /etc/prometheus/prometheus.yml, "web.enable-lifecycle": "true"}
config:
  description:
    - The configuration the server has loaded, parsed from the YAML of C(/api/v1/status/config),
      with its defaults filled in by Prometheus; secrets are C(<redacted>).
  returned: when O(gather) has V(config)
  type: dict
  sample: {global: {scrape_interval: 15s}, scrape_configs: [{job_name: app, basic_auth: {username: scraper,
           password: "<redacted>"}}]}
reload:
  description: The last configuration reload, from C(/metrics).
  returned: when O(gather) has V(reload)
  type: dict
  contains:
    successful:
      description: C(prometheus_config_last_reload_successful == 1).
      type: bool
    timestamp:
      description: C(prometheus_config_last_reload_success_timestamp_seconds), Unix time of the last
        successful load (sub-second precision in Prometheus 2.42).
      type: float
  sample: {successful: true, timestamp: 1795716000.123}
queries:
  description:
    - One item per O(queries) entry, in order, the C(data) of C(/api/v1/query) plus the query.
  returned: when O(queries) is not empty
  type: list
  elements: dict
  contains:
    query:
      description: The PromQL text.
      type: str
    resultType:
      description: V(vector), V(matrix), V(scalar) or V(string).
      type: str
    result:
      description: The result as Prometheus gives it.
      type: raw
  sample: [{query: count by (job) (up), resultType: vector,
            result: [{metric: {job: node}, value: [1795716000.1, "1"]}]}]
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.promfleet.federation.plugins.module_utils.errors import PromfleetError
from ansible_collections.promfleet.federation.plugins.module_utils.host.client import (
    CONNECTION_ARGUMENT_SPEC,
    CONNECTION_MUTUALLY_EXCLUSIVE,
    CONNECTION_REQUIRED_TOGETHER,
    PrometheusClient,
)
from ansible_collections.promfleet.federation.plugins.module_utils.host.info import INFO_PARTS, gather_info
from ansible_collections.promfleet.federation.plugins.module_utils.model.documents import YAML_IMPORT_ERROR

ARGUMENT_SPEC = dict(
    CONNECTION_ARGUMENT_SPEC,
    gather={"type": "list", "elements": "str", "choices": list(INFO_PARTS), "default": list(INFO_PARTS)},
    targets_state={"type": "str", "choices": ["any", "active", "dropped"], "default": "any"},
    queries={"type": "list", "elements": "str", "default": []},
)


def main() -> None:
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC,
        mutually_exclusive=CONNECTION_MUTUALLY_EXCLUSIVE,
        required_together=CONNECTION_REQUIRED_TOGETHER,
        supports_check_mode=True,
    )
    params = module.params
    if YAML_IMPORT_ERROR is not None:
        module.fail_json(msg=missing_required_lib("PyYAML"), exception=YAML_IMPORT_ERROR)
    try:
        info = gather_info(PrometheusClient.from_params(params), params["gather"], params["queries"],
                           params["targets_state"])
    except PromfleetError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, **info)


if __name__ == "__main__":
    main()
