# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""Filters behind playbooks/verify.yml (docs: federation_observation.yml, federation_fresh.yml,
federation_report.yml); the logic is in module_utils/fleet/report.py."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.promfleet.federation.plugins.module_utils.errors import PromfleetError
from ansible_collections.promfleet.federation.plugins.module_utils.fleet import report as report_


def federation_observation(info: dict, max_age: float | None = None) -> dict:
    """What one server answered, from a registered ``prometheus_info`` result.

    Whether the module answered is told by its ``targets``, not by ``failed``: with ``until`` and
    ``failed_when: false`` a server that answered may be marked failed (retries ran out) and one
    that did not answer may be marked ok."""
    if info.get("unreachable") or "targets" not in info:
        return report_.observation(error=info.get("msg") or "no answer")
    # verify.yml asks a global the age query first; then every server the query of its firing alerts.
    queries = list(info.get("queries") or [])
    ages = queries.pop(0) if max_age is not None and queries else None
    try:
        return report_.observation(info.get("targets"), ages, max_age, alerts=queries[0] if queries else None)
    except PromfleetError as exc:
        raise AnsibleFilterError("federation_observation: %s" % exc) from exc


def alertmanager_observation(answer: dict) -> dict:
    """What one Alertmanager answered, from a registered ``ansible.builtin.uri`` result of its
    ``/api/v2/status``."""
    if answer.get("status") != 200 or not isinstance(answer.get("json"), dict):
        return report_.alertmanager_observation(error=answer.get("msg") or "no answer")
    return report_.alertmanager_observation(answer["json"])


def federation_fresh(seen: dict, topology: dict) -> bool:
    """Whether a global's observation has fresh data of every datacenter of ``topology``."""
    return not report_.federation_failures(topology, seen)


def federation_report(topology: dict, hostvars: dict, fact: str = "prometheus_verify") -> dict:
    """The verdict over every server's ``fact``, with the table and the pictures."""
    return report_.verdict(topology, report_.observations_of(topology, hostvars, fact))


class FilterModule:
    """promfleet.federation verification filters."""

    def filters(self) -> dict:
        return {
            "federation_observation": federation_observation,
            "alertmanager_observation": alertmanager_observation,
            "federation_fresh": federation_fresh,
            "federation_report": federation_report,
        }
