"""Differential test of the relabel engine against the real promtool of every release line the
tests run (Debian's 2.42, 2.53 and 3.x): at least 1,000 random targets through random rule lists
per line, no difference (tests/support/oracle.py says how they are generated and compared).
"""

from __future__ import annotations

import json

import oracle
import promtool
import pytest
import releases

from ansible_collections.promfleet.federation.plugins.module_utils.errors import RelabelError
from ansible_collections.promfleet.federation.plugins.module_utils.model.relabel import parse_rules


@pytest.mark.parametrize("line", releases.MATRIX)
def test_engine_matches_promtool_on_random_rules(line):
    """At least 1000 random targets compared per line, through random rule lists: no difference."""
    summary = oracle.run(line)
    print(summary.line_of_figures())
    assert summary.compared >= 1000
    shown = "\n\n".join(summary.differences[:20])
    assert not summary.differences, "seed %d, %d differences:\n\n%s" % (oracle.SEED, len(summary.differences), shown)


INVALID_RULES = [
    {"action": "hashmod", "target_label": "x"},
    {"action": "replace"},
    {"action": "lowercase", "source_labels": ["a"]},
    {"action": "uppercase", "target_label": "x", "replacement": "y"},
    {"action": "keepequal", "source_labels": ["a"]},
    {"action": "keepequal", "source_labels": ["a"], "target_label": "b", "regex": "(.*)"},
    {"action": "dropequal", "source_labels": ["a"], "target_label": "b", "separator": ","},
    {"action": "dropequal", "source_labels": ["a"], "target_label": "b", "modulus": 3},
    {"action": "labeldrop", "regex": "a", "source_labels": []},
    {"action": "labelkeep", "regex": "a", "target_label": "x"},
    {"action": "labelkeep", "regex": "a", "replacement": "x"},
    {"action": "nonsense"},
    {"action": ""},
    {"target_label": "x", "regex": "a**"},
    {"target_label": "x", "regex": "a{1001}"},
    {"target_label": "x", "regex": "(a{100}){11}"},
    {"target_label": "x", "regex": "\\C"},
    {"target_label": "x", "regex": "\\Z"},
    {"target_label": "x", "regex": "(?=a)"},
    {"target_label": "x", "regex": "\\1"},
    {"target_label": "x", "regex": "[z-a]"},
    {"target_label": "x", "regex": "[[:foo:]]"},
    {"target_label": "x", "regex": "(?i-)a"},
    {"target_label": "x", "extra": 1},
]


# Refused before 3.0 (label names that are not [a-zA-Z_][a-zA-Z0-9_]*), taken by 3.x as UTF-8 names.
LEGACY_NAME_RULES = [
    {"action": "hashmod", "target_label": "1x", "modulus": 2},
    {"action": "replace", "target_label": "a-b"},
    {"action": "replace", "target_label": "a$"},
    {"action": "replace", "target_label": "${a"},
    {"action": "labelmap", "regex": "(.*)", "replacement": "1$1"},
    {"action": "labelmap", "regex": "(.*)", "replacement": "a-$1"},
    {"source_labels": ["a-b"], "target_label": "x"},
    {"action": "lowercase", "source_labels": ["a"], "target_label": "app.name"},
]
# Refused by Go 1.19 (2.42), taken from Go 1.22 builds (2.51 on; measured on 2.53 and 3.5).
ANGLE_NAMED_GROUP_RULES = [{"target_label": "x", "regex": "(?<n>a)"}, {"target_label": "$n", "regex": "(?<n>a)"}]


def accepted_by(rule: dict, line: str) -> bool:
    """Whether ``line`` takes ``rule`` (a rule of the lists above)."""
    if rule in LEGACY_NAME_RULES:
        return line.startswith("3.")
    return line != "2.42"


@pytest.mark.parametrize("line", releases.MATRIX)
@pytest.mark.parametrize("rule", LEGACY_NAME_RULES + ANGLE_NAMED_GROUP_RULES,
                         ids=[json.dumps(r) for r in LEGACY_NAME_RULES + ANGLE_NAMED_GROUP_RULES])
def test_rules_valid_from_one_line_on(rule, line):
    """Rules whose validity depends on the line: promtool and the engine take or refuse them alike."""
    job = {"job_name": "j", "static_configs": [{"targets": ["h"]}], "relabel_configs": [rule]}
    rc, _answer, output = promtool.check_service_discovery(
        {"scrape_configs": [job]}, "j", promtool=releases.promtool(line))
    assert (rc == 0) == accepted_by(rule, line), output
    if accepted_by(rule, line):
        parse_rules([rule], version=line)
    else:
        with pytest.raises(RelabelError, match=r"Prometheus 2\.51 on|before Prometheus 3"):
            parse_rules([rule], version=line)


@pytest.mark.parametrize("line", releases.MATRIX)
@pytest.mark.parametrize("rule", INVALID_RULES, ids=[json.dumps(r) for r in INVALID_RULES])
def test_engine_and_promtool_both_reject(rule, line):
    """Rules promtool refuses are refused by the engine too, on every line."""
    job = {"job_name": "bad", "static_configs": [{"targets": ["h"]}], "relabel_configs": [rule]}
    rc, _answer, output = promtool.check_service_discovery(
        {"scrape_configs": [job]}, "bad", promtool=releases.promtool(line))
    assert rc != 0, output
    with pytest.raises(RelabelError):
        parse_rules([rule], version=line)
