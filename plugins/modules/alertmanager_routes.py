#!/usr/bin/python
# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
module: alertmanager_routes
short_description: Check an Alertmanager configuration and show where its routing tree sends alerts
version_added: 0.1.0
author: promfleet maintainers (!UNKNOWN)
description:
  - >-
    Checks an Alertmanager configuration (the content of C(alertmanager.yml)) as the targeted
    Alertmanager O(version) loads it, C(amtool check-config) style, with errors that name the path
    and the field, e.g. C(route.routes[1].routes[0]: matchers[0] 'severity=~"("': ...) or
    C(inhibit_rules[0].equal[1]: 'data-center' is not a valid label name ...).
  - "Besides what Alertmanager refuses, it refuses two mistakes Alertmanager accepts silently: a route
    that can never match (two matchers on one label that contradict each other, such as C(a=\"x\") and
    C(a=\"y\"), counting those of its parent routes) and a route after a sibling without matchers and
    without C(continue), which takes every alert before it gets there."
  - For each alert of O(alerts), returns the routes that take it, as Alertmanager's dispatcher picks
    them (C(amtool config routes test) gives the same receivers), with the receiver, the grouping and
    the timers each route gives (after how long the first notification goes out, when alerts joining
    the group are sent, how often a notification is repeated).
  - Changes nothing anywhere; it needs no Alertmanager, so it is usually delegated to C(localhost).
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  config:
    description:
      - The Alertmanager configuration, as the mapping C(alertmanager.yml) holds (C(global), C(route),
        C(receivers), C(inhibit_rules), C(time_intervals), C(mute_time_intervals), C(templates)).
      - Its secrets (passwords, tokens, API keys, webhook and Slack URLs, ...) are replaced by
        C(<secret>) in the arguments the module reports back.
    type: dict
    required: true
  alerts:
    description:
      - The label sets of the alerts to route, each a mapping of label names to strings.
      - A label an alert does not have matches as the empty value, as in Alertmanager.
    type: list
    elements: dict
    default: []
  version:
    description:
      - The Alertmanager release line the configuration is checked for. C(0.25) is Debian bookworm's.
      - Fields and receivers a line does not have are refused, naming the line that added them
        (e.g. C(msteams_configs) needs 0.26).
    type: str
    default: "0.25"
    choices: ["0.25", "0.26", "0.27", "0.28"]
attributes:
  platform:
    platforms: posix
  check_mode:
    support: full
    details:
      - The module changes nothing; it runs the same in check mode.
  diff_mode:
    support: none
notes:
  - Template files (C(templates)) are not read; only their glob patterns are checked.
  - Time zones of C(time_intervals) are looked up in the time zone database of the Python that runs
    the module.
seealso:
  - name: Alertmanager configuration
    description: Every field of alertmanager.yml.
    link: https://prometheus.io/docs/alerting/latest/configuration/
  - module: promfleet.federation.scrape_config
"""

EXAMPLES = r"""
- name: Where do a critical database alert and a warning go?
  promfleet.federation.alertmanager_routes:
    config: "{{ lookup('ansible.builtin.file', 'alertmanager.yml') | from_yaml }}"
    alerts:
      - {alertname: DiskFull, severity: critical, team: db, dc: eu-west-1}
      - {alertname: HighLatency, severity: warning, team: web}
  delegate_to: localhost
  run_once: true
  register: routing
# routing.routes[0] | map(attribute='receiver') == ["pager", "db-team"]

- name: Only check the configuration before deploying it
  promfleet.federation.alertmanager_routes:
    config:
      route:
        receiver: default
        group_by: [alertname, dc]
        routes:
          - matchers: ['severity="critical"']
            receiver: pager
            continue: true
          - matchers: ['team=~"db|storage"']
            receiver: db-team
            repeat_interval: 12h
      receivers:
        - name: default
        - name: pager
          pagerduty_configs:
            - routing_key: "{{ pagerduty_routing_key }}"
        - name: db-team
          webhook_configs:
            - url: https://hooks.example.org/db
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
routes:
  description:
    - For each alert of O(alerts), in the same order, the routes that take it, in the order
      Alertmanager notifies them (depth first; a route without C(continue) stops its later siblings).
  returned: always
  type: list
  elements: list
  sample:
    - - route: route.routes[0]
        receiver: pager
        group_by: [alertname, dc]
        group_labels: {alertname: DiskFull, dc: eu-west-1}
        group_wait: 30s
        group_wait_seconds: 30
        group_interval: 5m
        group_interval_seconds: 300
        repeat_interval: 4h
        repeat_interval_seconds: 14400
        mute_time_intervals: []
        active_time_intervals: []
  contains:
    route:
      description: Where the route is in the configuration (C(route) is the root).
      type: str
      returned: always
      sample: route.routes[1].routes[0]
    receiver:
      description: The receiver notified (the route's own, or inherited from its parents).
      type: str
      returned: always
      sample: pager
    group_by:
      description: The labels alerts are grouped by; C(["..."]) groups by every label, C([]) makes one group.
      type: list
      elements: str
      returned: always
      sample: [alertname, dc]
    group_labels:
      description: The alert's labels that identify its group (the non-empty ones of RV(routes.group_by)).
      type: dict
      returned: always
      sample: {alertname: DiskFull, dc: eu-west-1}
    group_wait:
      description: How long a new group waits for more alerts before its first notification (default C(30s)).
      type: str
      returned: always
      sample: 30s
    group_wait_seconds:
      description: RV(routes.group_wait) in seconds, after which the group's first notification goes out.
      type: float
      returned: always
      sample: 30
    group_interval:
      description: How long after a notification the alerts that joined the group are sent (default C(5m)).
      type: str
      returned: always
      sample: 5m
    group_interval_seconds:
      description: RV(routes.group_interval) in seconds.
      type: float
      returned: always
      sample: 300
    repeat_interval:
      description: How often a notification is sent again while nothing changed (default C(4h)).
      type: str
      returned: always
      sample: 4h
    repeat_interval_seconds:
      description: RV(routes.repeat_interval) in seconds.
      type: float
      returned: always
      sample: 14400
    mute_time_intervals:
      description: The time intervals in which the route sends nothing (the route's own; not inherited).
      type: list
      elements: str
      returned: always
      sample: [weekends]
    active_time_intervals:
      description: The time intervals outside which the route sends nothing (the route's own; not inherited).
      type: list
      elements: str
      returned: always
      sample: [office-hours]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.promfleet.federation.plugins.module_utils.errors import PromfleetError
from ansible_collections.promfleet.federation.plugins.module_utils.model.alertmanager import (
    ALERTMANAGER_VERSIONS,
    DEFAULT_ALERTMANAGER_VERSION,
    redact_alertmanager_config,
)
from ansible_collections.promfleet.federation.plugins.module_utils.model.alertmanager_explain import explain_routes


def argument_spec() -> dict:
    """The module's options (see DOCUMENTATION)."""
    return {
        "config": {"type": "dict", "required": True},
        "alerts": {"type": "list", "elements": "dict", "default": []},
        "version": {"type": "str", "default": DEFAULT_ALERTMANAGER_VERSION, "choices": list(ALERTMANAGER_VERSIONS)},
    }


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    # The arguments as reported back (invocation), the configuration's secrets redacted.
    invocation = {"module_args": dict(module.params, config=redact_alertmanager_config(module.params["config"]))}
    try:
        result = explain_routes(module.params)
    except PromfleetError as exc:
        module.fail_json(msg=str(exc), invocation=invocation)
    module.exit_json(changed=False, invocation=invocation, **result)


if __name__ == "__main__":
    main()
