# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""Connection options of the modules that talk to a Prometheus server over HTTP."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  url:
    description:
      - Base URL of the Prometheus server, with its route prefix if it has one
        (C(--web.route-prefix)), e.g. V(https://prometheus.example.com:9090/prom).
    type: str
    default: http://localhost:9090
  url_username:
    description:
      - User name for HTTP basic authentication (a C(web.config.file) with C(basic_auth_users)).
      - Requires O(url_password); cannot be combined with O(bearer_token).
    type: str
  url_password:
    description:
      - Password for HTTP basic authentication. Never logged.
    type: str
  bearer_token:
    description:
      - Token sent in the C(Authorization) header as C(Bearer <token>), e.g. to a Prometheus behind an
        authenticating proxy. Never logged.
    type: str
  validate_certs:
    description:
      - Whether the server's TLS certificate is verified for an C(https://) O(url).
    type: bool
    default: true
  ca_path:
    description:
      - PEM file with the CA certificates that verify the server (default the system's).
    type: path
  client_cert:
    description:
      - PEM file with the client certificate, for a server that requires one. Requires O(client_key).
    type: path
  client_key:
    description:
      - PEM file with the private key of O(client_cert).
    type: path
  request_timeout:
    description:
      - Seconds each HTTP request to Prometheus may take.
    type: float
    default: 10.0
"""
