"""The layout is the architecture: module_utils packages by concern that import only downward, one
error base class, one way to run a command, thin modules, dependencies and constants declared once."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

from ansible_collections.promfleet.federation.plugins.module_utils import errors
from ansible_collections.promfleet.federation.plugins.module_utils.model.versions import DEFAULT_SCHEMA_VERSION

REPO = Path(__file__).resolve().parents[2]
PLUGINS = REPO / "plugins"
MODULE_UTILS = PLUGINS / "module_utils"
PREFIX = "ansible_collections.promfleet.federation.plugins.module_utils."
# Lower layers know nothing of higher ones: a package imports its own modules and lower layers only.
LAYERS = ["errors", "model", "host", "kube", "fleet"]


def concern(module: str) -> str:
    return module[len(PREFIX):].split(".")[0]


def imported_modules(path: Path) -> list:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.append(node.module)
            found += ["%s.%s" % (node.module, alias.name) for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
    return found


MODULE_UTILS_FILES = sorted(p for p in MODULE_UTILS.rglob("*.py") if p.name != "__init__.py")


def test_module_utils_is_packages_by_concern():
    assert sorted(p.name for p in MODULE_UTILS.iterdir() if p.is_dir() and p.name != "__pycache__") == \
        sorted(LAYERS[1:])
    assert [p.name for p in MODULE_UTILS.glob("*.py") if p.name != "__init__.py"] == ["errors.py"]


@pytest.mark.parametrize("path", MODULE_UTILS_FILES, ids=lambda p: str(p.relative_to(MODULE_UTILS)))
def test_module_utils_import_only_their_own_concern_and_lower_ones(path):
    own = path.relative_to(MODULE_UTILS).parts[0].removesuffix(".py")
    upward = sorted({concern(m) for m in imported_modules(path) if m.startswith(PREFIX)
                     and LAYERS.index(concern(m)) > LAYERS.index(own)})
    assert not upward, "%s (%s) imports from %s, above it in %s" % (path.name, own, upward, " < ".join(LAYERS))


PLUGIN_FILES = sorted(p for p in PLUGINS.rglob("*.py") if p.name != "__init__.py")


@pytest.mark.parametrize("path", PLUGIN_FILES, ids=lambda p: str(p.relative_to(PLUGINS)))
def test_only_host_commands_runs_external_commands(path):
    if path == MODULE_UTILS / "host" / "commands.py":
        return
    assert "subprocess" not in imported_modules(path), "%s runs commands itself; use host/commands.py" % path.name


def test_every_error_of_the_engine_derives_from_one_base_class():
    classes = [value for value in vars(errors).values() if isinstance(value, type) and issubclass(value, Exception)]
    assert len(classes) > 10
    assert all(issubclass(cls, errors.PromfleetError) for cls in classes)


@pytest.mark.parametrize("path", sorted((PLUGINS / "modules").glob("*.py")), ids=lambda p: p.name)
def test_every_module_is_a_thin_face_that_catches_the_one_base_class(path):
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    functions = [node.name for node in tree.body if isinstance(node, ast.FunctionDef)]
    if not functions:
        return  # the documentation of an action plugin
    assert functions in (["main"], ["argument_spec", "main"]), "%s defines %s besides main()" % (path.name, functions)
    assert re.search(r"except \(?PromfleetError", source), "%s does not catch PromfleetError" % path.name


def fqcns_used() -> set:
    """Collections named in the roles and playbooks (``<namespace>.<collection>.<name>``)."""
    found = set()
    pattern = re.compile(r"\b([a-z_]+)\.([a-z_]+)\.[a-z0-9_]+\b")
    for path in list((REPO / "roles").rglob("*.yml")) + list((REPO / "playbooks").rglob("*.yml")):
        for line in path.read_text(encoding="utf-8").splitlines():
            stripped = line.split("#", 1)[0]
            for namespace, collection in pattern.findall(stripped):
                if namespace in ("ansible", "promfleet", "community", "kubernetes") and collection != "builtin":
                    found.add("%s.%s" % (namespace, collection))
    return found - {"promfleet.federation"}


def test_galaxy_yml_declares_every_collection_the_roles_and_playbooks_use():
    declared = set(yaml.safe_load((REPO / "galaxy.yml").read_text(encoding="utf-8"))["dependencies"])
    assert fqcns_used() == declared


def documented_schema_defaults() -> list:
    """Every place the documentation must state the default schema version as a literal."""
    found = []
    fragment = (PLUGINS / "doc_fragments" / "schema_version.py").read_text(encoding="utf-8")
    found.append(("doc fragment schema_version", re.search(r'default: "([\d.]+)"', fragment).group(1)))
    for path in sorted((PLUGINS / "filter").glob("*.yml")):
        options = yaml.safe_load(path.read_text(encoding="utf-8"))["DOCUMENTATION"].get("options") or {}
        if "version" in options:
            found.append((path.name, str(options["version"]["default"])))
    plan = yaml.safe_load(re.search(r'DOCUMENTATION = r"""(.*?)"""', (PLUGINS / "modules" / "prometheus_plan.py")
                                    .read_text(encoding="utf-8"), re.S).group(1))
    found.append(("prometheus_plan schema_version", plan["options"]["schema_version"]["default"]))
    return found


@pytest.mark.parametrize("where, value", documented_schema_defaults(), ids=str)
def test_every_documented_default_schema_version_is_the_engines(where, value):
    assert value == DEFAULT_SCHEMA_VERSION, "%s documents %s, the engine's default is %s" % (
        where, value, DEFAULT_SCHEMA_VERSION)
