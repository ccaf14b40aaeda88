# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""Reload the Prometheus of a Kubernetes workload without restarting its pods, and prove it.

The kubernetes role applies the server's ConfigMap; the kubelet then refreshes the files mounted
in each pod, a minute or more later. For every ready pod of the workload, ``reload``:

1. decides from the API server alone whether the pod already runs this ConfigMap: the pod carries
   ``LIVE_ANNOTATION``, the digest of the ConfigMap data last proven live in it, and Prometheus
   (read through the API server's pod proxy) reports its last reload as successful;
2. otherwise sets the pod's ``REQUEST_ANNOTATION`` to that digest: any update of the pod makes the
   kubelet refresh its volumes at once (0.2 s measured), where its own sync period takes a minute
   or more. It then waits until the mounted files have the ConfigMap's content (``sha256sum`` run
   in the pod's Prometheus container), and reloads it: SIGHUP through an exec (``signal_command``:
   to PID 1 of the Prometheus container with reloader ``exec``; by name from the reloader container
   with ``sidecar``, which would get there too, but only after its own interval), or
   ``POST /-/reload`` through the pod proxy (reloader ``http``);
3. verifies it as prometheus_reload does: the success flag is 1, its timestamp moved on, and the
   configuration Prometheus reports equals prometheus.yml of the ConfigMap; then annotates the pod.

When a pod's reload fails and the ``<name>-last-good`` ConfigMap (written after every verified
reload) differs, the server's ConfigMap gets that data back and every ready pod is reloaded with
it and verified; the failure is still reported, with ``promtool check config`` as run in the pod.

First it waits (``ready_timeout``) until the workload's pods settle: as many ready pods as the
workload wants, and none starting. So the run that creates or rolls the pods also reloads,
verifies and annotates them, and the next run finds them live. Pods still not ready after that are
left alone: they read the ConfigMap when they start.

The decisions are pure functions; ``Cluster`` is the thin layer over the kubernetes client.
"""

from __future__ import annotations

import hashlib
import json
import time

from ansible_collections.promfleet.federation.plugins.module_utils.errors import KubeReloadError
from ansible_collections.promfleet.federation.plugins.module_utils.host import checkers, commands
from ansible_collections.promfleet.federation.plugins.module_utils.host.client import PrometheusClient
from ansible_collections.promfleet.federation.plugins.module_utils.host.reload import (
    attempt_reload,
    compare_with_text,
    post_reload,
)
from ansible_collections.promfleet.federation.plugins.module_utils.kube import manifests as kube_manifests

try:
    from kubernetes import client as kube_client
    from kubernetes import config as kube_config
    from kubernetes.client.rest import ApiException
    from kubernetes.stream import stream as kube_stream

    KUBERNETES_IMPORT_ERROR = None
except ImportError as exc:  # reported by the module with missing_required_lib
    KUBERNETES_IMPORT_ERROR = exc
    ApiException = OSError

LIVE_ANNOTATION = kube_manifests.LIVE_ANNOTATION
REQUEST_ANNOTATION = kube_manifests.REQUEST_ANNOTATION
LAST_GOOD_SUFFIX = kube_manifests.LAST_GOOD_SUFFIX
RELOADERS = kube_manifests.RELOADERS
# The mounted files are compared this often once the kubelet was asked to refresh them.
MOUNT_POLL_SECONDS = 0.2
SETTLE_POLL_SECONDS = 0.5


# --- pure decisions ----------------------------------------------------------------------------------


def file_digests(data: dict) -> dict:
    """sha256 of each ConfigMap key's content, as ``sha256sum`` prints it for the mounted file."""
    return {key: hashlib.sha256(text.encode("utf-8")).hexdigest() for key, text in data.items()}


def data_digest(data: dict) -> str:
    """One digest of the whole ConfigMap data: the value of ``LIVE_ANNOTATION``."""
    return hashlib.sha256(json.dumps(file_digests(data), sort_keys=True).encode("utf-8")).hexdigest()


def parse_sha256sum(output: str) -> dict:
    """``sha256sum`` output (``<hex>  <path>`` lines) as {file name: hex}."""
    found = {}
    for line in output.splitlines():
        parts = line.split(None, 1)
        if len(parts) == 2 and len(parts[0]) == 64:
            found[parts[1].strip().lstrip("*").rsplit("/", 1)[-1]] = parts[0].lower()
    return found


def pod_ready(pod: dict) -> tuple:
    """(ready, why not): a pod is ready when it runs and its Prometheus container is ready."""
    status = pod.get("status") or {}
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        return False, "it is being deleted"
    if status.get("phase") != "Running":
        return False, "it is %s" % (status.get("phase") or "not scheduled yet")
    containers = {c.get("name"): c for c in status.get("containerStatuses") or []}
    container = containers.get(kube_manifests.CONTAINER_NAME)
    if not container or not container.get("ready"):
        return False, "its %s container is not ready" % kube_manifests.CONTAINER_NAME
    return True, ""


def plan(pods: list, desired: str, states: dict) -> list:
    """What to do with each pod: ``live`` (it runs ``desired`` already), ``reload`` or ``skip``
    (not ready). ``states`` maps ready pods to their reload state (``reload_state``)."""
    steps = []
    for pod in sorted(pods, key=lambda p: p["metadata"]["name"]):
        name = pod["metadata"]["name"]
        ready, why = pod_ready(pod)
        if not ready:
            steps.append({"pod": name, "action": "skip",
                          "reason": "%s; it reads the ConfigMap when it starts" % why})
            continue
        annotations = pod["metadata"].get("annotations") or {}
        live = annotations.get(LIVE_ANNOTATION) == desired
        successful = states.get(name, {}).get("successful")
        if live and successful:
            steps.append({"pod": name, "action": "live", "reason": "it runs this ConfigMap (verified before)"})
        elif live:
            steps.append({"pod": name, "action": "reload",
                          "reason": "its last reload failed since this ConfigMap was verified in it"})
        else:
            steps.append({"pod": name, "action": "reload",
                          "reason": "this ConfigMap has not been verified in it yet"})
    return steps


def signal_command(reloader: str) -> tuple:
    """(container, command) that sends Prometheus SIGHUP: PID 1 of its own container, or by name from
    the reloader container, which shares the pod's process namespace (PID 1 there is the pause process)."""
    if reloader == "sidecar":
        return kube_manifests.RELOADER_CONTAINER_NAME, kube_manifests.SIDECAR_RELOAD_COMMAND
    return kube_manifests.CONTAINER_NAME, kube_manifests.EXEC_RELOAD_COMMAND


def trigger_description(reloader: str) -> str:
    if reloader == "http":
        return "POST /-/reload through the API server's pod proxy"
    container, command = signal_command(reloader)
    return "SIGHUP (exec %s in container %s)" % (" ".join(command), container)


# --- the cluster -------------------------------------------------------------------------------------


class Cluster:
    """The API server of one cluster: pods, ConfigMaps, exec, and Prometheus through the pod proxy."""

    def __init__(self, kubeconfig=None, context: str | None = None, request_timeout: float = 10.0):
        """``kubeconfig``: a path or the kubeconfig as a mapping (as kubernetes.core takes it);
        without it and ``context``, the pod's service account (in-cluster)."""
        if isinstance(kubeconfig, dict):
            self.api = kube_config.new_client_from_config_dict(kubeconfig, context=context)
        elif kubeconfig or context:
            self.api = kube_config.new_client_from_config(config_file=kubeconfig, context=context)
        else:
            configuration = kube_client.Configuration()
            kube_config.load_incluster_config(client_configuration=configuration)
            self.api = kube_client.ApiClient(configuration)
        self.core = kube_client.CoreV1Api(self.api)
        self.request_timeout = request_timeout

    def pods(self, namespace: str, selector: dict) -> list:
        found = self.core.list_namespaced_pod(
            namespace, label_selector=",".join("%s=%s" % item for item in sorted(selector.items())))
        return [self.api.sanitize_for_serialization(pod) for pod in found.items]

    def replicas(self, namespace: str, name: str) -> int | None:
        """How many pods the Deployment or StatefulSet ``name`` wants; None when there is neither."""
        apps = kube_client.AppsV1Api(self.api)
        for read in (apps.read_namespaced_deployment, apps.read_namespaced_stateful_set):
            try:
                return read(name, namespace).spec.replicas
            except ApiException as exc:
                if exc.status != 404:
                    raise
        return None

    def config_map_data(self, namespace: str, name: str) -> dict | None:
        try:
            return self.core.read_namespaced_config_map(name, namespace).data or {}
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise

    def put_config_map_data(self, namespace: str, name: str, data: dict, labels: dict) -> None:
        body = {"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": name, "namespace": namespace, "labels": labels}, "data": data}
        try:
            self.core.replace_namespaced_config_map(name, namespace, body)
        except ApiException as exc:
            if exc.status != 404:
                raise
            self.core.create_namespaced_config_map(namespace, body)

    def restore_config_map_data(self, namespace: str, name: str, data: dict) -> None:
        """Give the server's ConfigMap ``data`` (keys it no longer has are removed), keeping its labels."""
        current = self.config_map_data(namespace, name) or {}
        patch = dict({key: None for key in current if key not in data}, **data)
        self.core.patch_namespaced_config_map(name, namespace, {"data": patch})

    def annotate(self, namespace: str, pod: str, annotation: str, digest: str) -> None:
        self.core.patch_namespaced_pod(pod, namespace, {"metadata": {"annotations": {annotation: digest}}})

    def execute(self, namespace: str, pod: str, command: list, container: str = kube_manifests.CONTAINER_NAME) -> str:
        """Run ``command`` in a container of the pod (its Prometheus container by default); its output
        (stdout and stderr)."""
        return kube_stream(self.core.connect_get_namespaced_pod_exec, pod, namespace,
                           container=container, command=list(command),
                           stderr=True, stdin=False, stdout=True, tty=False)

    def run(self, namespace: str, pod: str, argv: list, timeout: float = 60,
            check: bool = True) -> commands.CommandResult:
        """``commands.run`` in the pod's Prometheus container: its exit code comes from the exec's
        status channel. The same checkers run here as on a host (``checkers.run_check``)."""
        client = kube_stream(self.core.connect_get_namespaced_pod_exec, pod, namespace,
                             container=kube_manifests.CONTAINER_NAME, command=list(argv),
                             stderr=True, stdin=False, stdout=True, tty=False, _preload_content=False)
        try:
            client.run_forever(timeout=timeout)
            # the exit status first: read_all() also empties the status channel returncode parses
            rc = client.returncode
            output = client.read_all()
        finally:
            client.close()
        result = commands.CommandResult(tuple(argv), 0 if rc is None else int(rc), output)
        if check and not result.ok:
            raise commands.failure(result)
        return result

    def prometheus(self, namespace: str, pod: str, port: int) -> PrometheusClient:
        """The pod's Prometheus, reached through the API server's pod proxy with the kubeconfig's credentials."""
        configuration = self.api.configuration
        token = configuration.get_api_key_with_prefix("BearerToken") or configuration.get_api_key_with_prefix(
            "authorization")
        return PrometheusClient(
            "%s/api/v1/namespaces/%s/pods/%s:%d/proxy" % (configuration.host.rstrip("/"), namespace, pod, port),
            bearer_token=token.split(" ", 1)[-1] if token else None,
            validate_certs=bool(configuration.verify_ssl),
            ca_path=configuration.ssl_ca_cert,
            client_cert=configuration.cert_file,
            client_key=configuration.key_file,
            timeout=self.request_timeout,
        )


# --- the reload --------------------------------------------------------------------------------------


def _wait_for_mount(cluster: Cluster, namespace: str, pod: str, data: dict, timeout: float) -> float:
    """Seconds until the files mounted in ``pod`` have ``data``'s content; KubeReloadError after ``timeout``.
    The pod's update (``REQUEST_ANNOTATION``) makes the kubelet refresh the files at once."""
    wanted = file_digests(data)
    started = time.monotonic()
    cluster.annotate(namespace, pod, REQUEST_ANNOTATION, data_digest(data))
    command = ["sh", "-c", "sha256sum %s/*" % kube_manifests.CONFIG_DIR]
    while True:
        mounted = parse_sha256sum(cluster.execute(namespace, pod, command))
        if mounted == wanted:
            return round(time.monotonic() - started, 3)
        if time.monotonic() - started >= timeout:
            stale = sorted(key for key in set(wanted) | set(mounted) if wanted.get(key) != mounted.get(key))
            raise KubeReloadError(
                "pod %s/%s: the files mounted at %s still differ from the ConfigMap after %d s (%s); the kubelet "
                "refreshes ConfigMap volumes within its sync period plus its cache TTL: raise mount_timeout "
                "or check the kubelet" % (namespace, pod, kube_manifests.CONFIG_DIR, timeout, ", ".join(stale)))
        time.sleep(MOUNT_POLL_SECONDS)


def _promtool_says(cluster: Cluster, namespace: str, pod: str) -> str:
    """What promtool in the pod says of the mounted configuration, when it refuses it."""
    def in_pod(argv, timeout, check):
        return cluster.run(namespace, pod, argv, timeout=timeout, check=check)

    try:
        passed, output = checkers.run_check(checkers.promtool_config("promtool"), kube_manifests.CONFIG_FILE, in_pod)
    except (ApiException, OSError, ValueError):
        return ""
    return "" if passed else "; promtool check config in the pod says: %s" % " ".join(output.split())


class PodTrigger:
    """Starts the reload of one pod for ``host.reload.attempt_reload``: SIGHUP by exec, or
    ``POST /-/reload`` through the pod proxy the client is pointed at."""

    def __init__(self, cluster: Cluster, namespace: str, pod: str, reloader: str) -> None:
        self.method = "http" if reloader == "http" else "signal"
        self.cluster, self.namespace, self.pod, self.reloader = cluster, namespace, pod, reloader

    def fire(self, client: PrometheusClient) -> str | None:
        if self.method == "http":
            return post_reload(client)
        container, command = signal_command(self.reloader)
        self.cluster.execute(self.namespace, self.pod, list(command), container)
        return None


def _reload_pod(cluster: Cluster, namespace: str, pod: str, port: int, reloader: str, data: dict,
                mount_timeout: float, timeout: float) -> dict:
    """Wait for the mount, reload, verify. The pod's step with ``ok``, ``error`` and timings."""
    step = {"pod": pod, "mount_seconds": _wait_for_mount(cluster, namespace, pod, data, mount_timeout)}
    prometheus = cluster.prometheus(namespace, pod, port)
    attempt = attempt_reload(prometheus, PodTrigger(cluster, namespace, pod, reloader), timeout)
    error = attempt["error"]
    if error is None:
        differences = compare_with_text(
            prometheus, data[kube_manifests.CONFIG_KEY], "the ConfigMap's " + kube_manifests.CONFIG_KEY,
            kube_manifests.CONFIG_DIR)
        if differences:
            error = "the reload succeeded, but the configuration the server reports is not the ConfigMap's: %s" % (
                "; ".join(differences))
    else:
        error += _promtool_says(cluster, namespace, pod)
    step.update(ok=error is None, error=error, reload_seconds=attempt["seconds"])
    if error is None:
        cluster.annotate(namespace, pod, LIVE_ANNOTATION, data_digest(data))
    return step


def settled(pods: list, replicas: int | None) -> bool:
    """Whether a workload's pods are done starting: every pod not being deleted is ready, and there
    are at least ``replicas`` of them (None: the workload is unknown, only the pods count)."""
    running = [pod for pod in pods if not (pod.get("metadata") or {}).get("deletionTimestamp")]
    ready = [pod for pod in running if pod_ready(pod)[0]]
    return len(ready) == len(running) and len(ready) >= (replicas or 0)


def _settled_pods(cluster: Cluster, namespace: str, name: str, selector: dict, timeout: float) -> list:
    """The workload's pods once they settled (``settled``), or as they are after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        pods = cluster.pods(namespace, selector)
        if settled(pods, cluster.replicas(namespace, name)) or time.monotonic() >= deadline:
            return pods
        time.sleep(SETTLE_POLL_SECONDS)


def reload(cluster: Cluster, namespace: str, name: str, port: int = 9090, reloader: str = "exec",
           data: dict | None = None, mount_timeout: float = 180.0, timeout: float = 30.0,
           rollback: bool = True, check_mode: bool = False, ready_timeout: float = 120.0) -> dict:
    """Make every ready pod of workload ``name`` run ConfigMap ``data`` (see the module docstring)."""
    if data is None:
        data = cluster.config_map_data(namespace, name)
        if data is None:
            raise KubeReloadError("ConfigMap %s/%s does not exist: apply the server first" % (namespace, name))
    if kube_manifests.CONFIG_KEY not in data:
        raise KubeReloadError("data: the ConfigMap data has no %s key" % kube_manifests.CONFIG_KEY)
    desired = data_digest(data)
    selector = {kube_manifests.INSTANCE_LABEL: name, kube_manifests.MANAGED_BY_LABEL: kube_manifests.MANAGED_BY}
    pods = cluster.pods(namespace, selector) if check_mode else _settled_pods(
        cluster, namespace, name, selector, ready_timeout)
    states = {}
    for pod in pods:
        pod_name = pod["metadata"]["name"]
        if pod_ready(pod)[0]:
            states[pod_name] = cluster.prometheus(namespace, pod_name, port).reload_state()
    steps = plan(pods, desired, states)
    due = [step for step in steps if step["action"] == "reload"]
    result = {"changed": bool(due), "pods": steps, "rolled_back": False, "digest": desired,
              "method": trigger_description(reloader)}
    if not due:
        ready = [s["pod"] for s in steps if s["action"] == "live"]
        waiting = "; ".join("%s: %s" % (s["pod"], s["reason"]) for s in steps) or "the workload has no pod yet"
        result["msg"] = ("every ready pod runs this ConfigMap (%s)" % ", ".join(ready) if ready
                         else "no ready pod to reload: %s" % waiting)
        if not check_mode and ready:
            _keep_last_good(cluster, namespace, name, data)
        return result
    if check_mode:
        result["msg"] = "would wait for the mounted files, then reload with %s: %s" % (
            trigger_description(reloader), ", ".join(s["pod"] for s in due))
        return result

    failures = []
    for step in due:
        step.update(_reload_pod(cluster, namespace, step["pod"], port, reloader, data, mount_timeout, timeout))
        if not step["ok"]:
            failures.append(step)
            break
    if not failures:
        _keep_last_good(cluster, namespace, name, data)
        result["msg"] = "reloaded with %s and verified: %s" % (
            trigger_description(reloader), ", ".join("%s (%.3f s)" % (s["pod"], s["reload_seconds"]) for s in due))
        return result

    failed = failures[0]
    message = "pod %s/%s: reload with %s failed: %s" % (
        namespace, failed["pod"], trigger_description(reloader), failed["error"])
    last_good = cluster.config_map_data(namespace, name + LAST_GOOD_SUFFIX) if rollback else None
    if not rollback:
        raise KubeReloadError(message, result)
    if not last_good or data_digest(last_good) == desired:
        raise KubeReloadError(message + "; no rollback: ConfigMap %s%s is missing or equals the new data"
                              % (name, LAST_GOOD_SUFFIX), result)
    cluster.restore_config_map_data(namespace, name, last_good)
    result["rolled_back"] = True
    restored = []
    for step in steps:
        if step["action"] == "skip":
            continue
        again = _reload_pod(cluster, namespace, step["pod"], port, reloader, last_good, mount_timeout, timeout)
        if not again["ok"]:
            raise KubeReloadError(message + "; rolled back ConfigMap %s to %s%s, but reloading pod %s with it failed "
                                  "too: %s" % (name, name, LAST_GOOD_SUFFIX, step["pod"], again["error"]), result)
        restored.append(step["pod"])
    raise KubeReloadError(message + "; rolled back: ConfigMap %s has the data of %s%s again, verified live in %s"
                          % (name, name, LAST_GOOD_SUFFIX, ", ".join(restored)), result)


def _keep_last_good(cluster: Cluster, namespace: str, name: str, data: dict) -> None:
    """Copy ``data``, now proven live, to ``<name>-last-good`` unless it holds it already. It carries
    the server's labels (teardown finds it by them) plus the component ``last-good``."""
    kept = cluster.config_map_data(namespace, name + LAST_GOOD_SUFFIX)
    if kept is not None and data_digest(kept) == data_digest(data):
        return
    labels = dict(kube_manifests.owned_labels(name), **{"app.kubernetes.io/component": "last-good"})
    cluster.put_config_map_data(namespace, name + LAST_GOOD_SUFFIX, data, labels)
