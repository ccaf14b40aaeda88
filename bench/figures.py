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


def print_table(table: list[list[str]], repeat: int, note: str = "") -> None:
    """``table`` (a header row, then one row per N) right-aligned, with how it was measured."""
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    runs_label = f"median of {repeat} runs" if repeat > 1 else "1 run"
    print(f"\nResults ({runs_label} per N; load average now {load()}{note}):")
    for i, row in enumerate(table):
        print("  " + "  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)))
        if i == 0:
            print("  " + "  ".join("-" * w for w in widths))
