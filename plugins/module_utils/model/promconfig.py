# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""The prometheus.yml model, as pure functions: validation of a whole configuration or of one scrape
job the way a given Prometheus release line loads it, and normalization (redaction of secrets is
redact.py).

``normalize_scrape_config`` and ``normalize_config`` return the input unchanged (same keys, same
order, no defaults added) except that every relabel list becomes its fully explicit form (the rule
dicts of ``relabel.py``). Each field carries the line that introduced it and, where 3.0 removed
it, the line that did: a field the target version does not have is refused naming both versions.
Errors are ``ConfigError`` naming where (job, list index, field) and what would be right.

Checked against ``promtool check config`` of Debian's Prometheus 2.42.0, 2.53.3 and 3.5.3
(tests/integration/test_promconfig_promtool.py), which also lists where the model is stricter.
"""

from __future__ import annotations

import difflib
import functools
import re

from ansible_collections.promfleet.federation.plugins.module_utils.errors import ConfigError, RelabelError
from ansible_collections.promfleet.federation.plugins.module_utils.model.durations import parse_duration
from ansible_collections.promfleet.federation.plugins.module_utils.model.relabel import is_label_name, parse_rules
from ansible_collections.promfleet.federation.plugins.module_utils.model.targets import DEFAULT_SCRAPE_INTERVAL
from ansible_collections.promfleet.federation.plugins.module_utils.model.versions import (
    DEFAULT_SCHEMA_VERSION,
    check_version,
    semantics,
    version_at_least,
)

KUBERNETES_ROLES = ("node", "service", "pod", "endpoints", "endpointslice", "ingress")
# The selector roles each discovery role accepts (Prometheus' kubernetes SDConfig.UnmarshalYAML).
_SELECTOR_ROLES = {
    "node": ("node",),
    "service": ("service",),
    "pod": ("pod",),
    "endpoints": ("pod", "service", "endpoints"),
    "endpointslice": ("pod", "service", "endpointslice"),
    "ingress": ("ingress",),
}
TLS_VERSIONS = ("TLS10", "TLS11", "TLS12", "TLS13")
SCRAPE_PROTOCOLS = ("OpenMetricsText0.0.1", "OpenMetricsText1.0.0", "PrometheusProto", "PrometheusText0.0.4")
# Added by 3.0 (the text format 1.0.0, with UTF-8 names).
SCRAPE_PROTOCOLS_3 = SCRAPE_PROTOCOLS + ("PrometheusText1.0.0",)
NAME_VALIDATION_SCHEMES = ("utf8", "legacy")
NAME_ESCAPING_SCHEMES = ("allow-utf-8", "underscores", "dots", "values")
# Remote write headers Prometheus refuses to let the configuration change (lower case).
RESERVED_HEADERS = (
    "host",
    "content-encoding",
    "content-length",
    "content-type",
    "user-agent",
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "www-authenticate",
    "accept-encoding",
    "x-prometheus-remote-write-version",
    "x-prometheus-remote-read-version",
    "x-amz-date",
    "x-amz-security-token",
    "x-amz-content-sha256",
)

_RULE_FILE = re.compile(r"^[^*]*(\*[^/]*)?$")
_SD_FILE = re.compile(r"^[^*]*(\*[^/]*)?\.(json|yml|yaml|JSON|YML|YAML)$")
_SIZE = re.compile(r"^(?:0|(?:[0-9]+(?:\.[0-9]+)?(?:[KMGTPE]i?B|B))+)$")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/?#\s]+[^\s]*$")
_RELABEL_LISTS = ("relabel_configs", "metric_relabel_configs", "write_relabel_configs", "alert_relabel_configs")


# ---------------------------------------------------------------- field schemas
# Each schema maps a field to (checker, version that introduced it or None[, version that removed
# it]). A checker is called as checker(value, where, version) with ``where`` naming the field, and
# raises ConfigError.


def _copy(value):
    """A copy of a configuration tree (mappings, lists, scalars): what ``copy.deepcopy`` gives for
    YAML data, several times faster on a job with thousands of targets."""
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


def _fail(where: str, message: str) -> ConfigError:
    return ConfigError("%s: %s" % (where, message) if where else message)


def _bool(value, where, version):
    if not isinstance(value, bool):
        raise _fail(where, "must be true or false, got %r" % (value,))


def _str(value, where, version):
    if not isinstance(value, str):
        raise _fail(where, "must be a string, got %r (quote it)" % (value,))


def _nonempty_str(value, where, version):
    _str(value, where, version)
    if not value:
        raise _fail(where, "must not be empty")


def _uint(value, where, version):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _fail(where, "must be a whole number >= 0 (0 means no limit), got %r" % (value,))


def _duration(value, where, version):
    if not isinstance(value, str):
        raise _fail(where, "must be a duration string like 30s, 1m or 1h30m, got %r (quote it)" % (value,))
    try:
        parse_duration(value)
    except ValueError:
        raise _fail(where, "%r is not a duration; use e.g. 30s, 1m or 1h30m (units y w d h m s ms)" % value) from None


def _float(value, where, version):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise _fail(where, "must be a number >= 0, got %r" % (value,))


def _size(value, where, version):
    if not isinstance(value, str) or not _SIZE.match(value):
        raise _fail(where, "%r is not a size; use e.g. 10MB, 512KiB or 0 (units B KB MB GB KiB MiB GiB ...)" % (value,))


def _url(value, where, version):
    if not isinstance(value, str) or not _URL.match(value):
        raise _fail(where, "%r is not a URL; use e.g. http://host:port/path" % (value,))


def _http_url(value, where, version):
    _url(value, where, version)
    if value.split("://", 1)[0].lower() not in ("http", "https"):
        raise _fail(where, "%r must be an http:// or https:// URL" % value)


def _one_of(*choices):
    def check(value, where, version):
        if value not in choices:
            raise _fail(where, "%r is not valid; use one of %s" % (value, ", ".join(choices)))

    return check


def _list_of(item_check, non_empty=False):
    def check(value, where, version):
        if not isinstance(value, list):
            raise _fail(where, "must be a list, got %r" % (value,))
        if non_empty and not value:
            raise _fail(where, "must not be empty")
        for index, item in enumerate(value):
            item_check(item, "%s[%d]" % (where, index), version)

    return check


def _str_map(value, where, version):
    if not isinstance(value, dict):
        raise _fail(where, "must be a mapping of names to strings, got %r" % (value,))
    for key, item in value.items():
        _str(key, where, version)
        _str(item, _sub(where, key), version)


def _label_set(value, where, version):
    """A label set: valid label names (any non-empty text in 3.x), string values."""
    if not isinstance(value, dict):
        raise _fail(where, "must be a mapping of label names to values, got %r" % (value,))
    utf8 = semantics(version).utf8_names
    for name, item in value.items():
        if not isinstance(name, str) or not is_label_name(name, utf8):
            raise _fail(
                where,
                "%r is not a valid label name in Prometheus %s (%s)"
                % (name, version, "not empty" if utf8 else "letters, digits and _, not starting with a digit"),
            )
        if not isinstance(item, str):
            raise _fail(_sub(where, name), "label value must be a string, got %r (quote it)" % (item,))


def _params(value, where, version):
    if not isinstance(value, dict):
        raise _fail(where, "must be a mapping of parameter names to lists of strings, got %r" % (value,))
    for name, values in value.items():
        if not isinstance(values, list) or not all(isinstance(item, str) for item in values):
            raise _fail(
                _sub(where, name), "must be a list of strings, got %r; write [%r]" % (values, values)
            )


def _pattern(regex, what):
    def check(value, where, version):
        _str(value, where, version)
        if not regex.match(value):
            raise _fail(where, "%r is not a valid %s" % (value, what))

    return check


def _check_fields(obj, schema: dict, kind: str, where: str, version: str, owner: str = "") -> None:
    """Check the fields of ``obj`` against ``schema``: unknown fields (with a suggestion), fields
    newer than ``version``, and every value's checker. ``owner`` names what relabel rules belong
    to when ``obj`` is a discovery config (the misplaced relabel rules mistake)."""
    if not isinstance(obj, dict):
        raise _fail(where, "must be a mapping (a %s), got %r" % (kind, obj))
    for field, value in obj.items():
        if field not in schema:
            if owner and field in _RELABEL_LISTS:
                sd_list = kind + "s"
                raise _fail(
                    where,
                    "%s is not a field of a %s; relabel rules belong to the %s: move them out one level, next to %s"
                    % (field, kind, owner, sd_list),
                )
            close = difflib.get_close_matches(str(field), list(schema), n=1)
            hint = "did you mean %r?" % close[0] if close else "the fields are %s" % ", ".join(schema)
            article = "an" if kind[0] in "aeiou" else "a"
            raise _fail(where, "unknown field %r in %s %s; %s" % (field, article, kind, hint))
        check, since, *removed = schema[field]
        if since and not version_at_least(version, since):
            raise _fail(
                where,
                "%s needs Prometheus %s or newer, but the configuration targets %s; remove it or target %s"
                % (field, since, version, since),
            )
        if removed and version_at_least(version, removed[0][0]):
            until, instead = removed[0]
            raise _fail(
                where,
                "%s was removed in Prometheus %s and the configuration targets %s; %s"
                % (field, until, version, instead),
            )
        if value is None:
            continue  # YAML null: Go's zero value, the field is unset
        check(value, _sub(where, field), version)


def _sub(where: str, field: str) -> str:
    """The name of ``field`` inside ``where``: ``job "a": tls_config``, ``job "a": tls_config.ca_file``."""
    if not where:
        return field
    return "%s: %s" % (where, field) if where.endswith(('"', ")")) else "%s.%s" % (where, field)


# ---------------------------------------------------------------- HTTP client and TLS


def _tls_config(value, where, version):
    _check_fields(value, TLS_SCHEMA, "tls_config", where, version)
    if value.get("cert_file") and not value.get("key_file"):
        raise _fail(where, "cert_file %r is set without key_file; set both or neither" % value["cert_file"])
    if value.get("key_file") and not value.get("cert_file"):
        raise _fail(where, "key_file %r is set without cert_file; set both or neither" % value["key_file"])


def _basic_auth(value, where, version):
    _check_fields(value, BASIC_AUTH_SCHEMA, "basic_auth", where, version)
    if value.get("password") and value.get("password_file"):
        raise _fail(where, "password and password_file are exclusive; keep one of them")


def _authorization(value, where, version):
    _check_fields(value, AUTHORIZATION_SCHEMA, "authorization", where, version)
    if value.get("credentials") and value.get("credentials_file"):
        raise _fail(where, "credentials and credentials_file are exclusive; keep one of them")
    if str(value.get("type") or "").strip().lower() == "basic":
        raise _fail(where, 'type cannot be "Basic"; use basic_auth with username and password instead')


def _oauth2(value, where, version):
    _check_fields(value, OAUTH2_SCHEMA, "oauth2", where, version)
    if not value.get("client_id"):
        raise _fail(where, "client_id is required")
    if value.get("client_secret") and value.get("client_secret_file"):
        raise _fail(where, "client_secret and client_secret_file are exclusive; keep one of them")
    # Optional since prometheus/common made it so (measured: 2.42 refuses, 2.53 accepts; taken at 2.50).
    if not value.get("client_secret") and not value.get("client_secret_file") and not version_at_least(version, "2.50"):
        raise _fail(where, "client_secret or client_secret_file is required before Prometheus 2.50 (the configuration "
                           "targets %s)" % version)
    if not value.get("token_url"):
        raise _fail(where, "token_url is required")


def _proxy_connect_header(value, where, version):
    if not isinstance(value, dict) or not all(
        isinstance(item, list) and all(isinstance(v, str) for v in item) for item in value.values()
    ):
        raise _fail(where, "must be a mapping of header names to lists of strings, got %r" % (value,))


TLS_SCHEMA = {
    "ca_file": (_str, None),
    "ca": (_str, "2.43"),
    "cert": (_str, "2.43"),
    "key": (_str, "2.43"),
    "cert_file": (_str, None),
    "key_file": (_str, None),
    "server_name": (_str, None),
    "insecure_skip_verify": (_bool, None),
    "min_version": (_one_of(*TLS_VERSIONS), None),
    "max_version": (_one_of(*TLS_VERSIONS), None),
}
BASIC_AUTH_SCHEMA = {"username": (_str, None), "password": (_str, None), "password_file": (_str, None)}
AUTHORIZATION_SCHEMA = {"type": (_str, None), "credentials": (_str, None), "credentials_file": (_str, None)}
OAUTH2_SCHEMA = {
    "client_id": (_str, None),
    "client_secret": (_str, None),
    "client_secret_file": (_str, None),
    "scopes": (_list_of(_str), None),
    "token_url": (_url, None),
    "endpoint_params": (_str_map, None),
    "tls_config": (_tls_config, None),
    "proxy_url": (_url, None),
}


def _http_headers(value, where, version):
    if not isinstance(value, dict):
        raise _fail(where, "must be a mapping of header names to {values, secrets, files}, got %r" % (value,))
    for name, spec in value.items():
        _check_fields(spec, HTTP_HEADER_SCHEMA, "http header", _sub(where, name), version)


HTTP_HEADER_SCHEMA = {"values": (_list_of(_str), None), "secrets": (_list_of(_str), None),
                      "files": (_list_of(_str), None)}


HTTP_CLIENT_SCHEMA = {
    "basic_auth": (_basic_auth, None),
    "authorization": (_authorization, None),
    "oauth2": (_oauth2, None),
    "bearer_token": (_str, None),
    "bearer_token_file": (_str, None),
    "tls_config": (_tls_config, None),
    "proxy_url": (_url, None),
    "no_proxy": (_str, "2.43"),
    "proxy_from_environment": (_bool, "2.43"),
    "proxy_connect_header": (_proxy_connect_header, "2.43"),
    "follow_redirects": (_bool, None),
    "enable_http2": (_bool, None),
    "http_headers": (_http_headers, "2.55"),
}


def _check_http_client(obj: dict, where: str) -> None:
    """The exclusions of Prometheus' ``HTTPClientConfig.Validate``, in its order."""
    bearer = [f for f in ("bearer_token", "bearer_token_file") if obj.get(f)]
    if len(bearer) == 2:
        raise _fail(where, "bearer_token and bearer_token_file are exclusive; keep one of them")
    if bearer and (obj.get("basic_auth") or obj.get("oauth2")):
        other = "basic_auth" if obj.get("basic_auth") else "oauth2"
        raise _fail(where, "%s and %s are exclusive; use only one way to authenticate" % (bearer[0], other))
    if bearer and obj.get("authorization"):
        raise _fail(
            where,
            "%s and authorization are exclusive; put the token in authorization.credentials "
            "(or authorization.credentials_file) and remove %s" % (bearer[0], bearer[0]),
        )
    auths = [f for f in ("basic_auth", "oauth2", "authorization") if obj.get(f)]
    if len(auths) > 1:
        raise _fail(where, "%s are exclusive; use only one way to authenticate" % " and ".join(auths))


# ---------------------------------------------------------------- service discovery


def _static_config(value, where, version, owner="scrape job"):
    _check_fields(value, STATIC_SCHEMA, "static_config", where, version, owner)
    for index, target in enumerate(value.get("targets") or []):
        if "/" in target:
            raise _fail(
                "%s.targets[%d]" % (where, index),
                "%r is not a valid target; write host:port, without scheme or path (set scheme and "
                "metrics_path on the job)" % target,
            )


def check_target_file(groups, where: str, version: str) -> None:
    """A file_sd target file's content: a list of target groups (``targets`` and ``labels``), each
    as a static_config would be; ConfigError naming ``where`` and the group otherwise."""
    if not isinstance(groups, list):
        raise _fail(where, "a target file must be a list of target groups ({targets: [...], labels: {...}}), "
                           "got %s" % type(groups).__name__)
    for index, group in enumerate(groups):
        _static_config(group, "%s[%d]" % (where, index), version, owner="target file")


def _file_sd_config(value, where, version, owner="scrape job"):
    _check_fields(value, FILE_SD_SCHEMA, "file_sd_config", where, version, owner)
    if not value.get("files"):
        raise _fail(where, "files must list at least one file (a .json, .yml or .yaml path or glob)")


def _kubernetes_sd_config(value, where, version, owner="scrape job"):
    _check_fields(value, KUBERNETES_SD_SCHEMA, "kubernetes_sd_config", where, version, owner)
    role = value.get("role")
    if not role:
        raise _fail(where, "role is required; use one of %s" % ", ".join(KUBERNETES_ROLES))
    if value.get("api_server") and value.get("kubeconfig_file"):
        raise _fail(where, "api_server and kubeconfig_file are exclusive; keep one of them")
    http_fields = [f for f in HTTP_CLIENT_SCHEMA if f not in ("follow_redirects", "enable_http2") and f in value]
    if http_fields and not value.get("api_server"):
        raise _fail(
            where,
            "%s needs api_server: set the API server URL explicitly to use a custom HTTP client configuration"
            % http_fields[0],
        )
    _check_http_client(value, where)
    seen = set()
    for index, selector in enumerate(value.get("selectors") or []):
        selector_role = selector.get("role")
        if selector_role not in _SELECTOR_ROLES[role]:
            raise _fail(
                "%s.selectors[%d]" % (where, index),
                "role %r is not valid for discovery role %s; use %s"
                % (selector_role, role, " or ".join(_SELECTOR_ROLES[role])),
            )
        if selector_role in seen:
            raise _fail("%s.selectors[%d]" % (where, index), "role %s has a selector already" % selector_role)
        seen.add(selector_role)


def _sd_list(check, owner):
    def check_list(value, where, version):
        if not isinstance(value, list):
            raise _fail(where, "must be a list, got %r" % (value,))
        for index, item in enumerate(value):
            check(item, "%s[%d]" % (where, index), version, owner)

    return check_list


STATIC_SCHEMA = {"targets": (_list_of(_str), None), "labels": (_label_set, None)}
FILE_SD_SCHEMA = {
    "files": (_list_of(_pattern(_SD_FILE, "file discovery path (a .json, .yml or .yaml path or glob)")), None),
    "refresh_interval": (_duration, None),
}
NAMESPACES_SCHEMA = {"names": (_list_of(_str), None), "own_namespace": (_bool, None)}
SELECTOR_SCHEMA = {"role": (_one_of(*KUBERNETES_ROLES), None), "label": (_str, None), "field": (_str, None)}
KUBERNETES_SD_SCHEMA = dict(
    {
        "role": (_one_of(*KUBERNETES_ROLES), None),
        "api_server": (_http_url, None),
        "kubeconfig_file": (_str, None),
        "namespaces": (lambda v, w, ver: _check_fields(v, NAMESPACES_SCHEMA, "namespaces config", w, ver), None),
        "selectors": (_list_of(lambda v, w, ver: _check_fields(v, SELECTOR_SCHEMA, "selector", w, ver)), None),
        "attach_metadata": (lambda v, w, ver: _check_fields(v, {"node": (_bool, None)}, "attach_metadata", w, ver),
                            None),
    },
    **HTTP_CLIENT_SCHEMA,
)


DNS_SD_SCHEMA = {
    "names": (_list_of(_nonempty_str, non_empty=True), None),
    "type": (_one_of("SRV", "A", "AAAA", "MX", "NS"), None),
    "port": (_uint, None),
    "refresh_interval": (_duration, None),
}


def _dns_sd_config(value, where, version, owner="scrape job"):
    _check_fields(value, DNS_SD_SCHEMA, "dns_sd_config", where, version, owner)
    if not value.get("names"):
        raise _fail(where, "names must list at least one DNS name")
    if value.get("type", "SRV") in ("A", "AAAA", "MX", "NS") and not value.get("port"):
        raise _fail(where, "a port is required for type %s records (SRV records carry their own)" % value["type"])


HTTP_SD_SCHEMA = dict({"url": (_http_url, None), "refresh_interval": (_duration, None)}, **HTTP_CLIENT_SCHEMA)


def _http_sd_config(value, where, version, owner="scrape job"):
    _check_fields(value, HTTP_SD_SCHEMA, "http_sd_config", where, version, owner)
    if not value.get("url"):
        raise _fail(where, "url is required: the HTTP endpoint that lists the targets as JSON")
    _check_http_client(value, where)


def _sd_schema(owner: str) -> dict:
    return {
        "static_configs": (_sd_list(_static_config, owner), None),
        "file_sd_configs": (_sd_list(_file_sd_config, owner), None),
        "kubernetes_sd_configs": (_sd_list(_kubernetes_sd_config, owner), None),
        "dns_sd_configs": (_sd_list(_dns_sd_config, owner), None),
        "http_sd_configs": (_sd_list(_http_sd_config, owner), None),
    }


# ---------------------------------------------------------------- scrape jobs


def _relabel(value, where, version):
    """Validated by ``_normalize_relabel`` (kept in the schema so the field is known)."""


def _protocols(version):
    return SCRAPE_PROTOCOLS_3 if version_at_least(version, "3.0") else SCRAPE_PROTOCOLS


def _scrape_protocols(value, where, version):
    _list_of(_one_of(*_protocols(version)), non_empty=True)(value, where, version)
    if len(set(value)) != len(value):
        raise _fail(where, "lists a protocol twice; list each protocol once")


def _scrape_protocol(value, where, version):
    _one_of(*_protocols(version))(value, where, version)


_CLASSIC_HISTOGRAMS_RENAMED = ("3.0", "use always_scrape_classic_histograms")

# Scrape job fields that 3.x also takes in the global section (global defaults of every job).
SCRAPE_DEFAULTS_SCHEMA = {
    "scrape_protocols": (_scrape_protocols, "2.49"),
    "body_size_limit": (_size, "2.45"),
    "sample_limit": (_uint, "2.45"),
    "target_limit": (_uint, "2.45"),
    "label_limit": (_uint, "2.45"),
    "label_name_length_limit": (_uint, "2.45"),
    "label_value_length_limit": (_uint, "2.45"),
    "keep_dropped_targets": (_uint, "2.47"),
    "metric_name_validation_scheme": (_one_of(*NAME_VALIDATION_SCHEMES), "3.0"),
    "metric_name_escaping_scheme": (_one_of(*NAME_ESCAPING_SCHEMES), "3.4"),
    "scrape_failure_log_file": (_str, "2.55"),
    "always_scrape_classic_histograms": (_bool, "3.0"),
    "convert_classic_histograms_to_nhcb": (_bool, "3.0"),
}


SCRAPE_SCHEMA = dict(
    {
        "job_name": (_nonempty_str, None),
        "honor_labels": (_bool, None),
        "honor_timestamps": (_bool, None),
        "track_timestamps_staleness": (_bool, "2.48"),
        "params": (_params, None),
        "scrape_interval": (_duration, None),
        "scrape_timeout": (_duration, None),
        "scrape_protocols": (_scrape_protocols, "2.49"),
        "metrics_path": (_str, None),
        "scheme": (_one_of("http", "https"), None),
        "enable_compression": (_bool, "2.49"),
        "body_size_limit": (_size, None),
        "sample_limit": (_uint, None),
        "target_limit": (_uint, None),
        "label_limit": (_uint, None),
        "label_name_length_limit": (_uint, None),
        "label_value_length_limit": (_uint, None),
        "native_histogram_bucket_limit": (_uint, "2.45"),
        "native_histogram_min_bucket_factor": (_float, "2.50"),
        "keep_dropped_targets": (_uint, "2.47"),
        "scrape_classic_histograms": (_bool, "2.45", _CLASSIC_HISTOGRAMS_RENAMED),
        "always_scrape_classic_histograms": (_bool, "3.0"),
        "convert_classic_histograms_to_nhcb": (_bool, "3.0"),
        "fallback_scrape_protocol": (_scrape_protocol, "3.0"),
        "metric_name_validation_scheme": (_one_of(*NAME_VALIDATION_SCHEMES), "3.0"),
        "metric_name_escaping_scheme": (_one_of(*NAME_ESCAPING_SCHEMES), "3.4"),
        "scrape_failure_log_file": (_str, "2.55"),
        "relabel_configs": (_relabel, None),
        "metric_relabel_configs": (_relabel, None),
    },
    **HTTP_CLIENT_SCHEMA,
    **_sd_schema("scrape job"),
)


def _normalize_relabel(obj: dict, out: dict, fields, where: str, version: str) -> None:
    """Replace each relabel list of ``obj`` in ``out`` by its fully explicit rule dicts."""
    for field in fields:
        if obj.get(field) is None:
            continue
        try:
            rules = parse_rules(obj[field], "%s, %s" % (where, field), version)
        except RelabelError as exc:
            raise ConfigError(str(exc)) from None
        out[field] = [_rule_dict(rule) for rule in rules]


def _rule_dict(rule) -> dict:
    """A parsed rule as a plain dict with Prometheus field names, every field explicit except the
    ones Prometheus refuses for the action even at their default values."""
    result = rule.as_dict()
    if rule.action in ("keepequal", "dropequal"):
        del result["regex"]  # Prometheus refuses any regex here, even "(.*)"
    if rule.action in ("labeldrop", "labelkeep"):
        del result["source_labels"]  # an explicit empty list is refused as well
    return result


def _duration_ms(value) -> int:
    return parse_duration(value) if value else 0


def normalize_scrape_config(
    job: dict, version: str = DEFAULT_SCHEMA_VERSION, global_config: dict | None = None, where: str = ""
) -> dict:
    """Validate one scrape config like Prometheus ``version`` and return it normalized: a copy with
    the same fields in the same order, relabel lists in their fully explicit form.

    ``global_config`` gives the global ``scrape_interval``/``scrape_timeout`` the job inherits;
    ``where`` names the job in errors when it has no usable ``job_name`` (e.g. ``scrape_configs[2]``).
    Raises ConfigError.
    """
    check_version(version)
    global_config = global_config or {}
    if not isinstance(job, dict):
        raise _fail(where or "scrape config", "must be a mapping with job_name and the job's fields, got %r" % (job,))
    name = job.get("job_name")
    if not isinstance(name, str) or not name:
        raise _fail(where or "scrape config", "job_name is required: a non-empty string naming the job")
    prefix = 'job "%s"' % name
    _check_fields(job, SCRAPE_SCHEMA, "scrape config", prefix, version)
    _check_http_client(job, prefix)

    interval_text = job.get("scrape_interval")
    if _duration_ms(interval_text):
        interval_what = "scrape_interval %s" % interval_text
    elif _duration_ms(global_config.get("scrape_interval")):
        interval_text = global_config["scrape_interval"]
        interval_what = "the global scrape_interval %s" % interval_text
    else:
        interval_text = DEFAULT_SCRAPE_INTERVAL
        interval_what = "the default scrape_interval %s" % interval_text
    timeout_text = job.get("scrape_timeout")
    if _duration_ms(timeout_text) > parse_duration(interval_text):
        raise _fail(
            prefix,
            "scrape_timeout %s is greater than %s; make the timeout at most the interval"
            % (timeout_text, interval_what),
        )

    out = _copy(job)
    _normalize_relabel(job, out, ("relabel_configs", "metric_relabel_configs"), prefix, version)
    return out


# ---------------------------------------------------------------- the whole configuration


def _global(value, where, version):
    _check_fields(value, GLOBAL_SCHEMA, "global config", where, version)
    interval = _duration_ms(value.get("scrape_interval")) or parse_duration(DEFAULT_SCRAPE_INTERVAL)
    if _duration_ms(value.get("scrape_timeout")) > interval:
        raise _fail(
            where,
            "scrape_timeout %s is greater than scrape_interval %s; make the timeout at most the interval"
            % (value["scrape_timeout"], value.get("scrape_interval") or DEFAULT_SCRAPE_INTERVAL),
        )


GLOBAL_SCHEMA = dict(
    {
        "scrape_interval": (_duration, None),
        "scrape_timeout": (_duration, None),
        "evaluation_interval": (_duration, None),
        "rule_query_offset": (_duration, "2.53"),
        "external_labels": (_label_set, None),
        "query_log_file": (_str, None),
    },
    **SCRAPE_DEFAULTS_SCHEMA,
)

QUEUE_SCHEMA = {
    "capacity": (_uint, None),
    "max_shards": (_uint, None),
    "min_shards": (_uint, None),
    "max_samples_per_send": (_uint, None),
    "batch_send_deadline": (_duration, None),
    "min_backoff": (_duration, None),
    "max_backoff": (_duration, None),
    "retry_on_http_429": (_bool, None),
    "sample_age_limit": (_duration, "2.50"),
}
METADATA_SCHEMA = {"send": (_bool, None), "send_interval": (_duration, None), "max_samples_per_send": (_uint, None)}
SIGV4_SCHEMA = {
    "region": (_str, None),
    "access_key": (_str, None),
    "secret_key": (_str, None),
    "profile": (_str, None),
    "role_arn": (_str, None),
}


def _remote_headers(value, where, version):
    _str_map(value, where, version)
    for header in value:
        if header.lower() == "authorization":
            raise _fail(where, "%s cannot be set as a header; use basic_auth, authorization, oauth2 or sigv4" % header)
        if header.lower() in RESERVED_HEADERS:
            raise _fail(where, "%s is a header Prometheus sets itself; remove it" % header)


REMOTE_WRITE_SCHEMA = dict(
    {
        "url": (_http_url, None),
        "name": (_str, None),
        "remote_timeout": (_duration, None),
        "headers": (_remote_headers, None),
        "write_relabel_configs": (_relabel, None),
        "send_exemplars": (_bool, None),
        "send_native_histograms": (_bool, None),
        "protobuf_message": (_one_of("prometheus.WriteRequest", "io.prometheus.write.v2.Request"), "3.0"),
        "round_robin_dns": (_bool, "3.0"),
        "sigv4": (lambda v, w, ver: _check_fields(v, SIGV4_SCHEMA, "sigv4", w, ver), None),
        "queue_config": (lambda v, w, ver: _check_fields(v, QUEUE_SCHEMA, "queue_config", w, ver), None),
        "metadata_config": (lambda v, w, ver: _check_fields(v, METADATA_SCHEMA, "metadata_config", w, ver), None),
    },
    **HTTP_CLIENT_SCHEMA,
)


def _api_version(value, where, version):
    _one_of("v1", "v2")(value, where, version)
    if value == "v1" and version_at_least(version, "3.0"):
        raise _fail(where, "v1 was removed in Prometheus 3.0 and the configuration targets %s; use v2" % version)


ALERTMANAGER_SCHEMA = dict(
    {
        "timeout": (_duration, None),
        "api_version": (_api_version, None),
        "path_prefix": (_str, None),
        "scheme": (_one_of("http", "https"), None),
        "relabel_configs": (_relabel, None),
    },
    **HTTP_CLIENT_SCHEMA,
    **_sd_schema("alertmanager config"),
)
ALERTING_SCHEMA = {"alert_relabel_configs": (_relabel, None), "alertmanagers": (_list_of(lambda v, w, ver: None), None)}


def _named(where: str, index: int, item) -> str:
    name = item.get("name") if isinstance(item, dict) else None
    return '%s[%d] ("%s")' % (where, index, name) if name else "%s[%d]" % (where, index)


def _normalize_remote_write(value, version: str) -> list:
    if not isinstance(value, list):
        raise _fail("remote_write", "must be a list of remote write configs, got %r" % (value,))
    names: dict = {}
    result = []
    for index, item in enumerate(value):
        where = _named("remote_write", index, item)
        if not isinstance(item, dict):
            raise _fail(where, "must be a mapping with url and the remote write fields, got %r" % (item,))
        name = item.get("name")
        if name and name in names:
            raise _fail(
                where, 'name "%s" is already used by remote_write[%d]; names must be unique' % (name, names[name])
            )
        if name:
            names[name] = index
        _check_fields(item, REMOTE_WRITE_SCHEMA, "remote_write config", where, version)
        if not item.get("url"):
            raise _fail(where, "url is required (e.g. https://receiver.example.org/api/v1/write)")
        _check_http_client(item, where)
        if item.get("sigv4") and any(item.get(f) for f in ("basic_auth", "authorization", "oauth2")):
            raise _fail(where, "sigv4 and the other ways to authenticate are exclusive; use only one")
        out = _copy(item)
        _normalize_relabel(item, out, ("write_relabel_configs",), where, version)
        result.append(out)
    return result


def _normalize_alerting(value, version: str) -> dict:
    _check_fields(value, ALERTING_SCHEMA, "alerting config", "alerting", version)
    out = _copy(value)
    _normalize_relabel(value, out, ("alert_relabel_configs",), "alerting", version)
    managers = []
    for index, item in enumerate(value.get("alertmanagers") or []):
        where = "alerting.alertmanagers[%d]" % index
        _check_fields(item, ALERTMANAGER_SCHEMA, "alertmanager config", where, version)
        _check_http_client(item, where)
        manager = _copy(item)
        _normalize_relabel(item, manager, ("relabel_configs",), where, version)
        managers.append(manager)
    if value.get("alertmanagers") is not None:
        out["alertmanagers"] = managers
    return out


REMOTE_READ_SCHEMA = dict(
    {
        "url": (_http_url, None),
        "name": (_str, None),
        "remote_timeout": (_duration, None),
        "headers": (_remote_headers, None),
        "read_recent": (_bool, None),
        "required_matchers": (_str_map, None),
        "filter_external_labels": (_bool, None),
    },
    **HTTP_CLIENT_SCHEMA,
)
STORAGE_SCHEMA = {
    "tsdb": (lambda v, w, ver: _check_fields(v, {"out_of_order_time_window": (_duration, None)}, "tsdb config", w,
                                             ver), None),
    "exemplars": (lambda v, w, ver: _check_fields(v, {"max_exemplars": (_uint, None)}, "exemplars config", w, ver),
                  None),
}
TRACING_SCHEMA = {
    "client_type": (_one_of("grpc", "http"), None),
    "endpoint": (_str, None),
    "sampling_fraction": (_float, None),
    "insecure": (_bool, None),
    "tls_config": (_tls_config, None),
    "headers": (_str_map, None),
    "compression": (_one_of("gzip", ""), None),
    "timeout": (_duration, None),
}
OTLP_SCHEMA = {
    "promote_resource_attributes": (_list_of(_nonempty_str), "2.54"),
    "translation_strategy": (_one_of("UnderscoreEscapingWithSuffixes", "NoUTF8EscapingWithSuffixes",
                                     "NoTranslation", "UnderscoreEscapingWithoutSuffixes"), "3.0"),
    "keep_identifying_resource_attributes": (_bool, "3.1"),
    "convert_histograms_to_nhcb": (_bool, "3.4"),
    "promote_all_resource_attributes": (_bool, "3.5"),
    "ignore_resource_attributes": (_list_of(_nonempty_str), "3.5"),
}


def _remote_read(value, where, version):
    _list_of(lambda v, w, ver: None)(value, where, version)
    for index, item in enumerate(value):
        item_where = _named(where, index, item)
        _check_fields(item, REMOTE_READ_SCHEMA, "remote_read config", item_where, version)
        if not item.get("url"):
            raise _fail(item_where, "url is required (e.g. https://store.example.org/api/v1/read)")
        _check_http_client(item, item_where)


TOP_LEVEL_SCHEMA = {
    "global": (_global, None),
    "rule_files": (_list_of(_pattern(_RULE_FILE, "rule file path (a path or a glob with * in the file name)")), None),
    "scrape_config_files": (
        _list_of(_pattern(_RULE_FILE, "scrape config file path (a path or a glob with * in the file name)")),
        "2.43",
    ),
    "scrape_configs": (_list_of(lambda v, w, ver: None), None),
    "remote_write": (_list_of(lambda v, w, ver: None), None),
    "remote_read": (_remote_read, None),
    "alerting": (lambda v, w, ver: None, None),
    "storage": (lambda v, w, ver: _check_fields(v, STORAGE_SCHEMA, "storage config", w, ver), None),
    "tracing": (lambda v, w, ver: _check_fields(v, TRACING_SCHEMA, "tracing config", w, ver), None),
    "otlp": (lambda v, w, ver: _check_fields(v, OTLP_SCHEMA, "otlp config", w, ver), "2.54"),
    "runtime": (lambda v, w, ver: _check_fields(v, {"gogc": (_uint, None)}, "runtime config", w, ver), "2.53"),
}


def normalize_config(config: dict, version: str = DEFAULT_SCHEMA_VERSION) -> dict:
    """Validate a whole prometheus.yml (as a dict) like Prometheus ``version`` and return it
    normalized: same sections in the same order, relabel lists fully explicit. Raises ConfigError."""
    check_version(version)
    if config is None:
        return {}
    if not isinstance(config, dict):
        raise ConfigError("the configuration must be a mapping (prometheus.yml), got %r" % (config,))
    _check_fields(config, TOP_LEVEL_SCHEMA, "Prometheus configuration", "", version)
    out = _copy(config)
    global_config = config.get("global") or {}
    if config.get("scrape_configs") is not None:
        seen: dict = {}
        jobs = []
        for index, job in enumerate(config["scrape_configs"]):
            where = "scrape_configs[%d]" % index
            jobs.append(normalize_scrape_config(job, version, global_config, where))
            name = job["job_name"]
            if name in seen:
                raise _fail(
                    where,
                    'job "%s" is already defined by scrape_configs[%d]; job names must be unique' % (name, seen[name]),
                )
            seen[name] = index
        out["scrape_configs"] = jobs
    if config.get("remote_write") is not None:
        out["remote_write"] = _normalize_remote_write(config["remote_write"], version)
    if config.get("alerting") is not None:
        out["alerting"] = _normalize_alerting(config["alerting"], version)
    return out


def engine(version: str = DEFAULT_SCHEMA_VERSION):
    """``normalize_config`` for ``version``: the check host/config_files.plan takes as its engine."""
    return functools.partial(normalize_config, version=version)
