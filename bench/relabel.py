"""Speed of the relabel engine, and of the scrape_config module's target simulation against promtool.

(a) The engine alone: ``relabel(labels, rules)`` with 10 rules, those of the ``kubernetes_pods``
    preset (annotation opt-in, scheme/path/port from annotations, labelmap, namespace and pod
    labels, phase filter) and the two of sharding over 2 servers (hashmod, keep), over N generated
    pod label sets (default 100,000). Rule parsing is done once, outside the timing. Reports label
    sets per second and rule evaluations (rules x label sets) per second.
(b) The target pipeline of a whole job, as whole processes: the ``scrape_config`` module run the
    way Ansible runs it on a host, minus the SSH (``python -m
    ansible_collections.promfleet.federation.plugins.modules.scrape_config ARGS.json``, the
    arguments as ``{"ANSIBLE_MODULE_ARGS": {...}}`` in a file, read by ``AnsibleModule``'s
    ``_load_params`` from ``sys.argv[1]``), with the job's T static targets (default 10,000) in
    ``static_configs``, the same rules, ``discovered_targets: []`` (so that it returns the targets)
    and the ``schema_version`` of the promtool it is compared with (3.5, the tests' default
    release), against ``promtool check service-discovery`` on a prometheus.yml with the same job.
    Both are wall clock of the process: start-up, parsing, relabeling, JSON output; promtool's also
    includes its ``--timeout`` wait for discovery.

It is a bench, not a test: nothing is compared with a time limit. It exits non-zero only when the
module and promtool disagree on how many targets are kept. Medians of ``--repeat`` runs.

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
import releases  # noqa: E402

from ansible_collections.promfleet.federation.plugins.module_utils.model.presets import preset  # noqa: E402
from ansible_collections.promfleet.federation.plugins.module_utils.model.relabel import parse_rules, relabel  # noqa: E402

PROMTOOL_TIMEOUT = "200ms"
MODULE = "ansible_collections.promfleet.federation.plugins.modules.scrape_config"
# promtool.PROMTOOL is the default release of the tests (3.5.3): the module simulates its line.
MODULE_SCHEMA_VERSION = releases.DEFAULT_LINE


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


def module_args(job: dict) -> dict:
    """The scrape_config module's arguments for ``job``: its fields, the targets returned, promtool's line."""
    return dict(job, discovered_targets=[], schema_version=MODULE_SCHEMA_VERSION)


def bench_module(job: dict, directory: str) -> tuple[float, int]:
    """Wall clock of the scrape_config module as a process, and how many targets it keeps."""
    path = os.path.join(directory, "args.json")
    with open(path, "w", encoding="utf-8") as handle:
        json.dump({"ANSIBLE_MODULE_ARGS": module_args(job)}, handle)
    command = [sys.executable, "-m", MODULE, path]
    env = dict(os.environ, PYTHONPATH=str(REPO / "collections"))
    started = time.perf_counter()
    run = subprocess.run(command, capture_output=True, text=True, check=False, env=env, cwd=directory)
    elapsed = time.perf_counter() - started
    try:
        result = json.loads(run.stdout)
    except ValueError:
        result = {"failed": True, "msg": run.stdout[-2000:] + run.stderr[-2000:]}
    if run.returncode != 0 or result.get("failed"):
        raise SystemExit("the scrape_config module failed (rc %d): %s" % (run.returncode, result.get("msg")))
    return elapsed, sum(1 for entry in result["targets"] if entry["labels"])


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
    with tempfile.TemporaryDirectory(prefix="bench-relabel-") as directory:
        modules, promtools = [], []
        for _run in range(args.repeat):  # interleaved: both see the same load
            modules.append(bench_module(job, directory))
            promtools.append(bench_promtool(job, directory))
    module_s = statistics.median(s for s, _kept in modules)
    promtool_s = statistics.median(s for s, _kept in promtools)
    kept, promtool_kept = modules[0][1], promtools[0][1]
    print("\n(b) one job, %d static targets, same rules, whole processes, Prometheus %s (kept: module %d, promtool %d)"
          % (args.targets, MODULE_SCHEMA_VERSION, kept, promtool_kept))
    print("| what | seconds | targets/s |")
    print("| --- | ---: | ---: |")
    print("| scrape_config module (python -m ..., args file, wall clock) | %.2f | %s |"
          % (module_s, format(round(args.targets / module_s), ",")))
    print("| promtool check service-discovery (wall clock, includes its --timeout=%s discovery wait) | %.2f | %s |"
          % (PROMTOOL_TIMEOUT, promtool_s, format(round(args.targets / promtool_s), ",")))
    print("| ratio module / promtool | %.2f | |" % (module_s / promtool_s))
    print("\nload average: %.2f %.2f %.2f" % os.getloadavg())
    if kept != promtool_kept:
        print("MISMATCH: the module keeps %d targets, promtool %d" % (kept, promtool_kept))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
