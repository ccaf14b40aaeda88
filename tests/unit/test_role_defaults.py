"""Every role documents its variables in meta/argument_specs.yml, and the documented defaults are
the real ones (defaults/main.yml); the topology code uses the same defaults as the prometheus role.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ansible_collections.promfleet.federation.plugins.module_utils.fleet import topology, watched

REPO = Path(__file__).resolve().parents[2]
ROLES = sorted(p.name for p in (REPO / "roles").iterdir() if p.is_dir())


def _load(path: Path):
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def role_defaults(role: str) -> dict:
    path = REPO / "roles" / role / "defaults" / "main.yml"
    return (_load(path) or {}) if path.is_file() else {}


def main_options(role: str) -> dict:
    """Options of the ``main`` entry point of ``role``; fails the test when they are not documented."""
    meta = REPO / "roles" / role / "meta"
    found = [meta / name for name in ("argument_specs.yml", "argument_specs.yaml") if (meta / name).is_file()]
    if not found:
        pytest.fail("role '%s' has no meta/argument_specs.yml: every role must document its variables "
                    "there (entry point 'main')" % role)
    specs = (_load(found[0]) or {}).get("argument_specs") or {}
    if "main" not in specs:
        pytest.fail("role '%s': %s has no 'main' entry point under 'argument_specs'"
                    % (role, found[0].relative_to(REPO)))
    return (specs["main"] or {}).get("options") or {}


def same(a, b) -> bool:
    """Equal and of the same YAML types all the way down (so that true != 1 and '1' != 1)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def test_there_are_roles():
    assert ROLES, "no role found under roles/"


@pytest.mark.parametrize("role", ROLES)
def test_role_has_a_main_entry_point_in_argument_specs(role):
    assert isinstance(main_options(role), dict), "role '%s': options of entry point 'main' must be a mapping" % role


@pytest.mark.parametrize("role", ROLES)
def test_every_documented_default_equals_the_value_in_defaults_main_yml(role):
    options = main_options(role)
    defaults = role_defaults(role)
    wrong = []
    for name, spec in sorted(options.items()):
        if not isinstance(spec, dict) or "default" not in spec:
            continue
        if name not in defaults:
            wrong.append("%s: argument_specs gives default %r, but defaults/main.yml does not set it"
                         % (name, spec["default"]))
        elif not same(spec["default"], defaults[name]):
            wrong.append("%s: argument_specs gives default %r, defaults/main.yml has %r"
                         % (name, spec["default"], defaults[name]))
    assert not wrong, "role '%s':\n" % role + "\n".join(wrong)


@pytest.mark.parametrize("role", ROLES)
def test_every_variable_in_defaults_main_yml_is_an_option_of_the_main_entry_point(role):
    options = main_options(role)
    undocumented = sorted(set(role_defaults(role)) - set(options))
    assert not undocumented, (
        "role '%s': defaults/main.yml sets variables that meta/argument_specs.yml does not document "
        "as options of entry point 'main': %s" % (role, ", ".join(undocumented)))


@pytest.mark.parametrize("constant, variable", [
    ("DEFAULT_PORT", "prometheus_port"),
    ("DEFAULT_LISTEN_ADDRESS", "prometheus_listen_address"),
    ("DEFAULT_DATACENTERS_GROUP", "prometheus_datacenters_group"),
    ("DEFAULT_GLOBAL_GROUP", "prometheus_global_group"),
])
def test_topology_default_equals_the_prometheus_role_default(constant, variable):
    defaults = role_defaults("prometheus")
    assert variable in defaults, "roles/prometheus/defaults/main.yml does not set %s" % variable
    assert same(getattr(topology, constant), defaults[variable]), (
        "topology.%s is %r but roles/prometheus/defaults/main.yml has %s: %r"
        % (constant, getattr(topology, constant), variable, defaults[variable]))


@pytest.mark.parametrize("constant, role, variable", [
    ("DEFAULT_WATCHED_GROUP", "prometheus", "prometheus_watched_group"),
    ("DEFAULT_NODE_EXPORTER_PORT", "node_exporter", "node_exporter_port"),
    ("DEFAULT_NODE_EXPORTER_LISTEN_ADDRESS", "node_exporter", "node_exporter_listen_address"),
])
def test_what_the_topology_assumes_of_watched_machines_equals_the_role_defaults(constant, role, variable):
    defaults = role_defaults(role)
    assert variable in defaults, "roles/%s/defaults/main.yml does not set %s" % (role, variable)
    assert same(getattr(watched, constant), defaults[variable]), (
        "watched.%s is %r but roles/%s/defaults/main.yml has %s: %r"
        % (constant, getattr(watched, constant), role, variable, defaults[variable]))


def test_the_topologys_federation_interval_equals_the_global_role_default():
    assert same(topology.DEFAULT_FEDERATION_INTERVAL, role_defaults("global")["global_federation_interval"])


def spec_defaults(options: dict) -> dict:
    """The defaults an argument spec documents, nested dicts followed where the dict itself is always there
    (required or defaulted); the fields of an optional dict and of list elements only apply when given."""
    found = {}
    for name, spec in options.items():
        if spec.get("type") == "dict" and "options" in spec:
            if not (spec.get("required") or "default" in spec):
                continue
            nested = spec_defaults(spec["options"])
            if nested:
                found[name] = nested
        elif "default" in spec:
            found[name] = spec["default"]
    return found


def test_the_daemon_description_defaults_are_the_documented_ones():
    description = main_options("daemon")["daemon_description"]["options"]
    with (REPO / "roles" / "daemon" / "vars" / "main.yml").open(encoding="utf-8") as handle:
        defaults = yaml.safe_load(handle)["_daemon_defaults"]
    assert same(spec_defaults(description), defaults)


def entry_options(role: str, entry: str) -> dict:
    with (REPO / "roles" / role / "meta" / "argument_specs.yml").open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)["argument_specs"][entry].get("options") or {}


@pytest.mark.parametrize("entry", ["main", "verify"])
def test_the_prometheus_preflight_checks_every_variable_that_site_yml_does_not_check_again(entry):
    # site.yml imports the main and verify entry points with rolespec_validate: false, because its
    # preflight play checked the same variables against the same specs.
    def checked(spec: dict | None) -> dict:
        return {key: value for key, value in (spec or {}).items() if key != "description"}

    preflight = entry_options("prometheus", "preflight")
    for name, spec in entry_options("prometheus", entry).items():
        assert checked(preflight.get(name)) == checked(spec), (
            "%s of entry point %s is not checked the same way by preflight" % (name, entry))
