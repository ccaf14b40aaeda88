"""The execution environment (execution-environment.yml, built by scripts/ee_image.sh) holds what
the playbooks use, with the pins of requirements.txt; meta/execution-environment.yml tells other
EEs what this collection needs."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[2]
EE = yaml.safe_load((REPO / "execution-environment.yml").read_text(encoding="utf-8"))
META_EE = yaml.safe_load((REPO / "meta" / "execution-environment.yml").read_text(encoding="utf-8"))
GALAXY = yaml.safe_load((REPO / "galaxy.yml").read_text(encoding="utf-8"))
# Pinned in the EE but not in requirements.txt: needed by collections the controller here never runs
# that way (kubernetes.core's json patches, awx.awx's rrule lookup and export/import) or by the
# image itself (dumb-init, its entrypoint's init).
EE_ONLY = {"jsonpatch", "jsonpointer", "pytz", "awxkit", "dumb-init"}
FQCN = r"[a-z0-9_]+\.[a-z0-9_]+\.[a-z0-9_]+"
# lookups and filters written with a collection's name: lookup('awx.awx.controller_api', ...), | x.y.z
PLUGIN_REFERENCE = re.compile(r"(?:\b(?:lookup|query|q)\(\s*['\"]|\|\s*)(%s)\b" % FQCN)
TASK_LISTS = ("tasks", "pre_tasks", "post_tasks", "handlers", "block", "rescue", "always")


def requirements_txt() -> dict[str, Requirement]:
    pins = {}
    for line in (REPO / "requirements.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            req = Requirement(line)
            pins[canonicalize_name(req.name)] = req
    return pins


def ee_python_requirements() -> list[Requirement]:
    deps = EE["dependencies"]
    specs = list(deps["python"])
    specs += [deps[key]["package_pip"] for key in ("ansible_core", "ansible_runner")]
    specs.append(EE["options"]["container_init"]["package_pip"])
    return [Requirement(spec) for spec in specs]


def ee_collections() -> set[str]:
    """namespace.name of every collection the EE installs (a file source named by its artifact)."""
    names = set()
    for entry in EE["dependencies"]["galaxy"]["collections"]:
        if entry.get("type") == "file":
            namespace, name = Path(entry["name"]).name.split("-")[:2]
            names.add(f"{namespace}.{name}")
        else:
            names.add(entry["name"])
    return names


def playbook_files() -> list[Path]:
    files = [REPO / "site.yml"]
    files += sorted(p for p in (REPO / "playbooks").rglob("*.yml"))
    for kind in ("tasks", "handlers"):
        files += sorted(p for p in (REPO / "roles").glob(f"*/{kind}/**/*.yml"))
    return files


def task_keys(node) -> set[str]:
    """The FQCN keys (modules, actions) of every task in a playbook or task file."""
    found = set()
    if isinstance(node, list):
        for item in node:
            found |= task_keys(item)
    elif isinstance(node, dict):
        found |= {key for key in node if isinstance(key, str) and re.fullmatch(FQCN, key)}
        for key in TASK_LISTS:
            found |= task_keys(node.get(key))
    return found


def used_fqcns() -> dict[str, set[str]]:
    """Each collection FQCN the playbooks and roles use, with the files using it."""
    used: dict[str, set[str]] = {}
    for path in playbook_files():
        text = path.read_text(encoding="utf-8")
        names = task_keys(yaml.safe_load(text)) | set(PLUGIN_REFERENCE.findall(text))
        for name in names:
            used.setdefault(name, set()).add(str(path.relative_to(REPO)))
    return used


def test_the_ee_holds_every_collection_the_playbooks_and_roles_use():
    # promfleet.federation comes from the project (the committed link), not from the EE
    available = ee_collections() | {"ansible.builtin", "ansible.legacy", "promfleet.federation"}
    used = used_fqcns()
    missing = {name: sorted(files) for name, files in used.items() if name.rsplit(".", 1)[0] not in available}
    assert not missing, "used but not in execution-environment.yml: %s" % missing


def test_the_scan_finds_the_collections_the_roles_are_known_to_use():
    collections = {name.rsplit(".", 1)[0] for name in used_fqcns()}
    assert {"kubernetes.core", "community.crypto", "promfleet.federation"} <= collections


def test_the_ee_holds_every_collection_of_collections_requirements():
    wanted = yaml.safe_load((REPO / "collections" / "requirements.yml").read_text(encoding="utf-8"))
    assert {entry["name"] for entry in wanted["collections"]} <= ee_collections()


def test_the_ee_holds_the_galaxy_dependencies_of_this_collection_but_not_this_collection():
    """The project brings promfleet.federation: a changed role needs no new image."""
    assert set(GALAXY["dependencies"]) <= ee_collections()
    assert "promfleet.federation" not in ee_collections()


def test_the_ee_collection_versions_satisfy_collections_requirements():
    wanted = yaml.safe_load((REPO / "collections" / "requirements.yml").read_text(encoding="utf-8"))
    constraints = {entry["name"]: entry.get("version", "*") for entry in wanted["collections"]}
    for entry in EE["dependencies"]["galaxy"]["collections"]:
        if entry.get("type") == "file":
            continue
        pinned = entry["version"]
        assert pinned.startswith("=="), f"{entry['name']}: pin the version the `ansible` wheel ships"
        if constraints.get(entry["name"], "*") != "*":
            assert pinned[2:] in SpecifierSet(constraints[entry["name"]]), entry["name"]


def test_the_ee_installs_the_python_packages_this_collection_declares():
    declared = {canonicalize_name(Requirement(line).name)
                for line in (REPO / "meta" / "ee-requirements.txt").read_text(encoding="utf-8").splitlines()
                if line.strip() and not line.startswith("#")}
    assert declared <= {canonicalize_name(req.name) for req in ee_python_requirements()}


def test_the_ee_python_pins_equal_requirements_txt():
    pins = requirements_txt()
    for req in ee_python_requirements():
        name = canonicalize_name(req.name)
        assert str(req.specifier).startswith("=="), f"{req}: pin it exactly"
        if name in EE_ONLY:
            assert name not in pins, f"{name} is in requirements.txt now: drop it from EE_ONLY"
        else:
            assert name in pins, f"{req} is not in requirements.txt"
            assert req.specifier == pins[name].specifier, f"{req} but requirements.txt has {pins[name]}"


def test_the_ee_pins_ansible_core_and_ansible_runner_as_requirements_txt():
    pins = requirements_txt()
    deps = EE["dependencies"]
    assert deps["ansible_core"]["package_pip"] == str(pins["ansible-core"])
    assert deps["ansible_runner"]["package_pip"] == str(pins["ansible-runner"])


def test_the_ee_pins_satisfy_what_the_collection_declares():
    pinned = {canonicalize_name(r.name): next(iter(r.specifier)).version for r in ee_python_requirements()}
    for line in (REPO / META_EE["dependencies"]["python"]).read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            req = Requirement(line)
            assert canonicalize_name(req.name) in pinned, f"{req.name} of the collection is not in the EE"
            assert pinned[canonicalize_name(req.name)] in req.specifier, f"the EE's {req.name} does not satisfy {req}"


def test_meta_execution_environment_points_at_files_that_exist():
    deps = META_EE["dependencies"]
    assert set(deps) == {"python", "system"}
    for path in deps.values():
        assert (REPO / path).is_file(), path


def test_meta_bindep_parses_and_asks_for_the_ssh_client_on_debian_and_red_hat():
    bindep = pytest.importorskip("bindep.depends")
    depends = bindep.Depends((REPO / META_EE["dependencies"]["system"]).read_text(encoding="utf-8"))
    debian = {rule[0] for rule in depends.active_rules(["platform:dpkg", "default"])}
    red_hat = {rule[0] for rule in depends.active_rules(["platform:rpm", "default"])}
    assert "openssh-client" in debian
    assert "openssh-clients" in red_hat


def test_the_base_image_holds_the_collection_s_system_packages():
    """The build's bindep then finds nothing missing: no apt-get in the build (it has no package lists)."""
    bindep = pytest.importorskip("bindep.depends")
    script = (REPO / "scripts" / "ee_image.sh").read_text(encoding="utf-8")
    base = set(re.search(r"^BASE_PACKAGES=(\S+)$", script, re.M).group(1).split(","))
    depends = bindep.Depends((REPO / META_EE["dependencies"]["system"]).read_text(encoding="utf-8"))
    debian = {rule[0] for rule in depends.active_rules(["platform:dpkg", "default"])}
    assert debian <= base


def test_the_ee_python_is_the_virtualenv_made_on_the_base_and_first_on_path():
    python_path = EE["dependencies"]["python_interpreter"]["python_path"]
    venv = str(Path(python_path).parent.parent)
    steps = EE["additional_build_steps"]["prepend_base"]
    assert f"RUN python3 -m venv {venv}" in steps
    path = next(step for step in steps if step.startswith("ENV PATH="))
    assert path.split("=", 1)[1].split(":")[0] == f"{venv}/bin"


def test_ansible_builder_accepts_the_definition(tmp_path):
    builder = Path(sys.executable).with_name("ansible-builder")
    if not builder.exists():
        builder = shutil.which("ansible-builder")
    if not builder:
        pytest.skip("ansible-builder is not installed")
    result = subprocess.run([str(builder), "create", "--file", str(REPO / "execution-environment.yml"),
                             "--context", str(tmp_path / "context")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
    assert result.returncode == 0, result.stdout
    containerfile = (tmp_path / "context" / "Containerfile").read_text(encoding="utf-8")
    assert 'ARG EE_BASE_IMAGE="localhost/promfleet-ee-base:bookworm"' in containerfile
    assert 'ARG PYCMD="/opt/ee/bin/python3"' in containerfile
    assert 'ENTRYPOINT ["/opt/builder/bin/entrypoint", "dumb-init"]' in containerfile
