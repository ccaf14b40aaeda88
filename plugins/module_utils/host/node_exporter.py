# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""The settings of a node_exporter (the ``node_exporter`` role) that no run could succeed with, named
in the role's own variable names: pure functions, used by the filter ``node_exporter_problems`` in
the role's preflight, before any change."""

from __future__ import annotations

import re

# node_exporter's collectors are named in lower case with digits and underscores (cpu, netdev,
# thermal_zone, ...): --collector.<name> and --no-collector.<name>.
COLLECTOR_NAME = re.compile(r"^[a-z0-9_]+$")
# The flag the role builds from node_exporter_listen_address and node_exporter_port.
LISTEN_FLAG = "--web.listen-address"
ENABLED = "node_exporter_collectors_enabled"
DISABLED = "node_exporter_collectors_disabled"
EXTRA_FLAGS = "node_exporter_extra_flags"
PORT = "node_exporter_port"


def collector_problems(enabled: list, disabled: list) -> list:
    """Collector names that are not ``[a-z0-9_]+``, and collectors both turned on and off."""
    problems = []
    for field, names in ((ENABLED, enabled), (DISABLED, disabled)):
        for index, name in enumerate(names):
            if not COLLECTOR_NAME.match(str(name)):
                problems.append('%s[%d]: "%s" is not a collector name (lower case letters, digits and _, e.g. '
                                '"thermal_zone")' % (field, index, name))
    for name in sorted(set(map(str, enabled)) & set(map(str, disabled))):
        problems.append('%s and %s both name the collector "%s": turn it on or off, not both'
                        % (ENABLED, DISABLED, name))
    return problems


def flag_problems(flags: list) -> list:
    """Extra flags that are no flags, and the listen address, which the role sets itself."""
    problems = []
    for index, flag in enumerate(flags):
        flag = str(flag)
        name = flag.split("=", 1)[0]
        if name == LISTEN_FLAG:
            problems.append("%s[%d]: %s comes from node_exporter_listen_address and %s; set those instead"
                            % (EXTRA_FLAGS, index, LISTEN_FLAG, PORT))
        elif not re.match(r"^--[a-z0-9][a-z0-9._-]*$", name):
            problems.append('%s[%d]: "%s" is not a flag (--<name> or --<name>=<value>, e.g. '
                            '"--collector.textfile.directory=/var/lib/node_exporter")' % (EXTRA_FLAGS, index, flag))
    return problems


def port_problems(port, prometheus_port=None) -> list:
    """A port that is none, or that the Prometheus of the same host listens on."""
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        return ["%s: %s is not a port (1 to 65535)" % (PORT, port)]
    if prometheus_port is not None and str(prometheus_port) == str(port):
        return ["%s: %d is prometheus_port of this host too; give node_exporter another port (9100 by default)"
                % (PORT, port)]
    return []


def list_problems(settings: dict) -> list:
    """List fields given as a string: the role's argument spec splits ``"a,b"`` for its check only,
    the flags would be built from its characters."""
    return ['%s must be a list (got the string "%s")' % (field, settings[field])
            for field in (ENABLED, DISABLED, EXTRA_FLAGS) if isinstance(settings.get(field), str)]


def problems(settings: dict) -> list:
    """Every problem of ``settings`` (the role's variables by name: ``node_exporter_collectors_enabled``,
    ``node_exporter_collectors_disabled``, ``node_exporter_extra_flags``, ``node_exporter_port`` and,
    when the host has one, ``prometheus_port``), in the order of the fields."""
    not_lists = list_problems(settings)
    if not_lists:
        return not_lists + port_problems(settings.get(PORT), settings.get("prometheus_port"))
    return (collector_problems(list(settings.get(ENABLED) or []), list(settings.get(DISABLED) or []))
            + flag_problems(list(settings.get(EXTRA_FLAGS) or []))
            + port_problems(settings.get(PORT), settings.get("prometheus_port")))
