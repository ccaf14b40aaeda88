"""The cost of TLS and basic auth on a federation scrape: `/federate` of 10k series, with and without.

Two real "datacenter" Prometheus servers (the 3.x release of the releases cache, started from Python by
``tests/support/standalone.py``, as ``bench/reload.py`` does), the same in everything but the wire:

- ``plain``: http, no authentication;
- ``tls``: https and basic auth, from a web config (``--web.config.file``) as the collection writes it
  (``server_web_config`` and ``bcrypt_hash`` of ``plugins/module_utils/fleet/web.py``: TLS 1.2 at least,
  an ECDSA P-256 certificate of a throwaway CA made here with ``cryptography``, one user with a bcrypt
  hash of cost 10).

Both scrape the same small exporter served from this process (--series series, default 10000, in 100
metric families) every --scrape-interval seconds. Once both hold every series, the bench asks each for
``/federate?match[]={job="exporter"}`` (every series, gzip accepted as Prometheus asks) --requests times
per way of connecting, from Python (``http.client``), plain and TLS requests interleaved so that both see
the same load:

- **keep-alive**: one connection per server, reused for every request, as Prometheus' scrapers do;
- **new connection**: a new TCP connection (and TLS handshake) for every request.

The same is done for ``GET /-/healthy`` (a few bytes, basic auth applies as well): the fixed cost of a
request and of a TLS handshake, without the 10k series.

Each figure is the wall time from sending the request to the last byte of the answer (gzipped, not
unpacked); the first /federate request of each server is printed apart.

Then, unless --window 0, two "global" servers federate the datacenters, one plain, one over TLS with
basic auth (``scheme: https``, ``tls_config.ca_file``, ``basic_auth.password_file``) every 5 s, for
--window seconds (default 60): the medians of their own ``scrape_duration_seconds`` of the federate job.

It is a bench, not a test: no time limits, but a non-zero exit when a server does not start, a
``/federate`` answer lacks series, or a process is left behind. Every server is stopped and its folder
(``.tmp/it-bench-tls-*``) removed, whatever happens.

Run it with ``.venv/bin/python bench/tls.py`` (``--series 10000 --requests 200 --window 60``).
"""

from __future__ import annotations

import argparse
import base64
import datetime
import gzip
import http.client
import http.server
import ipaddress
import json
import os
import shutil
import ssl
import statistics
import sys
import threading
import time
import urllib.parse
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "support"))
sys.path.insert(0, str(REPO / "collections"))

import bcrypt  # noqa: E402
import releases  # noqa: E402
from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402
from figures import load  # noqa: E402
from fleet import free_ports, processes_matching, wait_for  # noqa: E402
from it_support import scratch_root  # noqa: E402
from standalone import PrometheusProcess  # noqa: E402

try:  # the collection's own web config and hash, so that the bench serves what the roles write
    from ansible_collections.promfleet.federation.plugins.module_utils.fleet.web import (  # noqa: E402
        DEFAULT_BCRYPT_COST,
        bcrypt_hash,
        server_web_config,
    )
except ImportError:  # collections/ not linked (make setup): the same, written out
    DEFAULT_BCRYPT_COST = 10

    def bcrypt_hash(password: str, seed: str, user: str, cost: int = DEFAULT_BCRYPT_COST) -> str:
        return bcrypt.hashpw(password.encode(), bcrypt.gensalt(cost)).decode()

    def server_web_config(cert_file: str, key_file: str, users: dict, client_ca_file: str | None = None) -> dict:
        return {"tls_server_config": {"cert_file": cert_file, "key_file": key_file, "min_version": "TLS12"},
                "basic_auth_users": dict(users)}

USER = "promfleet"
PASSWORD = "bench-only"
MATCH = '{job="exporter"}'
FEDERATE_PATH = "/federate?" + urllib.parse.urlencode({"match[]": MATCH})
# The fixed cost of a request, next to it: a GET whose answer is a few bytes (basic auth applies to it too).
HEALTHY_PATH = "/-/healthy"
FAMILIES = 100
FEDERATION_INTERVAL = 5


class BenchError(Exception):
    """A step that failed: reported, and the bench exits non-zero."""


# --- the exporter ---------------------------------------------------------------------------------


def exposition(series: int) -> bytes:
    """``series`` series in FAMILIES gauge families, labels like a node's (a device, a mode)."""
    per_family = -(-series // FAMILIES)
    lines = []
    for f in range(FAMILIES):
        count = min(per_family, series - f * per_family)
        if count <= 0:
            break
        name = f"bench_family_{f:03d}_bytes"
        lines += [f"# HELP {name} A bench gauge.", f"# TYPE {name} gauge"]
        lines += [f'{name}{{device="dev{i // 10:04d}",mode="m{i % 10}"}} {f * 1000 + i}.5' for i in range(count)]
    return ("\n".join(lines) + "\n").encode()


class Exporter:
    """A static exposition of ``series`` series on a free port of 127.0.0.1, served from a thread."""

    def __init__(self, series: int) -> None:
        body = exposition(series)

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802 - the base class names it so
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format, *args):  # noqa: A002 - the base class names it so
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", free_ports(1)[0]), Handler)
        self.target = "127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True, name="bench-exporter").start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- the throwaway CA -----------------------------------------------------------------------------


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_pki(directory: Path) -> dict[str, Path]:
    """A CA and a server certificate for 127.0.0.1 and localhost, ECDSA P-256 as the fleet CA's."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (x509.CertificateBuilder().subject_name(_name("bench CA")).issuer_name(_name("bench CA"))
               .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                            data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                            crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
               .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name("127.0.0.1")).issuer_name(ca_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = {"ca": directory / "ca.crt", "cert": directory / "server.crt", "key": directory / "server.key",
             "password": directory / "password"}
    paths["ca"].write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    paths["cert"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths["key"].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    paths["key"].chmod(0o600)
    paths["password"].write_text(PASSWORD)
    paths["password"].chmod(0o600)
    return paths


# --- the servers ----------------------------------------------------------------------------------


class Server(PrometheusProcess):
    """A Prometheus of the bench; with ``pki``, over TLS with basic auth (a web config in its root)."""

    def __init__(self, name: str, pki: dict[str, Path] | None) -> None:
        super().__init__(name, lifecycle=False)
        self.pki = pki
        if pki:
            web = self.root / "web.yml"
            users = {USER: bcrypt_hash(PASSWORD, base64.b64encode(os.urandom(32)).decode(), USER)}
            web.write_text(json.dumps(server_web_config(str(pki["cert"]), str(pki["key"]), users)))
            self.flags.append("--web.config.file=%s" % web)
            self.url = "https://127.0.0.1:%d" % self.port
        self.client = Client(self.port, pki)

    def ready(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError("Prometheus exited:\n" + self.log.read_text()[-3000:])
        return self.client.get("/-/ready")[0] == 200

    def query(self, promql: str) -> list[dict]:
        status, body = self.client.get("/api/v1/query?" + urllib.parse.urlencode({"query": promql}))
        if status != 200:
            raise BenchError(f"query {promql} at {self.url}: HTTP {status}")
        return json.loads(body)["data"]["result"]


class Client:
    """GETs to one server with ``http.client``: over TLS checked against the bench CA, with basic auth."""

    def __init__(self, port: int, pki: dict[str, Path] | None) -> None:
        self.port = port
        self.context = ssl.create_default_context(cafile=str(pki["ca"])) if pki else None
        self.headers = {"Accept-Encoding": "gzip"}
        if pki:
            self.headers["Authorization"] = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        self.connection: http.client.HTTPConnection | None = None

    def connect(self) -> http.client.HTTPConnection:
        if self.context is not None:
            return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=30, context=self.context)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def get(self, path: str, keep_alive: bool = False) -> tuple[int, bytes]:
        """Status and body (gunzipped) of GET ``path``; ``keep_alive`` reuses this client's connection."""
        status, body, encoding = self.fetch(path, keep_alive)
        return status, gzip.decompress(body) if encoding == "gzip" else body

    def fetch(self, path: str, keep_alive: bool) -> tuple[int, bytes, str]:
        connection = (self.connection or self.connect()) if keep_alive else self.connect()
        try:
            connection.request("GET", path, headers=self.headers)
            response = connection.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException):
            connection.close()
            self.connection = None
            raise
        if keep_alive:
            self.connection = connection
        else:
            connection.close()
        return response.status, body, response.getheader("Content-Encoding") or ""

    def timed(self, path: str, keep_alive: bool) -> tuple[float, int]:
        """Seconds from the request to the last byte of the answer to GET ``path``, and its size on the wire."""
        started = time.perf_counter()
        status, body, _encoding = self.fetch(path, keep_alive)
        seconds = time.perf_counter() - started
        if status != 200:
            raise BenchError(f"GET {path} on port {self.port}: HTTP {status}")
        return seconds, len(body)

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def datacenter_config(exporter: Exporter, interval: int) -> dict:
    return {"global": {"scrape_interval": f"{interval}s", "scrape_timeout": f"{max(1, interval - 1)}s",
                       "evaluation_interval": f"{interval}s", "external_labels": {"datacenter": "dc1"}},
            "scrape_configs": [{"job_name": "exporter", "static_configs": [{"targets": [exporter.target]}]}]}


def global_config(datacenter: Server) -> dict:
    job = {"job_name": "federate", "honor_labels": True, "metrics_path": "/federate",
           "params": {"match[]": [MATCH]}, "scrape_interval": f"{FEDERATION_INTERVAL}s",
           "scrape_timeout": f"{FEDERATION_INTERVAL - 1}s",
           "static_configs": [{"targets": ["127.0.0.1:%d" % datacenter.port]}]}
    if datacenter.pki:
        job.update(scheme="https", tls_config={"ca_file": str(datacenter.pki["ca"])},
                   basic_auth={"username": USER, "password_file": str(datacenter.pki["password"])})
    return {"global": {"scrape_interval": f"{FEDERATION_INTERVAL}s", "evaluation_interval": f"{FEDERATION_INTERVAL}s"},
            "scrape_configs": [job]}


def series_federated(server: Server) -> int:
    status, body = server.client.get(FEDERATE_PATH)
    if status != 200:
        raise BenchError(f"/federate at {server.url}: HTTP {status}")
    return sum(1 for line in body.splitlines() if line and not line.startswith(b"#"))


# --- the measures ---------------------------------------------------------------------------------


def interleaved(clients: dict[str, Client], path: str, keep_alive: bool, requests: int) -> dict[str, list[float]]:
    """``requests`` timed GETs of ``path`` per client, alternating which one goes first."""
    times: dict[str, list[float]] = {name: [] for name in clients}
    names = list(clients)
    for i in range(requests):
        for name in names if i % 2 == 0 else names[::-1]:
            times[name].append(clients[name].timed(path, keep_alive)[0])
    return times


def p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[-1] if len(values) > 1 else values[0]


def scrape_durations(server: Server, window: int) -> list[float]:
    """The raw samples of the global's own scrape_duration_seconds of its federate job over ``window`` s."""
    result = server.query(f'scrape_duration_seconds{{job="federate"}}[{window}s]')
    return [float(v) for series in result for _ts, v in series["values"]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--series", type=int, default=10000, metavar="S", help="series of the exporter (default 10000)")
    parser.add_argument("--requests", type=int, default=200, metavar="N",
                        help="timed /federate requests per server and way of connecting (default 200)")
    parser.add_argument("--scrape-interval", type=int, default=5, metavar="SECONDS",
                        help="the datacenters' scrape interval of the exporter (default 5)")
    parser.add_argument("--window", type=int, default=60, metavar="SECONDS",
                        help="how long the two globals federate before their scrape durations are read "
                             f"(every {FEDERATION_INTERVAL} s; default 60, 0: no globals)")
    args = parser.parse_args(argv)
    if args.series < 1 or args.requests < 2 or args.scrape_interval < 1 or args.window < 0:
        parser.error("--series at least 1, --requests at least 2, --scrape-interval at least 1, --window at least 0")

    print(f"machine: {os.cpu_count()} CPU(s), load average {load()}")
    print(f"Prometheus {releases.release(releases.DEFAULT)['version']} ({releases.binary(releases.DEFAULT)}); "
          f"{args.series} series; GET {FEDERATE_PATH}, Accept-Encoding: gzip", flush=True)
    failures: list[str] = []
    servers: list[Server] = []
    exporter = Exporter(args.series)
    pki_root = scratch_root("bench-tls-pki")
    rows: list[tuple[str, list[float], list[float]]] = []
    firsts: dict[str, float] = {}
    sizes: dict[str, tuple[int, int]] = {}
    durations: dict[str, list[float]] = {}
    try:
        pki = make_pki(pki_root)
        plain = Server("bench-tls-dc-plain", None)
        servers.append(plain)
        tls = Server("bench-tls-dc-tls", pki)
        servers.append(tls)
        for server in (plain, tls):
            server.start(datacenter_config(exporter, args.scrape_interval))
        for server in (plain, tls):
            wait_for(lambda s=server: s.query(f'count({MATCH})') and int(s.query(f'count({MATCH})')[0]["value"][1])
                     >= args.series, timeout=60, what=f"{args.series} series at {server.url}")
        print(f"  datacenters ready: plain {plain.url}, tls {tls.url} (basic auth as {USER!r}, bcrypt cost "
              f"{DEFAULT_BCRYPT_COST})", flush=True)

        clients = {"plain": plain.client, "tls": tls.client}
        # the first /federate of each server, on a new connection (the readiness checks and queries before
        # it already sent the password: the server's check of it is not in there)
        for name, client in clients.items():
            firsts[name], wire = client.timed(FEDERATE_PATH, keep_alive=True)
            count = series_federated(plain if name == "plain" else tls)
            sizes[name] = (wire, count)
            if count < args.series:
                raise BenchError(f"/federate of {name} returned {count} series, not {args.series}")
        answers = ", ".join(f"{n} {s[1]} series in {s[0] / 1024:.0f} KiB (gzip)" for n, s in sizes.items())
        print("  /federate answer: " + answers, flush=True)
        for path, what in ((FEDERATE_PATH, "/federate"), (HEALTHY_PATH, HEALTHY_PATH)):
            for keep_alive, how in ((True, "keep-alive"), (False, "new connection")):
                interleaved(clients, path, keep_alive, 5)  # warm-up, not counted
                times = interleaved(clients, path, keep_alive, args.requests)
                rows.append((f"{what}, {how}", times["plain"], times["tls"]))
                print(f"  {what}, {how}: {args.requests} requests each, plain median "
                      f"{statistics.median(times['plain']) * 1000:.2f} ms, tls median "
                      f"{statistics.median(times['tls']) * 1000:.2f} ms", flush=True)
        for client in clients.values():
            client.close()

        if args.window:
            globals_ = {}
            for name, datacenter in (("plain", plain), ("tls", tls)):
                server = Server(f"bench-tls-global-{name}", None)
                servers.append(server)
                server.start(global_config(datacenter))
                globals_[name] = server
            print(f"  globals federating every {FEDERATION_INTERVAL} s; reading their scrape durations in "
                  f"{args.window} s", flush=True)
            time.sleep(args.window + FEDERATION_INTERVAL)
            for name, server in globals_.items():
                ups = server.query('up{job="federate"}')
                if not ups or ups[0]["value"][1] != "1":
                    raise BenchError(f"the {name} global's federate job is not up: {ups}")
                durations[name] = scrape_durations(server, args.window)
                if not durations[name]:
                    raise BenchError(f"no scrape_duration_seconds of the {name} global's federate job")
    except (BenchError, AssertionError, OSError, http.client.HTTPException, ValueError, KeyError) as exc:
        failures.append(str(exc))
        print(f"  FAILED: {str(exc).splitlines()[0]}", flush=True)
    finally:
        for server in servers:
            server.stop()
        exporter.stop()
        shutil.rmtree(pki_root, ignore_errors=True)
        left = [cmd for server in servers for cmd in processes_matching(f"{server.root}/")]
        print(f"  stopped; left behind: {'; '.join(left) or 'nothing'}", flush=True)
        if left:
            failures.append("left behind: " + "; ".join(left))

    table = [("request", "plain ms", "TLS+auth ms", "TLS-plain ms", "TLS/plain", "plain p90 ms", "TLS+auth p90 ms")]

    def row(label: str, plain_times: list[float], tls_times: list[float]) -> tuple[str, ...]:
        p, t = statistics.median(plain_times), statistics.median(tls_times)
        return (label, f"{p * 1000:.2f}", f"{t * 1000:.2f}", f"{(t - p) * 1000:+.2f}", f"{t / p:.2f}",
                f"{p90(plain_times) * 1000:.2f}", f"{p90(tls_times) * 1000:.2f}")

    for label, plain_times, tls_times in rows:
        table.append(row(f"{label} (median of {len(plain_times)})", plain_times, tls_times))
    if len(firsts) == 2:
        table.append(("first /federate of the server", f"{firsts['plain'] * 1000:.2f}", f"{firsts['tls'] * 1000:.2f}",
                      f"{(firsts['tls'] - firsts['plain']) * 1000:+.2f}", "-", "-", "-"))
    if durations:
        table.append(row(f"global's own federate scrape_duration_seconds (median of {len(durations['plain'])}/"
                         f"{len(durations['tls'])})", durations["plain"], durations["tls"]))
    if len(table) > 1:
        widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
        print(f"\nResults ({args.series} series; load average now {load()}):")
        for i, row in enumerate(table):
            print("  " + row[0].ljust(widths[0]) + "  "
                  + "  ".join(c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)))
            if i == 0:
                print("  " + "  ".join("-" * w for w in widths))
    if len(rows) == 4:
        ratios = [statistics.median(t) / statistics.median(p) for _label, p, t in rows]
        extra = ""
        if durations:
            extra = (f"; the global's own federate scrape "
                     f"{statistics.median(durations['tls']) / statistics.median(durations['plain']):.2f}x")
        handshake = (statistics.median(rows[3][2]) - statistics.median(rows[3][1])) * 1000
        print(f"\n  /federate of {args.series} series: TLS+basic auth takes {ratios[0]:.2f}x plain on a kept-alive "
              f"connection, {ratios[1]:.2f}x with a new connection each time (a new TLS connection costs "
              f"{handshake:+.1f} ms on {HEALTHY_PATH}){extra}")
    for failure in failures:
        print(f"\nFAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
