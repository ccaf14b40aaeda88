"""Differential test of the relabel engine against the real promtool of Prometheus 2.42.

Random label sets and random rule lists (every action) are run through ``target_labels`` and
through ``promtool check service-discovery``; every target must come out the same. Each job is one
promtool run with many static targets (see ``compare`` for how its answer is matched).
"""

from __future__ import annotations

import json
import random
import time
from concurrent.futures import ThreadPoolExecutor

import promtool
import pytest

from ansible_collections.promfleet.federation.plugins.module_utils.errors import RelabelError, TargetError
from ansible_collections.promfleet.federation.plugins.module_utils.model.relabel import parse_rules
from ansible_collections.promfleet.federation.plugins.module_utils.model.targets import target_labels

SEED = 20240611
JOBS = 100
TARGETS_PER_JOB = 12
INVALID_CONFIGS = 24

LABEL_NAMES = ["a", "b", "c", "env", "instance", "job", "__address__", "__scheme__", "__meta_x", "__tmp_y", "k_1"]
VALUES = ["", "x", "X", "1", "42", "a;b", "$1", "$$", "foo-bar", "İstanbul", "straße", "ǅ", "ᾳ", "K", "ı", "π∞",
          "with space", "a\nb", "node-1.example.org", "v1.2.3", "UPPER", "mIxEd", "x_y", "9abc"]
ADDRESSES = ["h1", "h2:9100", "10.0.0.1", "[::1]", "[::1]:8080", "::1", "host:", "a/b", "node-1.example.org"]
REGEXES = [
    "(.*)", ".*", "(.+)", "x", "(x|y)", "([a-z]+)-([a-z]+)", "(?P<first>[^;]*);(?P<second>.*)", "(\\d+)",
    "\\w+", "(\\w+)\\s(\\w+)", "(?i)k", "(?i)(s+)traße", "[[:alpha:]]+", "[[:^digit:]]*", "\\pL+", "(\\p{Lu})(.*)",
    "\\PN*", "^a.*$", "(?s)a.b", "a.b", "(?m)^b$", "(?U)(.+)(.*)", "(.*?)(\\d*)", "x{2,3}", "(a|ab)(c|bcd)?(d*)",
    "\\Q$1\\E", "[$;]", "(.)(.)(.)(.)(.)(.)(.)(.)(.)(.)(.)", "__meta_(.*)", "__(.+)__", "(env|job)", "([a-c])",
    "\\bx\\b.*", "(?i)[a-f]+", "ı", "(?i)i", "(İ|ı)(.*)", "[^a-z]*", "\\x{1F600}|π.*", "\\101(.*)", "(k)_(1)",
]
REPLACEMENTS = ["$1", "${1}x", "$1_x", "$$", "$01", "$first", "${second}", "$2$1", "x$0y", "", "static",
                "$3", "${1", "$ 1", "$10", "$11", "a;$1;b", "${first}_${second}"]
TARGETS = ["new", "a", "env", "instance", "job", "__address__", "__scheme__", "${1}", "x_$1", "$1_x",
           "${first}", "__tmp_$1", "k_1"]
MAPS = ["$1", "${1}_m", "m_$1", "x", "${first}", "__tmp_$1"]


def random_labels(rng: random.Random) -> dict:
    labels = {name: rng.choice(VALUES) for name in rng.sample(LABEL_NAMES, rng.randint(0, 6))}
    labels.pop("__address__", None)
    return labels


def random_rule(rng: random.Random) -> dict:
    action = rng.choice(["replace"] * 4 + ["keep", "drop", "keepequal", "dropequal", "hashmod", "labelmap",
                                           "labeldrop", "labelkeep", "lowercase", "uppercase"])
    rule: dict = {}
    if rng.random() < 0.3 and action != "replace":
        rule["action"] = action.upper() if rng.random() < 0.3 else action
    elif action != "replace" or rng.random() < 0.5:
        rule["action"] = action
    sources = rng.sample(LABEL_NAMES, rng.randint(0, 3))
    if action in ("labeldrop", "labelkeep"):
        rule["regex"] = rng.choice(REGEXES + ["__meta_.*", "a|b", "_.*", "[a-z]"])
        return rule
    rule["source_labels"] = sources
    if action in ("keepequal", "dropequal"):
        rule["target_label"] = rng.choice(LABEL_NAMES)
        return rule
    if rng.random() < 0.4:
        rule["separator"] = rng.choice(["", "-", ";;", "ß"])
    if action == "labelmap":
        rule.pop("source_labels")
        rule["regex"] = rng.choice(REGEXES)
        rule["replacement"] = rng.choice(MAPS)
        return rule
    if action in ("keep", "drop", "replace") or (action == "hashmod" and rng.random() < 0.3):
        rule["regex"] = rng.choice(REGEXES)
    if action == "hashmod":
        rule["modulus"] = rng.choice([1, 2, 7, 1000, 2**63 + 5])
        rule["target_label"] = rng.choice(["h", "__tmp_hash", "a"])
    elif action in ("lowercase", "uppercase"):
        rule["target_label"] = rng.choice(["low", "a", "env", "__tmp_c"])
    elif action == "replace":
        rule["target_label"] = rng.choice(TARGETS)
        if rng.random() < 0.8:
            rule["replacement"] = rng.choice(REPLACEMENTS)
    return rule


def random_job(rng: random.Random, number: int, first_case: int) -> tuple[dict, list[dict]]:
    job: dict = {"job_name": "j%d" % number}
    if rng.random() < 0.3:
        job["scheme"] = "https"
    if rng.random() < 0.3:
        job["params"] = {"module": [rng.choice(["icmp", "http_2xx"]), "second"]}
    if rng.random() < 0.3:
        job["scrape_interval"] = rng.choice(["5s", "90s", "2h", "1d"])
    if rng.random() < 0.2:
        job["metrics_path"] = "/probe"
    job["relabel_configs"] = [random_rule(rng) for _unused in range(rng.randint(1, 6))]
    cases = []
    for offset in range(TARGETS_PER_JOB):
        labels = random_labels(rng)
        labels["__meta_case"] = str(first_case + offset)
        labels["case_id"] = str(first_case + offset)
        cases.append({"targets": [rng.choice(ADDRESSES)], "labels": labels})
    job["static_configs"] = cases
    return job, cases


def engine(job: dict, static: dict):
    discovered = dict(static["labels"])
    discovered["__address__"] = static["targets"][0]
    try:
        return target_labels(discovered, job)
    except TargetError:
        return "error"


def compare(job: dict, cases: list[dict]) -> list[str]:
    """Differences between promtool and the engine for one job.

    promtool 2.42 prints targets in no fixed order, drops duplicate results, prints failed targets
    as empty objects, and shows the discovered labels of a target after relabeling has partly
    overwritten them (``relabel.Process`` reuses their memory). So the kept targets are compared
    as a set of final label sets (each target has a unique ``case_id`` label, which keeps them
    apart unless a rule removes it), and for dropped and failed targets only whether there are any.
    """
    rc, answer, output = promtool.check_service_discovery({"scrape_configs": [job]}, job["job_name"])
    if rc != 0 or answer is None:
        rules = json.dumps(job["relabel_configs"])
        return ["promtool refused job %s (rc %d): %s\nrules: %s" % (job["job_name"], rc, output, rules)]
    kept = {json.dumps(entry["labels"], sort_keys=True) for entry in answer if entry["labels"]}
    dropped = any(not entry["labels"] and "error" not in entry for entry in answer)
    failed = any("error" in entry for entry in answer)
    differences = []
    engine_kept = set()
    engine_dropped = engine_failed = False
    for static in cases:
        got = engine(job, static)
        if got == "error":
            engine_failed = True
        elif got is None:
            engine_dropped = True
        else:
            text = json.dumps(got, sort_keys=True)
            engine_kept.add(text)
            if text not in kept:
                differences.append("engine result not printed by promtool:\n" + describe(job, static, got))
    for text in sorted(kept - engine_kept):
        differences.append("job %s: promtool printed %s, the engine has no such target\nrules: %s" % (
            job["job_name"], text, json.dumps(job["relabel_configs"], ensure_ascii=False)))
    if (dropped, failed) != (engine_dropped, engine_failed):
        differences.append("job %s: promtool dropped/failed targets %s/%s, the engine %s/%s\nrules: %s" % (
            job["job_name"], dropped, failed, engine_dropped, engine_failed,
            json.dumps(job["relabel_configs"], ensure_ascii=False)))
    return differences


def describe(job: dict, static: dict, got) -> str:
    return "rules: %s\ninput: %s\nengine: %s" % (
        json.dumps(job["relabel_configs"], ensure_ascii=False), json.dumps(static, ensure_ascii=False),
        json.dumps(got, ensure_ascii=False))


def test_engine_matches_promtool_on_random_rules():
    """At least 1000 random targets through random rule lists: no difference to promtool."""
    print("seed", SEED)
    rng = random.Random(SEED)
    started = time.monotonic()
    jobs = [random_job(rng, number, number * TARGETS_PER_JOB) for number in range(JOBS)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda item: compare(*item), jobs))
    differences = [d for result in results for d in result]
    cases = sum(len(c) for _unused, c in jobs)
    elapsed = time.monotonic() - started
    print("cases %d, jobs %d, differences %d, %.1fs" % (cases, len(jobs), len(differences), elapsed))
    assert cases >= 1000
    shown = "\n\n".join(differences[:20])
    assert not differences, "seed %d, %d differences:\n\n%s" % (SEED, len(differences), shown)


INVALID_RULES = [
    {"action": "hashmod", "target_label": "x"},
    {"action": "hashmod", "target_label": "1x", "modulus": 2},
    {"action": "replace", "target_label": "a-b"},
    {"action": "replace", "target_label": "a$"},
    {"action": "replace", "target_label": "${a"},
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
    {"action": "labelmap", "regex": "(.*)", "replacement": "1$1"},
    {"action": "labelmap", "regex": "(.*)", "replacement": "a-$1"},
    {"action": "nonsense"},
    {"action": ""},
    {"source_labels": ["a-b"], "target_label": "x"},
    {"target_label": "x", "regex": "(?<n>a)"},
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


@pytest.mark.parametrize("rule", INVALID_RULES, ids=[json.dumps(r) for r in INVALID_RULES])
def test_engine_and_promtool_both_reject(rule):
    """Rules promtool refuses are refused by the engine too."""
    job = {"job_name": "bad", "static_configs": [{"targets": ["h"]}], "relabel_configs": [rule]}
    rc, _answer, output = promtool.check_service_discovery({"scrape_configs": [job]}, "bad")
    assert rc != 0, output
    with pytest.raises(RelabelError):
        parse_rules([rule])
