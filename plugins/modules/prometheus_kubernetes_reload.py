#!/usr/bin/python
# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""Module prometheus_kubernetes_reload: the logic lives in plugins/module_utils/kube/reload.py."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: prometheus_kubernetes_reload
short_description: Reload the Prometheus pods of a workload after a ConfigMap change, verify it, roll back
description:
  - For a Prometheus run in Kubernetes by the C(promfleet.federation.kubernetes) role, makes every ready pod of
    the workload O(name) in O(namespace) run the server's ConfigMap (O(data), or the ConfigMap O(name) as it is),
    without restarting a pod.
  - A pod already runs it when it carries the annotation C(promfleet.federation/live-config) with the digest of
    that data (set after every verified reload) and Prometheus reports its last reload as successful. That
    decision reads the API server and the pod's C(/metrics) only, so a run without a change execs nothing and
    reports RV(ignore:changed=false).
  - Otherwise the module sets the pod's annotation C(promfleet.federation/requested-config) to that digest. The
    kubelet refreshes a pod's ConfigMap volumes when the pod changes, at once (0.2 s measured), where its own
    sync period would take a minute or more (78 s measured with the kubelet's defaults). The module then waits
    until the files mounted at C(/etc/prometheus) in the pod have the ConfigMap's content (C(sha256sum) is run
    in the C(prometheus) container, every 0.2 s), then reloads, then verifies as
    M(promfleet.federation.prometheus_reload) does - C(prometheus_config_last_reload_successful) is 1, its
    success timestamp moved on, and the configuration Prometheus reports equals prometheus.yml of the
    ConfigMap - and annotates the pod.
  - Prometheus is read through the API server's pod proxy (C(/api/v1/namespaces/<ns>/pods/<pod>:<port>/proxy)),
    with the kubeconfig's credentials; no Service, NodePort or Ingress is involved.
  - After every verified reload the data is kept in the ConfigMap C(<name>-last-good). When a reload fails and
    O(rollback) is true, the server's ConfigMap gets that data back, every ready pod is reloaded with it and
    verified, and the task still FAILS, naming the pod, with C(promtool check config) as run in the pod.
  - Pods that are not ready (pending, starting, being deleted) are left alone and listed in RV(pods); they read
    the ConfigMap when they start.
author:
  - promfleet maintainers (!UNKNOWN)
requirements:
  - kubernetes (the Python client)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reads the pods and their Prometheus, and says which pods it would reload.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  kubeconfig:
    description:
      - Path of a kubeconfig file, or a kubeconfig as a mapping, as kubernetes.core takes it.
      - Without O(kubeconfig) and O(context), the service account of the pod the module runs in.
    type: raw
  context:
    description: The kubeconfig context to use; its current context when not given.
    type: str
  namespace:
    description: Namespace of the server.
    type: str
    required: true
  name:
    description:
      - Instance name of the server (label C(app.kubernetes.io/instance)); also the name of its ConfigMap.
    type: str
    required: true
  port:
    description: Port Prometheus listens on in the pod.
    type: int
    default: 9090
  reloader:
    description:
      - How the reload is started. V(exec) sends SIGHUP to PID 1 of the C(prometheus) container with an exec.
        V(sidecar) runs C(killall -HUP prometheus) in the C(config-reloader) container, which shares the pod's
        process namespace (PID 1 there is the pause process); the sidecar would signal too, but only after its
        own interval. V(http) posts C(/-/reload) through the pod proxy (the pod runs with C(--web.enable-lifecycle)).
      - The user of the kubeconfig needs C(create) on C(pods/exec) always (the mount check runs there), C(get)
        on C(pods/proxy), C(patch) on C(pods) (the annotations), and C(get) on C(deployments) and C(statefulsets)
        in group C(apps) (how many pods the workload wants).
    type: str
    choices: [exec, sidecar, http]
    default: exec
  data:
    description:
      - The ConfigMap data the pods must run (key C(prometheus.yml) and the rule files), as the role rendered it.
        Without it, the ConfigMap O(name) is read.
    type: dict
  mount_timeout:
    description:
      - Seconds to wait for the kubelet to refresh the mounted files of a pod once the pod was updated; a kubelet
        that ignores the update still refreshes them within its sync period plus its ConfigMap cache TTL.
    type: float
    default: 180
  ready_timeout:
    description:
      - Seconds to wait, before anything else, for the workload's pods to settle - as many ready pods as the
        Deployment or StatefulSet wants, none starting - so that a run that creates or rolls them also reloads,
        verifies and annotates them. Pods not ready after that are left alone.
    type: float
    default: 120
  timeout:
    description: Seconds to wait for a reload to be verified.
    type: float
    default: 30
  rollback:
    description: Put the data of C(<name>-last-good) back when a reload fails (see above).
    type: bool
    default: true
  request_timeout:
    description: Seconds for each request to the API server.
    type: float
    default: 10
notes:
  - The collection's tests run it on real single-node clusters (kubelet, containerd, real Prometheus pods), with
    every reloader, the kubelet's refresh after the pod update, and the rollback of a configuration the pods
    refuse; pod UIDs and restart counts stay unchanged throughout.
seealso:
  - module: promfleet.federation.prometheus_reload
"""

EXAMPLES = r"""
- name: Reload the datacenter server in its cluster after a ConfigMap change
  promfleet.federation.prometheus_kubernetes_reload:
    kubeconfig: ~/.kube/eu-west-1
    namespace: monitoring
    name: promfleet-eu-west-1-prom-a
  register: reloaded

- name: Show how long each pod took
  ansible.builtin.debug:
    msg: "{{ reloaded.pods | map(attribute='reload_seconds', default=none) }}"
"""

RETURN = r"""
pods:
  description:
    - One entry per pod of the workload, sorted by name - C(pod), C(action) (V(live), V(reload) or V(skip)),
      C(reason), and for reloaded pods C(mount_seconds) (waiting for the kubelet), C(reload_seconds) (from the
      signal to the verified reload), C(ok) and C(error).
  returned: always
  type: list
  elements: dict
  sample: [{pod: promfleet-eu-west-1-prom-a-7d9c-x2x, action: reload, reason: this ConfigMap has not been
            verified in it yet, mount_seconds: 41.2, reload_seconds: 0.31, ok: true, error: null}]
digest:
  description: The digest of the data, as the pods' C(promfleet.federation/live-config) annotation holds it.
  returned: always
  type: str
method:
  description: How the reload is started.
  returned: always
  type: str
  sample: SIGHUP (exec kill -HUP 1 in container prometheus)
rolled_back:
  description: Whether the ConfigMap got the last good data back and the pods were reloaded with it.
  returned: always
  type: bool
msg:
  description: What was done.
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.promfleet.federation.plugins.module_utils.errors import PromfleetError
from ansible_collections.promfleet.federation.plugins.module_utils.kube import reload as kube_reload
from ansible_collections.promfleet.federation.plugins.module_utils.model.documents import YAML_IMPORT_ERROR

ARGUMENT_SPEC = {
    "kubeconfig": {"type": "raw"},
    "context": {"type": "str"},
    "namespace": {"type": "str", "required": True},
    "name": {"type": "str", "required": True},
    "port": {"type": "int", "default": 9090},
    "reloader": {"type": "str", "choices": list(kube_reload.RELOADERS), "default": "exec"},
    "data": {"type": "dict", "no_log": True},
    "mount_timeout": {"type": "float", "default": 180.0},
    "ready_timeout": {"type": "float", "default": 120.0},
    "timeout": {"type": "float", "default": 30.0},
    "rollback": {"type": "bool", "default": True},
    "request_timeout": {"type": "float", "default": 10.0},
}


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    params = module.params
    where = "%s/%s" % (params["namespace"], params["name"])
    if kube_reload.KUBERNETES_IMPORT_ERROR is not None:
        module.fail_json(msg=missing_required_lib("kubernetes"), exception=str(kube_reload.KUBERNETES_IMPORT_ERROR))
    if YAML_IMPORT_ERROR is not None:
        module.fail_json(msg=missing_required_lib("PyYAML"), exception=YAML_IMPORT_ERROR)
    if params["kubeconfig"] is not None and not isinstance(params["kubeconfig"], (str, dict)):
        module.fail_json(msg="kubeconfig must be a path or a mapping, got %s" % type(params["kubeconfig"]).__name__)
    try:
        cluster = kube_reload.Cluster(params["kubeconfig"], params["context"], params["request_timeout"])
        result = kube_reload.reload(
            cluster, params["namespace"], params["name"], port=params["port"], reloader=params["reloader"],
            data=params["data"], mount_timeout=params["mount_timeout"], timeout=params["timeout"],
            ready_timeout=params["ready_timeout"],
            rollback=params["rollback"], check_mode=module.check_mode,
        )
    except kube_reload.KubeReloadError as exc:
        module.fail_json(msg=str(exc), **exc.result)
    except PromfleetError as exc:
        module.fail_json(msg="%s: %s" % (where, exc), rolled_back=False)
    except kube_reload.ApiException as exc:
        module.fail_json(msg="%s: the API server answered %s %s: %s" % (
            where, exc.status, exc.reason, (exc.body or "").strip()[:500]), rolled_back=False)
    except Exception as exc:  # noqa: BLE001 - kubeconfig loading raises many types; the message names the server
        module.fail_json(msg="%s: cannot reach the cluster: %s" % (where, exc), rolled_back=False)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
