"""Real Kubernetes clusters for tests, from scripts/kube/.

- ApiServer (start.sh, stop.sh): a control plane (etcd, kube-apiserver 1.20, kube-controller-manager)
  on free loopback ports, with all its state in one directory; no pod runs.
- Node (node-start.sh, node-stop.sh): a whole single-node cluster in its own network namespace,
  pods run (kubelet, containerd, kube-proxy), reached at its node IP.

Several of either can run at once.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from fleet import Fleet, run_playbook
from it_support import tear_down
from kubernetes import client, config

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "scripts" / "kube"


def ensure_built() -> Path:
    """The directory of the binaries, built first when the cache lacks them (about 11 minutes)."""
    run = subprocess.run([SCRIPTS / "build.sh"], stdout=subprocess.PIPE, text=True, check=True)
    return Path(run.stdout.splitlines()[-1])


def ensure_images() -> dict:
    """The images a Node imports (scripts/kube/images.sh, made once): {PROMETHEUS_IMAGE: ref, ...}."""
    run = subprocess.run([SCRIPTS / "images.sh"], stdout=subprocess.PIPE, text=True, check=True)
    env = Path(run.stdout.splitlines()[-1]) / "images.env"
    return dict(line.split("=", 1) for line in env.read_text(encoding="utf-8").split())


@dataclass(frozen=True)
class ApiServer:
    """A running cluster; use as a context manager, or call stop() (it is safe to call twice)."""

    name: str
    root_dir: Path
    kubeconfig: Path
    context: str
    server: str
    token: str

    @classmethod
    def start(cls, name: str, root_dir: Path | str) -> ApiServer:
        """Start cluster ``name`` in ``root_dir``, first stopping what an interrupted run left there."""
        root_dir = Path(root_dir)
        subprocess.run([SCRIPTS / "stop.sh", root_dir], check=True)
        run = subprocess.run([SCRIPTS / "start.sh", name, root_dir], capture_output=True, text=True, check=False)
        if run.returncode != 0:
            raise RuntimeError(f"scripts/kube/start.sh {name} {root_dir} failed:\n{run.stderr}")
        return cls.from_kubeconfig(name, root_dir, Path(run.stdout.splitlines()[-1]))

    @classmethod
    def from_kubeconfig(cls, name: str, root_dir: Path, kubeconfig: Path) -> ApiServer:
        """Read back what the script wrote, so the attributes are exactly what a client gets."""
        doc = yaml.safe_load(kubeconfig.read_text(encoding="utf-8"))
        context = next(c["context"] for c in doc["contexts"] if c["name"] == name)
        cluster = next(c["cluster"] for c in doc["clusters"] if c["name"] == context["cluster"])
        user = next(u["user"] for u in doc["users"] if u["name"] == context["user"])
        return cls(name, root_dir, kubeconfig, name, cluster["server"], user["token"])

    # Variables an inventory of servers in this cluster needs: without a node, pods stay Pending, and
    # the reload need not wait for them to settle.
    inventory_vars = {"prometheus_kubernetes_ready_timeout": 0}

    def stop(self) -> None:
        """Stop the daemons and drop the etcd data; certificates and logs stay for a post-mortem."""
        subprocess.run([SCRIPTS / "stop.sh", self.root_dir], check=True)

    def prometheus_kubernetes(self, namespace: str, federation_port: int, **options: object) -> dict:
        """``prometheus_kubernetes`` for a server in this cluster, reached on loopback ``federation_port``."""
        return {"kubeconfig": str(self.kubeconfig), "context": self.context, "namespace": namespace,
                "federation_url": "http://127.0.0.1:%d" % federation_port, **options}

    def promfleet_config_maps(self, namespace: str) -> list[str]:
        """Names of the collection's ConfigMaps in ``namespace``."""
        config_maps = client.CoreV1Api(self.api_client()).list_namespaced_config_map(namespace).items
        return [cm.metadata.name for cm in config_maps if cm.metadata.name.startswith("promfleet-")]

    def kubeconfig_dict(self) -> dict:
        return yaml.safe_load(self.kubeconfig.read_text(encoding="utf-8"))

    def api_client(self, token: str | None = None) -> client.ApiClient:
        """A client from the kubeconfig (so it verifies the cluster's CA), as admin or with ``token``.

        Change the kubeconfig, not the client's Configuration: the kubeconfig loader installs a hook
        that writes the kubeconfig's host, CA and token back into it before every request.
        """
        doc = self.kubeconfig_dict()
        if token is not None:
            for user in doc["users"]:
                user["user"]["token"] = token
        return config.new_client_from_config_dict(doc, context=self.context)

    def __enter__(self) -> ApiServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


@dataclass(frozen=True)
class Node(ApiServer):
    """A running single-node cluster whose pods run; its API server, kubelet and NodePorts answer at
    ``node_ip``. ``env`` is the script's node.env (NODE_NETNS, POD_CIDR, CGROUP_ROOT, ...)."""

    node_ip: str = ""
    env: dict = field(default_factory=dict)
    inventory_vars = {}  # pods run: the role's defaults hold

    @classmethod
    def start(cls, name: str, root_dir: Path | str, index: int = 0, kubelet_sync: str | None = None) -> Node:
        """Start node ``name`` in ``root_dir`` with address block ``index``, first stopping what an
        interrupted run left there. ``kubelet_sync``: the kubelet's syncFrequency (default 1m)."""
        root_dir = Path(root_dir)
        subprocess.run([SCRIPTS / "node-stop.sh", root_dir], check=True)
        env = dict(os.environ, **({"KUBELET_SYNC": kubelet_sync} if kubelet_sync else {}))
        run = subprocess.run([SCRIPTS / "node-start.sh", name, root_dir, str(index)], capture_output=True,
                             text=True, check=False, env=env)
        if run.returncode != 0:
            raise RuntimeError(f"scripts/kube/node-start.sh {name} {root_dir} {index} failed:\n{run.stderr}")
        kubeconfig = Path(run.stdout.splitlines()[-1])
        api = ApiServer.from_kubeconfig(name, root_dir, kubeconfig)
        node_env = dict(line.split("=", 1) for line in (root_dir / "node.env").read_text(encoding="utf-8").split())
        return cls(api.name, root_dir, kubeconfig, api.context, api.server, api.token, node_env["NODE_IP"], node_env)

    def stop(self) -> None:
        """Stop everything of the node and remove its directory."""
        subprocess.run([SCRIPTS / "node-stop.sh", self.root_dir], check=True)

    def prometheus_kubernetes(self, namespace: str, federation_port: int, **options: object) -> dict:
        """``prometheus_kubernetes`` for a server in this cluster, federated at NodePort ``federation_port``
        of the node, running the local Prometheus image (there is no registry)."""
        images = ensure_images()
        return {"kubeconfig": str(self.kubeconfig), "context": self.context, "namespace": namespace,
                "federation_url": "http://%s:%d" % (self.node_ip, federation_port),
                "image": images["PROMETHEUS_IMAGE"], "image_pull_policy": "Never",
                "service_type": "NodePort", "node_port": federation_port, **options}

    def __enter__(self) -> Node:
        return self


def pod_ready(pod: client.V1Pod) -> bool:
    """Whether every container of ``pod`` is ready (a pod without container statuses is not)."""
    statuses = pod.status.container_statuses or []
    return bool(statuses) and all(status.ready for status in statuses)


@contextmanager
def site_in_clusters(fleet: Fleet, inventory: dict, namespaces: list) -> Iterator[dict]:
    """Run site.yml twice on ``inventory`` and yield the inventory's path and both runs; then
    teardown.yml must succeed and leave none of the collection's ConfigMaps in ``namespaces``
    ((cluster, namespace) pairs). What runs on this host is torn down however the test ends."""
    for cluster, _namespace in namespaces:
        inventory["all"].setdefault("vars", {}).update(cluster.inventory_vars)
    path = fleet.write_inventory("kubernetes.yml", data=inventory)
    try:
        first = run_playbook("playbooks/site.yml", [path], check=False)
        second = run_playbook("playbooks/site.yml", [path], check=False)
        yield {"inventory": path, "first": first, "second": second}
        teardown = run_playbook("playbooks/teardown.yml", [path], check=False)
        assert teardown.returncode == 0, teardown.output[-4000:]
        for cluster, namespace in namespaces:
            left = cluster.promfleet_config_maps(namespace)
            assert left == [], "teardown left ConfigMaps %s in %s/%s" % (left, cluster.name, namespace)
    finally:
        tear_down(fleet, fleet.write_inventory("hosts-only.yml", datacenters=[]))
