"""Security on the wire, by default: every endpoint the collection runs (Prometheus, node_exporter,
Alertmanager HTTP and gossip) serves TLS with a certificate of the fleet CA and asks for the fleet's
password; every client it configures speaks the same; no secret is ever printed.

One fleet on loopback (a datacenter watching one machine, a global, a cluster of two
Alertmanagers), with a fleet CA of its own, converged once with ``-vvv --diff``.
"""

from __future__ import annotations

import grp
import json
import ssl
import stat
import urllib.error
import urllib.request

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from fleet import Fleet, open_url, wait_for
from it_support import assert_failed, assert_succeeded, config_files, says, scratch_root, tear_down

DATACENTER = "sec-1"
MACHINE = "sec-1-node-1"
GLOBAL = "sec-global"
ALERTMANAGERS = ["sec-am-a", "sec-am-b"]
PASSWORD = "Sec-Passw0rd-5f1d9a"


class Secured:
    def __init__(self, fleet: Fleet) -> None:
        self.fleet = fleet
        self.pki = fleet.root / "pki"
        self.first_run = None

    @property
    def ca(self):
        return self.pki / "ca.crt"

    def endpoints(self) -> dict:
        """Every endpoint of the fleet: name -> its https URL."""
        return {host: self.fleet.url(host) for host in [Fleet.server_of(DATACENTER), GLOBAL, MACHINE, *ALERTMANAGERS]}

    def get(self, url: str, password: str | None = PASSWORD, method: str | None = None):
        return open_url(url, password=password, method=method, ca_file=self.ca)

    def served_serial(self, host: str) -> int:
        """The serial number of the certificate ``host`` serves now (a new TLS connection)."""
        port = self.fleet.ports[host]
        pem = ssl.get_server_certificate(("127.0.0.1", port))
        return x509.load_pem_x509_certificate(pem.encode()).serial_number

    def run(self, *args: str, data: dict | None = None):
        inventory = self.fleet.write_inventory(data=data)
        return self.fleet.run("playbooks/site.yml", inventory, *args, check=False)


@pytest.fixture(scope="module")
def secured():
    root = scratch_root("security")
    fleet = Fleet(root, datacenters=[DATACENTER], globals_=[GLOBAL], watched={DATACENTER: [MACHINE]},
                  alertmanagers=list(ALERTMANAGERS),
                  extra_vars={"promfleet_pki_dir": str(root / "pki"), "promfleet_web_password": PASSWORD})
    state = Secured(fleet)
    try:
        run = state.run("-vvv", "--diff")
        assert_succeeded(run)
        state.first_run = run
        yield state
    finally:
        tear_down(fleet, fleet.write_inventory())


def test_plain_http_to_any_endpoint_gets_no_data(secured):
    for host, url in secured.endpoints().items():
        plain = url.replace("https://", "http://")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(plain + "/metrics", timeout=10)
        assert refused.value.code == 400, host
        assert b"HTTPS server" in refused.value.read(), host


def test_a_wrong_password_or_none_gets_401_from_every_endpoint(secured):
    for host, url in secured.endpoints().items():
        for password in ("wrong", None):
            with pytest.raises(urllib.error.HTTPError) as denied:
                secured.get(url + "/metrics", password=password)
            assert denied.value.code == 401, (host, password)


def test_a_client_that_does_not_trust_the_fleet_ca_fails(secured):
    for host, url in secured.endpoints().items():
        with pytest.raises(urllib.error.URLError) as untrusted:
            urllib.request.urlopen(url + "/metrics", timeout=10, context=ssl.create_default_context())
        assert isinstance(untrusted.value.reason, ssl.SSLCertVerificationError), host


def test_the_fleets_client_gets_data_from_every_endpoint(secured):
    for host, url in secured.endpoints().items():
        with secured.get(url + "/metrics") as answer:
            assert answer.status == 200 and b"process_start_time_seconds" in answer.read(), host


def test_scrapes_federation_and_alert_delivery_work_over_tls(secured):
    dc_url = secured.endpoints()[Fleet.server_of(DATACENTER)]
    up = {s["metric"]["job"]: s["value"][1] for s in
          json.load(secured.get(dc_url + "/api/v1/query?query=up"))["data"]["result"]}
    assert up == {"prometheus": "1", "node": "1"}
    global_url = secured.endpoints()[GLOBAL]
    wait_for(lambda: DATACENTER in _federated(secured, global_url), timeout=30, what="the datacenter at the global")
    # The dead man's switch fires at the global: it reaches both Alertmanagers over TLS with the password.
    for name in ALERTMANAGERS:
        wait_for(lambda name=name: any(a["labels"]["alertname"] == "Watchdog" for a in json.load(
            secured.get(secured.endpoints()[name] + "/api/v2/alerts"))), timeout=60, what="the Watchdog at " + name)


def _federated(secured, global_url: str) -> set:
    answer = json.load(secured.get(global_url + '/api/v1/query?query=count+by+(datacenter)+(up{datacenter!=""})'))
    return {s["metric"]["datacenter"] for s in answer["data"]["result"]}


def test_the_alertmanagers_gossip_over_mutual_tls_and_see_each_other(secured):
    for name in ALERTMANAGERS:
        status = json.load(secured.get(secured.endpoints()[name] + "/api/v2/status"))
        assert status["cluster"]["status"] == "ready" and len(status["cluster"]["peers"]) == 2, name
        flags = (secured.fleet.root / "supervisor" / "programs" / ("promfleet-alertmanager-%s.conf" % name)).read_text()
        assert "--cluster.tls-config=" in flags


@pytest.mark.parametrize("host, group", [(Fleet.server_of(DATACENTER), "prometheus"), (MACHINE, "node-exporter"),
                                         (ALERTMANAGERS[0], "alertmanager")])
def test_keys_passwords_and_web_configs_are_root_owned_of_the_service_group_mode_0640(secured, host, group):
    instance = {"prometheus": "promfleet-", "node-exporter": "promfleet-node-exporter-",
                "alertmanager": "promfleet-alertmanager-"}[group] + host
    directory = secured.fleet.root / "etc" / instance
    names = ["web.key", "web.yml", "web.crt", "ca.crt"] + (["web-client.password"] if group == "prometheus" else [])
    for name in names:
        info = (directory / name).stat()
        assert (info.st_uid, grp.getgrgid(info.st_gid).gr_name, stat.S_IMODE(info.st_mode)) == (0, group, 0o640), name
    assert (directory / "web.key").read_text().startswith("-----BEGIN EC PRIVATE KEY-----")


def test_the_controller_keeps_the_keys_readable_by_its_user_only(secured):
    for key in [secured.pki / "ca.key", *sorted((secured.pki / "hosts").glob("*.key"))]:
        assert stat.S_IMODE(key.stat().st_mode) == 0o600, key
    assert stat.S_IMODE(secured.pki.stat().st_mode) == 0o700


def test_a_whole_first_run_with_vvv_and_diff_prints_no_password_and_no_private_key(secured):
    output = secured.first_run.output
    assert "web.key" in output and "(secret" in output  # the keys were written, and said so
    assert PASSWORD not in output
    assert "PRIVATE KEY" not in output
    for key in [secured.pki / "ca.key", *sorted((secured.pki / "hosts").glob("*.key"))]:
        # The first base64 line of a P-256 key holds its private scalar (the last ones, the public
        # key, which may be shown); the scalar in hex or decimal would be a leak too.
        body = [line for line in key.read_text().splitlines() if not line.startswith("-----")]
        scalar = serialization.load_pem_private_key(key.read_bytes(), None).private_numbers().private_value
        for secret in (body[0], "%x" % scalar, str(scalar)):
            assert secret not in output, key


def test_the_lifecycle_and_admin_apis_do_not_answer(secured):
    for host in (Fleet.server_of(DATACENTER), GLOBAL):
        url = secured.endpoints()[host]
        for path in ("/-/reload", "/-/quit", "/api/v1/admin/tsdb/snapshot"):
            with pytest.raises(urllib.error.HTTPError) as refused:
                secured.get(url + path, method="POST")
            body = refused.value.read().decode()
            assert refused.value.code >= 400 and ("not enabled" in body or "disabled" in body), (host, path, body)
    # The Alertmanager's own /-/reload always exists: only the fleet's user may call it.
    with pytest.raises(urllib.error.HTTPError) as denied:
        secured.get(secured.endpoints()[ALERTMANAGERS[0]] + "/-/reload", password=None, method="POST")
    assert denied.value.code == 401


def test_a_certificate_close_to_expiry_is_renewed_and_served_without_a_restart(secured):
    hosts = [Fleet.server_of(DATACENTER), MACHINE, ALERTMANAGERS[0]]
    before = {h: secured.served_serial(h) for h in hosts}
    started = {h: metric_of(secured, h, "process_start_time_seconds") for h in hosts}
    # Valid 365 days, renewed within 399: every certificate is due now.
    renew = ("-e", "promfleet_tls_days=400", "-e", "promfleet_tls_renew_days=399")
    run = secured.run(*renew)
    assert_succeeded(run)
    assert says(run, "Sign this host's certificate with the CA (expires")
    after = {h: secured.served_serial(h) for h in hosts}
    assert all(after[h] != before[h] for h in hosts), (before, after)
    assert {h: metric_of(secured, h, "process_start_time_seconds") for h in hosts} == started
    again = secured.run(*renew)
    assert_succeeded(again)
    assert again.changed() == 0, again.output[-3000:]


def metric_of(secured, host: str, name: str) -> float:
    with secured.get(secured.endpoints()[host] + "/metrics") as answer:
        text = answer.read().decode()
    (line,) = [line for line in text.splitlines() if line.startswith(name + " ")]
    return float(line.split()[1])


def test_without_the_password_the_run_stops_before_any_change_naming_the_variable(secured):
    before = config_files(secured.fleet)
    data = secured.fleet.inventory()
    del data["all"]["vars"]["promfleet_web_password"]
    run = secured.run(data=data)
    assert_failed(run)
    assert says(run, "promfleet_web_password is not set; basic auth is on (promfleet_web_auth)")
    assert config_files(secured.fleet) == before


def test_hosts_that_disagree_on_tls_are_refused_before_any_change(secured):
    before = config_files(secured.fleet)
    data = secured.fleet.inventory()
    Fleet.global_host(data, GLOBAL)["promfleet_tls"] = False
    run = secured.run(data=data)
    assert_failed(run)
    assert says(run, "promfleet_tls differs between hosts (False on %s; True on" % GLOBAL)
    assert config_files(secured.fleet) == before


def _own_ca(directory) -> tuple:
    """A CA of the user's own (not the collection's): its certificate and key files."""
    import datetime

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    directory.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Example Corp internal CA")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = directory / "ca.crt", directory / "ca.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_file.chmod(0o600)
    return cert_file, key_file


def test_the_users_own_ca_replaces_the_fleet_ca_and_the_fleet_follows_it():
    """A fleet moved from the collection's CA to the user's: every certificate is issued again by it,
    and the servers federate with it, without a restart."""
    root = scratch_root("security-own-ca")
    fleet = Fleet(root, datacenters=["own-1"], globals_=["own-global"],
                  extra_vars={"promfleet_pki_dir": str(root / "pki"), "promfleet_web_password": PASSWORD})
    inventory = fleet.write_inventory()
    try:
        assert_succeeded(fleet.run("playbooks/site.yml", inventory, check=False))
        hosts = [Fleet.server_of("own-1"), "own-global"]
        started = {h: _start_time(fleet, h, root / "pki" / "ca.crt") for h in hosts}
        ca_cert, ca_key = _own_ca(root / "own-ca")
        data = fleet.inventory()
        data["all"]["vars"].update(promfleet_ca_cert=str(ca_cert), promfleet_ca_key=str(ca_key))
        run = fleet.run("playbooks/site.yml", fleet.write_inventory(data=data), check=False)
        assert_succeeded(run)
        assert says(run, "Sign this host's certificate with the CA (issued by CN=promfleet fleet CA, not by the "
                         "fleet CA CN=Example Corp internal CA)")
        for host in hosts:
            pem = ssl.get_server_certificate(("127.0.0.1", fleet.ports[host]))
            issuer = x509.load_pem_x509_certificate(pem.encode()).issuer.rfc4514_string()
            assert issuer == "CN=Example Corp internal CA", host
            assert _start_time(fleet, host, ca_cert) == started[host]
        # The verification of that run saw fresh federated data: the global trusts the new CA.
        assert says(run, "federation verified: every global has fresh data of every datacenter")
    finally:
        tear_down(fleet, inventory)


def _start_time(fleet: Fleet, host: str, ca_file) -> float:
    with open_url(fleet.url(host) + "/metrics", password=PASSWORD, ca_file=ca_file) as answer:
        text = answer.read().decode()
    (line,) = [line for line in text.splitlines() if line.startswith("process_start_time_seconds ")]
    return float(line.split()[1])
