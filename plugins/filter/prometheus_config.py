# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""Filters over the prometheus.yml engine (docs: normalize_prometheus_config.yml, normalize_scrape_config.yml,
scrape_preset.yml)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.promfleet.federation.plugins.module_utils.errors import PromfleetError
from ansible_collections.promfleet.federation.plugins.module_utils.model import presets
from ansible_collections.promfleet.federation.plugins.module_utils.model.durations import parse_duration
from ansible_collections.promfleet.federation.plugins.module_utils.model.promconfig import (
    normalize_config,
    normalize_scrape_config,
)
from ansible_collections.promfleet.federation.plugins.module_utils.model.versions import DEFAULT_SCHEMA_VERSION


def normalize_prometheus_config(config: dict, version: str = DEFAULT_SCHEMA_VERSION) -> dict:
    """The whole prometheus.yml checked like Prometheus ``version`` loads it, relabel rules made explicit."""
    try:
        return normalize_config(config, version)
    except PromfleetError as exc:
        raise AnsibleFilterError(str(exc)) from exc


def normalize_scrape_job(job: dict, version: str = DEFAULT_SCHEMA_VERSION, global_config: dict | None = None) -> dict:
    """One scrape job checked like Prometheus ``version`` loads it, relabel rules made explicit."""
    try:
        return normalize_scrape_config(job, version, global_config)
    except PromfleetError as exc:
        raise AnsibleFilterError(str(exc)) from exc


def scrape_preset(preset: str | dict, version: str = DEFAULT_SCHEMA_VERSION, **options) -> dict:
    """The scrape job of a preset (presets.PRESETS) built with ``options`` (which may include
    ``name``, the service of ``kubernetes_service``), checked by the engine. ``preset`` is the
    preset's name, or a mapping with ``preset`` and the options (for ``map`` over a list)."""
    if isinstance(preset, dict):
        options = dict(preset, **options)
        preset_name = options.pop("preset", None)
    else:
        preset_name = preset
    try:
        return normalize_scrape_config(presets.for_version(presets.preset(preset_name, **options), preset_name,
                                                           version), version)
    except PromfleetError as exc:
        raise AnsibleFilterError(str(exc)) from exc


def duration_seconds(duration: str) -> float:
    """A Prometheus duration (``30s``, ``1m30s``, ``500ms``) in seconds."""
    try:
        return parse_duration(str(duration)) / 1000.0
    except ValueError:
        raise AnsibleFilterError("%r is not a Prometheus duration; use e.g. 30s, 1m or 1h30m" % (duration,)) from None


class FilterModule:
    """promfleet.federation prometheus.yml filters."""

    def filters(self) -> dict:
        return {
            "normalize_prometheus_config": normalize_prometheus_config,
            "normalize_scrape_config": normalize_scrape_job,
            "scrape_preset": scrape_preset,
            "duration_seconds": duration_seconds,
        }
