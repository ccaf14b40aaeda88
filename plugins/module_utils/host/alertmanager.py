# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""An Alertmanager instance's settings (the ``alertmanager`` role), named in the role's own variable
names: its alertmanager.yml built from the variables and checked by the engine
(``model/alertmanager.py``), and the settings no run could succeed with. Pure functions, used by the
filters ``alertmanager_config`` and ``alertmanager_problems`` in the role, before any change."""

from __future__ import annotations

import ipaddress
import posixpath
import re

from ansible_collections.promfleet.federation.plugins.module_utils.errors import (
    AlertmanagerConfigError,
    ConfigError,
)
from ansible_collections.promfleet.federation.plugins.module_utils.model.alertmanager import (
    check_alertmanager_version,
    normalize_alertmanager_config,
)
from ansible_collections.promfleet.federation.plugins.module_utils.model.versions import schema_of_release

GLOBAL = "alertmanager_global"
ROUTE = "alertmanager_route"
RECEIVERS = "alertmanager_receivers"
INHIBIT_RULES = "alertmanager_inhibit_rules"
TIME_INTERVALS = "alertmanager_time_intervals"
TEMPLATES = "alertmanager_templates"
VERSION = "alertmanager_version"
LISTEN_ADDRESS = "alertmanager_listen_address"
PORT = "alertmanager_port"
CLUSTER_LISTEN_ADDRESS = "alertmanager_cluster_listen_address"
CLUSTER_PORT = "alertmanager_cluster_port"
PEERS = "alertmanager_cluster_peers"
ADVERTISE_ADDRESS = "alertmanager_cluster_advertise_address"
EXTRA_FLAGS = "alertmanager_extra_flags"

# The sections of alertmanager.yml and the variable of each, in the order the file has them;
# empty optional ones are left out.
SECTIONS = (("global", GLOBAL), ("templates", TEMPLATES), ("route", ROUTE), ("receivers", RECEIVERS),
            ("inhibit_rules", INHIBIT_RULES), ("time_intervals", TIME_INTERVALS))
# The flags the role builds itself, and the variables that set them.
ROLE_FLAGS = {
    "--config.file": "alertmanager_config_dir",
    "--storage.path": "alertmanager_data_dir",
    "--web.listen-address": "%s and %s" % (LISTEN_ADDRESS, PORT),
    "--cluster.listen-address": "%s and %s" % (CLUSTER_LISTEN_ADDRESS, CLUSTER_PORT),
    "--cluster.peer": PEERS,
    "--cluster.advertise-address": ADVERTISE_ADDRESS,
}
# A template's file name in <config dir>/templates: plain, not hidden (the daemon's temporary files are).
TEMPLATE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
_FLAG = re.compile(r"^--[a-z0-9][a-z0-9._-]*$")
_HOST = re.compile(r"^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$")
_WILDCARDS = ("", "0.0.0.0", "::", "[::]")


def template_paths(templates: dict, templates_dir: str) -> list:
    """Where the templates are written, sorted by name: what ``templates:`` of alertmanager.yml lists."""
    return [posixpath.join(templates_dir, name) for name in sorted(templates)]


def build_config(settings: dict, templates_dir: str) -> dict:
    """alertmanager.yml from the role's variables (``settings``, by name): ``global``, ``route``,
    ``receivers``, ``inhibit_rules`` and ``time_intervals`` as given, ``templates`` the files of
    ``alertmanager_templates`` in ``templates_dir``; empty optional sections are left out."""
    config = {}
    for section, variable in SECTIONS:
        value = settings.get(variable)
        if section == "templates" and isinstance(value, dict):
            value = template_paths(value, templates_dir)
        if value or section in ("route", "receivers"):
            config[section] = value
    return config


def release_line(version) -> str:
    """``0.25`` of ``0.25.0`` (or of Debian's ``0.25.0-1+b4``), a line the engine models;
    AlertmanagerConfigError naming the variable otherwise."""
    try:
        return check_alertmanager_version(schema_of_release(str(version)))
    except ConfigError:
        raise AlertmanagerConfigError('%s: "%s" is not an Alertmanager release such as 0.28.1' % (VERSION, version)) \
            from None
    except AlertmanagerConfigError as exc:
        raise AlertmanagerConfigError("%s: %s" % (VERSION, exc)) from None


def checked_config(settings: dict, templates_dir: str) -> dict:
    """alertmanager.yml built from ``settings`` (``build_config``), checked by the engine like the
    release line of ``alertmanager_version`` loads it; AlertmanagerConfigError with the engine's
    message (the path of the route, receiver or rule, and the field) when it is refused."""
    return normalize_alertmanager_config(build_config(settings, templates_dir), release_line(settings.get(VERSION)))


def _port(value) -> int | None:
    """A port number given as a number or as digits (``-e alertmanager_port=9093``), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return value if isinstance(value, int) else None


def _is_port(value, lowest: int = 1) -> bool:
    return _port(value) is not None and lowest <= _port(value) <= 65535


def _same_address(first, second) -> bool:
    """Whether two listen addresses may clash: equal, or one of them every address."""
    first, second = str(first or "").strip("[]"), str(second or "").strip("[]")
    return first == second or first in _WILDCARDS or second in _WILDCARDS


def port_problems(settings: dict) -> list:
    """A port that is none (the cluster port may be 0: no cluster), and the cluster port on the port
    of the web interface."""
    port, cluster_port = settings.get(PORT), settings.get(CLUSTER_PORT)
    problems = []
    if not _is_port(port):
        problems.append("%s: %s is not a port (1 to 65535)" % (PORT, port))
    if not _is_port(cluster_port, lowest=0):
        problems.append("%s: %s is not a port (1 to 65535, or 0 for no cluster)" % (CLUSTER_PORT, cluster_port))
    elif _port(cluster_port) and _port(cluster_port) == _port(port) and _same_address(
            settings.get(LISTEN_ADDRESS), settings.get(CLUSTER_LISTEN_ADDRESS)):
        problems.append("%s: %d is %s too; give the cluster another port (9094 by default)"
                        % (CLUSTER_PORT, _port(cluster_port), PORT))
    return problems


def _peer_problem(index: int, peer) -> str | None:
    host, separator, port = str(peer).rpartition(":")
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if separator and port.isdigit() and 1 <= int(port) <= 65535:
        if host.startswith("["):
            try:
                ipaddress.IPv6Address(bare)
                return None
            except ValueError:
                pass
        elif _HOST.match(host):
            return None
    return ('%s[%d]: "%s" is not a peer; write <host>:<cluster port>, e.g. "am-b.example.com:9094" or '
            '"[fd00::2]:9094"' % (PEERS, index, peer))


def cluster_problems(settings: dict) -> list:
    """Peers that are no ``host:port``, an advertise address that is no IP address, and either of
    them without a cluster (``alertmanager_cluster_port`` 0)."""
    peers = settings.get(PEERS) or []
    advertise = settings.get(ADVERTISE_ADDRESS) or ""
    problems = [problem for problem in (_peer_problem(index, peer) for index, peer in enumerate(peers)) if problem]
    if advertise:
        try:
            ipaddress.ip_address(str(advertise).strip("[]"))
        except ValueError:
            problems.append('%s: "%s" is not an IP address; Alertmanager advertises an IP address to its peers '
                            '(the cluster port is added)' % (ADVERTISE_ADDRESS, advertise))
    if _port(settings.get(CLUSTER_PORT)) == 0:
        given = [name for name, value in ((PEERS, peers), (ADVERTISE_ADDRESS, advertise)) if value]
        if given:
            problems.append("%s %s set, but %s is 0 (no cluster); give the cluster a port (9094 by default) or "
                            "leave %s empty" % (" and ".join(given), "are" if len(given) > 1 else "is", CLUSTER_PORT,
                                                " and ".join(given)))
    return problems


def flag_problems(flags: list) -> list:
    """Extra flags that are no flags, and those the role builds from its variables."""
    problems = []
    for index, flag in enumerate(flags):
        name = str(flag).split("=", 1)[0]
        if name in ROLE_FLAGS:
            problems.append("%s[%d]: %s comes from %s; set that instead" % (EXTRA_FLAGS, index, name, ROLE_FLAGS[name]))
        elif not _FLAG.match(name):
            problems.append('%s[%d]: "%s" is not a flag (--<name> or --<name>=<value>, e.g. "--log.level=debug")'
                            % (EXTRA_FLAGS, index, flag))
    return problems


def template_problems(templates: dict) -> list:
    """Template names that are no plain file names, and contents that are no text."""
    problems = []
    for name, text in templates.items():
        if not TEMPLATE_NAME.match(str(name)):
            problems.append('%s: "%s" is not a file name (letters, digits, _, . and -, not starting with ., e.g. '
                            '"slack.tmpl")' % (TEMPLATES, name))
        elif not isinstance(text, str):
            problems.append('%s["%s"]: the template must be text, got %s' % (TEMPLATES, name, type(text).__name__))
    return problems


def shape_problems(settings: dict) -> list:
    """Lists given as a string (the role's argument spec splits ``"a,b"`` for its check only), and
    templates that are no mapping."""
    problems = ['%s must be a list (got the string "%s")' % (field, settings[field])
                for field in (PEERS, EXTRA_FLAGS) if isinstance(settings.get(field), str)]
    if not isinstance(settings.get(TEMPLATES) or {}, dict):
        problems.append("%s must be a mapping of file names to templates" % TEMPLATES)
    return problems


def problems(settings: dict, templates_dir: str) -> list:
    """Every problem of ``settings`` (the role's variables by name), the configuration's last: the
    engine's message on alertmanager.yml as ``build_config`` makes it, for the release line of
    ``alertmanager_version`` (checked once the templates and the version are right)."""
    found = shape_problems(settings)
    if found:
        return port_problems(settings) + found
    templates = template_problems(dict(settings.get(TEMPLATES) or {}))
    found = (port_problems(settings) + cluster_problems(settings)
             + flag_problems(list(settings.get(EXTRA_FLAGS) or [])) + templates)
    try:
        release_line(settings.get(VERSION))
    except AlertmanagerConfigError as exc:
        return found + [str(exc)]
    if not templates:
        try:
            checked_config(settings, templates_dir)
        except AlertmanagerConfigError as exc:
            found.append("alertmanager.yml: %s" % exc)
    return found
