# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""Everything one Prometheus server's run depends on, checked once before any change: its whole
prometheus.yml through the engine, and what it becomes where the server runs - files on a host, or
objects in a Kubernetes cluster. The logic of the ``prometheus_plan`` action.

The roles compute the plan once per server and run (preflight), and carry it to the steps that
write files or apply objects, which do not check the configuration again.
"""

from __future__ import annotations

import re

from ansible_collections.promfleet.federation.plugins.module_utils.errors import ConfigError, ManifestError
from ansible_collections.promfleet.federation.plugins.module_utils.fleet.topology import (
    HOST,
    KUBERNETES,
    kubernetes_name,
)
from ansible_collections.promfleet.federation.plugins.module_utils.fleet.watched import render_target_file
from ansible_collections.promfleet.federation.plugins.module_utils.host.config_files import (
    check_rule_files,
    with_rules_glob,
)
from ansible_collections.promfleet.federation.plugins.module_utils.host.description import (
    install_problems,
    lifecycle_problem,
)
from ansible_collections.promfleet.federation.plugins.module_utils.kube import manifests as kube
from ansible_collections.promfleet.federation.plugins.module_utils.model import versions
from ansible_collections.promfleet.federation.plugins.module_utils.model.documents import plain, render_text
from ansible_collections.promfleet.federation.plugins.module_utils.model.promconfig import (
    check_target_file,
    normalize_config,
)

# Options of prometheus_kubernetes that are not the engine's: how to reach the cluster (kubernetes.core's),
# and how the globals reach the server (the topology's).
KUBERNETES_CONNECTION_OPTIONS = ("kubeconfig", "context", "federation_url")
_RULES_SUFFIX = re.compile(r"(?<![.]rules)[.]yml$")


def check_server_role(host: str, server: dict | None, role: str) -> None:
    """The host's place in the topology (``prometheus_server``) must be the role a role runs it for."""
    if server is None:
        raise ConfigError("host '%s': no topology was read; run the topology entry point of "
                          "promfleet.federation.prometheus first" % host)
    if server.get("role") != role:
        where = ("a child group of the datacenters group" if role == "datacenter" else "the global group")
        raise ConfigError("host '%s' is not in %s; run the %s role on %s servers only (it is %s)"
                          % (host, where, role, role, "a " + server["role"] + " server"
                             if server.get("role") in ("datacenter", "global") else "in neither"))


def whole_config(config: dict, scrape_configs: list) -> dict:
    """The role's prometheus.yml with the user's extra jobs appended to its own."""
    if not isinstance(config, dict):
        raise ConfigError("the configuration must be a mapping (prometheus.yml), got %r" % (config,))
    if not isinstance(scrape_configs, list):
        raise ConfigError("prometheus_scrape_configs must be a list of scrape configs, got %r" % (scrape_configs,))
    result = dict(config)
    result["scrape_configs"] = list(config.get("scrape_configs") or []) + list(scrape_configs)
    return result


def kubernetes_options(host: str, options: dict, defaults: dict | None = None) -> dict:
    """The engine's options of the server in a cluster: its name defaults to the host's
    (``kubernetes_name``), a calling role's ``defaults`` come under the inventory's options, and the
    connection options are left out."""
    if not isinstance(options, dict):
        raise ManifestError("prometheus_kubernetes must be a mapping of options, got %s" % type(options).__name__)
    result = {"name": kubernetes_name(host)}
    result.update(defaults or {})
    result.update({key: value for key, value in options.items() if key not in KUBERNETES_CONNECTION_OPTIONS})
    return result


def kubernetes_rule_file_name(name: str) -> str:
    """``<name>.yml`` (as the roles take rule files) as a ConfigMap key ``<name>.rules.yml``."""
    return _RULES_SUFFIX.sub(kube.RULE_FILE_SUFFIX, name)


def release_problems(release: str, schema_version: str, flags: list) -> list:
    """What the release cannot do with these settings: a release the engine does not model, a
    schema newer than the release (the engine would pass fields the server refuses), flags the
    release refuses or ignores."""
    try:
        versions.release_tuple(release)
        versions.check_version(release)
    except ConfigError as exc:
        return ["prometheus_version %s: %s" % (release, exc)]
    problems = []
    if versions.version_tuple(schema_version) > versions.version_tuple(release):
        problems.append("prometheus_schema_version %s is newer than the release %s: the engine would accept fields "
                        "the server refuses; leave it unset or at most %s"
                        % (schema_version, release, versions.schema_of_release(release)))
    return problems + versions.flag_problems(list(flags or []), release)


def host_problems(host: str, daemon: dict, extra_flags: list, listen_address: str, port,
                  release: str | None = None, schema_version: str | None = None) -> None:
    """Settings of a server on a host that no run could succeed with: ConfigError naming the host
    and every setting."""
    install = install_problems(plain(daemon.get("install") or {}))
    problems = ["invalid settings: " + "; ".join(install)] if install else []
    if release:
        problems += release_problems(release, schema_version or versions.schema_of_release(release),
                                     list(daemon.get("flags") or []))
    lifecycle = lifecycle_problem(list(extra_flags or []), listen_address, port, "prometheus_extra_flags",
                                  "Prometheus")
    if lifecycle:
        problems.append(lifecycle)
    if problems:
        raise ConfigError("host '%s': %s" % (host, "; ".join(problems)))


def target_file_specs(target_files: dict, targets_dir: str, schema_version: str, config_spec: dict) -> list:
    """The file_sd target files as files of the daemon description: each checked by the engine,
    in ``targets_dir``, rendered as stable JSON, written without a reload (the server reads them
    itself)."""
    specs = []
    for path in sorted(target_files):
        if path.rsplit("/", 1)[0] != targets_dir.rstrip("/") or not path.endswith(".json"):
            raise ConfigError("target file %s: it must be a .json file directly in %s" % (path, targets_dir))
        check_target_file(target_files[path], "target file %s" % path, schema_version)
        specs.append({"path": path, "content": render_target_file(target_files[path]),
                      "owner": config_spec.get("owner"), "group": config_spec.get("group"),
                      "mode": config_spec.get("mode") or "0640", "checker": None, "reload": False})
    return specs


def plan_host(config: dict, rule_files: dict, schema_version: str, daemon: dict, target_files: dict | None = None,
              targets_dir: str | None = None) -> dict:
    """The plan of a server on a host: prometheus.yml as it will be written (loading the rule
    files of the daemon's rules directory), checked by the engine, the rule files, the file_sd
    target files of ``targets_dir`` (a directory the server then holds exactly these in), and the
    description the daemon role runs the server from, with them as its configuration."""
    daemon = plain(daemon)
    config_spec = daemon.get("config") or {}
    if not config_spec.get("path") or not config_spec.get("rules_dir"):
        raise ConfigError("the daemon description has no config.path and config.rules_dir to plan prometheus.yml for")
    config = plain(config)
    rule_files = plain(rule_files or {})
    check_rule_files(rule_files)
    if rule_files:
        config = with_rules_glob(config, config_spec["path"], config_spec["rules_dir"])
    normalize_config(config, schema_version)
    daemon["config"] = dict(config_spec, content=config, rule_files=rule_files)
    target_files = plain(target_files or {})
    if targets_dir:
        daemon["directories"] = list(daemon.get("directories") or []) + [
            {"path": targets_dir, "owner": config_spec.get("owner") or "root", "group": config_spec.get("group"),
             "mode": "0750"}]
        daemon["files"] = list(daemon.get("files") or []) + target_file_specs(target_files, targets_dir,
                                                                              schema_version, config_spec)
        daemon["owned_dirs"] = list(daemon.get("owned_dirs") or []) + [targets_dir]
    elif target_files:
        raise ConfigError("target files were given without the directory that holds them (targets_dir)")
    return {"deployment": HOST, "config": config, "rule_files": rule_files, "target_files": target_files,
            "daemon": daemon}


def plan_kubernetes(host: str, config: dict, rule_files: dict, schema_version: str, options: dict,
                    defaults: dict | None = None) -> dict:
    """The plan of a server in a cluster: prometheus.yml (loading the ConfigMap's rule files) checked
    by the engine, and every object in apply order, with what the apply and reload steps need."""
    config = plain(config)
    rule_files = {kubernetes_rule_file_name(name): content for name, content in plain(rule_files or {}).items()}
    for name, content in rule_files.items():
        if not isinstance(content, dict):
            raise ConfigError("rule_files[%r]: the content must be a mapping like {groups: [...]}, got %s"
                              % (name, type(content).__name__))
    if rule_files:
        entries = config.get("rule_files") or []
        if not isinstance(entries, list):
            raise ConfigError("rule_files is %r; it must be a list of file globs" % (entries,))
        if kube.rule_files_glob() not in entries:
            config = dict(config, rule_files=[*entries, kube.rule_files_glob()])
    normalize_config(config, schema_version)
    engine_options = kube.normalize_options(kubernetes_options(host, plain(options), plain(defaults)))
    objects = kube.manifests(engine_options, render_text(config),
                             {name: render_text(content) for name, content in rule_files.items()})
    workload = next(obj["kind"] for obj in objects if obj["kind"] in kube.WORKLOADS)
    config_map = next(obj for obj in objects if obj["kind"] == "ConfigMap")
    return {
        "deployment": KUBERNETES,
        "config": config,
        "rule_files": rule_files,
        "objects": objects,
        "kubernetes": {
            "namespace": engine_options["namespace"],
            "name": engine_options["name"],
            "port": engine_options["port"],
            "reloader": engine_options["reloader"],
            "workload": workload,
            "other_workload": next(kind for kind in kube.WORKLOADS if kind != workload),
            "owned_labels": kube.owned_labels(engine_options["name"]),
            "last_good": engine_options["name"] + kube.LAST_GOOD_SUFFIX,
            "field_manager": kube.FIELD_MANAGER,
            "config_map_data": config_map["data"],
        },
    }
