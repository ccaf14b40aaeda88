# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""Secrets out of a configuration before it is shown anywhere (a diff, a result, a log): a pure
function with no other dependency, so that every module that shows a configuration can afford it."""

from __future__ import annotations

import copy
import re

REDACTED = "<redacted>"
# Fields whose value is a secret wherever they appear; ``*_file`` fields are paths, not secrets.
SECRET_FIELDS = ("password", "credentials", "bearer_token", "client_secret", "secret_key", "proxy_connect_header")
# Header names (remote_write/remote_read ``headers``) whose value is a secret.
_SECRET_HEADER = re.compile(r"(?i)authorization|token|secret|password|api[-_]?key|cookie")


def redact(config: dict) -> dict:
    """A deep copy of ``config`` with every secret replaced by ``"<redacted>"``: the fields of
    ``SECRET_FIELDS`` anywhere in the structure, and ``headers`` whose name looks like a credential
    (Authorization, X-Api-Key, ...). Paths (``*_file``) and empty values are kept."""
    return _redact(config)


def _redact(value):
    if isinstance(value, dict):
        result = {}
        for name, item in value.items():
            if name in SECRET_FIELDS and item not in (None, "", {}, []):
                result[name] = _redact_all(item)
            elif name == "headers" and isinstance(item, dict):
                result[name] = {
                    header: REDACTED if _SECRET_HEADER.search(str(header)) and item_value else item_value
                    for header, item_value in item.items()
                }
            else:
                result[name] = _redact(item)
        return result
    if isinstance(value, list):
        return [_redact(item) for item in value]
    return copy.deepcopy(value)


def _redact_all(value):
    """Every leaf of a secret field (a string, or the values of ``proxy_connect_header``)."""
    if isinstance(value, dict):
        return {name: _redact_all(item) for name, item in value.items()}
    if isinstance(value, list):
        return [_redact_all(item) for item in value]
    return REDACTED
