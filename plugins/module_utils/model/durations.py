# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""Prometheus durations (``1h30m``, ``90s``, ``500ms``): parsing and formatting as Prometheus does."""

from __future__ import annotations

_DURATION_UNITS = (
    ("y", 365 * 24 * 3600 * 1000),
    ("w", 7 * 24 * 3600 * 1000),
    ("d", 24 * 3600 * 1000),
    ("h", 3600 * 1000),
    ("m", 60 * 1000),
    ("s", 1000),
    ("ms", 1),
)


def parse_duration(text: str) -> int:
    """Prometheus duration (``1h30m``, ``90s``, ``500ms``, ``0``) in milliseconds; ValueError if bad."""
    if text == "0":
        return 0
    total = 0
    rest = text
    for unit, factor in _DURATION_UNITS:
        digits = 0
        while digits < len(rest) and "0" <= rest[digits] <= "9":
            digits += 1
        after = rest[digits:]
        is_unit = after.startswith(unit) and not (unit == "m" and after.startswith("ms"))
        if digits and is_unit:
            total += int(rest[:digits]) * factor
            rest = after[len(unit) :]
    if rest or not text:
        raise ValueError("not a valid duration string: %r" % text)
    return total


def format_duration(milliseconds: int) -> str:
    """Prometheus' ``model.Duration.String`` (years and weeks only when they divide evenly)."""
    if milliseconds == 0:
        return "0s"
    out = []
    rest = milliseconds
    for unit, factor in _DURATION_UNITS:
        if unit in ("y", "w") and rest % factor:
            continue
        if rest // factor:
            out.append("%d%s" % (rest // factor, unit))
            rest -= rest // factor * factor
    return "".join(out)
