# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""Filters over the prometheus.yml engine (docs: normalize_prometheus_config.yml, normalize_scrape_config.yml)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.promfleet.federation.plugins.module_utils.promconfig import (
    DEFAULT_VERSION,
    ConfigError,
    normalize_config,
    normalize_scrape_config,
)


def normalize_prometheus_config(config: dict, version: str = DEFAULT_VERSION) -> dict:
    """The whole prometheus.yml checked like Prometheus ``version`` loads it, relabel rules made explicit."""
    try:
        return normalize_config(config, version)
    except ConfigError as exc:
        raise AnsibleFilterError(str(exc)) from exc


def normalize_scrape_job(job: dict, version: str = DEFAULT_VERSION, global_config: dict | None = None) -> dict:
    """One scrape job checked like Prometheus ``version`` loads it, relabel rules made explicit."""
    try:
        return normalize_scrape_config(job, version, global_config)
    except ConfigError as exc:
        raise AnsibleFilterError(str(exc)) from exc


class FilterModule:
    """promfleet.federation prometheus.yml filters."""

    def filters(self) -> dict:
        return {
            "normalize_prometheus_config": normalize_prometheus_config,
            "normalize_scrape_config": normalize_scrape_job,
        }
