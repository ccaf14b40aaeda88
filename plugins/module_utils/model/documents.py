# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""YAML documents as the collection writes and reads them: deterministic rendering (the same
input always gives the same bytes, so unchanged files are never rewritten) and checked parsing."""

from __future__ import annotations

import importlib
import sys
import traceback

from ansible_collections.promfleet.federation.plugins.module_utils.errors import ConfigError

try:
    import yaml
except ImportError:  # modules report it with missing_required_lib
    yaml = None
    YAML_IMPORT_ERROR = traceback.format_exc()
else:
    YAML_IMPORT_ERROR = None

# The package of PyYAML for the system's Python, per package manager: a fresh minimal Debian lacks it.
YAML_PACKAGES = {"apt-get": "python3-yaml", "dnf": "python3-pyyaml", "yum": "python3-pyyaml",
                 "zypper": "python3-PyYAML"}


def provide_yaml(package_manager: str | None, install) -> None:
    """Install PyYAML with ``install([package])`` when this Python lacks it, and load it: the modules
    that write files on a managed host bring what they need themselves."""
    global yaml, YAML_IMPORT_ERROR
    if yaml is not None:
        return
    if package_manager not in YAML_PACKAGES:
        raise ConfigError("this Python lacks PyYAML and the machine has no apt-get, dnf, yum or zypper to install it; "
                          "install PyYAML for %s" % sys.executable)
    install([YAML_PACKAGES[package_manager]])
    importlib.invalidate_caches()
    yaml = importlib.import_module("yaml")
    YAML_IMPORT_ERROR = None


def plain(value):
    """``value`` rebuilt from the builtin types, which ``yaml.safe_dump`` represents: Ansible hands
    plugins subclasses of dict, list, str, int and float (with data tags, since ansible-core 2.19)."""
    if isinstance(value, dict):
        return {plain(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    for builtin in (bool, str, int, float):
        if isinstance(value, builtin):
            return builtin(value)
    return value


def render(document) -> bytes:
    """Deterministic YAML: block style, keys in the given order, unicode kept, UTF-8."""
    return yaml.safe_dump(plain(document), sort_keys=False, allow_unicode=True,
                          default_flow_style=False).encode("utf-8")


def render_text(document) -> str:
    """``render`` as text."""
    return render(document).decode("utf-8")


def load_mapping(text, what: str) -> dict:
    """A YAML mapping (an empty document is {}); ConfigError naming ``what`` when it is not one."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError("%s is not valid YAML: %s" % (what, exc)) from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise ConfigError("%s is not a YAML mapping" % what)
    return document
