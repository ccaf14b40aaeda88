"""The job directory of the site job is the one AWX builds: what a collection meets under AWX.

Extra vars that are never templated, an inventory that is a program, a project whose collection finds
itself through a link, a key that only ssh-agent holds, and a persistent folder that only a mount brings in.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess

from awx import HOST_PATH_VARS, TOWER_HOST_VARS, Unsafe, load_extravars
from testbed import FLEET_SITES


def test_extra_vars_are_unsafe_keys_and_strings_with_the_awx_variables(site_job, survey):
    extravars = load_extravars(site_job.private_data_dir / "env" / "extravars")
    assert all(isinstance(key, Unsafe) for key in extravars)
    assert all(isinstance(value, Unsafe) for value in extravars.values() if isinstance(value, str))
    assert extravars["promfleet_web_password"] == survey["promfleet_web_password"]
    # a value that would run a command if it were templated, handed over as it is
    assert extravars["promfleet_job_note"] == "{{ lookup('pipe', 'id') }}"
    assert extravars["awx_job_id"] == extravars["tower_job_id"] == site_job.job_id
    for name in ("job_launch_type", "user_name", "user_email", "user_id", "inventory_id", "inventory_name",
                 "project_revision", "job_template_id", "job_template_name", "execution_node"):
        assert "awx_" + name in extravars and "tower_" + name in extravars, name


def test_inventory_is_an_executable_script_printing_awx_json(site_job, bed):
    script = site_job.private_data_dir / "inventory" / "hosts"
    assert os.access(script, os.X_OK)
    assert script.read_text().startswith("#! /usr/bin/env python3\n")
    data = json.loads(subprocess.run([str(script)], capture_output=True, text=True, check=True).stdout)
    assert set(data["all"]["children"]) >= {"datacenters", "dc_dc1", "dc_dc2", "prometheus_global"}
    assert data["dc_dc1"]["vars"] == {"datacenter": "dc1"}
    assert set(data["_meta"]["hostvars"]) == {h for hosts in FLEET_SITES.values() for h in hosts}
    for host, variables in data["_meta"]["hostvars"].items():
        assert set(TOWER_HOST_VARS) <= set(variables), host
        assert not set(HOST_PATH_VARS) & set(variables), "%s keeps a key file of this machine" % host
        assert variables["ansible_host"] == bed.address(host)


def test_inventory_points_the_pki_and_the_report_at_the_folder_exposed_to_jobs(site_job, controller, fleet_dir):
    script = site_job.private_data_dir / "inventory" / "hosts"
    common = json.loads(subprocess.run([str(script)], capture_output=True, text=True, check=True).stdout)["all"]["vars"]
    assert common["promfleet_pki_dir"] == str(fleet_dir / "pki")
    assert common["prometheus_report_dir"] == str(fleet_dir / "report")
    assert "promfleet_web_password" not in common  # a survey answer
    assert controller.volume_mounts() == ["%s:%s:z" % (fleet_dir, fleet_dir)]


def test_project_is_a_checkout_whose_collection_link_is_kept(site_job, controller):
    project = site_job.private_data_dir / "project"
    link = project / "collections" / "ansible_collections" / "promfleet" / "federation"
    assert link.is_symlink() and os.readlink(link) == "../../.."
    assert (project / ".git").is_dir() and (project / "playbooks" / "site.yml").is_file()
    revision = subprocess.run(["git", "rev-parse", "HEAD"], cwd=project, capture_output=True, text=True,
                              check=True).stdout.strip()
    assert revision == controller.revision


def test_env_holds_the_machine_credential_the_cmdline_and_awx_envvars(site_job):
    env = site_job.private_data_dir / "env"
    assert "PRIVATE KEY" in (env / "ssh_key").read_text()
    assert shlex.split((env / "cmdline").read_text()) == ["-u", "root"]
    envvars = json.loads((env / "envvars").read_text())
    assert envvars["ANSIBLE_COLLECTIONS_PATH"].split(":")[:2] == ["/runner/requirements_collections", "./collections"]
    assert envvars["ANSIBLE_SSH_CONTROL_PATH_DIR"] == "/runner/cp"
    assert envvars["ANSIBLE_HOST_KEY_CHECKING"] == "False"
    assert envvars["JOB_ID"] == str(site_job.job_id)
    assert json.loads((env / "settings").read_text())["job_timeout"] == 0
