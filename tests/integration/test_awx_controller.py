"""The AWX set-up as code (playbooks/awx/controller.yml) and the add-a-datacenter job, checked
without a controller: the playbooks pass ansible-playbook's syntax check, and the arguments of every
``awx.awx`` task, rendered as a run would render them (play variables, module defaults, loop items),
pass the argument spec of that module's own code in the installed awx.awx collection. The surveys
follow the rules AWX applies when a survey is saved.

The spec is read by running the module's ``main()`` with its ``ControllerAPIModule`` replaced by a
recorder that stops at construction, before any connection, so it is the spec the module would
validate against on a real controller.
"""

from __future__ import annotations

import importlib
import subprocess
from pathlib import Path

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import init_plugin_loader
from ansible.template import Templar, trust_as_template
from fleet import REPO, VENV_BIN, ansible_env

COLLECTIONS = REPO / "collections"
CONTROLLER = REPO / "playbooks" / "awx" / "controller.yml"
ADD_DATACENTER = REPO / "playbooks" / "add_datacenter.yml"
# What a user passes on the command line (the playbook refuses to run without them).
CONTROLLER_EXTRA_VARS = {
    "promfleet_awx_project_url": "https://git.example.net/ops/promfleet.git",
    "promfleet_awx_ee_image": "registry.example.net/promfleet-ee:1",
    "promfleet_awx_machine_credential": "fleet ssh",
    "promfleet_awx_controller_credential": "awx api",
    "promfleet_awx_web_credential": "fleet web",
}
# A survey's answers and what AWX adds to a job's extra vars.
ADD_DATACENTER_EXTRA_VARS = {
    "datacenter_group": "ap_south_1",
    "datacenter_label": "ap-south-1",
    "datacenter_hosts": "prom-a.ap-south-1=10.20.0.11\nprom-b.ap-south-1=10.20.0.12",
    "awx_inventory_id": 7,
}
# Keywords of a task that are not its module (ansible.playbook.task.Task's attributes, loops).
SURVEY_TYPES = {"text", "textarea", "password", "integer", "float", "multiplechoice", "multiselect"}


class _Recorded(Exception):
    """Raised by the recorder once the module built its argument spec."""


def module_spec(fqcn: str) -> dict:
    """The argument spec (with AWX's connection options) and the constraints ``fqcn`` validates with."""
    name = fqcn.rsplit(".", 1)[1]
    module = importlib.import_module("ansible_collections.awx.awx.plugins.modules." + name)
    recorded = {}

    class Recorder:
        def __init__(self, argument_spec, **constraints):
            recorded.update(constraints, argument_spec={**module.ControllerAPIModule.AUTH_ARGSPEC, **argument_spec})
            raise _Recorded

    original = module.ControllerAPIModule
    Recorder.AUTH_ARGSPEC = original.AUTH_ARGSPEC
    module.ControllerAPIModule = Recorder
    try:
        module.main()
    except _Recorded:
        pass
    finally:
        module.ControllerAPIModule = original
    assert recorded, "%s built no ControllerAPIModule" % fqcn
    return recorded


def task_list(tasks: list, base: Path) -> list:
    """Every task of ``tasks``, through blocks and static includes of task files next to ``base``."""
    found = []
    for task in tasks or []:
        if "block" in task:
            for part in ("block", "rescue", "always"):
                found += task_list(task.get(part), base)
            continue
        include = task.get("ansible.builtin.include_tasks") or task.get("ansible.builtin.import_tasks")
        if include:
            path = base / str(include)
            found += task_list(DataLoader().load_from_file(str(path)), path.parent)
        found.append(task)
    return found


def trusted(value):
    """``value`` with every string trusted as a template, as ansible-playbook trusts a playbook's own text."""
    if isinstance(value, str):
        return trust_as_template(value)
    if isinstance(value, dict):
        return {key: trusted(item) for key, item in value.items()}
    if isinstance(value, list):
        return [trusted(item) for item in value]
    return value


def awx_tasks(playbook: Path, extra_vars: dict) -> list:
    """``{task, module, args}`` of every awx.awx task of ``playbook``, args rendered, once per loop item."""
    loader = DataLoader()
    rendered = []
    for play in loader.load_from_file(str(playbook)):
        if "tasks" not in play:
            continue
        variables = {**trusted(play.get("vars") or {}), **extra_vars}
        for task in task_list(play["tasks"], playbook.parent):
            module = next((key for key in task if str(key).startswith("awx.awx.")), None)
            if module is None:
                continue
            defaults = trusted((play.get("module_defaults") or {}).get("group/awx.awx.controller") or {})
            templar = Templar(loader=loader, variables=variables)
            items = templar.template(trusted(task["loop"])) if "loop" in task else [None]
            for item in items:
                templar = Templar(loader=loader, variables={**variables, "item": item})
                args = templar.template({**defaults, **trusted(task[module] or {})})
                args = {key: value for key, value in args.items() if not _omitted(value)}
                rendered.append({"task": task["name"], "module": module, "args": args})
    return rendered


def _omitted(value) -> bool:
    return isinstance(value, str) and value.startswith("__omit_place_holder__") or type(value).__name__ == "Omit"


@pytest.fixture(scope="module", autouse=True)
def collections_loader():
    init_plugin_loader([str(COLLECTIONS)])


def validate(module: str, args: dict) -> list:
    spec = module_spec(module)
    validator = ArgumentSpecValidator(
        spec["argument_spec"], **{key: spec[key] for key in (
            "mutually_exclusive", "required_together", "required_one_of", "required_if", "required_by") if key in spec})
    return [str(error) for error in validator.validate(args).errors]


@pytest.mark.parametrize("playbook", [CONTROLLER, ADD_DATACENTER], ids=lambda p: p.name)
def test_the_playbook_passes_the_syntax_check(playbook):
    done = subprocess.run([str(VENV_BIN / "ansible-playbook"), "--syntax-check", str(playbook)], cwd=REPO,
                          env=ansible_env(), capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_awx_task_of_the_controller_playbook_passes_its_module_s_argument_spec():
    tasks = awx_tasks(CONTROLLER, CONTROLLER_EXTRA_VARS)
    modules = {task["module"] for task in tasks}
    assert modules == {"awx.awx.organization", "awx.awx.execution_environment", "awx.awx.credential_type",
                       "awx.awx.project",
                       "awx.awx.inventory", "awx.awx.inventory_source", "awx.awx.job_template",
                       "awx.awx.workflow_job_template"}
    problems = {"%s (%s)" % (task["task"], task["args"].get("name")): validate(task["module"], task["args"])
                for task in tasks}
    assert {task: errors for task, errors in problems.items() if errors} == {}


def test_the_job_templates_are_converge_verify_add_a_datacenter_upgrade_and_teardown_with_a_limit():
    templates = {task["args"]["name"]: task["args"] for task in awx_tasks(CONTROLLER, CONTROLLER_EXTRA_VARS)
                 if task["module"] == "awx.awx.job_template"}
    assert {name: args["playbook"] for name, args in templates.items()} == {
        "promfleet converge": "site.yml",
        "promfleet verify": "playbooks/verify.yml",
        "promfleet add a datacenter": "playbooks/add_datacenter.yml",
        "promfleet upgrade": "playbooks/upgrade.yml",
        "promfleet teardown": "playbooks/teardown.yml",
    }
    for name, args in templates.items():
        assert (REPO / args["playbook"]).is_file(), name
        assert args["execution_environment"] == "promfleet execution environment", name
        assert args["credentials"][:2] == ["fleet ssh", "fleet web"], name
        assert args["ask_limit_on_launch"] == (name == "promfleet teardown"), name
        assert args["survey_enabled"] == (name in ("promfleet add a datacenter", "promfleet teardown")), name
    assert templates["promfleet add a datacenter"]["credentials"] == ["fleet ssh", "fleet web", "awx api"]
    questions = [q["variable"] for q in templates["promfleet add a datacenter"]["survey_spec"]["spec"]]
    assert questions == ["datacenter_group", "datacenter_label", "datacenter_hosts"]


def survey_problems(survey: dict) -> list:
    """What AWX refuses when a survey is saved (awx/api/views: JobTemplateSurveySpec.post)."""
    problems = []
    for key in ("name", "description", "spec"):
        if key not in survey:
            problems.append("survey has no '%s'" % key)
    seen = set()
    for index, question in enumerate(survey.get("spec") or []):
        where = "question %d" % index
        for key in ("type", "question_name", "variable", "required"):
            if key not in question:
                problems.append("%s has no '%s'" % (where, key))
        if question.get("type") not in SURVEY_TYPES:
            problems.append("%s: type %r is not one of %s" % (where, question.get("type"), sorted(SURVEY_TYPES)))
        if question.get("variable") in seen:
            problems.append("%s: variable %r is asked twice" % (where, question.get("variable")))
        seen.add(question.get("variable"))
        if question.get("type") in ("multiplechoice", "multiselect"):
            choices = question.get("choices")
            if not isinstance(choices, list) or not all(isinstance(c, str) for c in choices):
                problems.append("%s: choices must be a list of strings" % where)
            elif "default" in question and question["default"] not in choices:
                problems.append("%s: default %r is not a choice" % (where, question["default"]))
        for key in ("min", "max"):
            if key in question and not isinstance(question[key], int):
                problems.append("%s: %s must be an integer" % (where, key))
    return problems


def test_every_survey_is_one_awx_accepts():
    tasks = awx_tasks(CONTROLLER, CONTROLLER_EXTRA_VARS)
    surveys = {task["args"]["name"]: task["args"]["survey_spec"] for task in tasks
               if task["module"] == "awx.awx.job_template" and "survey_spec" in task["args"]}
    assert set(surveys) == {"promfleet add a datacenter", "promfleet teardown"}
    assert {name: survey_problems(survey) for name, survey in surveys.items()} == {
        "promfleet add a datacenter": [], "promfleet teardown": []}


def test_the_survey_check_refuses_what_awx_refuses():
    bad = {"name": "x", "spec": [{"question_name": "a", "variable": "v", "required": True, "type": "choice"},
                                 {"question_name": "b", "variable": "v", "required": True, "type": "multiplechoice",
                                  "choices": ["1", "2"], "default": "3"}]}
    assert survey_problems(bad) == [
        "survey has no 'description'",
        "question 0: type 'choice' is not one of %s" % sorted(SURVEY_TYPES),
        "question 1: variable 'v' is asked twice",
        "question 1: default '3' is not a choice",
    ]


def test_every_awx_task_of_the_add_a_datacenter_job_passes_its_module_s_argument_spec():
    tasks = awx_tasks(ADD_DATACENTER, ADD_DATACENTER_EXTRA_VARS)
    assert [(task["module"], task["args"]["name"]) for task in tasks] == [
        ("awx.awx.host", "prom-a.ap-south-1"), ("awx.awx.host", "prom-b.ap-south-1"),
        ("awx.awx.group", "ap_south_1"), ("awx.awx.group", "datacenters")]
    problems = {(task["task"], task["args"]["name"]): validate(task["module"], task["args"]) for task in tasks}
    assert {key: errors for key, errors in problems.items() if errors} == {}
    group = tasks[2]["args"]
    assert group["variables"] == {"datacenter": "ap-south-1"}
    assert group["hosts"] == ["prom-a.ap-south-1", "prom-b.ap-south-1"]
    assert tasks[0]["args"]["variables"] == {"ansible_host": "10.20.0.11"} and tasks[0]["args"]["inventory"] == 7


def test_the_argument_check_refuses_a_misspelt_option_and_a_wrong_choice():
    errors = validate("awx.awx.job_template", {"name": "x", "playbok": "site.yml", "job_type": "walk"})
    assert any("playbok" in error for error in errors), errors
    assert any("job_type" in error and "walk" in error for error in errors), errors


def test_the_controller_playbook_names_the_variables_it_needs_before_contacting_anything():
    done = subprocess.run([str(VENV_BIN / "ansible-playbook"), str(CONTROLLER)], cwd=REPO, env=ansible_env(),
                          capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 2, done.stdout + done.stderr
    for name in ("promfleet_awx_project_url", "promfleet_awx_ee_image", "promfleet_awx_machine_credential"):
        assert name in done.stdout, done.stdout
    assert "awx.awx.organization" not in done.stdout and "Ensure the organization" not in done.stdout


def test_the_web_password_reaches_jobs_through_a_credential_type_that_awx_templates_not_ansible():
    kinds = [task["args"] for task in awx_tasks(CONTROLLER, CONTROLLER_EXTRA_VARS)
             if task["module"] == "awx.awx.credential_type"]
    assert kinds[0]["injectors"] == {"extra_vars": {"promfleet_web_password": "{{ password }}"}}
    assert kinds[0]["inputs"]["fields"][0]["secret"] is True
