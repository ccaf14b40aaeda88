"""Run the real ``promtool`` of a Prometheus release (default: the 3.x one) as an oracle."""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

import releases

PROMTOOL = releases.promtool()


def check_service_discovery(
    config: dict, job: str, timeout: str = "200ms", promtool: str = PROMTOOL
) -> tuple[int, list | None, str]:
    """Write ``config`` (a prometheus.yml as a dict) and run ``promtool check service-discovery``.

    Returns (exit code, the parsed JSON list of ``{discoveredLabels, labels[, error]}`` or None,
    stdout+stderr text). The config is written as JSON, which YAML reads unchanged.
    """
    with tempfile.TemporaryDirectory(prefix="promtool-") as tmp:
        path = Path(tmp) / "prometheus.yml"
        path.write_text(json.dumps(config, ensure_ascii=False), encoding="utf-8")
        run = subprocess.run(
            [promtool, "check", "service-discovery", "--timeout=" + timeout, str(path), job],
            capture_output=True,
            text=True,
            check=False,
        )
    output = run.stdout + run.stderr
    try:
        parsed = json.loads(run.stdout)
    except ValueError:
        parsed = None
    return run.returncode, parsed, output


def run(line: str | None, *args: str, cwd: Path) -> tuple[int, str]:
    """Run the ``promtool`` of Prometheus ``line`` (``"2.42"``, ``"3.5"``, ...; None: the 3.x release)
    with ``args`` in ``cwd``. Returns (exit code, stdout+stderr text)."""
    done = subprocess.run([releases.promtool(line), *args], cwd=cwd, capture_output=True, text=True, check=False)
    return done.returncode, done.stdout + done.stderr
