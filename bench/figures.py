"""Formatting shared by the bench scripts: medians that skip missing figures, fixed-width numbers,
the machine's load (figures measured under load are noisy, so every table states it)."""

from __future__ import annotations

import os
import statistics


def median(values: list[float | None]) -> float | None:
    """Median of the figures that were measured; None when none was."""
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())
