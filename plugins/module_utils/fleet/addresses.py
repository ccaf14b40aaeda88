# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""Ports and addresses as the inventory gives them: shared by the servers of the topology and the
machines they watch."""

from __future__ import annotations

WILDCARD_ADDRESSES = ("0.0.0.0", "::", "[::]", "")


def url_host(host: str) -> str:
    """``host`` as it goes before ``:port`` in a URL or target (an IPv6 address in brackets)."""
    return "[%s]" % host if ":" in host and not host.startswith("[") else host


def port_number(value, where: str, problems: list) -> int | None:
    """``value`` as a TCP port, or None and a problem naming ``where`` when it is not one."""
    try:
        port = int(value)
        integral = not isinstance(value, bool) and port == float(value)
    except (TypeError, ValueError):
        port, integral = -1, False
    if not integral or not 1 <= port <= 65535:
        problems.append("%s is %r; it must be a TCP port number from 1 to 65535" % (where, value))
        return None
    return port
