"""The differential oracle of the relabel engine: random rule lists (every action) over random
targets, run through the engine and through the real ``promtool check service-discovery`` of one
Prometheus release; every job must be refused by both or by neither, and every target must come
out the same. Shared by tests/integration/test_relabel_promtool.py and bench/oracle.py.

The cases cover what differs between release lines: Unicode script classes, UTF-8 label names
(``app.name``), newlines in values against ``.``, addresses without a port, ``(?<name>re)``,
lowercase/uppercase into a templated target.
"""

from __future__ import annotations

import json
import random
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import promtool
import releases

from ansible_collections.promfleet.federation.plugins.module_utils.errors import RelabelError, TargetError
from ansible_collections.promfleet.federation.plugins.module_utils.model.relabel import parse_rules
from ansible_collections.promfleet.federation.plugins.module_utils.model.targets import target_labels

SEED = 20240611
JOBS = 130
TARGETS_PER_JOB = 12
INVALID_CONFIGS = 24

LABEL_NAMES = ["a", "b", "c", "env", "instance", "job", "__address__", "__scheme__", "__meta_x", "__tmp_y", "k_1"]
VALUES = ["", "x", "X", "1", "42", "a;b", "$1", "$$", "foo-bar", "İstanbul", "straße", "ǅ", "ᾳ", "K", "ı", "π∞",
          "with space", "a\nb", "node-1.example.org", "v1.2.3", "UPPER", "mIxEd", "x_y", "9abc", "αβγ", "漢字x",
          "Привет1", "x\n", "\n"]
ADDRESSES = ["h1", "h2:9100", "10.0.0.1", "[::1]", "[::1]:8080", "::1", "host:", "a/b", "node-1.example.org"]
REGEXES = [
    "(.*)", ".*", "(.+)", "x", "(x|y)", "([a-z]+)-([a-z]+)", "(?P<first>[^;]*);(?P<second>.*)", "(\\d+)",
    "\\w+", "(\\w+)\\s(\\w+)", "(?i)k", "(?i)(s+)traße", "[[:alpha:]]+", "[[:^digit:]]*", "\\pL+", "(\\p{Lu})(.*)",
    "\\PN*", "^a.*$", "(?s)a.b", "a.b", "(?m)^b$", "(?U)(.+)(.*)", "(.*?)(\\d*)", "x{2,3}", "(a|ab)(c|bcd)?(d*)",
    "\\Q$1\\E", "[$;]", "(.)(.)(.)(.)(.)(.)(.)(.)(.)(.)(.)", "__meta_(.*)", "__(.+)__", "(env|job)", "([a-c])",
    "\\bx\\b.*", "(?i)[a-f]+", "ı", "(?i)i", "(İ|ı)(.*)", "[^a-z]*", "\\x{1F600}|π.*", "\\101(.*)", "(k)_(1)",
    "\\p{Greek}+", "(\\p{Han}+)(.*)", "[\\p{Cyrillic}\\d]+", "\\P{Latin}*", "(?i)\\p{Greek}+", "(.*)\\n",
    "(?-s)(.*)", "x.", ".", "(?s)(.*)",
]
# Regexes some lines refuse: drawn less often, so that most jobs compare targets.
RARE_REGEXES = ["(?<n>[a-z]+)(.*)", "(?<first>[^;]*);(?P<second>.*)"]
REPLACEMENTS = ["$1", "${1}x", "$1_x", "$$", "$01", "$first", "${second}", "$2$1", "x$0y", "", "static",
                "$3", "${1", "$ 1", "$10", "$11", "a;$1;b", "${first}_${second}"]
TARGETS = ["new", "a", "env", "instance", "job", "__address__", "__scheme__", "${1}", "x_$1", "$1_x",
           "${first}", "__tmp_$1", "k_1"]
# Label names only 3.x takes.
UTF8_TARGETS = ["app.name", "ünï", "a-b", "$1.x"]
MAPS = ["$1", "${1}_m", "m_$1", "x", "${first}", "__tmp_$1"]
UTF8_MAPS = ["m.$1", "${1}-m"]
CASE_TARGETS = ["low", "a", "env", "__tmp_c"]
CASE_TEMPLATES = ["$1", "x_$1"]


def regex(rng: random.Random) -> str:
    return rng.choice(RARE_REGEXES) if rng.random() < 0.03 else rng.choice(REGEXES)


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
        rule["target_label"] = rng.choice(CASE_TEMPLATES) if rng.random() < 0.05 else rng.choice(LABEL_NAMES)
        return rule
    if rng.random() < 0.4:
        rule["separator"] = rng.choice(["", "-", ";;", "ß"])
    if action == "labelmap":
        rule.pop("source_labels")
        rule["regex"] = regex(rng)
        rule["replacement"] = rng.choice(UTF8_MAPS) if rng.random() < 0.05 else rng.choice(MAPS)
        return rule
    if action in ("keep", "drop", "replace") or (action == "hashmod" and rng.random() < 0.3):
        rule["regex"] = regex(rng)
    if action == "hashmod":
        rule["modulus"] = rng.choice([1, 2, 7, 1000, 2**63 + 5])
        rule["target_label"] = rng.choice(["h", "__tmp_hash", "a"])
    elif action in ("lowercase", "uppercase"):
        rule["target_label"] = rng.choice(CASE_TEMPLATES) if rng.random() < 0.05 else rng.choice(CASE_TARGETS)
    elif action == "replace":
        rule["target_label"] = rng.choice(UTF8_TARGETS) if rng.random() < 0.05 else rng.choice(TARGETS)
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


def engine(job: dict, static: dict, line: str, rules: list, reverse: bool = False):
    names = list(static["labels"])[::-1] if reverse else list(static["labels"])
    discovered = {"__address__": static["targets"][0]}
    discovered.update((name, static["labels"][name]) for name in names)
    try:
        return target_labels(discovered, job, None, line, rules)
    except TargetError:
        return "error"


def order_dependent(job: dict, cases: list[dict], line: str, rules: list) -> bool:
    """Whether a target's result depends on the order of its group's labels: Prometheus takes them
    from a Go map, in random order, so its own answer is not fixed (labelmap of two names to one)."""
    return any(engine(job, static, line, rules) != engine(job, static, line, rules, reverse=True) for static in cases)


@dataclass
class Outcome:
    """One job: how many targets were compared, and the differences (empty when they agree)."""

    targets: int
    refused_by_both: bool = False
    order_dependent: bool = False
    differences: list = field(default_factory=list)


def compare(job: dict, cases: list[dict], line: str) -> Outcome:
    """Differences between promtool ``line`` and the engine for one job.

    promtool prints targets in no fixed order, drops duplicate results, prints failed targets as
    empty objects, and shows the discovered labels of a target after relabeling has partly
    overwritten them (``relabel.Process`` reuses their memory). So the kept targets are compared
    as a set of final label sets (each target has a unique ``case_id`` label, which keeps them
    apart unless a rule removes it), and for dropped and failed targets only whether there are any.
    """
    rules_text = json.dumps(job["relabel_configs"], ensure_ascii=False)
    try:
        rules = parse_rules(job["relabel_configs"], 'job "%s"' % job["job_name"], line)
        refusal = None
    except RelabelError as exc:
        rules, refusal = None, str(exc)
    rc, answer, output = promtool.check_service_discovery(
        {"scrape_configs": [job]}, job["job_name"], promtool=releases.promtool(line))
    promtool_refused = rc != 0 or answer is None
    if promtool_refused or refusal:
        if promtool_refused and refusal:
            return Outcome(len(cases), refused_by_both=True)
        return Outcome(len(cases), differences=[
            "job %s: promtool %s (rc %d) %s, the engine %s\nrules: %s" % (
                job["job_name"], line, rc, "refused it: " + output.strip()[-300:] if promtool_refused else "took it",
                "refused it: " + refusal if refusal else "took it", rules_text)])
    if order_dependent(job, cases, line, rules):
        return Outcome(len(cases), order_dependent=True)
    kept = {json.dumps(entry["labels"], sort_keys=True) for entry in answer if entry["labels"]}
    dropped = any(not entry["labels"] and "error" not in entry for entry in answer)
    failed = any("error" in entry for entry in answer)
    differences = []
    engine_kept = set()
    engine_dropped = engine_failed = False
    for static in cases:
        got = engine(job, static, line, rules)
        if got == "error":
            engine_failed = True
        elif got is None:
            engine_dropped = True
        else:
            text = json.dumps(got, sort_keys=True)
            engine_kept.add(text)
            if text not in kept:
                differences.append("engine result not printed by promtool %s:\n%s" % (line, describe(job, static, got)))
    for text in sorted(kept - engine_kept):
        differences.append("job %s: promtool %s printed %s, the engine has no such target\nrules: %s" % (
            job["job_name"], line, text, rules_text))
    if (dropped, failed) != (engine_dropped, engine_failed):
        differences.append("job %s: promtool %s dropped/failed targets %s/%s, the engine %s/%s\nrules: %s" % (
            job["job_name"], line, dropped, failed, engine_dropped, engine_failed, rules_text))
    return Outcome(len(cases), differences=differences)


def describe(job: dict, static: dict, got) -> str:
    return "rules: %s\ninput: %s\nengine: %s" % (
        json.dumps(job["relabel_configs"], ensure_ascii=False), json.dumps(static, ensure_ascii=False),
        json.dumps(got, ensure_ascii=False))


@dataclass
class Summary:
    """The oracle's verdict for one release line."""

    line: str
    release: str
    jobs: int
    cases: int
    compared: int
    refused_by_both: int
    order_dependent: int
    differences: list

    def line_of_figures(self) -> str:
        return ("Prometheus %s (%s): %d cases in %d jobs: %d targets compared, %d in jobs both refused, %d in jobs "
                "whose answer depends on Go's map order (left out); %d differences"
                % (self.line, self.release, self.cases, self.jobs, self.compared, self.refused_by_both,
                   self.order_dependent, len(self.differences)))


def run(line: str, jobs: int = JOBS, seed: int = SEED) -> Summary:
    """Generate ``jobs`` random jobs (the same for every line) and compare them on promtool ``line``."""
    rng = random.Random(seed)
    generated = [random_job(rng, number, number * TARGETS_PER_JOB) for number in range(jobs)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(lambda item: compare(*item, line), generated))
    both = sum(o.targets for o in outcomes if o.refused_by_both)
    unordered = sum(o.targets for o in outcomes if o.order_dependent)
    cases = sum(o.targets for o in outcomes)
    return Summary(line, releases.release(line)["version"], jobs, cases, cases - both - unordered, both, unordered,
                   [d for o in outcomes for d in o.differences])
