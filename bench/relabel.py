"""Speed of the relabel engine, and of the scrape_config module's target simulation against promtool.

(a) The engine alone: ``relabel(labels, rules)`` with 10 rules, those of the ``kubernetes_pods``
    preset (annotation opt-in, scheme/path/port from annotations, labelmap, namespace and pod
    labels, phase filter) and the two of sharding over 2 servers (hashmod, keep), over N generated
    pod label sets (default 100,000). Rule parsing is done once, outside the timing. Reports label
    sets per second and rule evaluations (rules x label sets) per second.
(b) The target pipeline of a whole job: the ``scrape_config`` module's simulation
    (``simulate_targets``, i.e. ``target_labels`` for every target, plus the discovered labels)
    of a job with T static targets (default 10,000) and the same rules, against
    ``promtool check service-discovery`` on a prometheus.yml with that job (wall clock of the
    process: start-up, YAML parsing, the ``--timeout`` wait for discovery, relabeling, JSON output).

It is a bench, not a test: nothing is compared with a time limit. It exits non-zero only when the
engine and promtool disagree on how many targets are kept. Medians of ``--repeat`` runs.

Run it with ``.venv/bin/python bench/relabel.py`` (``--label-sets``, ``--targets``, ``--repeat``).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "collections"))
sys.path.insert(0, str(REPO / "tests" / "support"))

import promtool  # noqa: E402  (needs the paths above)

from ansible_collections.promfleet.federation.plugins.module_utils.model.presets import preset  # noqa: E402
from ansible_collections.promfleet.federation.plugins.module_utils.model.relabel import parse_rules, relabel  # noqa: E402
from ansible_collections.promfleet.federation.plugins.module_utils.model.targets import simulate_targets  # noqa: E402

PROMTOOL_TIMEOUT = "200ms"


def pod_labels(rng: random.Random, number: int) -> dict:
    """A pod as Kubernetes discovery (role pod) would describe it, about 14 labels."""
    prefix = "__meta_kubernetes_pod_annotation_prometheus_io_"
    labels = {
        "__address__": "10.%d.%d.%d:8080" % (number // 65536 % 256, number // 256 % 256, number % 256),
        "__meta_kubernetes_namespace": rng.choice(["shop", "staging", "monitoring", "kube-system"]),
        "__meta_kubernetes_pod_name": "pod-%d" % number,
        "__meta_kubernetes_pod_phase": rng.choice(["Running"] * 8 + ["Pending", "Succeeded"]),
        "__meta_kubernetes_pod_node_name": "node-%d" % (number % 50),
        "__meta_kubernetes_pod_ip": "10.0.%d.%d" % (number // 256 % 256, number % 256),
        "__meta_kubernetes_pod_label_app": rng.choice(["cart", "billing", "search", "web"]),
        "__meta_kubernetes_pod_label_team": rng.choice(["a", "b", "c"]),
        "__meta_kubernetes_pod_container_name": "main",
        prefix + "scrape": rng.choice(["true", "true", "true", "false"]),
        prefix + "path": rng.choice(["/metrics", "/stats", ""]),
        prefix + "port": rng.choice(["9102", "8080", ""]),
        prefix + "scheme": rng.choice(["http", "https", ""]),
    }
    return {name: value for name, value in labels.items() if value}


def bench_rules() -> list:
    """The kubernetes_pods preset's rules, then sharding over 2 servers (this is shard 0)."""
    return preset("kubernetes_pods")["relabel_configs"] + [
        {"source_labels": ["__address__"], "action": "hashmod", "modulus": 2, "target_label": "__tmp_shard"},
        {"source_labels": ["__tmp_shard"], "action": "keep", "regex": "0"},
    ]


def bench_engine(label_sets: list, rules: list) -> float:
    """Seconds to relabel every label set."""
    parsed = parse_rules(rules)
    started = time.perf_counter()
    for labels in label_sets:
        relabel(labels, parsed)
    return time.perf_counter() - started


def static_job(targets: list) -> dict:
    job = {"job_name": "pods", "relabel_configs": bench_rules()}
    job["static_configs"] = [
        {"targets": [t["__address__"]], "labels": {k: v for k, v in t.items() if k != "__address__"}} for t in targets
    ]
    return job


def bench_simulation(job: dict) -> tuple[float, int]:
    started = time.perf_counter()
    out = simulate_targets(job, [])
    return time.perf_counter() - started, sum(1 for entry in out if entry["labels"])


def bench_promtool(job: dict, directory: str) -> tuple[float, int]:
    path = os.path.join(directory, "prometheus.yml")
    with open(path, "w", encoding="utf-8") as handle:
        json.dump({"scrape_configs": [job]}, handle)
    command = [promtool.PROMTOOL, "check", "service-discovery", "--timeout=" + PROMTOOL_TIMEOUT, path, job["job_name"]]
    started = time.perf_counter()
    run = subprocess.run(command, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if run.returncode != 0:
        raise SystemExit("promtool failed (rc %d): %s" % (run.returncode, run.stderr[-2000:]))
    return elapsed, sum(1 for entry in json.loads(run.stdout) if entry["labels"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--label-sets", type=int, default=100_000, help="label sets for (a), default 100000")
    parser.add_argument("--targets", type=int, default=10_000, help="static targets for (b), default 10000")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measure, medians reported (default 3)")
    args = parser.parse_args()
    rng = random.Random(1)
    rules = bench_rules()
    print("load average: %.2f %.2f %.2f, %d CPUs" % (*os.getloadavg(), os.cpu_count() or 0))

    label_sets = [pod_labels(rng, number) for number in range(args.label_sets)]
    engine_s = statistics.median(bench_engine(label_sets, rules) for _run in range(args.repeat))
    print("\n(a) relabel engine: %d rules (kubernetes_pods preset + sharding) over %d label sets of ~%d labels"
          % (len(rules), len(label_sets), round(statistics.mean(len(s) for s in label_sets))))
    print("| seconds | label sets/s | rule evaluations/s | us per label set |")
    print("| ---: | ---: | ---: | ---: |")
    per_second = format(round(len(label_sets) / engine_s), ",")
    rules_per_second = format(round(len(rules) * len(label_sets) / engine_s), ",")
    print("| %.2f | %s | %s | %.1f |" % (engine_s, per_second, rules_per_second, engine_s / len(label_sets) * 1e6))

    job = static_job([pod_labels(rng, number) for number in range(args.targets)])
    simulations = [bench_simulation(job) for _run in range(args.repeat)]
    with tempfile.TemporaryDirectory(prefix="bench-relabel-") as directory:
        promtools = [bench_promtool(job, directory) for _run in range(args.repeat)]
    simulation_s = statistics.median(s for s, _kept in simulations)
    promtool_s = statistics.median(s for s, _kept in promtools)
    kept, promtool_kept = simulations[0][1], promtools[0][1]
    print("\n(b) one job, %d static targets, same rules (kept: engine %d, promtool %d)"
          % (args.targets, kept, promtool_kept))
    print("| what | seconds | targets/s |")
    print("| --- | ---: | ---: |")
    print("| scrape_config simulation (engine) | %.2f | %s |"
          % (simulation_s, format(round(args.targets / simulation_s), ",")))
    print("| promtool check service-discovery (--timeout=%s, wall clock) | %.2f | %s |"
          % (PROMTOOL_TIMEOUT, promtool_s, format(round(args.targets / promtool_s), ",")))
    print("| ratio engine / promtool | %.2f | |" % (simulation_s / promtool_s))
    print("\nload average: %.2f %.2f %.2f" % os.getloadavg())
    if kept != promtool_kept:
        print("MISMATCH: the engine keeps %d targets, promtool %d" % (kept, promtool_kept))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
