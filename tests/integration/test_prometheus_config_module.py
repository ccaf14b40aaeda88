"""The prometheus_config module run for real: ansible-playbook on localhost, Debian's promtool 2.42.

Every test writes a tiny playbook and its variables into pytest's tmp dir; the module writes below
it. The result of a task is saved as JSON by a second task (``check_mode: false``), and the
playbook's text output is checked for what a user sees (errors, ``--diff``).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from fleet import REPO, run_playbook
from promtool import PROMTOOL

pytestmark = pytest.mark.skipif(not os.path.exists(PROMTOOL), reason="needs promtool (Debian's prometheus package)")

PLAYBOOK = """\
- name: Write a prometheus.yml
  hosts: target
  gather_facts: false
  vars_files: [vars.yml]
  tasks:
    - name: Write prometheus.yml and the rule files
      promfleet.federation.prometheus_config:
        path: "{{ dest }}"
        config: "{{ config }}"
        rule_files: "{{ rule_files }}"
        promtool: "%s"
        validate_with_promtool: always
      register: written

    - name: Save the result
      ansible.builtin.copy:
        content: "{{ written | to_json }}"
        dest: "{{ result_file }}"
        mode: "0600"
      check_mode: false
      diff: false
      changed_when: false
""" % PROMTOOL

RULES = {"groups": [{"name": "aggregates", "rules": [{"record": "job:up:sum", "expr": "sum by (job) (up)"}]}]}


def config(password: str = "old-secret", jobs: tuple = ()) -> dict:
    scrape_configs = [
        {"job_name": "node", "static_configs": [{"targets": ["localhost:9100"]}]},
        {
            "job_name": "app",
            "basic_auth": {"username": "scraper", "password": password},
            "static_configs": [{"targets": ["app.example.com:8080"]}],
        },
    ]
    return {
        "global": {"scrape_interval": "15s", "external_labels": {"datacenter": "eu-west-1"}},
        "scrape_configs": scrape_configs + list(jobs),
    }


class Target:
    """A scratch directory with a playbook, an inventory and the module's destination."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.etc = root / "etc"
        self.etc.mkdir()
        self.dest = self.etc / "prometheus.yml"
        self.result_file = root / "result.json"
        (root / "site.yml").write_text(PLAYBOOK)
        self.inventory = root / "hosts.yml"
        self.inventory.write_text(yaml.safe_dump({"all": {"hosts": {"target": {
            "ansible_connection": "local",
            "ansible_python_interpreter": "{{ ansible_playbook_python }}",
        }}}}))

    def run(self, config: dict, rule_files: dict | None = None, *args: str):
        if self.result_file.exists():
            self.result_file.unlink()
        (self.root / "vars.yml").write_text(yaml.safe_dump({
            "dest": str(self.dest),
            "result_file": str(self.result_file),
            "config": config,
            "rule_files": rule_files if rule_files is not None else {"aggregates.yml": RULES},
        }, sort_keys=False))
        return run_playbook(str(self.root / "site.yml"), [self.inventory], *args, check=False)

    def result(self) -> dict:
        return json.loads(self.result_file.read_text())

    def files(self) -> dict:
        """Every file under etc/: relative path -> (bytes, mtime_ns)."""
        return {
            str(p.relative_to(self.etc)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(self.etc.rglob("*")) if p.is_file()
        }


@pytest.fixture
def target(tmp_path) -> Target:
    return Target(tmp_path)


def assert_ok(run) -> None:
    assert run.returncode == 0, run.output[-6000:]


def test_writes_a_valid_config_and_rules_and_returns_the_checksum(target):
    run = target.run(config())
    assert_ok(run)
    returned = target.result()
    assert returned["changed"] is True
    assert returned["checksum"] == hashlib.sha256(target.dest.read_bytes()).hexdigest()
    assert returned["rule_files"] == [str(target.etc / "rules" / "aggregates.yml")]
    assert returned["config"]["scrape_configs"][1]["basic_auth"]["password"] == "<redacted>"
    assert yaml.safe_load(target.dest.read_text())["rule_files"] == [str(target.etc / "rules" / "*.yml")]
    check = subprocess.run([PROMTOOL, "check", "config", str(target.dest)], capture_output=True, text=True,
                           check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "1 rule files found" in check.stdout


def test_a_second_run_changes_nothing(target):
    assert_ok(target.run(config()))
    before = target.files()
    run = target.run(config())
    assert_ok(run)
    assert run.recap()["target"]["changed"] == 0
    assert target.result()["changed"] is False
    assert target.files() == before


def test_the_replaced_config_is_kept_as_last_good(target):
    assert_ok(target.run(config()))
    first = target.dest.read_bytes()
    assert_ok(target.run(config(password="new-secret")))
    assert target.result()["backup_path"] == str(target.dest) + ".last-good"
    assert Path(str(target.dest) + ".last-good").read_bytes() == first


def test_check_diff_shows_the_change_with_secrets_redacted_and_writes_nothing(target):
    assert_ok(target.run(config()))
    before = target.files()
    extra = {"job_name": "blackbox", "static_configs": [{"targets": ["localhost:9115"]}]}
    run = target.run(config(password="new-secret", jobs=(extra,)), None, "--check", "--diff", "-vvv")
    assert_ok(run)
    assert "+- job_name: blackbox" in run.output
    assert "password: <redacted>" in run.output
    assert "old-secret" not in run.output and "new-secret" not in run.output
    assert run.recap()["target"]["changed"] == 1
    assert target.files() == before


def test_an_engine_error_names_the_job_and_field_and_leaves_the_old_file(target):
    assert_ok(target.run(config()))
    before = target.files()
    slow = {"job_name": "slow", "scrape_interval": "10s", "scrape_timeout": "30s",
            "static_configs": [{"targets": ["localhost:9999"]}]}
    run = target.run(config(jobs=(slow,)))
    assert run.returncode != 0
    assert '"slow"' in run.output and "scrape_timeout" in run.output, run.output[-3000:]
    assert target.files() == before


def test_a_rule_promtool_refuses_fails_with_its_message_and_changes_nothing(target):
    assert_ok(target.run(config()))
    before = target.files()
    broken = {"groups": [{"name": "broken", "rules": [{"record": "job:bad:sum", "expr": "sum by (job) (up"}]}]}
    run = target.run(config(password="new-secret"), {"aggregates.yml": RULES, "broken.yml": broken})
    assert run.returncode != 0
    assert "promtool check config refused the new configuration" in run.output
    assert str(target.etc / "rules" / "broken.yml") in run.output  # promtool's message, with the final name
    assert "new-secret" not in run.output
    assert target.files() == before


# --- a process killed while installing ------------------------------------------------------------

# Runs apply() with os.fsync or os.replace instrumented: at the chosen point the child says
# "paused" and sleeps, and the test kills it with SIGKILL right there.
CHILD = textwrap.dedent("""\
    import os, sys, time
    sys.path.insert(0, %r)
    import yaml
    from ansible_collections.promfleet.federation.plugins.module_utils.host import config_files as config_file

    dest, point = sys.argv[1], sys.argv[2]
    real_fsync, real_replace = os.fsync, os.replace

    def pause():
        print("paused", flush=True)
        time.sleep(60)

    def fsync(fd):
        real_fsync(fd)
        if point == "temp written":
            pause()

    def replace(src, dst):
        if point == "before rename" and dst == dest:
            pause()
        real_replace(src, dst)
        if point == "after rename" and dst == dest:
            pause()

    os.fsync, os.replace = fsync, replace
    new = {"scrape_configs": [{"job_name": "job%%d" %% i, "static_configs": [{"targets": ["h%%d:1" %% i]}]}
                              for i in range(5000)]}
    config_file.apply(config_file.plan(dest, new), None)
""") % str(REPO / "collections")


@pytest.mark.parametrize(("point", "expected"), [
    ("temp written", "old"), ("before rename", "old"), ("after rename", "new"),
])
def test_a_process_killed_while_installing_leaves_the_old_or_the_new_file(tmp_path, point, expected):
    dest = tmp_path / "prometheus.yml"
    old = {"scrape_configs": [{"job_name": "old", "static_configs": [{"targets": ["h:1"]}]}]}
    dest.write_bytes(yaml.safe_dump(old).encode())
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(dest), point], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline() == "paused\n"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    installed = yaml.safe_load(dest.read_bytes())
    if expected == "old":
        assert installed == old
    else:
        assert len(installed["scrape_configs"]) == 5000
    last_good = tmp_path / "prometheus.yml.last-good"
    assert not last_good.exists() or yaml.safe_load(last_good.read_bytes()) == old
    leftovers = sorted(p.name for p in tmp_path.iterdir() if p not in (dest, last_good))
    assert all(name.startswith(".prometheus.yml.") and name.endswith(".tmp") for name in leftovers), leftovers
