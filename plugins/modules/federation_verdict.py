# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""Documentation of the federation_verdict action (plugins/action/federation_verdict.py)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: federation_verdict
short_description: Judge a federation from what every server answered, print the table and draw the topology
version_added: 0.1.0
description:
  - Runs on the controller; C(playbooks/verify.yml) ends with it.
  - Reads the fact O(fact) of every server of the topology (set by the C(verify) entry points of the
    C(prometheus) and C(global) roles; a server without it was not reached in this run) and says whether
    the federation works - every global has C(up) of every datacenter, with its C(datacenter) label,
    younger than two federation intervals, and every server answered.
  - Prints the table (one row per datacenter and per global) and writes C(topology.svg) and
    C(topology.md) (a Mermaid chart and the table) into O(report_dir), atomically.
  - Fails when the federation is not verified (the table says why, naming the servers, globals and
    datacenters concerned), unless O(fail=false) or in check mode; RV(ok) says it either way.
author:
  - promfleet maintainers (!UNKNOWN)
extends_documentation_fragment:
  - promfleet.federation.controller
options:
  topology:
    description: The topology (the C(prometheus_topology) fact); by default the one the run computed.
    type: dict
  report_dir:
    description:
      - Where the pictures go; by default E(PROMFLEET_REPORT_DIR), else C(promfleet-report) in the directory
        C(ansible-playbook) runs from.
    type: str
  fact:
    description: The per-server fact with what each server answered.
    type: str
    default: prometheus_verify
  fail:
    description: Fail the task when the federation is not verified. With V(false) only RV(ok) says it.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description: >-
      Judges and prints as usual, says so when the fleet is not verified, and does not fail; writes no
      picture.
  diff_mode:
    support: none
    description: The pictures are a report, not state of the fleet.
seealso:
  - module: promfleet.federation.prometheus_info
"""

EXAMPLES = r"""
- name: Judge the federation and draw it; fail naming what is wrong
  promfleet.federation.federation_verdict:
    report_dir: /var/tmp/promfleet-report

- name: Only report (a dashboard job that must not fail)
  promfleet.federation.federation_verdict:
    fail: false
  register: verdict
"""

RETURN = r"""
msg:
  description: The table, line by line, and the verdict.
  returned: always
  type: list
  elements: str
ok:
  description: Whether the federation is verified.
  returned: always
  type: bool
failures:
  description: Sentences naming the server, the global and the datacenter of every problem.
  returned: always
  type: list
  elements: str
report_files:
  description: The pictures written (none in check mode).
  returned: success
  type: list
  elements: str
stats:
  description:
    - What the run hands on with C(ansible.builtin.set_stats) (playbooks/verdict.yml does). AWX keeps it as the
      job's artifacts and passes it to the next node of a workflow as extra variables.
  returned: when a topology was read
  type: dict
  contains:
    promfleet_verdict:
      description: C(verified) or C(failed).
      type: str
      sample: verified
    promfleet_datacenters:
      description: The datacenter labels of the topology.
      type: list
      elements: str
      sample: [eu-west-1, us-east-1]
    promfleet_servers:
      description: Every server, with its datacenter (null for a global) and whether it answered in this run.
      type: dict
      sample: {"eu-west-1-a": {"datacenter": "eu-west-1", "answered": true}}
    promfleet_ages:
      description:
        - Per global, the age in seconds of every datacenter's newest C(up) sample there. A datacenter missing at
          a global is left out.
      type: dict
      sample: {"global-a": {"eu-west-1": 3.2, "us-east-1": 4.9}}
    promfleet_failures:
      description: The failures, as in I(failures).
      type: list
      elements: str
"""
