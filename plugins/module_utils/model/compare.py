# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""Is the configuration a server reports the one that was written? A pure comparison of the file's
prometheus.yml with ``/api/v1/status/config``, which shows defaults, absolute paths, normalized
durations and ``<secret>`` in place of secrets."""

from __future__ import annotations

import os

from ansible_collections.promfleet.federation.plugins.module_utils.model.durations import parse_duration

# What Prometheus prints instead of a secret in /api/v1/status/config.
SERVER_SECRET = "<secret>"


def _durations_equal(left: str, right: str) -> bool:
    try:
        return parse_duration(left) == parse_duration(right)
    except ValueError:
        return False


def _scalars_equal(key: str, file_value, server_value, config_dir: str) -> bool:
    if file_value == server_value:
        return True
    if server_value == SERVER_SECRET and file_value not in (None, ""):
        return True
    if isinstance(file_value, str) and isinstance(server_value, str):
        if key == "action" and file_value.lower() == server_value.lower():
            return True
        if config_dir and not os.path.isabs(file_value) and os.path.join(config_dir, file_value) == server_value:
            return True
        return _durations_equal(file_value, server_value)
    return False


def _zero(value) -> bool:
    """An empty value, which Prometheus leaves out of the configuration it prints."""
    return value in ("", 0, [], {})  # 0 also matches false


def config_differences(file_config, server_config, config_dir: str = "", where: str = "") -> list:
    """Where the configuration the server reports differs from the file's, as readable lines.

    "Equal" means: every field the file sets has the same value on the server; fields the server
    shows but the file does not set (Prometheus prints its defaults) are ignored, and so are empty
    fields of the file the server leaves out (``""``, ``0``, ``false``, ``[]``, ``{}``). Values are equal
    when they are identical, or both durations of the same length (``60s`` and ``1m``), or the
    server shows ``<secret>`` for a non-empty secret, or a relative path of the file joined to
    ``config_dir`` is the absolute path the server shows, or (field ``action``) they differ only in
    case. Lists must have the same length and equal items in the same order.
    """
    label = where or "the configuration"
    if isinstance(file_config, dict):
        if not isinstance(server_config, dict):
            return ["%s: the file has a mapping, the server has %r" % (label, server_config)]
        found = []
        for key, value in file_config.items():
            sub = "%s.%s" % (where, key) if where else str(key)
            if value is None:
                continue  # YAML null: unset, the server shows its default
            if key not in server_config and _zero(value):
                continue  # Prometheus leaves out empty fields (omitempty): 3.x prints no `modulus: 0`
            if key not in server_config:
                found.append("%s: set in the file, missing on the server" % sub)
                continue
            found += config_differences(value, server_config[key], config_dir, sub)
        return found
    if isinstance(file_config, list):
        if not isinstance(server_config, list):
            return ["%s: the file has a list, the server has %r" % (label, server_config)]
        if len(file_config) != len(server_config):
            return ["%s: %d items in the file, %d on the server" % (label, len(file_config), len(server_config))]
        found = []
        for index, (file_item, server_item) in enumerate(zip(file_config, server_config)):
            found += config_differences(file_item, server_item, config_dir, "%s[%d]" % (where, index))
        return found
    key = where.rsplit(".", 1)[-1]
    if _scalars_equal(key, file_config, server_config, config_dir):
        return []
    if server_config == SERVER_SECRET or key in ("password", "credentials", "bearer_token", "client_secret"):
        return ["%s: differs (a secret, not shown)" % label]
    return ["%s: %r in the file, %r on the server" % (label, file_config, server_config)]
