#!/usr/bin/python
# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
module: scrape_config
short_description: Build a Prometheus scrape config, check it, and show the targets it would scrape
version_added: 0.1.0
author: promfleet maintainers (!UNKNOWN)
description:
  - Builds one C(scrape_configs) entry of prometheus.yml from options that mirror Prometheus'
    C(scrape_config), optionally on top of a O(preset) for what people scrape most (node exporters,
    Kubernetes API servers, kubelets, cAdvisor, annotated services and pods, one custom service).
  - Checks it as the targeted Prometheus version would (unknown or misplaced fields, durations,
    C(scrape_timeout) greater than C(scrape_interval), every relabel rule) and returns it normalized,
    ready to put in prometheus.yml, without the options left unset.
  - With O(discovered_targets), also runs the target pipeline of the O(schema_version) (the labels added
    before relabeling, O(relabel_configs), the address and C(instance) after it) over the job's
    static targets and the given ones, and returns the same targets as
    C(promtool check service-discovery) prints for the job.
  - Changes nothing anywhere; it needs no Prometheus, so it is usually delegated to C(localhost).
extends_documentation_fragment:
  - promfleet.federation.schema_version
  - promfleet.federation.schema_version.read_only
options:
  job_name:
    description: The job name, the value of the C(job) label of the job's targets; unique in prometheus.yml.
    type: str
    required: true
  preset:
    description:
      - A ready-made scrape config to start from; the options given here are laid over it.
      - Each option given replaces the preset's value, except O(relabel_configs) and
        O(metric_relabel_configs), whose rules run after the preset's.
      - C(node) scrapes node exporters at static addresses (C(targets) in O(preset_options), default
        C(localhost:9100)).
      - C(kubernetes_apiservers) scrapes the C(https) endpoints of the C(default/kubernetes) service.
      - C(kubernetes_nodes) scrapes every kubelet (role C(node)) and maps the node's labels.
      - C(kubernetes_cadvisor) scrapes cAdvisor through every kubelet at C(/metrics/cadvisor).
      - C(kubernetes_service_endpoints) and C(kubernetes_pods) scrape the endpoints of services and
        the pods annotated C(prometheus.io/scrape=true); C(prometheus.io/scheme), C(prometheus.io/path)
        and C(prometheus.io/port) override scheme, metrics path and port.
      - C(kubernetes_service) scrapes the pods of one custom service, each as its own target (role
        C(endpoints)), picked by the service's name, C(name) in O(preset_options), and optionally
        C(namespace) and C(port), at O(metrics_path) or C(metrics_path) in O(preset_options).
      - The Kubernetes presets expect to run in the cluster; those that reach kubelets or API servers
        use the service account's CA and token files.
    type: str
    choices:
      - node
      - kubernetes_apiservers
      - kubernetes_nodes
      - kubernetes_cadvisor
      - kubernetes_service_endpoints
      - kubernetes_pods
      - kubernetes_service
  preset_options:
    description:
      - Arguments of the O(preset).
      - "C(node): C(targets) (list of C(host:port))."
      - "C(kubernetes_service): C(name) (required), C(namespace), C(metrics_path) (default C(/metrics)),
        C(port) (the pods' port number, or the port's name as a string)."
      - Other presets take none.
    type: dict
    default: {}
  scrape_interval:
    description: How often to scrape, a Prometheus duration such as C(30s); default the global one.
    type: str
  scrape_timeout:
    description: Timeout of one scrape; default the global one, at most O(scrape_interval).
    type: str
  metrics_path:
    description: HTTP path of the metrics; Prometheus' default is C(/metrics).
    type: str
  scheme:
    description: Protocol of the scrapes; Prometheus' default is C(http).
    type: str
    choices: [http, https]
  honor_labels:
    description: Keep the scraped labels when they clash with target labels (for federation) instead
      of renaming them to C(exported_*).
    type: bool
  honor_timestamps:
    description: Keep the timestamps of the scraped samples.
    type: bool
  params:
    description: URL parameters of the scrapes, each name with a list of values.
    type: dict
  follow_redirects:
    description: Follow HTTP redirects.
    type: bool
  enable_http2:
    description: Allow HTTP/2.
    type: bool
  proxy_url:
    description: Proxy for the scrapes.
    type: str
  no_proxy:
    description: Comma-separated hosts, IP addresses and networks not to reach through O(proxy_url)
      (Prometheus 2.43 and newer).
    type: str
  proxy_from_environment:
    description: Use the proxy of the C(HTTP_PROXY), C(HTTPS_PROXY) and C(NO_PROXY) variables
      (Prometheus 2.43 and newer).
    type: bool
  track_timestamps_staleness:
    description: Mark the samples of vanished series stale also when they have explicit timestamps
      (Prometheus 2.48 and newer).
    type: bool
  scrape_protocols:
    description: Exposition formats to ask for, in order of preference (Prometheus 2.49 and newer).
    type: list
    elements: str
  enable_compression:
    description: Ask for compressed responses (Prometheus 2.49 and newer).
    type: bool
  keep_dropped_targets:
    description: How many targets dropped by relabeling to keep in memory for the web UI and the API;
      0 for no limit (Prometheus 2.47 and newer).
    type: int
  native_histogram_bucket_limit:
    description: Fail a scrape with a native histogram with more buckets than this; 0 for no limit
      (Prometheus 2.45 and newer).
    type: int
  native_histogram_min_bucket_factor:
    description:
      - Reduce the resolution of a native histogram until its growth factor from one bucket to the
        next is at least this, e.g. C(1.1); 0 keeps the resolution scraped.
      - Prometheus 2.50 and newer; refused for older O(schema_version).
    type: float
  scrape_classic_histograms:
    description:
      - Also ingest the classic histogram of a series exposed with a native one as well.
      - Prometheus 2.45 to 2.55; 3.0 renamed it O(always_scrape_classic_histograms), so it is refused
        for O(schema_version) 3.0 and newer (the default) with that advice.
    type: bool
  always_scrape_classic_histograms:
    description:
      - Also ingest the classic histogram of a series exposed with a native one as well (called
        O(scrape_classic_histograms) before 3.0).
      - Prometheus 3.0 and newer; refused for older O(schema_version).
    type: bool
  convert_classic_histograms_to_nhcb:
    description:
      - Store classic histograms as native histograms with custom buckets (NHCB).
      - Prometheus 3.0 and newer; refused for older O(schema_version).
    type: bool
  fallback_scrape_protocol:
    description:
      - Exposition format to parse a scrape with when the target answers with a missing or
        unusable C(Content-Type) (Prometheus 3.x fails such a scrape otherwise).
      - Prometheus 3.0 and newer; refused for older O(schema_version).
    type: str
    choices:
      - OpenMetricsText0.0.1
      - OpenMetricsText1.0.0
      - PrometheusProto
      - PrometheusText0.0.4
      - PrometheusText1.0.0
  metric_name_validation_scheme:
    description:
      - Which metric and label names the scrapes accept; C(utf8) any UTF-8 text, C(legacy) only
        the names Prometheus 2 accepts (letters, digits, C(_), and C(:) in metric names); default
        the global one.
      - Prometheus 3.0 and newer; refused for older O(schema_version).
    type: str
    choices: [utf8, legacy]
  metric_name_escaping_scheme:
    description:
      - How to ask the targets to escape UTF-8 metric and label names; C(allow-utf-8) asks for none.
      - Prometheus 3.4 and newer; refused for older O(schema_version).
    type: str
    choices: [allow-utf-8, underscores, dots, values]
  scrape_failure_log_file:
    description:
      - File the failed scrapes of the job are logged to.
      - Prometheus 2.55 and newer; refused for older O(schema_version).
    type: str
  oauth2:
    description: OAuth 2.0 client credentials for the scrapes.
    type: dict
    suboptions:
      client_id:
        description: Client ID.
        type: str
        required: true
      client_secret:
        description:
          - Client secret. Redacted in everything the module returns; use O(oauth2.client_secret_file)
            to get a C(scrape_config) that can be written as it is.
        type: str
      client_secret_file:
        description: File with the client secret, read by Prometheus.
        type: str
      scopes:
        description: Scopes of the token request.
        type: list
        elements: str
      token_url:
        description: URL to get the token from.
        type: str
        required: true
      endpoint_params:
        description: Extra parameters of the token request.
        type: dict
      tls_config:
        description: TLS settings of the token request, as O(tls_config).
        type: dict
      proxy_url:
        description: Proxy for the token request.
        type: str
  basic_auth:
    description: HTTP basic authentication of the scrapes.
    type: dict
    suboptions:
      username:
        description: User name.
        type: str
      password:
        description:
          - Password. It is redacted in everything the module returns; use O(basic_auth.password_file)
            to get a C(scrape_config) that can be written as it is.
        type: str
      password_file:
        description: File with the password, read by Prometheus.
        type: str
  authorization:
    description: The C(Authorization) header of the scrapes.
    type: dict
    suboptions:
      type:
        description: Authentication type; Prometheus' default is C(Bearer).
        type: str
      credentials:
        description:
          - The credentials. Redacted in everything the module returns; use
            O(authorization.credentials_file) to get a C(scrape_config) that can be written as it is.
        type: str
      credentials_file:
        description: File with the credentials, read by Prometheus.
        type: str
  tls_config:
    description: TLS settings of the scrapes (C(ca_file), C(cert_file), C(key_file), C(server_name),
      C(insecure_skip_verify), C(min_version)), as in prometheus.yml.
    type: dict
  static_configs:
    description:
      - Targets listed in the configuration, as in prometheus.yml. Each group is a mapping with
        C(targets), the addresses (C(host:port)) of its targets, and C(labels), given to every
        target of the group.
      - The engine checks the groups (not the module's argument parser, which would take longer than
        the simulation on a job with thousands of targets).
    type: list
    elements: dict
  file_sd_configs:
    description: Targets read from files.
    type: list
    elements: dict
    suboptions:
      files:
        description: Files (JSON or YAML, the last path element may contain C(*)) with target groups.
        type: list
        elements: str
        required: true
      refresh_interval:
        description: How often to re-read the files; Prometheus' default is C(5m).
        type: str
  kubernetes_sd_configs:
    description:
      - Kubernetes service discovery, each entry as in prometheus.yml (C(role), C(namespaces),
        C(selectors), C(api_server), ...).
      - Relabel rules belong in O(relabel_configs) of the job, not in an entry of this list; a rule
        placed there fails the task with an explanation.
    type: list
    elements: dict
  relabel_configs:
    description:
      - Relabel rules applied to the targets before the scrape, with Prometheus' field names.
      - An invalid rule fails the task naming the job, the rule (counted from 1) and the field.
    type: list
    elements: dict
  metric_relabel_configs:
    description: Relabel rules applied to the scraped samples.
    type: list
    elements: dict
  sample_limit:
    description: Fail a scrape with more samples than this after metric relabeling; 0 for no limit.
    type: int
  label_limit:
    description: Fail a scrape with a sample with more labels than this; 0 for no limit.
    type: int
  label_name_length_limit:
    description: Fail a scrape with a label name longer than this; 0 for no limit.
    type: int
  label_value_length_limit:
    description: Fail a scrape with a label value longer than this; 0 for no limit.
    type: int
  target_limit:
    description: Fail every scrape of the job when relabeling leaves more targets than this; 0 for no limit.
    type: int
  body_size_limit:
    description: Fail a scrape with a larger uncompressed body, a size such as C(10MB); C(0) for no limit.
    type: str
  discovered_targets:
    description:
      - Label sets as service discovery would produce them (each with C(__address__) and any
        C(__meta_*) labels), to run through the job's target pipeline.
      - When given, even empty, the module returns RV(targets).
    type: list
    elements: dict
  global_config:
    description: The C(global) section's scrape defaults the job falls back on.
    type: dict
    suboptions:
      scrape_interval:
        description: Global scrape interval; Prometheus' default is C(1m).
        type: str
      scrape_timeout:
        description: Global scrape timeout; Prometheus' default is C(10s).
        type: str
notes:
  - Kubernetes service discovery cannot run offline; pass what it would discover as
    O(discovered_targets) to see what relabeling makes of it.
seealso:
  - module: promfleet.federation.relabel
  - name: Prometheus scrape_config
    description: Every field of a scrape config.
    link: https://prometheus.io/docs/prometheus/latest/configuration/configuration/#scrape_config
"""

EXAMPLES = r"""
- name: Node exporters of every host in the group
  promfleet.federation.scrape_config:
    job_name: node
    preset: node
    preset_options:
      targets: "{{ groups['nodes'] | map('regex_replace', '$', ':9100') | list }}"
    scrape_interval: 15s
  delegate_to: localhost
  run_once: true
  register: node_job

- name: A custom Kubernetes service, and what its relabeling keeps
  promfleet.federation.scrape_config:
    job_name: billing-api
    preset: kubernetes_service
    preset_options:
      name: billing-api
      namespace: shop
      port: http-metrics
    metrics_path: /internal/metrics
    discovered_targets:
      - __address__: 10.244.0.7:8080
        __meta_kubernetes_namespace: shop
        __meta_kubernetes_service_name: billing-api
        __meta_kubernetes_endpoint_port_name: http-metrics
        __meta_kubernetes_pod_name: billing-api-5f7c9
      - __address__: 10.244.0.9:5432
        __meta_kubernetes_namespace: shop
        __meta_kubernetes_service_name: billing-db
        __meta_kubernetes_endpoint_port_name: postgres
        __meta_kubernetes_pod_name: billing-db-0
  delegate_to: localhost
  register: billing
# billing.targets[0].labels.instance == "10.244.0.7:8080" (pod billing-api-5f7c9); billing.targets[1].labels == {}

- name: Exporters that send no Content-Type, for Prometheus 3.x (refused for a 2.x schema_version)
  promfleet.federation.scrape_config:
    job_name: old-exporters
    static_configs:
      - targets: [exporter1.example:9100]
    fallback_scrape_protocol: PrometheusText0.0.4
    metric_name_validation_scheme: legacy
  delegate_to: localhost
  run_once: true
  register: old_exporters

- name: Put the jobs into prometheus.yml
  ansible.builtin.set_fact:
    prometheus_scrape_configs: "{{ [node_job.scrape_config, billing.scrape_config, old_exporters.scrape_config] }}"
"""

RETURN = r"""
scrape_config:
  description:
    - The scrape config, normalized for the O(schema_version), as it goes in the C(scrape_configs)
      list of prometheus.yml; options not set are left out.
    - Inline secrets (O(basic_auth.password), O(authorization.credentials), ...) are redacted.
  returned: always
  type: dict
  sample:
    job_name: billing-api
    metrics_path: /internal/metrics
    kubernetes_sd_configs:
      - role: service
        namespaces: {names: [shop]}
    relabel_configs:
      - source_labels: [__meta_kubernetes_namespace, __meta_kubernetes_service_name]
        action: keep
        regex: shop;billing-api
targets:
  description:
    - The job's static targets, then O(discovered_targets), through the target pipeline, in the form
      of C(promtool check service-discovery).
  returned: when O(discovered_targets) is given
  type: list
  elements: dict
  contains:
    discovered_labels:
      description: The target's labels before relabeling, with the job's C(job), C(__scheme__),
        C(__metrics_path__), C(__scrape_interval__), C(__scrape_timeout__) and C(__param_*) labels added.
        Empty when the target is refused.
      type: dict
      returned: always
      sample: {"__address__": "10.244.0.7:8080", "job": "billing-api", "__scheme__": "http"}
    labels:
      description: The target's labels after relabeling, as Prometheus scrapes it; empty when
        relabeling drops it or Prometheus refuses it.
      type: dict
      returned: always
      sample: {"instance": "10.244.0.7:8080", "job": "billing-api", "service": "billing-api",
               "pod": "billing-api-5f7c9"}
    error:
      description: Why Prometheus refuses the target (e.g. C(no address)); promtool prints C({}) there.
      type: str
      returned: when Prometheus would refuse the target
      sample: no address
"""

import gc
import json

from ansible.module_utils import basic
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.warnings import get_deprecations, get_warnings

from ansible_collections.promfleet.federation.plugins.module_utils.errors import PromfleetError
from ansible_collections.promfleet.federation.plugins.module_utils.model.explain import explain_scrape_config
from ansible_collections.promfleet.federation.plugins.module_utils.model.presets import PRESETS
from ansible_collections.promfleet.federation.plugins.module_utils.model.promconfig import (
    NAME_ESCAPING_SCHEMES,
    NAME_VALIDATION_SCHEMES,
    SCRAPE_PROTOCOLS_3,
)
from ansible_collections.promfleet.federation.plugins.module_utils.model.versions import DEFAULT_SCHEMA_VERSION


def argument_spec() -> dict:
    """The module's options (see DOCUMENTATION)."""
    return {
        "job_name": {"type": "str", "required": True},
        "preset": {"type": "str", "choices": list(PRESETS)},
        "preset_options": {"type": "dict", "default": {}},
        "scrape_interval": {"type": "str"},
        "scrape_timeout": {"type": "str"},
        "metrics_path": {"type": "str"},
        "scheme": {"type": "str", "choices": ["http", "https"]},
        "honor_labels": {"type": "bool"},
        "honor_timestamps": {"type": "bool"},
        "params": {"type": "dict"},
        "follow_redirects": {"type": "bool"},
        "enable_http2": {"type": "bool"},
        "proxy_url": {"type": "str"},
        "basic_auth": {
            "type": "dict",
            "options": {
                "username": {"type": "str"},
                "password": {"type": "str", "no_log": True},
                "password_file": {"type": "str", "no_log": False},
            },
        },
        "authorization": {
            "type": "dict",
            "options": {
                "type": {"type": "str"},
                "credentials": {"type": "str", "no_log": True},
                "credentials_file": {"type": "str", "no_log": False},
            },
        },
        "no_proxy": {"type": "str"},
        "proxy_from_environment": {"type": "bool"},
        "track_timestamps_staleness": {"type": "bool"},
        "scrape_protocols": {"type": "list", "elements": "str"},
        "enable_compression": {"type": "bool"},
        "keep_dropped_targets": {"type": "int"},
        "native_histogram_bucket_limit": {"type": "int"},
        "native_histogram_min_bucket_factor": {"type": "float"},
        "scrape_classic_histograms": {"type": "bool"},
        "always_scrape_classic_histograms": {"type": "bool"},
        "convert_classic_histograms_to_nhcb": {"type": "bool"},
        "fallback_scrape_protocol": {"type": "str", "choices": list(SCRAPE_PROTOCOLS_3)},
        "metric_name_validation_scheme": {"type": "str", "choices": list(NAME_VALIDATION_SCHEMES)},
        "metric_name_escaping_scheme": {"type": "str", "choices": list(NAME_ESCAPING_SCHEMES)},
        "scrape_failure_log_file": {"type": "str"},
        "oauth2": {
            "type": "dict",
            "options": {
                "client_id": {"type": "str", "required": True},
                "client_secret": {"type": "str", "no_log": True},
                "client_secret_file": {"type": "str", "no_log": False},
                "scopes": {"type": "list", "elements": "str"},
                "token_url": {"type": "str", "required": True, "no_log": False},
                "endpoint_params": {"type": "dict"},
                "tls_config": {"type": "dict"},
                "proxy_url": {"type": "str"},
            },
        },
        "tls_config": {"type": "dict"},
        # Checked by the engine: with thousands of groups Ansible's suboption checks cost more than the simulation.
        "static_configs": {"type": "list", "elements": "dict"},
        "file_sd_configs": {
            "type": "list",
            "elements": "dict",
            "options": {
                "files": {"type": "list", "elements": "str", "required": True},
                "refresh_interval": {"type": "str"},
            },
        },
        "kubernetes_sd_configs": {"type": "list", "elements": "dict"},
        "relabel_configs": {"type": "list", "elements": "dict"},
        "metric_relabel_configs": {"type": "list", "elements": "dict"},
        "sample_limit": {"type": "int"},
        "label_limit": {"type": "int"},
        "label_name_length_limit": {"type": "int"},
        "label_value_length_limit": {"type": "int"},
        "target_limit": {"type": "int"},
        "body_size_limit": {"type": "str"},
        "discovered_targets": {"type": "list", "elements": "dict"},
        "global_config": {
            "type": "dict",
            "options": {"scrape_interval": {"type": "str"}, "scrape_timeout": {"type": "str"}},
        },
        "schema_version": {"type": "str", "default": DEFAULT_SCHEMA_VERSION, "aliases": ["prometheus_version"]},
    }


def main() -> None:
    # The run builds a large result that has no reference cycles: the cycle collector would only walk
    # it again and again as it grows (some 5% of the run with 10,000 targets).
    collecting = gc.isenabled()
    gc.disable()
    try:
        module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
        try:
            result = explain_scrape_config(module.params)
        except PromfleetError as exc:
            module.fail_json(msg=str(exc))
        # A job with thousands of targets makes a result of megabytes (the targets, the job, and the
        # arguments again under invocation). exit_json copies all of it to mask the values of no_log
        # options (remove_values), then encodes it with ansible-core's JSON encoder, which visits
        # every container in Python: more time than the simulation itself. When no value needs
        # masking, the copy changes nothing; with ansible-core's "legacy" wire format (2.19's default
        # for modules) that encoder writes what json.dumps writes for plain JSON data. Then the result
        # is printed here as exit_json prints it (tests/unit/plugins/modules/test_scrape_config.py
        # compares the two). Anything else goes through exit_json: a secret among the arguments,
        # warnings or deprecations to report, another wire format or ansible-core, a replaced
        # _record_module_result (ansible.netcommon installs one), data json cannot encode.
        record = getattr(AnsibleModule, "_record_module_result", None)
        if (
            module.no_log_values
            or get_warnings()
            or get_deprecations()
            or getattr(basic, "_ANSIBLE_PROFILE", None) != "legacy"
            or getattr(record, "__module__", None) != basic.__name__
            or getattr(record, "__qualname__", None) != "AnsibleModule._record_module_result"
            or "_record_module_result" in vars(module)
        ):
            module.exit_json(changed=False, **result)
        try:
            # (a tree fresh from the arguments' JSON and the engine: no cycle to look for)
            text = json.dumps(dict(changed=False, **result, invocation={"module_args": module.params}),
                              check_circular=False)
        except (TypeError, ValueError):
            module.exit_json(changed=False, **result)
        module.do_cleanup_files()
        # exit_json's last steps: its print (AnsibleModule._record_module_result) and its sys.exit(0).
        print("\n%s" % text)  # pylint: disable=ansible-bad-function
        raise SystemExit(0)
    finally:
        if collecting:
            gc.enable()


if __name__ == "__main__":
    main()
