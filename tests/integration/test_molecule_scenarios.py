"""A scenario run the way Molecule's documentation says (``molecule test -s <scenario>``, without
scripts/molecule.sh) stops at once with a message naming what to set, before anything happens."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("scenario, first_step, missing", [
    ("default", "cleanup", "PROMFLEET_MOLECULE_PORT_THIRD"),
    ("kubernetes", "destroy", "PROMFLEET_MOLECULE_PORT_GLOBAL"),
])
def test_a_plain_molecule_run_names_the_variables_to_set(tmp_path, scenario, first_step, missing):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROMFLEET_MOLECULE_")}
    env.update(PATH="%s:%s" % (REPO / ".venv" / "bin", env["PATH"]), NO_COLOR="1",
               ANSIBLE_HOME=str(tmp_path / "ansible-home"), TMPDIR=str(tmp_path))
    run = subprocess.run([str(REPO / ".venv" / "bin" / "molecule"), first_step, "-s", scenario], cwd=REPO,
                         env=env, capture_output=True, text=True, timeout=300, check=False)
    output = run.stdout + run.stderr
    assert run.returncode != 0, output
    assert "mapping values are not allowed" not in output
    assert "this scenario needs PROMFLEET_MOLECULE_ROOT" in output, output
    assert missing in output
    assert "bash scripts/molecule.sh %s" % scenario in output
    # Stopped before the scenario's own plays: no teardown, no control plane started.
    assert "Tear the" not in output and "Stop the control planes" not in output
