"""Security on the wire between the hosts: TLS with the fleet CA and basic auth on every endpoint.

Each request here is made FROM ANOTHER HOST of the bed, in another subnet (python3 run inside that
host's container; a fresh host has no curl), so it crosses the network as a peer's would: plain
HTTP, a wrong password, a client that does not trust the fleet CA and the lifecycle and admin APIs
all get nothing; the fleet's own traffic (federation, scraping) flows over TLS across the subnets.
"""

from __future__ import annotations

import json

import pytest
from bedfleet import (
    GLOBAL,
    MACHINE,
    NODE_EXPORTER_PORT,
    PORT,
    SERVER,
    SERVER2,
    WEB_PASSWORD,
    WEB_USER,
    eventually,
    unit_state,
)

# An HTTP client run on a host of the bed: argv[1] is a JSON request (url, method, ca: PEM text or
# null for the system's CAs, user, password); it prints a JSON answer: status and the start of the
# body, or the error (refused, certificate, ...).
CLIENT = r"""
import base64, json, ssl, sys, urllib.error, urllib.request
ask = json.loads(sys.argv[1])
request = urllib.request.Request(ask["url"], method=ask.get("method", "GET"),
                                 data=b"" if ask.get("method") in ("POST", "PUT") else None)
if ask.get("user") is not None:
    token = base64.b64encode(("%s:%s" % (ask["user"], ask["password"])).encode()).decode()
    request.add_header("Authorization", "Basic " + token)
context = ssl.create_default_context(cadata=ask["ca"]) if ask.get("ca") else ssl.create_default_context()
try:
    with urllib.request.urlopen(request, timeout=5, context=context) as response:
        print(json.dumps({"status": response.status, "body": response.read(400).decode(errors="replace")}))
except urllib.error.HTTPError as exc:
    print(json.dumps({"status": exc.code, "body": exc.read(400).decode(errors="replace")}))
except urllib.error.URLError as exc:
    print(json.dumps({"error": type(exc.reason).__name__, "reason": str(exc.reason)}))
except OSError as exc:
    print(json.dumps({"error": type(exc).__name__, "reason": str(exc)}))
"""

# Every endpoint of the fleet (host, port), with a host of another site to ask it from.
ENDPOINTS = {
    "dc1 prometheus": (SERVER, PORT, GLOBAL),
    "dc2 prometheus": (SERVER2, PORT, GLOBAL),
    "global prometheus": (GLOBAL, PORT, SERVER2),
    "dc1 node_exporter": (MACHINE, NODE_EXPORTER_PORT, SERVER2),
}
PROMETHEUS = {name: endpoint for name, endpoint in ENDPOINTS.items() if endpoint[1] == PORT}
DATA_PATH = {PORT: "/api/v1/query?query=up", NODE_EXPORTER_PORT: "/metrics"}


def ask(converged, source: str, url: str, method: str = "GET", trust: bool = True,
        password: str | None = WEB_PASSWORD) -> dict:
    """``url`` requested from host ``source``, trusting the fleet CA (or only the system's CAs), as
    the fleet's user with ``password`` (None: no credentials)."""
    request = {"url": url, "method": method, "ca": converged.ca.read_text() if trust else None,
               "user": WEB_USER if password is not None else None, "password": password}
    done = converged.bed.run(source, ["python3", "-c", CLIENT, json.dumps(request)], timeout=30)
    return json.loads(done.stdout)


def https(converged, host: str, port: int, path: str) -> str:
    return "https://%s:%d%s" % (converged.bed.address(host), port, path)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_the_right_credentials_from_another_host_get_data(converged, endpoint):
    host, port, source = ENDPOINTS[endpoint]
    answer = ask(converged, source, https(converged, host, port, DATA_PATH[port]))
    assert answer.get("status") == 200, answer


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_plain_http_from_another_host_gets_no_data(converged, endpoint):
    host, port, source = ENDPOINTS[endpoint]
    answer = ask(converged, source, "http://%s:%d%s" % (converged.bed.address(host), port, DATA_PATH[port]))
    if "status" in answer:
        assert answer["status"] == 400, answer
        assert "Client sent an HTTP request to an HTTPS server" in answer["body"], answer
    else:
        assert answer["error"] == "ConnectionRefusedError", answer


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_wrong_or_missing_password_from_another_host_gets_401(converged, endpoint):
    host, port, source = ENDPOINTS[endpoint]
    url = https(converged, host, port, DATA_PATH[port])
    wrong = ask(converged, source, url, password=WEB_PASSWORD + "-wrong")
    assert wrong.get("status") == 401, wrong
    assert "# HELP" not in wrong["body"] and '"success"' not in wrong["body"], wrong
    missing = ask(converged, source, url, password=None)
    assert missing.get("status") == 401, missing


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_client_that_does_not_trust_the_fleet_ca_fails_verification(converged, endpoint):
    host, port, source = ENDPOINTS[endpoint]
    answer = ask(converged, source, https(converged, host, port, DATA_PATH[port]), trust=False)
    assert answer.get("error") == "SSLCertVerificationError", answer
    assert "certificate verify failed" in answer["reason"], answer


# The APIs that change a server: lifecycle (reload, quit) and admin (TSDB snapshot, delete).
CONTROL = [("POST", "/-/reload"), ("POST", "/-/quit"), ("PUT", "/-/quit"),
           ("POST", "/api/v1/admin/tsdb/snapshot"), ("POST", "/api/v1/admin/tsdb/delete_series?match[]=up")]


@pytest.mark.parametrize("endpoint", PROMETHEUS)
def test_the_lifecycle_and_admin_apis_are_not_reachable_from_another_host(converged, endpoint):
    host, port, source = PROMETHEUS[endpoint]
    before = unit_state(converged.bed, host)
    for method, path in CONTROL:
        url = https(converged, host, port, path)
        anonymous = ask(converged, source, url, method=method, password=None)
        assert anonymous.get("status") == 401, (method, path, anonymous)
        # Even the fleet's user gets no further: the APIs are not enabled (lifecycle: 403; admin:
        # errorType "unavailable", which Prometheus 3 answers with 500).
        user = ask(converged, source, url, method=method)
        assert user.get("status") in (403, 500, 503), (method, path, user)
        assert any(word in user["body"].lower() for word in ("not enabled", "disabled")), (method, path, user)
    after = unit_state(converged.bed, host)
    assert (after["ActiveState"], after["MainPID"]) == ("active", before["MainPID"]), "the server quit or restarted"
    assert ask(converged, source, https(converged, host, port, "/-/ready")).get("status") == 200


def test_the_global_federates_both_datacenters_over_tls_across_subnets(converged):
    expected = {"federate-%s" % dc: "https://%s:%d/federate" % (converged.bed.address(server), PORT)
                for dc, server in (("dc1", SERVER), ("dc2", SERVER2))}

    def federating() -> bool:
        targets = converged.get_json(GLOBAL, "/api/v1/targets?state=active")["data"]["activeTargets"]
        jobs = {t["labels"]["job"]: t for t in targets if t["labels"]["job"].startswith("federate-")}
        return set(jobs) == set(expected) and all(
            jobs[job]["scrapeUrl"].startswith(expected[job]) and jobs[job]["health"] == "up" for job in jobs)

    eventually(federating, what="both federation jobs up over https")
    assert eventually(lambda: converged.federated_datacenters() == {"dc1", "dc2"}, what="both datacenters' data")


def test_the_datacenter_scrapes_the_watched_machine_over_tls(converged):
    prefix = "https://%s:%d/" % (converged.bed.address(MACHINE), NODE_EXPORTER_PORT)

    def machine_up() -> bool:
        targets = converged.get_json(SERVER, "/api/v1/targets?state=active")["data"]["activeTargets"]
        machine = [t for t in targets if t["scrapeUrl"].startswith(prefix)]
        return bool(machine) and all(t["health"] == "up" for t in machine)

    eventually(machine_up, what="the machine's node_exporter scraped over https and up")
