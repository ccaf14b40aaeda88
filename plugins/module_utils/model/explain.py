# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""What a rule list or a scrape job does, explained offline: the logic behind the ``relabel`` and
``scrape_config`` modules, which only map their parameters to these functions."""

from __future__ import annotations

from ansible_collections.promfleet.federation.plugins.module_utils.errors import LabelSetError
from ansible_collections.promfleet.federation.plugins.module_utils.model.presets import merge_preset, preset
from ansible_collections.promfleet.federation.plugins.module_utils.model.promconfig import (
    normalize_config,
    normalize_scrape_config,
)
from ansible_collections.promfleet.federation.plugins.module_utils.model.redact import SECRET_FIELDS, redact
from ansible_collections.promfleet.federation.plugins.module_utils.model.relabel import parse_rules, relabel
from ansible_collections.promfleet.federation.plugins.module_utils.model.targets import simulate_targets
from ansible_collections.promfleet.federation.plugins.module_utils.model.versions import DEFAULT_SCHEMA_VERSION

# Parameters of the scrape_config module that are not fields of the scrape config.
SCRAPE_MODULE_OPTIONS = ("preset", "preset_options", "discovered_targets", "global_config", "schema_version",
                         "prometheus_version")
# Options whose suboptions Ansible fills with None when they are not given.
_WITH_SUBOPTIONS = ("basic_auth", "authorization", "oauth2", "global_config")
_LISTS_WITH_SUBOPTIONS = ("static_configs", "file_sd_configs")


def _check_label_set(labels: object, index: int, what: str = "labels") -> dict:
    if not isinstance(labels, dict):
        raise LabelSetError("%s[%d] must be a mapping of label names to strings, got %r" % (what, index, labels))
    for name, value in labels.items():
        if not isinstance(value, str):
            raise LabelSetError(
                "%s[%d]: the value of %s must be a string, got %r (quote it)" % (what, index, name, value)
            )
    return labels


def explain_relabeling(rules: list, label_sets: list, version: str = DEFAULT_SCHEMA_VERSION) -> dict:
    """Every label set of ``label_sets`` through ``rules``, and the rules in their explicit form.

    Raises ``RelabelError`` for invalid rules (the message names the rule and field),
    ``LabelSetError`` for a label set that is not a mapping of strings (``labels[i]`` counts from 0)
    and ``ConfigError`` for an unsupported version.
    """
    parsed = parse_rules(rules, version=version)
    # The config model writes each rule as Prometheus accepts it back (and checks the version).
    explicit = normalize_scrape_config({"job_name": "relabel", "relabel_configs": rules}, version)["relabel_configs"]
    results = []
    for index, labels in enumerate(label_sets):
        out = relabel(_check_label_set(labels, index), parsed)
        results.append({"labels": None if out is None else dict(sorted(out.items())), "dropped": out is None})
    return {"results": results, "rules": explicit}


def _without_none(value: dict) -> dict:
    return {key: item for key, item in value.items() if item is not None}


def scrape_options(params: dict) -> dict:
    """The scrape config fields among the scrape_config module's parameters, without the ones not
    set (None), also inside the options that have suboptions."""
    options = {}
    for key, value in params.items():
        if key in SCRAPE_MODULE_OPTIONS or value is None:
            continue
        if key in _WITH_SUBOPTIONS:
            value = _without_none(value)
        elif key in _LISTS_WITH_SUBOPTIONS:
            value = [_without_none(entry) for entry in value]
        options[key] = value
    return options


def build_scrape_config(
    options: dict,
    preset_name: str | None = None,
    preset_options: dict | None = None,
    version: str = DEFAULT_SCHEMA_VERSION,
    global_config: dict | None = None,
) -> dict:
    """The normalized scrape config: ``options`` (scrape config fields) over the preset, if any.

    Raises ``PresetError``, or ``ConfigError``/``RelabelError`` from the config model."""
    config = dict(options)
    if preset_name:
        config = merge_preset(preset(preset_name, **(preset_options or {})), options)
    return normalize_scrape_config(config, version, global_config, "scrape_config")


_STATIC_FIELDS = frozenset(("targets", "labels"))
_SECRET_FIELDS = frozenset(SECRET_FIELDS)


def _redact_job(config: dict) -> dict:
    """``redact(config)`` for a job that ``normalize_scrape_config`` accepted. Its static target
    groups (thousands of them, sometimes) then hold only addresses and label sets of strings, which
    ``redact`` changes only where a label is named like a secret field (``password``, ...): without
    such a label they are the same after ``redact``, and shared with ``config`` instead of copied."""
    groups = config.get("static_configs")
    if not isinstance(groups, list) or not all(
        isinstance(group, dict)
        and group.keys() <= _STATIC_FIELDS
        and isinstance(group.get("labels") or {}, dict)
        and _SECRET_FIELDS.isdisjoint(group.get("labels") or ())
        for group in groups
    ):
        return redact(config)
    rest = redact({name: value for name, value in config.items() if name != "static_configs"})
    return {name: groups if name == "static_configs" else rest[name] for name in config}


def explain_scrape_config(params: dict) -> dict:
    """The scrape_config module's result for its parameters (the argument spec's names; unset options None)."""
    version = params.get("schema_version") or DEFAULT_SCHEMA_VERSION
    global_config = _without_none(params.get("global_config") or {}) or None
    if global_config:
        normalize_config({"global": global_config}, version)  # Prometheus refuses the whole file
    config = build_scrape_config(
        scrape_options(params), params.get("preset"), params.get("preset_options"), version, global_config
    )
    result = {"scrape_config": _redact_job(config)}
    if params.get("discovered_targets") is not None:
        discovered = [_check_label_set(labels, index, "discovered_targets")
                      for index, labels in enumerate(params["discovered_targets"])]
        result["targets"] = simulate_targets(config, discovered, global_config, version)
    return result
