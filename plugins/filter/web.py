# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""Filters of security on the wire (docs: daemon_web.yml, web_client.yml, certificate_due.yml); the
logic is in module_utils/fleet/web.py. They run on the controller, where the fleet CA is."""

from __future__ import annotations

import os

from ansible.errors import AnsibleFilterError

from ansible_collections.promfleet.federation.plugins.module_utils.fleet import web


def _read(path: str | None) -> str | None:
    if not path or not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def daemon_web(settings: dict, host: str, directory: str, pki_dir: str, password: str | None = None,
               client_password: bool = False, cluster: bool = False, cert: str | None = None,
               key: str | None = None, ca: str | None = None, cost: int = web.DEFAULT_BCRYPT_COST) -> dict:
    """The ``web`` part of a daemon description for ``host`` (see web.daemon_web): its files come
    from the fleet CA in ``pki_dir``, or from ``cert``, ``key`` and ``ca`` (the user's own)."""
    pki_dir = str(pki_dir).rstrip("/")
    sources = {"cert": cert or "%s/hosts/%s.crt" % (pki_dir, host),
               "key": key or "%s/hosts/%s.key" % (pki_dir, host),
               "ca": ca or "%s/ca.crt" % pki_dir}
    seed = _read(pki_dir + "/web-salt-seed") or ""
    if settings.get("tls") and settings.get("auth") and not seed:
        raise AnsibleFilterError("%s/web-salt-seed is missing: the fleet's PKI was not prepared; run the "
                                 "promfleet.federation.pki role (site.yml does) first" % pki_dir)
    try:
        return web.daemon_web(dict(settings), host, directory, sources, password, seed.strip(),
                              client_password=client_password, cluster=cluster, cost=int(cost))
    except ValueError as exc:
        raise AnsibleFilterError(str(exc)) from exc


def web_client(settings: dict, directory: str) -> dict:
    """What a job of the Prometheus whose web files are in ``directory`` needs to reach an endpoint of
    the fleet (scheme, tls_config, basic_auth)."""
    return web.client_settings(dict(settings), directory)


def alerting_client(alerting: dict, client: dict) -> dict:
    """A server's ``alerting`` section whose Alertmanagers are reached with ``client``."""
    return web.alerting_client(dict(alerting or {}), dict(client or {}))


def web_settings(topology: dict | None, hostvars: dict) -> dict:
    """``{"tls", "auth", "user"}`` of the fleet: the topology's ``web`` (the same for every host), or as
    this host's variables say when a role runs without the topology."""
    if topology and "web" in topology:
        return dict(topology["web"])
    return web.host_settings(dict(hostvars))


def certificate_due(cert_path: str, ca_path: str, names: list, renew_before_days: int) -> str:
    """Why the certificate at ``cert_path`` (on the controller) must be issued again; empty when it is good."""
    return web.certificate_due(_read(cert_path), _read(ca_path), list(names), int(renew_before_days)) or ""


def certificate_names(hostvars: dict, host: str) -> list:
    """The subject alternative names of ``host``'s certificate."""
    return web.certificate_names(host, dict(hostvars))


class FilterModule:
    """promfleet.federation filters of TLS and basic auth."""

    def filters(self) -> dict:
        return {"daemon_web": daemon_web, "web_client": web_client, "certificate_due": certificate_due,
                "certificate_names": certificate_names, "web_settings": web_settings,
                "alerting_client": alerting_client}
