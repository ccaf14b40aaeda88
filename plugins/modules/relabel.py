#!/usr/bin/python
# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
module: relabel
short_description: Run Prometheus relabel rules over label sets, offline
version_added: 0.1.0
author: promfleet maintainers (!UNKNOWN)
description:
  - Validates a list of Prometheus C(relabel_configs) as Prometheus does, and applies it to each
    given label set, as Prometheus would to a discovered target or a scraped sample.
  - Uses the collection's relabel engine, which follows the O(schema_version) (checked against
    C(promtool check service-discovery) of Prometheus 2.42, 2.53 and 3.5). The regex is fully anchored and has
    Go's RE2 syntax, missing source labels count as empty, a label set to an empty value is removed.
  - Only the rules run; the target pipeline of a scrape job (the C(job), C(__scheme__),
    C(__metrics_path__) labels added before, C(instance) and the port added after) is
    M(promfleet.federation.scrape_config)'s job.
  - Changes nothing anywhere; it needs no Prometheus, so it is usually delegated to C(localhost).
extends_documentation_fragment:
  - promfleet.federation.schema_version
  - promfleet.federation.schema_version.read_only
options:
  rules:
    description:
      - The relabel configs, as in C(relabel_configs) or C(metric_relabel_configs) of prometheus.yml,
        with Prometheus' field names (C(source_labels), C(separator), C(regex), C(modulus),
        C(target_label), C(replacement), C(action)).
      - An invalid rule fails the task with a message that names the rule (counted from 1), the field
        and what Prometheus expects.
    type: list
    elements: dict
    required: true
  labels:
    description:
      - The label sets to relabel, each a mapping of label name to string value.
      - Values must be strings (quote numbers); empty values count as absent, as in Prometheus.
    type: list
    elements: dict
    default: []
seealso:
  - module: promfleet.federation.scrape_config
  - name: Prometheus relabel_config
    description: The fields and actions of a relabel config.
    link: https://prometheus.io/docs/prometheus/latest/configuration/configuration/#relabel_config
"""

EXAMPLES = r"""
- name: What do these rules make of a node's labels?
  promfleet.federation.relabel:
    rules:
      - source_labels: [__meta_kubernetes_namespace, __meta_kubernetes_service_name]
        regex: monitoring;(.+)
        action: keep
      - source_labels: [__meta_kubernetes_service_name]
        target_label: service
      - action: labeldrop
        regex: __meta_.*
    labels:
      - __meta_kubernetes_namespace: monitoring
        __meta_kubernetes_service_name: grafana
        __address__: grafana.monitoring.svc:3000
      - __meta_kubernetes_namespace: default
        __meta_kubernetes_service_name: kubernetes
        __address__: kubernetes.default.svc:443
  delegate_to: localhost
  register: relabeled
# relabeled.results:
#   - {labels: {__address__: "grafana.monitoring.svc:3000", service: grafana}, dropped: false}
#   - {labels: null, dropped: true}

- name: Validate the relabel rules of a role variable before templating prometheus.yml
  promfleet.federation.relabel:
    rules: "{{ prometheus_extra_relabel_configs }}"
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
results:
  description: One entry per label set of O(labels), in the same order.
  returned: always
  type: list
  elements: dict
  contains:
    labels:
      description: The label set after the rules, with its names sorted; null when a rule dropped it.
      type: dict
      returned: always
      sample: {"__address__": "grafana.monitoring.svc:3000", "service": "grafana"}
    dropped:
      description: Whether a C(keep), C(drop), C(keepequal) or C(dropequal) rule dropped the label set.
      type: bool
      returned: always
      sample: false
rules:
  description:
    - The rules as Prometheus reads them, the action in lower case and every field explicit (its
      default filled in), except the ones Prometheus refuses for the action even at their default
      (C(regex) of C(keepequal)/C(dropequal), C(source_labels) of C(labeldrop)/C(labelkeep)), so
      they can be written back into prometheus.yml.
  returned: always
  type: list
  elements: dict
  sample:
    - source_labels: [__meta_kubernetes_service_name]
      separator: ";"
      regex: (.*)
      modulus: 0
      target_label: service
      replacement: $1
      action: replace
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.promfleet.federation.plugins.module_utils.errors import PromfleetError
from ansible_collections.promfleet.federation.plugins.module_utils.model.explain import explain_relabeling
from ansible_collections.promfleet.federation.plugins.module_utils.model.versions import DEFAULT_SCHEMA_VERSION

ARGUMENT_SPEC = {
    "rules": {"type": "list", "elements": "dict", "required": True},
    "labels": {"type": "list", "elements": "dict", "default": []},
    "schema_version": {"type": "str", "default": DEFAULT_SCHEMA_VERSION, "aliases": ["prometheus_version"]},
}


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    params = module.params
    try:
        result = explain_relabeling(params["rules"], params["labels"], params["schema_version"])
    except PromfleetError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
