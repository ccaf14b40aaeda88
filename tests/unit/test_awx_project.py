"""The repository works as an AWX project as it is checked out: the collection finds itself through a
committed link, and nothing waits for an answer (a job runs with a TTY and no one to type: a prompt
hangs it until the job's timeout, by default for ever)."""

from __future__ import annotations

import configparser
import subprocess
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
LINK = "collections/ansible_collections/promfleet/federation"
# Where the plays and tasks of a job live.
PLAY_DIRS = ["playbooks", "roles", "extensions/molecule"]
PAUSE = {"pause", "ansible.builtin.pause", "ansible.legacy.pause"}


def yaml_files() -> list[Path]:
    files = [REPO / "site.yml"]
    for folder in PLAY_DIRS:
        files += sorted((REPO / folder).rglob("*.yml"))
    return files


def walk(node, found: list, path: str) -> None:
    """Collect (file, what) for every vars_prompt and every pause without a duration under ``node``."""
    if isinstance(node, dict):
        if node.get("vars_prompt"):
            found.append((path, "vars_prompt"))
        for key in PAUSE & set(node):
            args = node[key] if isinstance(node[key], dict) else {}
            if "seconds" not in args and "minutes" not in args:
                found.append((path, "%s without seconds or minutes" % key))
        for value in node.values():
            walk(value, found, path)
    elif isinstance(node, list):
        for value in node:
            walk(value, found, path)


def test_no_play_prompts_and_no_pause_waits_for_a_key():
    found: list = []
    for path in yaml_files():
        for document in yaml.safe_load_all(path.read_text()):
            walk(document, found, str(path.relative_to(REPO)))
    assert found == []


def test_the_prompt_check_finds_a_prompt_and_a_pause_without_a_duration():
    found: list = []
    walk([{"hosts": "all", "vars_prompt": [{"name": "x"}],
           "tasks": [{"ansible.builtin.pause": {"prompt": "go?"}}, {"pause": {"seconds": 3}}]}], found, "p.yml")
    assert found == [("p.yml", "vars_prompt"), ("p.yml", "ansible.builtin.pause without seconds or minutes")]


def test_the_collection_finds_itself_through_a_committed_link():
    staged = subprocess.run(["git", "ls-files", "-s", LINK], cwd=REPO, capture_output=True, text=True, check=True)
    mode = staged.stdout.split()[0] if staged.stdout else ""
    assert mode == "120000", "%s is not committed as a symlink: %r" % (LINK, staged.stdout)
    assert (REPO / LINK).readlink() == Path("../../..")
    assert (REPO / LINK / "galaxy.yml").resolve() == REPO / "galaxy.yml"


def test_ansible_cfg_puts_the_project_s_collections_on_the_path():
    """AWX takes collections_path from the project's ansible.cfg (after its own requirements folder)."""
    config = configparser.ConfigParser()
    config.read(REPO / "ansible.cfg")
    assert "./collections" in config["defaults"]["collections_path"].split(":")


def test_galaxy_build_leaves_the_link_out():
    galaxy = yaml.safe_load((REPO / "galaxy.yml").read_text())
    assert "collections/ansible_collections" in galaxy["build_ignore"]
