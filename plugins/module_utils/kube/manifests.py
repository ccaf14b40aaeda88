# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""The Kubernetes objects of one Prometheus server running in a cluster, as pure functions.

``normalize_options`` checks the ``prometheus_kubernetes`` options and fills in the defaults;
``manifests`` renders the objects, in the order they are applied, as plain dicts with a stable
key order, so that applying them twice changes nothing.

With ``service_discovery`` (the default) a ClusterRole lets the server's ServiceAccount read what
Kubernetes service discovery and the kubelet's metrics need, and the pod mounts the account's
token. A server that scrapes static targets only (a global federating datacenters) turns it off:
no ClusterRole, no ClusterRoleBinding, and no token in the pod.

prometheus.yml and the rule files reach the pod through one ConfigMap mounted at ``CONFIG_DIR``:
``prometheus.yml`` and one ``<name>.rules.yml`` per rule file, side by side in one flat
directory. The config loads them with ``rule_files: [rule_files_glob()]``; the suffix keeps
prometheus.yml itself out of that glob. Rule files are not projected into a subdirectory because
that needs one ``items`` entry per file in the pod template, and a new rule file would then roll
the pods.

The pod template holds nothing derived from the config or the rules (no checksum annotation):
a config change only updates the ConfigMap, the kubelet refreshes the mounted files, and the
reloader makes Prometheus read them again, without a rollout that would restart the server (and,
with a Deployment, lose its data). Only the image, the flags, the resources and the labels change
the template (``pod_template_fingerprint`` shows which).

The reloaders (``RELOADERS``):

- ``exec``: the collection runs ``EXEC_RELOAD_COMMAND`` in container ``CONTAINER_NAME`` once the
  mounted files have changed; Prometheus is PID 1 there, alone in its process namespace.
- ``sidecar``: a second container watches the mounted ConfigMap and sends SIGHUP to Prometheus,
  which it sees through ``shareProcessNamespace``; both run as the same non-root user, so the
  signal is allowed without any capability. The collection does not wait for it: it runs
  ``SIDECAR_RELOAD_COMMAND`` in that container, since with a shared process namespace PID 1 is the
  pod's pause process, not Prometheus.
- ``http``: the collection POSTs ``/-/reload``, which needs ``--web.enable-lifecycle``; the engine
  adds that flag only then, because it also lets anyone who reaches the port stop the server
  (``/-/quit``).
"""

from __future__ import annotations

import copy
import hashlib
import json
import re

from ansible_collections.promfleet.federation.plugins.module_utils.errors import ManifestError
from ansible_collections.promfleet.federation.plugins.module_utils.model.durations import parse_duration

CONFIG_DIR = "/etc/prometheus"
CONFIG_KEY = "prometheus.yml"
CONFIG_FILE = CONFIG_DIR + "/" + CONFIG_KEY
RULE_FILE_SUFFIX = ".rules.yml"
DATA_DIR = "/prometheus"
CONTAINER_NAME = "prometheus"
RELOADER_CONTAINER_NAME = "config-reloader"
EXEC_RELOAD_COMMAND = ("kill", "-HUP", "1")
# killall, not pkill: Debian's busybox has no pkill; every busybox has killall
SIDECAR_RELOAD_COMMAND = ("killall", "-HUP", "prometheus")
MANAGED_BY = "promfleet.federation"
# The field manager of server-side apply: the collection owns the fields it sets.
FIELD_MANAGER = MANAGED_BY
# The annotation of a pod that holds the digest of the ConfigMap data proven live in it.
LIVE_ANNOTATION = "promfleet.federation/live-config"
# The annotation the reload sets to the digest it waits for: updating the pod makes the kubelet
# refresh the pod's ConfigMap volume at once, instead of within its sync period (a minute or more).
REQUEST_ANNOTATION = "promfleet.federation/requested-config"
# <name>-last-good: the ConfigMap data last proven live, for the rollback.
LAST_GOOD_SUFFIX = "-last-good"
NAME_LABEL = "app.kubernetes.io/name"
INSTANCE_LABEL = "app.kubernetes.io/instance"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
# The user both containers run as: "nobody", the user of the Prometheus image.
RUN_AS = 65534
WORKLOADS = ("Deployment", "StatefulSet")
SERVICE_TYPES = ("ClusterIP", "NodePort")
RELOADERS = ("exec", "sidecar", "http")
PULL_POLICIES = ("IfNotPresent", "Always", "Never")
# The default --service-node-port-range of the API server.
NODE_PORT_RANGE = (30000, 32767)
# The API server refuses a ConfigMap whose data holds more than this many bytes.
CONFIGMAP_MAX_BYTES = 1024 * 1024
# A StatefulSet's pods carry the label controller-revision-hash=<name>-<10 characters>, and
# label values have at most 63 characters.
STATEFULSET_NAME_MAX = 52

DEFAULTS = {
    "namespace": None,
    "name": None,
    "image": "quay.io/prometheus/prometheus:v3.13.0",
    "image_pull_policy": "IfNotPresent",
    "workload": "Deployment",
    "storage_size": "10Gi",
    "storage_class": None,
    "service_type": "ClusterIP",
    "node_port": None,
    "port": 9090,
    "retention": "15d",
    "extra_args": [],
    "resources": {
        "requests": {"cpu": "100m", "memory": "512Mi"},
        "limits": {"cpu": "1", "memory": "2Gi"},
    },
    "labels": {},
    "reloader": "exec",
    "reloader_image": "docker.io/library/busybox:1.36",
    "reloader_interval": 5,
    # Off for a server that scrapes static targets only (a global): no API access at all.
    "service_discovery": True,
    "cluster_role_name": None,  # promfleet-<namespace>-<name>
}
# The required options, and what each one is.
REQUIRED = {
    "namespace": "the namespace to run Prometheus in, e.g. 'monitoring'",
    "name": "the server's instance name, e.g. 'prometheus-eu1'",
}
# Options that only mean something in one mode: (option that selects the mode, the mode).
ONLY_WITH = {
    "storage_size": ("workload", "StatefulSet"),
    "storage_class": ("workload", "StatefulSet"),
    "node_port": ("service_type", "NodePort"),
    "reloader_image": ("reloader", "sidecar"),
    "reloader_interval": ("reloader", "sidecar"),
    "cluster_role_name": ("service_discovery", True),
}
# Flags the engine sets itself, and the option that sets each one.
OWNED_FLAGS = {
    "--config.file": "the ConfigMap mounted at " + CONFIG_DIR,
    "--storage.tsdb.path": "the data volume mounted at " + DATA_DIR,
    "--storage.tsdb.retention.time": "prometheus_kubernetes.retention",
    "--web.listen-address": "prometheus_kubernetes.port",
}
LIFECYCLE_FLAG = "--web.enable-lifecycle"

# The service discovery roles node, service, endpoints and pod, and the kubelet's /metrics/*.
CLUSTER_ROLE_RULES = (
    {
        "apiGroups": [""],
        "resources": ["nodes", "nodes/metrics", "services", "endpoints", "pods"],
        "verbs": ["get", "list", "watch"],
    },
    {"nonResourceURLs": ["/metrics"], "verbs": ["get"]},
)
RELOADER_RESOURCES = {
    "requests": {"cpu": "10m", "memory": "16Mi"},
    "limits": {"cpu": "100m", "memory": "32Mi"},
}
# ..data is the kubelet's symlink to the current version of a ConfigMap volume: it is swapped in
# one step when the ConfigMap changes. The last sum moves on only once the signal went out, so a
# change seen while Prometheus is not running is signalled again on the next round.
RELOADER_SCRIPT = """\
last="$(cat %(dir)s/..data/* | md5sum)"
while sleep %(interval)d; do
  now="$(cat %(dir)s/..data/* | md5sum)"
  if [ "$now" != "$last" ] && killall -HUP prometheus; then last="$now"; fi
done
"""

_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DNS_1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_LABEL_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")
_QUANTITY = re.compile(r"(\d+(\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][-+]?\d+)?")
_RULE_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*" + re.escape(RULE_FILE_SUFFIX))


def _fail(field: str, message: str) -> ManifestError:
    return ManifestError("prometheus_kubernetes.%s %s" % (field, message))


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_namespace(field: str, value) -> str:
    if not isinstance(value, str) or len(value) > 63 or not _DNS_LABEL.fullmatch(value):
        raise _fail(
            field,
            "is %r; it must be a DNS-1123 label: at most 63 lowercase letters, digits and '-', "
            "starting and ending with a letter or digit, e.g. 'monitoring'" % (value,),
        )
    return value


def _check_name(field: str, value) -> str:
    # The Service takes this name, and Service names are DNS-1035 labels: a letter first.
    if not isinstance(value, str) or len(value) > 63 or not _DNS_1035_LABEL.fullmatch(value):
        raise _fail(
            field,
            "is %r; it must be a DNS-1035 label (it names the Service): at most 63 lowercase letters, "
            "digits and '-', starting with a letter and ending with a letter or digit, e.g. 'prometheus-eu1'"
            % (value,),
        )
    return value


def _dns_subdomain(field: str, value) -> str:
    if not isinstance(value, str) or len(value) > 253 or not _DNS_SUBDOMAIN.fullmatch(value):
        raise _fail(
            field,
            "is %r; it must be a DNS-1123 subdomain: at most 253 lowercase letters, digits, '-' and '.', "
            "starting and ending with a letter or digit" % (value,),
        )
    return value


def _choice(choices: tuple):
    def check(field: str, value) -> str:
        if value not in choices:
            raise _fail(field, "is %r; it must be one of %s" % (value, ", ".join(choices)))
        return value

    return check


def _check_image(field: str, value) -> str:
    if not isinstance(value, str) or not value or any(c.isspace() for c in value):
        raise _fail(field, "is %r; it must be an image reference like %r" % (value, DEFAULTS["image"]))
    return value


def _quantity(field: str, value) -> str:
    """A quantity as a string: YAML may give ``cpu: 1`` as a number."""
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    text = str(value) if number else value
    if not isinstance(text, str) or not _QUANTITY.fullmatch(text):
        raise _fail(field, "is %r; it must be a Kubernetes quantity like 10Gi, 512Mi, 500m or 2" % (value,))
    return text


def _check_storage_class(field: str, value) -> str:
    if value == "":
        return value  # "" asks for a volume of no class: no dynamic provisioning
    return _dns_subdomain(field, value)


def _check_port(field: str, value) -> int:
    if not _is_int(value) or not 1024 <= value <= 65535:
        raise _fail(
            field,
            "is %r; it must be a port number from 1024 to 65535: Prometheus runs as a non-root user "
            "without capabilities, so it cannot listen on a lower port" % (value,),
        )
    return value


def _check_node_port(field: str, value) -> int:
    if not _is_int(value) or not NODE_PORT_RANGE[0] <= value <= NODE_PORT_RANGE[1]:
        raise _fail(
            field,
            "is %r; it must be a port number from %d to %d (the API server's default node port range), "
            "or left unset to let Kubernetes pick one" % ((value,) + NODE_PORT_RANGE),
        )
    return value


def _check_retention(field: str, value) -> str:
    try:
        parse_duration(value)
    except (TypeError, ValueError):
        raise _fail(field, "is %r; it must be a Prometheus duration like 15d, 12h or 1y" % (value,)) from None
    return value


def _check_extra_args(field: str, value) -> list:
    if not isinstance(value, list) or not all(isinstance(arg, str) for arg in value):
        raise _fail(field, "is %r; it must be a list of strings like ['--log.level=debug']" % (value,))
    for index, arg in enumerate(value):
        flag = arg.split("=", 1)[0]
        if flag in OWNED_FLAGS:
            raise _fail(
                "%s[%d]" % (field, index),
                "is %r; the engine sets %s from %s: remove it" % (arg, flag, OWNED_FLAGS[flag]),
            )
    return list(value)


def _check_resources(field: str, value) -> dict:
    if not isinstance(value, dict) or set(value) != {"requests", "limits"}:
        raise _fail(
            field,
            "is %r; it must be a mapping with requests and limits, "
            "e.g. {requests: {cpu: 100m, memory: 512Mi}, limits: {cpu: 1, memory: 2Gi}}" % (value,),
        )
    result = {}
    for part in ("requests", "limits"):
        amounts = value[part]
        if not isinstance(amounts, dict) or not amounts:
            raise _fail(
                "%s.%s" % (field, part),
                "is %r; it must be a mapping of resource name to quantity, e.g. {cpu: 100m, memory: 512Mi}"
                % (amounts,),
            )
        result[part] = {
            str(name): _quantity("%s.%s.%s" % (field, part, name), amounts[name]) for name in sorted(amounts, key=str)
        }
    return result


def _label_key_ok(key) -> bool:
    if not isinstance(key, str):
        return False
    prefix, slash, name = key.rpartition("/")
    if slash and (len(prefix) > 253 or not _DNS_SUBDOMAIN.fullmatch(prefix)):
        return False
    return len(name) <= 63 and bool(_LABEL_NAME.fullmatch(name))


def _check_labels(field: str, value) -> dict:
    if not isinstance(value, dict):
        raise _fail(field, "is %r; it must be a mapping of label name to value, e.g. {team: observability}" % (value,))
    for key in sorted(value, key=str):
        where = "%s[%r]" % (field, key)
        if not _label_key_ok(key):
            raise _fail(
                where,
                "is not a valid label name; use an optional DNS subdomain prefix and '/', then at most 63 "
                "letters, digits, '-', '_' and '.', starting and ending with a letter or digit",
            )
        if key in (NAME_LABEL, INSTANCE_LABEL, MANAGED_BY_LABEL):
            raise _fail(where, "is set by the engine; choose another label name")
        label = value[key]
        if not isinstance(label, str) or len(label) > 63 or (label and not _LABEL_NAME.fullmatch(label)):
            raise _fail(
                where,
                "is %r; a label value must be a string of at most 63 letters, digits, '-', '_' and '.', "
                "starting and ending with a letter or digit (quote numbers)" % (label,),
            )
    return {key: value[key] for key in sorted(value)}


def _check_bool(field: str, value) -> bool:
    # A quoted "false" would be truthy: only a real boolean is taken.
    if not isinstance(value, bool):
        raise _fail(field, "is %r; it must be true or false (a YAML boolean, not quoted)" % (value,))
    return value


def _yaml_scalar(value) -> str:
    """``value`` as it is written in YAML: booleans lowercase."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _check_interval(field: str, value) -> int:
    if not _is_int(value) or value < 1:
        raise _fail(field, "is %r; it must be a whole number of seconds, 1 or more" % (value,))
    return value


CHECKS = {
    "namespace": _check_namespace,
    "name": _check_name,
    "image": _check_image,
    "image_pull_policy": _choice(PULL_POLICIES),
    "workload": _choice(WORKLOADS),
    "storage_size": _quantity,
    "storage_class": _check_storage_class,
    "service_type": _choice(SERVICE_TYPES),
    "node_port": _check_node_port,
    "port": _check_port,
    "retention": _check_retention,
    "extra_args": _check_extra_args,
    "resources": _check_resources,
    "labels": _check_labels,
    "reloader": _choice(RELOADERS),
    "reloader_image": _check_image,
    "reloader_interval": _check_interval,
    "service_discovery": _check_bool,
    "cluster_role_name": _dns_subdomain,
}


def normalize_options(options: dict) -> dict:
    """The options checked, with every default filled in (keys in ``DEFAULTS`` order).

    An option given as None counts as not given. Options of another mode (``ONLY_WITH``) are
    refused when given, and None in the result; a normalized result normalizes to itself.
    """
    if not isinstance(options, dict):
        raise ManifestError("prometheus_kubernetes must be a mapping of options, got %s" % type(options).__name__)
    unknown = sorted(str(key) for key in options if key not in DEFAULTS)
    if unknown:
        raise _fail(unknown[0], "is not an option; the options are %s" % ", ".join(DEFAULTS))
    given = {key: value for key, value in options.items() if value is not None}
    for field, meaning in REQUIRED.items():
        if field not in given:
            raise _fail(field, "is required: %s" % meaning)
    result = {}
    for field, default in DEFAULTS.items():
        mode = ONLY_WITH.get(field)
        if mode and result[mode[0]] != mode[1]:
            if field in given:
                wanted, actual = _yaml_scalar(mode[1]), _yaml_scalar(result[mode[0]])
                raise _fail(
                    field,
                    "only applies with %s: %s (it is %s); remove it or set %s: %s"
                    % (mode[0], wanted, actual, mode[0], wanted),
                )
            result[field] = None
        elif field in given:
            result[field] = CHECKS[field](field, given[field])
        elif default is not None:
            result[field] = copy.deepcopy(default)
        else:
            result[field] = None
    if result["service_discovery"] and result["cluster_role_name"] is None:
        result["cluster_role_name"] = "promfleet-%s-%s" % (result["namespace"], result["name"])
    if result["workload"] == "StatefulSet" and len(result["name"]) > STATEFULSET_NAME_MAX:
        raise _fail(
            "name",
            "is %r (%d characters); with workload: StatefulSet it must have at most %d, because the pods "
            "carry a controller-revision-hash label of <name>-<10 characters>"
            % (result["name"], len(result["name"]), STATEFULSET_NAME_MAX),
        )
    lifecycle = [arg for arg in result["extra_args"] if arg.split("=", 1)[0] == LIFECYCLE_FLAG]
    if lifecycle and result["reloader"] != "http":
        raise _fail(
            "extra_args",
            "has %s, which also lets anyone who reaches the port stop the server (/-/quit); "
            "it is only set with reloader: http, which adds it itself" % lifecycle[0],
        )
    result["extra_args"] = [arg for arg in result["extra_args"] if arg not in lifecycle]
    return result


def rule_files_glob() -> str:
    """The ``rule_files`` entry of prometheus.yml that loads every rule file of the ConfigMap."""
    return CONFIG_DIR + "/*" + RULE_FILE_SUFFIX


def _selector(options: dict) -> dict:
    """The labels the workload and the Service select pods by: immutable in a workload, so fixed."""
    return {NAME_LABEL: "prometheus", INSTANCE_LABEL: options["name"]}


def owned_labels(name: str) -> dict:
    """The labels every object of server ``name`` carries: only objects with all of them are the
    collection's to change or delete."""
    return {NAME_LABEL: "prometheus", INSTANCE_LABEL: name, MANAGED_BY_LABEL: MANAGED_BY}


def _owned_labels(options: dict) -> dict:
    return owned_labels(options["name"])


def _labels(options: dict) -> dict:
    labels = _owned_labels(options)
    labels.update(options["labels"])
    return labels


def _metadata(options: dict, name: str | None = None, namespaced: bool = True) -> dict:
    metadata = {"name": name or options["name"]}
    if namespaced:
        metadata["namespace"] = options["namespace"]
    metadata["labels"] = _labels(options)
    return metadata


def _config_data(config_yaml: str, rule_files: dict) -> dict:
    if not isinstance(config_yaml, str) or not config_yaml.strip():
        raise ManifestError("config_yaml must be the text of prometheus.yml, got %r" % (config_yaml,))
    if not isinstance(rule_files, dict):
        raise ManifestError(
            "rule_files must be a mapping of file name to YAML text, got %s" % type(rule_files).__name__
        )
    data = {CONFIG_KEY: config_yaml}
    for name in sorted(rule_files, key=str):
        if not isinstance(name, str) or len(name) > 253 or not _RULE_FILE_NAME.fullmatch(name):
            raise ManifestError(
                "rule_files: %r is not a file name ending in %s (letters, digits, '_', '.', '-', not starting "
                "with '.' or '_'), e.g. 'node.rules.yml'; prometheus.yml loads %s"
                % (name, RULE_FILE_SUFFIX, rule_files_glob())
            )
        if not isinstance(rule_files[name], str):
            raise ManifestError(
                "rule_files[%r]: the content must be the YAML text of the rule file, got %s"
                % (name, type(rule_files[name]).__name__)
            )
        data[name] = rule_files[name]
    size = sum(len(text.encode("utf-8")) for text in data.values())
    if size > CONFIGMAP_MAX_BYTES:
        raise ManifestError(
            "prometheus.yml and the rule files hold %d bytes; a ConfigMap holds at most %d: "
            "move rules to fewer or shorter files, or out of this server" % (size, CONFIGMAP_MAX_BYTES)
        )
    return data


def _container_security_context() -> dict:
    return {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }


def _config_mount() -> dict:
    return {"name": "config", "mountPath": CONFIG_DIR, "readOnly": True}


def _args(options: dict) -> list:
    args = [
        "--config.file=" + CONFIG_FILE,
        "--storage.tsdb.path=" + DATA_DIR,
        "--storage.tsdb.retention.time=" + options["retention"],
        "--web.listen-address=:%d" % options["port"],
    ]
    if options["reloader"] == "http":
        args.append(LIFECYCLE_FLAG)
    return args + options["extra_args"]


def _probe(path: str, initial_delay: int, period: int, timeout: int, failures: int) -> dict:
    return {
        "httpGet": {"path": path, "port": "http"},
        "initialDelaySeconds": initial_delay,
        "periodSeconds": period,
        "timeoutSeconds": timeout,
        "failureThreshold": failures,
    }


def _prometheus_container(options: dict) -> dict:
    return {
        "name": CONTAINER_NAME,
        "image": options["image"],
        "imagePullPolicy": options["image_pull_policy"],
        "args": _args(options),
        "ports": [{"name": "http", "containerPort": options["port"], "protocol": "TCP"}],
        # /-/ready answers once the TSDB is open (after the WAL replay); /-/healthy answers from
        # the start, so a long replay does not get the container killed.
        "readinessProbe": _probe("/-/ready", 5, 5, 3, 3),
        "livenessProbe": _probe("/-/healthy", 10, 15, 10, 4),
        "resources": copy.deepcopy(options["resources"]),
        "securityContext": _container_security_context(),
        "volumeMounts": [_config_mount(), {"name": "data", "mountPath": DATA_DIR}],
    }


def _reloader_container(options: dict) -> dict:
    script = RELOADER_SCRIPT % {"dir": CONFIG_DIR, "interval": options["reloader_interval"]}
    return {
        "name": RELOADER_CONTAINER_NAME,
        "image": options["reloader_image"],
        "imagePullPolicy": options["image_pull_policy"],
        "command": ["sh", "-c", script],
        "resources": copy.deepcopy(RELOADER_RESOURCES),
        "securityContext": _container_security_context(),
        "volumeMounts": [_config_mount()],
    }


def _pod_template(options: dict) -> dict:
    # The token is what service discovery reads the API with; without discovery the pod gets none.
    spec = {"serviceAccountName": options["name"], "automountServiceAccountToken": options["service_discovery"]}
    containers = [_prometheus_container(options)]
    if options["reloader"] == "sidecar":
        spec["shareProcessNamespace"] = True
        containers.append(_reloader_container(options))
    spec["securityContext"] = {
        "runAsNonRoot": True,
        "runAsUser": RUN_AS,
        "runAsGroup": RUN_AS,
        "fsGroup": RUN_AS,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    spec["containers"] = containers
    volumes = [{"name": "config", "configMap": {"name": options["name"]}}]
    if options["workload"] == "Deployment":
        volumes.append({"name": "data", "emptyDir": {}})
    spec["volumes"] = volumes
    return {"metadata": {"labels": _labels(options)}, "spec": spec}


def _workload(options: dict) -> dict:
    spec = {"replicas": 1, "selector": {"matchLabels": _selector(options)}}
    if options["workload"] == "StatefulSet":
        spec["serviceName"] = options["name"]
    spec["template"] = _pod_template(options)
    if options["workload"] == "StatefulSet":
        claim = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": options["storage_size"]}}}
        if options["storage_class"] is not None:
            claim["storageClassName"] = options["storage_class"]
        # Claim templates cannot change once the StatefulSet exists: only the fixed labels here.
        spec["volumeClaimTemplates"] = [
            {"metadata": {"name": "data", "labels": _owned_labels(options)}, "spec": claim}
        ]
    return {"apiVersion": "apps/v1", "kind": options["workload"], "metadata": _metadata(options), "spec": spec}


def _service(options: dict) -> dict:
    port = {"name": "http", "port": options["port"], "targetPort": "http", "protocol": "TCP"}
    if options["node_port"] is not None:
        port["nodePort"] = options["node_port"]
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(options),
        "spec": {"type": options["service_type"], "selector": _selector(options), "ports": [port]},
    }


def _cluster_role_objects(options: dict) -> list[dict]:
    """The ClusterRole that service discovery needs, and its binding to the server's ServiceAccount."""
    role = options["cluster_role_name"]
    rbac = "rbac.authorization.k8s.io"
    return [
        {
            "apiVersion": rbac + "/v1",
            "kind": "ClusterRole",
            "metadata": _metadata(options, role, False),
            "rules": copy.deepcopy(list(CLUSTER_ROLE_RULES)),
        },
        {
            "apiVersion": rbac + "/v1",
            "kind": "ClusterRoleBinding",
            "metadata": _metadata(options, role, False),
            "roleRef": {"apiGroup": rbac, "kind": "ClusterRole", "name": role},
            "subjects": [{"kind": "ServiceAccount", "name": options["name"], "namespace": options["namespace"]}],
        },
    ]


def manifests(options: dict, config_yaml: str, rule_files: dict) -> list[dict]:
    """The objects of one Prometheus server, in apply order: Namespace, ServiceAccount,
    ClusterRole, ClusterRoleBinding, ConfigMap, Deployment or StatefulSet, Service.
    Without ``service_discovery`` there is no ClusterRole and no ClusterRoleBinding.

    ``options`` are the ``prometheus_kubernetes`` options (normalized here), ``config_yaml`` the
    text of prometheus.yml (its ``rule_files`` should be ``[rule_files_glob()]``), ``rule_files``
    maps ``<name>.rules.yml`` to the text of each rule file.
    """
    options = normalize_options(options)
    data = _config_data(config_yaml, rule_files)
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": _metadata(options, options["namespace"], False)},
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _metadata(options)},
        *(_cluster_role_objects(options) if options["service_discovery"] else []),
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _metadata(options), "data": data},
        _workload(options),
        _service(options),
    ]


def pod_template_fingerprint(objects: list) -> str:
    """sha256 of the canonical JSON of the workload's pod template: equal fingerprints mean that
    applying the objects does not roll the pods."""
    for obj in objects:
        if obj.get("kind") in WORKLOADS:
            canonical = json.dumps(obj["spec"]["template"], sort_keys=True, separators=(",", ":"))
            return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    raise ManifestError("no Deployment or StatefulSet among the objects: there is no pod template")
