"""A config change in a Kubernetes pod, until it is verified live: each reloader of the collection
against the seed's inotify sidecar, on the same real node, in the same run. And the time from node
start to verify.yml green for two clusters and a global.

On real single-node clusters of scripts/kube/node-start.sh (the kubelet at its default one-minute
sync period, as the seed's clusters run it):

1. **Node start to verify.yml green**: two nodes started side by side, then ``site.yml`` with a
   datacenter server in each cluster (NodePort 30090) and a global on this host; the time from the
   nodes' start to the end of the successful run (verify.yml is its last play), and its parts.
2. **Config change to verified live, per reloader** (``exec``, ``http``, ``sidecar``): the server is
   applied with the kubernetes role in a namespace of its own and left to run 20 s (a pod that just
   turned ready gets its volumes refreshed by the kubelet anyway); then, --repeats times, its ConfigMap is
   written with a new ``scrape_interval`` and ``prometheus_kubernetes_reload``'s engine
   (``kube.reload.reload``, what the role runs right after applying the ConfigMap) is timed from the
   write until it returns with the pod verified: mounted files, reload and configuration proven.
3. **The seed's path**, the anchor: a Prometheus with ``--web.enable-lifecycle`` and a sidecar running
   ``inotifywait`` on the mounted ConfigMap and ``curl -X POST /-/reload`` (an image with
   inotify-tools and curl from Debian, scripts/kube/images.sh). The ConfigMap is written the same way,
   and the time runs until ``/api/v1/status/config`` shows the new interval (also after 20 s of running).

It prints the figures and the ratio of each reloader's median to the seed's. Not a test: no time
limits; a non-zero exit when a step fails. Needs root (``make setup`` makes the images; the first run
builds the Kubernetes binaries, about 11 minutes). Run: ``.venv/bin/python bench/kube_reload.py``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "tests" / "support"), str(REPO / "collections")]

import yaml  # noqa: E402
from fleet import Fleet, run_playbook, wait_for  # noqa: E402
from kube import Node, ensure_built, ensure_images, pod_ready  # noqa: E402
from kubernetes import client  # noqa: E402

from ansible_collections.promfleet.federation.plugins.module_utils.kube import reload as kube_reload  # noqa: E402

ROOT = REPO / ".tmp" / "bench-kube"
PLAYBOOK = "tests/kube/playbooks/kubernetes.yml"
NODE_PORT = 30090
RELOADERS = ("exec", "http", "sidecar")
SEED = "seed"
# A pod that just turned ready gets its volumes refreshed by the kubelet's sync of that status change:
# every change here is made on a pod that has been ready this long, as a server in production is.
STEADY_SECONDS = 20
SEED_SIDECAR = ("while true; do inotifywait -qq -e create,delete,modify,moved_to /etc/prometheus; "
                "curl -fsS -X POST http://localhost:9090/-/reload; done")


def config(interval: int) -> dict:
    return {"global": {"scrape_interval": "%ds" % interval},
            "scrape_configs": [{"job_name": "self", "static_configs": [{"targets": ["localhost:9090"]}]}]}


def start_nodes(names: list[str]) -> tuple[dict[str, Node], float]:
    started = time.monotonic()
    with ThreadPoolExecutor(len(names)) as pool:
        futures = {name: pool.submit(Node.start, name, ROOT / ("node-" + name), index)
                   for index, name in enumerate(names)}
        nodes = {name: future.result() for name, future in futures.items()}
    return nodes, time.monotonic() - started


def node_to_green(nodes: dict[str, Node], node_seconds: float) -> dict:
    fleet = Fleet(ROOT / "fleet", datacenters=list(nodes))
    inventory = fleet.inventory()
    for datacenter, node in nodes.items():
        fleet.datacenter_host(inventory, datacenter)["prometheus_kubernetes"] = node.prometheus_kubernetes(
            "monitoring", NODE_PORT)
    path = fleet.write_inventory("kubernetes.yml", data=inventory)
    run = run_playbook("playbooks/site.yml", [path], check=False)
    if run.returncode != 0:
        raise SystemExit("site.yml failed:\n" + run.output[-4000:])
    teardown = run_playbook("playbooks/teardown.yml", [path], check=False)
    if teardown.returncode != 0:
        raise SystemExit("teardown.yml failed:\n" + teardown.output[-4000:])
    return {"nodes": node_seconds, "site": run.seconds, "total": node_seconds + run.seconds}


def apply_server(node: Node, images: dict, reloader: str) -> None:
    options = {"kubeconfig": str(node.kubeconfig), "context": node.context, "namespace": "bench-" + reloader,
               "name": "prom-" + reloader, "image": images["PROMETHEUS_IMAGE"], "image_pull_policy": "Never",
               "reloader": reloader}
    if reloader == "sidecar":
        options["reloader_image"] = images["BUSYBOX_IMAGE"]
    inventory = ROOT / ("inventory-%s.yml" % reloader)
    inventory.write_text(yaml.safe_dump({"all": {
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"},
        "hosts": {"bench": {"prometheus_kubernetes": options, "prometheus_kubernetes_config": config(5)}}}}))
    run_playbook(PLAYBOOK, [inventory])
    time.sleep(STEADY_SECONDS)


def time_reloader(node: Node, reloader: str, repeats: int) -> list[float]:
    namespace, name = "bench-" + reloader, "prom-" + reloader
    cluster = kube_reload.Cluster(str(node.kubeconfig), node.context)
    core = client.CoreV1Api(node.api_client())
    seconds = []
    for repeat in range(repeats):
        data = dict(core.read_namespaced_config_map(name, namespace).data)
        data["prometheus.yml"] = yaml.safe_dump(dict(yaml.safe_load(data["prometheus.yml"]),
                                                     **{"global": config(6 + repeat)["global"]}))
        started = time.monotonic()
        core.patch_namespaced_config_map(name, namespace, {"data": data})
        result = kube_reload.reload(cluster, namespace, name, reloader=reloader, data=data, mount_timeout=150)
        seconds.append(time.monotonic() - started)
        print("  %-8s change %d: %.2f s (mount %.2f s, reload %.2f s)" % (
            reloader, repeat + 1, seconds[-1], result["pods"][0]["mount_seconds"],
            result["pods"][0]["reload_seconds"]), flush=True)
    return seconds


def seed_objects(images: dict) -> list[dict]:
    labels = {"app": SEED}
    mount = {"name": "config", "mountPath": "/etc/prometheus"}
    pod = {"containers": [
        {"name": "prometheus", "image": images["PROMETHEUS_IMAGE"], "imagePullPolicy": "Never",
         "args": ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus",
                  "--web.enable-lifecycle"],
         "readinessProbe": {"httpGet": {"path": "/-/ready", "port": 9090}, "periodSeconds": 1},
         "volumeMounts": [mount, {"name": "data", "mountPath": "/prometheus"}]},
        {"name": "inotify-reload", "image": images["INOTIFY_IMAGE"], "imagePullPolicy": "Never",
         "command": ["sh", "-c", SEED_SIDECAR], "volumeMounts": [mount]}],
        "volumes": [{"name": "config", "configMap": {"name": SEED}}, {"name": "data", "emptyDir": {}}]}
    return [
        {"metadata": {"name": SEED}, "data": {"prometheus.yml": yaml.safe_dump(config(5))}},
        {"metadata": {"name": SEED}, "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                                              "template": {"metadata": {"labels": labels}, "spec": pod}}},
    ]


def time_seed(node: Node, images: dict, repeats: int) -> list[float]:
    api = node.api_client()
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    core.create_namespace({"metadata": {"name": SEED}})
    config_map, deployment = seed_objects(images)
    core.create_namespaced_config_map(SEED, config_map)
    apps.create_namespaced_deployment(SEED, deployment)
    pod = wait_for(lambda: next((p for p in core.list_namespaced_pod(SEED).items if pod_ready(p)), None),
                   timeout=120, what="the seed's pod ready")
    url = "http://%s:9090/api/v1/status/config" % pod.status.pod_ip
    time.sleep(STEADY_SECONDS)

    def interval() -> str:
        with urllib.request.urlopen(url, timeout=5) as response:
            return yaml.safe_load(json.load(response)["data"]["yaml"])["global"]["scrape_interval"]

    seconds = []
    for repeat in range(repeats):
        wanted = config(6 + repeat)
        started = time.monotonic()
        core.patch_namespaced_config_map(SEED, SEED, {"data": {"prometheus.yml": yaml.safe_dump(wanted)}})
        wait_for(lambda wanted=wanted: interval() == wanted["global"]["scrape_interval"], timeout=300,
                 interval=0.1, what="the seed's pod running the new ConfigMap")
        seconds.append(time.monotonic() - started)
        print("  seed     change %d: %.2f s" % (repeat + 1, seconds[-1]), flush=True)
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--repeats", type=int, default=3, help="config changes per reloader (default 3)")
    parser.add_argument("--seed-repeats", type=int, default=3, help="config changes on the seed's path (default 3)")
    args = parser.parse_args()
    shutil.rmtree(ROOT, ignore_errors=True)
    ROOT.mkdir(parents=True)
    ROOT.chmod(0o755)
    ensure_built()
    images = ensure_images()
    nodes: dict[str, Node] = {}
    try:
        nodes, node_seconds = start_nodes(["eu-west-1", "us-east-1"])
        green = node_to_green(nodes, node_seconds)
        print("node start to verify.yml green (2 clusters, a global): %.1f s (nodes Ready %.1f s, site.yml %.1f s)"
              % (green["total"], green["nodes"], green["site"]), flush=True)
        node = nodes["eu-west-1"]
        figures = {}
        for reloader in RELOADERS:
            apply_server(node, images, reloader)
            figures[reloader] = time_reloader(node, reloader, args.repeats)
        figures["seed"] = time_seed(node, images, args.seed_repeats)
    finally:
        for node in nodes.values():
            node.stop()
    seed = statistics.median(figures["seed"])
    print("\nconfig change to verified live (kubelet sync 1m), medians:")
    for name, seconds in figures.items():
        median = statistics.median(seconds)
        ratio = "anchor" if name == "seed" else "%.3fx the seed's" % (median / seed)
        print("  %-8s %6.2f s  (%s)  %s" % (name, median, ", ".join("%.2f" % s for s in seconds), ratio))
    shutil.rmtree(ROOT, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
