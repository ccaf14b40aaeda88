"""The datacenter role's default recording rules against the real ``promtool`` of every line the tests
run (Debian's 2.42, 2.53 and 3.x): ``promtool check rules`` on the rule file the role writes, and
``promtool test rules`` with the unit tests of tests/rules/.

The rule file is written from roles/datacenter/defaults/main.yml at test time, as the role writes it
(``_datacenter_rule_files`` in roles/datacenter/vars/main.yml), into a temporary directory next to a
copy of each test file, which names it in ``rule_files``: the tests check what the role ships.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import releases
import yaml

REPO = Path(__file__).resolve().parents[2]
DEFAULTS = REPO / "roles" / "datacenter" / "defaults" / "main.yml"
RULE_TESTS = sorted((REPO / "tests" / "rules").glob("*.test.yml"))
# The name the test files give in rule_files.
RULE_FILE = "datacenter_recording_rules.yml"


def default_rule_groups() -> list[dict]:
    """The rule groups the datacenter role writes with its defaults."""
    defaults = yaml.safe_load(DEFAULTS.read_text(encoding="utf-8"))
    groups = defaults["datacenter_recording_rules"] + defaults["datacenter_extra_recording_rules"]
    text = yaml.safe_dump(groups)
    # Ansible templates the variables; without Jinja in them, what it writes is what is read here.
    assert "{{" not in text and "{%" not in text, "the default rules contain Jinja: template them first"
    return groups


def default_records() -> list[str]:
    return [rule["record"] for group in default_rule_groups() for rule in group["rules"]]


def write_rule_file(directory: Path) -> Path:
    path = directory / RULE_FILE
    path.write_text(yaml.safe_dump({"groups": default_rule_groups()}, sort_keys=False), encoding="utf-8")
    return path


def promtool(line: str, *args: str, cwd: Path) -> tuple[int, str]:
    """Run promtool ``line`` with ``args`` in ``cwd``: (exit code, stdout+stderr)."""
    run = subprocess.run([releases.promtool(line), *args], cwd=cwd, capture_output=True, text=True, check=False)
    return run.returncode, run.stdout + run.stderr


@pytest.mark.parametrize("line", releases.MATRIX)
def test_the_default_rule_file_passes_promtool_check_rules(tmp_path, line):
    rc, output = promtool(line, "check", "rules", str(write_rule_file(tmp_path)), cwd=tmp_path)
    assert rc == 0, output
    assert "SUCCESS: %d rules found" % len(default_records()) in output, output


@pytest.mark.parametrize("line", releases.MATRIX)
@pytest.mark.parametrize("test_file", RULE_TESTS, ids=lambda path: path.name)
def test_the_default_rules_pass_their_promtool_unit_tests(tmp_path, line, test_file):
    write_rule_file(tmp_path)
    shutil.copy(test_file, tmp_path / test_file.name)
    rc, output = promtool(line, "test", "rules", test_file.name, cwd=tmp_path)
    assert rc == 0, "promtool %s test rules %s:\n%s" % (line, test_file.name, output)


def test_the_test_files_load_the_rule_file_written_from_the_defaults():
    assert RULE_TESTS, "no tests/rules/*.test.yml"
    for test_file in RULE_TESTS:
        assert yaml.safe_load(test_file.read_text(encoding="utf-8"))["rule_files"] == [RULE_FILE], test_file.name


def test_every_default_rule_is_checked_by_a_promtool_unit_test():
    checked = " ".join(case["expr"] for test_file in RULE_TESTS
                       for group in yaml.safe_load(test_file.read_text(encoding="utf-8"))["tests"]
                       for case in group.get("promql_expr_test", []))
    untested = [record for record in default_records()
                if not re.search(r"(?<![\w:])%s(?![\w:])" % re.escape(record), checked)]
    assert not untested, "default rules that no test in tests/rules/ queries: %s" % ", ".join(untested)


def test_every_default_rule_is_named_for_the_globals_default_match():
    # The global federates {__name__=~"job:.+"} by default (global_federation_match).
    records = default_records()
    assert len(records) == len(set(records)), records
    assert [record for record in records if not record.startswith("job:")] == []
