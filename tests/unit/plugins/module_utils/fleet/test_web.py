"""Security on the wire: the fleet's settings, certificate names and renewal, the bcrypt hash, and
what each daemon and client gets (module_utils/fleet/web.py)."""

from __future__ import annotations

import datetime
import ipaddress

import bcrypt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.promfleet.federation.plugins.module_utils.fleet import web

NOW = datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC)


def _name(text: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])


def make_ca(name: str = "fleet CA"):
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name(name)).issuer_name(_name(name))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(NOW - datetime.timedelta(days=1)).not_valid_after(NOW + datetime.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return key, cert


def issue(ca, names: list, days: int = 365, issuer_name: str | None = None) -> str:
    ca_key, ca_cert = ca
    key = ec.generate_private_key(ec.SECP256R1())
    sans = [x509.IPAddress(ipaddress.ip_address(n[3:])) if n.startswith("IP:") else x509.DNSName(n[4:])
            for n in names]
    cert = (x509.CertificateBuilder().subject_name(_name("host"))
            .issuer_name(_name(issuer_name) if issuer_name else ca_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(NOW - datetime.timedelta(days=1)).not_valid_after(NOW + datetime.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .sign(ca_key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def pem(cert) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


NAMES = ["DNS:eu-1", "DNS:localhost", "IP:127.0.0.1", "IP:::1", "IP:10.1.1.2"]


# --- the fleet's settings -------------------------------------------------------------------------

def test_tls_and_auth_are_on_by_default_with_the_user_promfleet():
    assert web.fleet_settings({"a": {}, "b": {}}, []) == {"tls": True, "auth": True, "user": "promfleet"}


def test_hosts_that_disagree_on_tls_are_refused_naming_the_variable_and_the_hosts():
    problems = []
    web.fleet_settings({"a": {"promfleet_tls": False}, "b": {}, "c": {"promfleet_tls": "false"}}, problems)
    assert problems == ["promfleet_tls differs between hosts (False on a, c; True on b); set it once for the whole "
                        "fleet, in group_vars/all"]


def test_auth_without_tls_is_off_so_no_password_crosses_the_wire_in_clear():
    assert web.fleet_settings({"a": {"promfleet_tls": False}}, []) == {"tls": False, "auth": False,
                                                                       "user": "promfleet"}


# --- certificates ---------------------------------------------------------------------------------

def test_a_certificate_names_the_inventory_name_ansible_host_listen_addresses_loopback_and_extra_names():
    assert web.certificate_names("eu-1", {"ansible_host": "10.1.1.2", "prometheus_listen_address": "0.0.0.0",
                                          "node_exporter_listen_address": "10.1.1.3",
                                          "promfleet_tls_names": ["prom.eu.example.com", "10.1.1.2"]}) == [
        "DNS:eu-1", "DNS:localhost", "IP:127.0.0.1", "IP:::1", "IP:10.1.1.2", "IP:10.1.1.3",
        "DNS:prom.eu.example.com"]


def test_a_bracketed_ipv6_listen_address_is_an_ip_name():
    assert "IP:2001:db8::5" in web.certificate_names("h", {"prometheus_listen_address": "[2001:db8::5]"})


def test_a_missing_certificate_is_due():
    assert web.certificate_due(None, None, NAMES, 30, NOW) == "no certificate yet"


def test_a_good_certificate_of_the_ca_with_the_names_is_not_due():
    ca = make_ca()
    assert web.certificate_due(issue(ca, NAMES), pem(ca[1]), NAMES, 30, NOW) is None


def test_a_certificate_that_expires_within_the_renewal_window_is_due():
    ca = make_ca()
    why = web.certificate_due(issue(ca, NAMES, days=20), pem(ca[1]), NAMES, 30, NOW)
    assert why.startswith("expires 2026-12-21") and why.endswith("within 30 days")


def test_a_certificate_with_other_names_is_due_naming_both():
    ca = make_ca()
    why = web.certificate_due(issue(ca, NAMES[:-1]), pem(ca[1]), NAMES, 30, NOW)
    assert why.startswith("names ") and "wanted" in why and "IP:10.1.1.2" in why.split("wanted")[1]


def test_a_certificate_of_another_ca_is_due():
    other = make_ca("other CA")
    assert web.certificate_due(issue(other, NAMES), pem(make_ca()[1]), NAMES, 30, NOW).startswith(
        "issued by CN=other CA, not by the fleet CA CN=fleet CA")


def test_a_certificate_signed_by_another_key_under_the_same_ca_name_is_due():
    forged = make_ca("fleet CA")
    assert web.certificate_due(issue(forged, NAMES), pem(make_ca("fleet CA")[1]), NAMES, 30, NOW) == \
        "not signed by the fleet CA's key"


# --- the password ---------------------------------------------------------------------------------

def test_the_bcrypt_hash_verifies_the_password_and_is_the_same_on_every_run():
    first = web.bcrypt_hash("s3cret", "seed", "promfleet")
    assert bcrypt.checkpw(b"s3cret", first.encode())
    assert not bcrypt.checkpw(b"wrong", first.encode())
    assert web.bcrypt_hash("s3cret", "seed", "promfleet") == first
    assert first.startswith("$2b$10$")


def test_another_fleet_seed_or_user_gives_another_hash():
    first = web.bcrypt_hash("s3cret", "seed", "promfleet")
    assert web.bcrypt_hash("s3cret", "other seed", "promfleet") != first
    assert web.bcrypt_hash("s3cret", "seed", "other") != first


# --- what daemons and clients get ------------------------------------------------------------------

SOURCES = {"cert": "/pki/hosts/h.crt", "key": "/pki/hosts/h.key", "ca": "/pki/ca.crt"}
ON = {"tls": True, "auth": True, "user": "promfleet"}


def test_a_daemon_gets_a_web_config_with_its_certificate_and_the_users_hash():
    described = web.daemon_web(ON, "h", "/etc/p/", SOURCES, "s3cret", "seed")
    assert described["config"] == {
        "tls_server_config": {"cert_file": "/etc/p/web.crt", "key_file": "/etc/p/web.key", "min_version": "TLS12"},
        "basic_auth_users": {"promfleet": web.bcrypt_hash("s3cret", "seed", "promfleet")}}
    assert (described["config_path"], described["ca_path"], described["cluster"]) == (
        "/etc/p/web.yml", "/etc/p/ca.crt", None)
    assert "s3cret" not in repr(described)


def test_without_a_password_while_auth_is_on_the_error_names_the_host_and_the_variable():
    with pytest.raises(ValueError, match="host 'h': promfleet_web_password is not set; basic auth is on"):
        web.daemon_web(ON, "h", "/etc/p", SOURCES, None, "seed")


def test_an_alertmanager_gossips_with_mutual_tls_of_the_fleet_ca():
    cluster = web.daemon_web(ON, "h", "/etc/a", SOURCES, "s3cret", "seed", cluster=True)["cluster"]
    assert cluster["tls_server_config"]["client_auth_type"] == "RequireAndVerifyClientCert"
    assert cluster["tls_server_config"]["client_ca_file"] == cluster["tls_client_config"]["ca_file"] == "/etc/a/ca.crt"


def test_with_tls_off_a_daemon_gets_nothing_and_clients_keep_plain_http():
    off = {"tls": False, "auth": False, "user": "promfleet"}
    assert web.daemon_web(off, "h", "/etc/p", SOURCES, None, "") == {"tls": False}
    assert web.client_settings(off, "/etc/p") == {}


def test_a_client_speaks_https_with_the_fleet_ca_and_the_password_file():
    assert web.client_settings(ON, "/etc/p") == {
        "scheme": "https", "tls_config": {"ca_file": "/etc/p/ca.crt"},
        "basic_auth": {"username": "promfleet", "password_file": "/etc/p/web-client.password"}}


def test_every_alertmanager_entry_of_a_server_gets_the_client_settings():
    alerting = {"alert_relabel_configs": [], "alertmanagers": [{"static_configs": [{"targets": ["a:9093"]}]},
                                                               {"static_configs": [{"targets": ["b:9093"]}]}]}
    client = web.client_settings(ON, "/etc/p")
    assert [entry["scheme"] for entry in web.alerting_client(alerting, client)["alertmanagers"]] == ["https", "https"]
    assert web.alerting_client({}, client) == {}
