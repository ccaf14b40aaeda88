# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""Security on the wire: TLS and basic auth on every endpoint the collection runs.

Fleet-wide settings, read from the inventory like the topology (``promfleet_tls``,
``promfleet_web_auth``, ``promfleet_web_user``): every server, node_exporter and Alertmanager
serves HTTPS with a certificate of the fleet CA and asks for the fleet's user, and every client the
collection configures (federation, scrapes, alerting, peers, its own modules) speaks the same.

Pure functions: the names a host's certificate must hold, whether a certificate on the controller
is due (missing names, another CA, close to expiry), the bcrypt hash of the password with a salt
that is stable per fleet (a re-run writes the same web config), and the client settings of a
Prometheus job.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import ipaddress

from ansible_collections.promfleet.federation.plugins.module_utils.fleet.addresses import WILDCARD_ADDRESSES

DEFAULT_USER = "promfleet"
DEFAULT_BCRYPT_COST = 10
# The variables every host of the fleet must agree on.
FLEET_SETTINGS = (("promfleet_tls", True), ("promfleet_web_auth", True), ("promfleet_web_user", DEFAULT_USER))
_LISTEN_VARS = ("prometheus_listen_address", "node_exporter_listen_address", "alertmanager_listen_address",
                "alertmanager_cluster_listen_address")
# bcrypt's own base64 alphabet (not the standard one).
_BCRYPT_ALPHABET = b"./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_STANDARD_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def fleet_settings(hostvars_by_host: dict, problems: list) -> dict:
    """``{"tls", "auth", "user"}`` of the fleet; a problem naming the hosts when they disagree (a client
    speaks one way to every endpoint of the fleet)."""
    settings = {}
    for name, default in FLEET_SETTINGS:
        values: dict = {}
        for host, hostvars in sorted(hostvars_by_host.items()):
            values.setdefault(_as_setting(hostvars.get(name, default), default), []).append(host)
        if len(values) > 1:
            problems.append("%s differs between hosts (%s); set it once for the whole fleet, in group_vars/all"
                            % (name, "; ".join("%r on %s" % (value, ", ".join(hosts[:3]) + (" ..." if len(hosts) > 3
                                                                                            else ""))
                                               for value, hosts in sorted(values.items(), key=str))))
        settings[name] = next(iter(values)) if values else default
    # Basic auth without TLS would send the password in clear: it comes with TLS only.
    return {"tls": settings["promfleet_tls"], "auth": settings["promfleet_tls"] and settings["promfleet_web_auth"],
            "user": settings["promfleet_web_user"]}


def host_settings(hostvars: dict) -> dict:
    """The fleet settings as one host's variables say (a role used without the topology)."""
    return fleet_settings({"host": hostvars}, [])


def _as_setting(value, default):
    if isinstance(default, bool):
        return value if isinstance(value, bool) else str(value).lower() in ("true", "yes", "1", "on")
    return str(value)


def scheme(web: dict) -> str:
    return "https" if web.get("tls") else "http"


def certificate_names(host: str, hostvars: dict) -> list:
    """The subject alternative names of ``host``'s certificate (``DNS:...``, ``IP:...``): its inventory
    name, ``ansible_host``, the addresses its daemons listen on, loopback (the collection's modules
    talk to a daemon on its own machine), and ``promfleet_tls_names``."""
    candidates = [host, "localhost", "127.0.0.1", "::1"]
    for name in ("ansible_host", "prometheus_federation_host") + _LISTEN_VARS:
        value = hostvars.get(name)
        if value not in (None, "") and str(value) not in WILDCARD_ADDRESSES:
            candidates.append(str(value).strip("[]"))
    candidates += [str(name) for name in hostvars.get("promfleet_tls_names") or []]
    names = []
    for candidate in candidates:
        entry = ("IP:%s" % ipaddress.ip_address(candidate)) if _is_address(candidate) else "DNS:%s" % candidate
        if entry not in names:
            names.append(entry)
    return names


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return False


def certificate_due(cert_pem: str | None, ca_pem: str | None, names: list, renew_before_days: int,
                    now: datetime.datetime | None = None) -> str | None:
    """Why the certificate must be issued again, or None when it is good: missing, not signed by the
    CA, other names than ``names``, or expiring within ``renew_before_days``."""
    from cryptography import x509
    if not cert_pem:
        return "no certificate yet"
    cert = x509.load_pem_x509_certificate(cert_pem.encode())
    if ca_pem:
        ca = x509.load_pem_x509_certificate(ca_pem.encode())
        if cert.issuer != ca.subject:
            return "issued by %s, not by the fleet CA %s" % (cert.issuer.rfc4514_string(), ca.subject.rfc4514_string())
        try:
            cert.verify_directly_issued_by(ca)
        except (ValueError, TypeError, Exception):  # InvalidSignature has no common base
            return "not signed by the fleet CA's key"
    have = sorted(_names_of(cert))
    if have != sorted(names):
        return "names %s, wanted %s" % (", ".join(have) or "none", ", ".join(sorted(names)))
    now = now or datetime.datetime.now(datetime.timezone.utc)
    left = cert.not_valid_after_utc - now
    if left <= datetime.timedelta(days=renew_before_days):
        return "expires %s, within %d days" % (cert.not_valid_after_utc.isoformat(), renew_before_days)
    return None


def _names_of(cert) -> list:
    from cryptography import x509
    try:
        extension = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return (["DNS:%s" % name for name in extension.get_values_for_type(x509.DNSName)]
            + ["IP:%s" % address for address in extension.get_values_for_type(x509.IPAddress)])


def bcrypt_hash(password: str, seed: str, user: str, cost: int = DEFAULT_BCRYPT_COST) -> str:
    """The bcrypt hash of ``password`` for a web config's ``basic_auth_users``. The salt comes from the
    fleet's secret ``seed`` and the user, so the same password gives the same hash on every run (the
    web config does not change) and other fleets get other hashes."""
    import bcrypt
    if not password:
        raise ValueError("the password is empty")
    digest = hmac.new(seed.encode(), ("promfleet-web:" + user).encode(), hashlib.sha256).digest()[:16]
    salt = base64.b64encode(digest).translate(bytes.maketrans(_STANDARD_ALPHABET, _BCRYPT_ALPHABET))[:22]
    return bcrypt.hashpw(password.encode(), b"$2b$%02d$" % cost + salt).decode()


def server_web_config(cert_file: str, key_file: str, users: dict, client_ca_file: str | None = None) -> dict:
    """A daemon's web config (``--web.config.file``): TLS with its certificate, ``users`` (name to
    bcrypt hash) for basic auth; with ``client_ca_file``, clients must show a certificate of that CA."""
    config: dict = {"tls_server_config": {"cert_file": cert_file, "key_file": key_file, "min_version": "TLS12"}}
    if client_ca_file:
        config["tls_server_config"].update(client_auth_type="RequireAndVerifyClientCert", client_ca_file=client_ca_file)
    if users:
        config["basic_auth_users"] = dict(users)
    return config


def web_paths(directory: str) -> dict:
    """Where a daemon's web files are, in its directory on the host."""
    directory = directory.rstrip("/")
    return {"config_path": directory + "/web.yml", "cert_path": directory + "/web.crt",
            "key_path": directory + "/web.key", "ca_path": directory + "/ca.crt",
            "password_path": directory + "/web-client.password", "cluster_path": directory + "/cluster-tls.yml"}


def client_settings(web: dict, directory: str) -> dict:
    """What a Prometheus job (or an ``alertmanagers`` entry) of the Prometheus whose web files are in
    ``directory`` needs to reach an endpoint of the fleet."""
    if not web.get("tls"):
        return {}
    paths = web_paths(directory)
    settings: dict = {"scheme": "https", "tls_config": {"ca_file": paths["ca_path"]}}
    if web.get("auth"):
        settings["basic_auth"] = {"username": web["user"], "password_file": paths["password_path"]}
    return settings


def alerting_client(alerting: dict, client: dict) -> dict:
    """A server's ``alerting`` section with ``client`` (``client_settings``) in every ``alertmanagers`` entry."""
    if not alerting or not client:
        return alerting
    return dict(alerting, alertmanagers=[dict(entry, **client) for entry in alerting.get("alertmanagers", [])])


def daemon_web(web: dict, host: str, directory: str, sources: dict, password: str | None, seed: str,
               client_password: bool = False, cluster: bool = False, cost: int = DEFAULT_BCRYPT_COST) -> dict:
    """The ``web`` part of a daemon description (the daemon role writes its files): where its web
    config, certificate, key, CA (and, for a Prometheus, the password it sends) go on the host, which
    controller files they come from (``sources``: cert, key, ca), and the web config itself.
    ``cluster`` adds an Alertmanager's gossip TLS config (mutual TLS with the fleet CA)."""
    if not web.get("tls"):
        return {"tls": False}
    paths = web_paths(directory)
    users = {}
    if web.get("auth"):
        if not password:
            raise ValueError("host '%s': promfleet_web_password is not set; basic auth is on (promfleet_web_auth), so "
                             "every endpoint needs the fleet's password: set it in a vault (ansible-vault "
                             "encrypt_string) or turn auth off with promfleet_web_auth: false" % host)
        users[web["user"]] = bcrypt_hash(password, seed, web["user"], cost)
    described = {
        "tls": True, "auth": bool(web.get("auth")), "user": web.get("user") if web.get("auth") else None,
        "sources": dict(sources), "client_password": bool(client_password and web.get("auth")),
        "config": server_web_config(paths["cert_path"], paths["key_path"], users),
        "cluster": None, **paths,
    }
    if cluster:
        described["cluster"] = {
            "tls_server_config": server_web_config(paths["cert_path"], paths["key_path"], {},
                                                   paths["ca_path"])["tls_server_config"],
            "tls_client_config": {"ca_file": paths["ca_path"], "cert_file": paths["cert_path"],
                                  "key_file": paths["key_path"]},
        }
    return described
