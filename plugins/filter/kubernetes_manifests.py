# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""The Kubernetes objects of one Prometheus server, from Ansible data (docs: kubernetes_manifests.yml)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.promfleet.federation.plugins.module_utils.errors import PromfleetError
from ansible_collections.promfleet.federation.plugins.module_utils.kube.manifests import manifests, rule_files_glob
from ansible_collections.promfleet.federation.plugins.module_utils.model.documents import plain, render_text


def with_rule_files_glob(config: dict) -> dict:
    """``config`` with ``rule_files_glob()`` appended to its ``rule_files`` unless already there."""
    entries = config.get("rule_files") or []
    if not isinstance(entries, list):
        raise AnsibleFilterError("config: rule_files is %r; it must be a list of file globs" % (entries,))
    if rule_files_glob() in entries:
        return config
    return {**config, "rule_files": [*entries, rule_files_glob()]}


def kubernetes_manifests(config: dict, options: dict, rule_files: dict | None = None) -> list[dict]:
    """The objects of one Prometheus server in apply order (``kube_manifests.manifests``).

    ``config`` is the prometheus.yml mapping and ``rule_files`` maps ``<name>.rules.yml`` to a
    rule file mapping (``{groups: [...]}``); both are rendered to YAML here. With rule files the
    config also loads ``rule_files_glob()``, the ConfigMap's rule files.
    """
    if not isinstance(config, dict):
        raise AnsibleFilterError("config must be the prometheus.yml mapping, got %s" % type(config).__name__)
    rule_files = rule_files or {}
    if not isinstance(rule_files, dict):
        raise AnsibleFilterError(
            "rule_files must be a mapping of file name to rule file, got %s" % type(rule_files).__name__
        )
    for name, content in rule_files.items():
        if not isinstance(content, dict):
            raise AnsibleFilterError(
                "rule_files[%r]: the content must be a mapping like {groups: [...]}, got %s"
                % (name, type(content).__name__)
            )
    config = plain(config)
    if rule_files:
        config = with_rule_files_glob(config)
    texts = {name: render_text(content) for name, content in rule_files.items()}
    try:
        return manifests(plain(options), render_text(config), texts)
    except PromfleetError as exc:
        raise AnsibleFilterError(str(exc)) from exc


class FilterModule:
    """promfleet.federation Kubernetes filters."""

    def filters(self) -> dict:
        return {"kubernetes_manifests": kubernetes_manifests}
