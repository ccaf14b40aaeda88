# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""The alertmanager.yml model, as pure functions: validation of a whole configuration the way a
given Alertmanager release line loads it, redaction of its secrets, and the routing tree's answer
for one alert (which receivers, after how long).

``normalize_alertmanager_config`` returns a copy of the input, unchanged (same keys, same order, no
defaults added), once every check passed. Errors are ``AlertmanagerConfigError`` naming the path
(``route.routes[1].routes[0]``, ``receivers[2] (name 'pager'): webhook_configs[0].url``,
``inhibit_rules[0].equal``) and what would be right.

Release lines: 0.25 (Debian bookworm's, the default) to 0.28. The field sets are 0.25's, measured
with Debian's ``amtool check-config`` 0.25.0 (tests/integration/test_alertmanager_amtool.py, which
also lists where the model is stricter). What later lines added, as modelled here (a field the
targeted line does not have is refused naming both lines):

- 0.26: ``msteams_configs`` (accepted as a mapping of its own fields, not checked field by field);
  in ``http_config``, ``no_proxy`` and ``proxy_from_environment``, and ``ca``, ``cert``, ``key``
  in ``tls_config`` (prometheus/common of that build).
- 0.27: ``oauth2`` without ``client_secret`` (prometheus/common made it optional).
- 0.28: ``jira_configs``, ``rocketchat_configs``, ``msteamsv2_configs`` (accepted as mappings),
  the globals ``jira_api_url``, ``rocketchat_api_url``, ``rocketchat_token[_file]``,
  ``rocketchat_token_id[_file]``; ``http_headers`` in ``http_config``; regular expressions with
  ``(?<name>re)`` (built with Go 1.22 or newer).

Other fields these lines added (``webhook_configs[].url_file``, ``telegram_configs[].bot_token_file``,
``email_configs[].auth_secret_file``, ``global.smtp_tls_config``, ...) are not modelled: they are
refused as unknown on every line. The matcher syntax is the classic one of 0.25, which 0.27 and
0.28 still accept (their UTF-8 matchers fall back to it); their extensions, such as quoted label
names, are refused.

Checked beyond the fields: a route naming an unknown receiver or time interval, a bad matcher or
regular expression, durations (Prometheus syntax; ``group_interval`` and ``repeat_interval`` not
zero), the root route (a receiver, no matchers, no ``continue``, no time intervals), duplicate
receiver and time interval names, and two mistakes Alertmanager accepts silently (refused here on
purpose): a route whose matchers, with those of its parents, contradict each other (``a="x"`` and
``a="y"``), and a route after a sibling without matchers and without ``continue``, which takes
every alert that reaches it.
"""

from __future__ import annotations

import difflib
import re
import urllib.parse

from ansible_collections.promfleet.federation.plugins.module_utils.errors import (
    AlertmanagerConfigError,
    LabelSetError,
)
from ansible_collections.promfleet.federation.plugins.module_utils.model.alertmanager_matchers import (
    Matcher,
    contradiction,
    matches_all,
    parse_matchers,
)
from ansible_collections.promfleet.federation.plugins.module_utils.model.durations import parse_duration
from ansible_collections.promfleet.federation.plugins.module_utils.model.relabel import is_label_name
from ansible_collections.promfleet.federation.plugins.module_utils.model.versions import (
    version_at_least,
    version_tuple,
)

ALERTMANAGER_VERSIONS = ("0.25", "0.26", "0.27", "0.28")
# Debian bookworm's prometheus-alertmanager.
DEFAULT_ALERTMANAGER_VERSION = "0.25"
# What Alertmanager shows instead of a secret (its Secret and SecretURL types).
SECRET = "<secret>"
# The root route's defaults (Alertmanager's dispatch.DefaultRouteOpts).
DEFAULT_GROUP_WAIT = "30s"
DEFAULT_GROUP_INTERVAL = "5m"
DEFAULT_REPEAT_INTERVAL = "4h"
TLS_VERSIONS = ("TLS10", "TLS11", "TLS12", "TLS13")

_GO_DURATION = re.compile(r"[-+]?(?:0|(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:ns|us|\u00b5s|\u03bcs|ms|s|m|h))+)")
_TIME_OF_DAY = re.compile(r"(?:[01][0-9]|2[0-3]):[0-5][0-9]|24:00")
_WEEKDAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december")


# ---------------------------------------------------------------- paths and values
# A checker is called as checker(value, where, version) with ``where`` naming the value, and raises
# AlertmanagerConfigError.


def _fail(where: str, message: str) -> AlertmanagerConfigError:
    return AlertmanagerConfigError("%s: %s" % (where, message) if where else message)


def _sub(where: str, field: str) -> str:
    """``field`` inside ``where``: ``route.group_wait``, ``receivers[0] (name 'a'): webhook_configs``."""
    if not where:
        return field
    return "%s: %s" % (where, field) if where.endswith(")") else "%s.%s" % (where, field)


def _named(where: str, index: int, item) -> str:
    """``receivers[2] (name 'pager')``, or ``receivers[2]`` when the item has no usable name."""
    name = item.get("name") if isinstance(item, dict) else None
    return "%s[%d] (name %r)" % (where, index, name) if isinstance(name, str) and name else "%s[%d]" % (where, index)


def _str(value, where, version):
    if not isinstance(value, str):
        raise _fail(where, "must be a string, got %r (quote it)" % (value,))


def _bool(value, where, version):
    if not isinstance(value, bool):
        raise _fail(where, "must be true or false, got %r" % (value,))


def _uint(value, where, version):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _fail(where, "must be a whole number >= 0, got %r" % (value,))


def _int(value, where, version):
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(where, "must be a whole number, got %r" % (value,))


def _duration(value, where, version):
    """A Prometheus duration (``30s``, ``1h30m``, ``1d``), as Alertmanager's model.Duration."""
    if not isinstance(value, str):
        raise _fail(where, "must be a duration string like 30s, 5m or 1h30m, got %r (quote it)" % (value,))
    try:
        parse_duration(value)
    except ValueError:
        raise _fail(where, "%r is not a duration; use e.g. 30s, 5m or 1h30m (units y w d h m s ms, largest first)"
                    % value) from None


def _go_duration(value, where, version):
    """A Go duration (``1m``, ``1.5h``, ``300ms``), as Pushover's ``retry`` and ``expire``."""
    if not isinstance(value, str) or not _GO_DURATION.fullmatch(value):
        raise _fail(where, "%r is not a Go duration; use e.g. 30s, 1m or 1.5h (units h m s ms us ns)" % (value,))


def _url(value, where, version, secret=False, hidden=False):
    """Alertmanager's URL type: an http or https URL with a host. ``secret``: a SecretURL, which also
    takes back its own redaction ``<secret>``; ``hidden``: not shown in messages (a secret)."""
    _str(value, where, version)
    if secret and value == SECRET:
        return
    shown = "the URL" if secret or hidden else repr(value)
    try:
        parts = urllib.parse.urlsplit(value)
    except ValueError as exc:
        raise _fail(where, "%s is not a valid URL: %s" % (shown, exc)) from None
    if parts.scheme.lower() not in ("http", "https"):
        raise _fail(where, "%s must be an http:// or https:// URL (scheme %r)" % (shown, parts.scheme))
    if not parts.hostname:
        raise _fail(where, "%s has no host; write e.g. https://host.example.org/path" % shown)


def _secret_url(value, where, version):
    _url(value, where, version, secret=True)


def _webhook_url(value, where, version):
    """A webhook URL: a plain URL in 0.25 (``<secret>`` is refused), a secret all the same."""
    _url(value, where, version, hidden=True)


def _host_port(value, where, version):
    """``host:port`` as Go's net.SplitHostPort takes it (``[::1]:25`` for IPv6); empty is unset."""
    _str(value, where, version)
    if not value:
        return
    if value.startswith("["):
        end = value.find("]")
        ok = end > 0 and value[end + 1:end + 2] == ":" and "]" not in value[end + 1:]
        port = value[end + 2:] if ok else ""
    else:
        ok = value.count(":") == 1
        port = value.rsplit(":", 1)[-1] if ok else ""
    if not ok:
        raise _fail(where, "%r is not host:port (e.g. smtp.example.org:587, [2001:db8::1]:25)" % value)
    if not port:
        raise _fail(where, "%r has an empty port; write host:port, e.g. smtp.example.org:587" % value)


def _one_of(*choices):
    def check(value, where, version):
        if value not in choices:
            raise _fail(where, "%r is not valid; use one of %s" % (value, ", ".join(choices)))

    return check


def _list_of(item_check):
    def check(value, where, version):
        if not isinstance(value, list):
            raise _fail(where, "must be a list, got %r" % (value,))
        for index, item in enumerate(value):
            item_check(item, "%s[%d]" % (where, index), version)

    return check


def _str_map(value, where, version):
    if not isinstance(value, dict):
        raise _fail(where, "must be a mapping of names to strings, got %r" % (value,))
    for key, item in value.items():
        _str(key, where, version)
        _str(item, _sub(where, key), version)


def _label_name(value, where, version):
    if not isinstance(value, str) or not is_label_name(value):
        raise _fail(where, "%r is not a valid label name (letters, digits and _, not starting with a digit)"
                    % (value,))


def _any(value, where, version):
    """A field kept as it is (a later line's receiver, not modelled field by field)."""


def _mapping(schema: dict, kind: str, check=None):
    """A checker for a mapping of ``schema``'s fields, then ``check(value, where, version)``."""

    def check_mapping(value, where, version):
        _check_fields(value, schema, kind, where, version)
        if check:
            check(value, where, version)

    return check_mapping


def _check_fields(obj, schema: dict, kind: str, where: str, version: str) -> None:
    """Check the fields of ``obj`` against ``schema`` (field -> (checker, line that added it or
    None)): unknown fields (with a suggestion), fields newer than ``version``, each value. A null
    value is the field unset, as Alertmanager reads YAML."""
    if not isinstance(obj, dict):
        raise _fail(where, "must be a mapping (a %s), got %r" % (kind, obj))
    for field, value in obj.items():
        if field not in schema:
            close = difflib.get_close_matches(str(field), list(schema), n=1)
            hint = "did you mean %r?" % close[0] if close else "the fields are %s" % ", ".join(schema)
            article = "an" if kind[0].lower() in "aeiou" else "a"
            raise _fail(where, "unknown field %r in %s %s; %s" % (field, article, kind, hint))
        check, since = schema[field]
        if since and not version_at_least(version, since):
            raise _fail(where, "%s needs Alertmanager %s or newer, but the configuration targets %s; remove it or "
                               "target %s" % (field, since, version, since))
        if value is not None:
            check(value, _sub(where, field), version)


def _set(obj: dict, field: str) -> bool:
    """Whether ``field`` is set to something other than Go's zero value."""
    return obj.get(field) not in (None, "", [], {})


def _exclusive(obj: dict, where: str, first: str, second: str) -> None:
    if _set(obj, first) and _set(obj, second):
        raise _fail(where, "%s and %s are exclusive; keep one of them" % (first, second))


def _fields(check, *names, since=None) -> dict:
    return {name: (check, since) for name in names}


# ---------------------------------------------------------------- HTTP client (prometheus/common)


def _tls_config(value, where, version):
    _check_fields(value, TLS_SCHEMA, "tls_config", where, version)


def _basic_auth(value, where, version):
    _check_fields(value, BASIC_AUTH_SCHEMA, "basic_auth", where, version)
    _exclusive(value, where, "password", "password_file")


def _authorization(value, where, version):
    _check_fields(value, AUTHORIZATION_SCHEMA, "authorization", where, version)
    _exclusive(value, where, "credentials", "credentials_file")
    if str(value.get("type") or "").strip().lower() == "basic":
        raise _fail(where, 'type cannot be "Basic"; use basic_auth with username and password instead')


def _oauth2(value, where, version):
    _check_fields(value, OAUTH2_SCHEMA, "oauth2", where, version)
    if not _set(value, "client_id"):
        raise _fail(where, "client_id is required")
    _exclusive(value, where, "client_secret", "client_secret_file")
    secret = _set(value, "client_secret") or _set(value, "client_secret_file")
    if not secret and not version_at_least(version, "0.27"):
        raise _fail(where, "client_secret or client_secret_file is required before Alertmanager 0.27 (the "
                           "configuration targets %s)" % version)
    if not _set(value, "token_url"):
        raise _fail(where, "token_url is required")


def _proxy_connect_header(value, where, version):
    if not isinstance(value, dict) or not all(
        isinstance(item, list) and all(isinstance(v, str) for v in item) for item in value.values()
    ):
        raise _fail(where, "must be a mapping of header names to lists of strings, got %r" % (value,))


def _http_headers(value, where, version):
    if not isinstance(value, dict):
        raise _fail(where, "must be a mapping of header names to {values, secrets, files}, got %r" % (value,))
    for name, spec in value.items():
        _check_fields(spec, HTTP_HEADER_SCHEMA, "http header", _sub(where, name), version)


def _http_config(value, where, version):
    """prometheus/common's HTTPClientConfig and the exclusions of its Validate, in its order."""
    _check_fields(value, HTTP_CONFIG_SCHEMA, "http_config", where, version)
    _exclusive(value, where, "bearer_token", "bearer_token_file")
    bearer = [f for f in ("bearer_token", "bearer_token_file") if _set(value, f)]
    others = [f for f in ("basic_auth", "oauth2") if value.get(f) is not None]
    if bearer and others:
        raise _fail(where, "%s and %s are exclusive; use only one way to authenticate" % (bearer[0], others[0]))
    if bearer and value.get("authorization") is not None:
        raise _fail(where, "%s and authorization are exclusive; put the token in authorization.credentials and "
                           "remove %s" % (bearer[0], bearer[0]))
    auths = [f for f in ("basic_auth", "oauth2", "authorization") if value.get(f) is not None]
    if len(auths) > 1:
        raise _fail(where, "%s are exclusive; use only one way to authenticate" % " and ".join(auths))
    if _set(value, "proxy_connect_header") and not _set(value, "proxy_url"):
        raise _fail(where, "proxy_connect_header needs proxy_url")


TLS_SCHEMA = dict(
    _fields(_str, "ca_file", "cert_file", "key_file", "server_name"),
    insecure_skip_verify=(_bool, None),
    min_version=(_one_of(*TLS_VERSIONS), None),
    max_version=(_one_of(*TLS_VERSIONS), None),
    **_fields(_str, "ca", "cert", "key", since="0.26"),
)
BASIC_AUTH_SCHEMA = _fields(_str, "username", "password", "password_file")
AUTHORIZATION_SCHEMA = _fields(_str, "type", "credentials", "credentials_file")
OAUTH2_SCHEMA = dict(
    _fields(_str, "client_id", "client_secret", "client_secret_file", "token_url", "proxy_url"),
    scopes=(_list_of(_str), None),
    endpoint_params=(_str_map, None),
    tls_config=(_tls_config, None),
)
HTTP_HEADER_SCHEMA = _fields(_list_of(_str), "values", "secrets", "files")
HTTP_CONFIG_SCHEMA = dict(
    basic_auth=(_basic_auth, None),
    authorization=(_authorization, None),
    oauth2=(_oauth2, None),
    bearer_token=(_str, None),
    bearer_token_file=(_str, None),
    tls_config=(_tls_config, None),
    proxy_url=(_str, None),
    proxy_connect_header=(_proxy_connect_header, None),
    follow_redirects=(_bool, None),
    enable_http2=(_bool, None),
    no_proxy=(_str, "0.26"),
    proxy_from_environment=(_bool, "0.26"),
    http_headers=(_http_headers, "0.28"),
)


# ---------------------------------------------------------------- global


def _global(value, where, version):
    _check_fields(value, GLOBAL_SCHEMA, "global config", where, version)
    for first, second in (("slack_api_url", "slack_api_url_file"), ("opsgenie_api_key", "opsgenie_api_key_file"),
                          ("victorops_api_key", "victorops_api_key_file"),
                          ("smtp_auth_password", "smtp_auth_password_file"),
                          ("rocketchat_token", "rocketchat_token_file"),
                          ("rocketchat_token_id", "rocketchat_token_id_file")):
        _exclusive(value, where, first, second)


GLOBAL_SCHEMA = dict(
    resolve_timeout=(_duration, None),
    http_config=(_http_config, None),
    smtp_smarthost=(_host_port, None),
    smtp_require_tls=(_bool, None),
    slack_api_url=(_secret_url, None),
    **_fields(_str, "smtp_from", "smtp_hello", "smtp_auth_username", "smtp_auth_password", "smtp_auth_password_file",
              "smtp_auth_secret", "smtp_auth_identity", "slack_api_url_file", "opsgenie_api_key",
              "opsgenie_api_key_file", "wechat_api_secret", "wechat_api_corp_id", "victorops_api_key",
              "victorops_api_key_file"),
    **_fields(_url, "pagerduty_url", "opsgenie_api_url", "wechat_api_url", "victorops_api_url", "telegram_api_url",
              "webex_api_url"),
    **_fields(_url, "jira_api_url", "rocketchat_api_url", since="0.28"),
    **_fields(_str, "rocketchat_token", "rocketchat_token_file", "rocketchat_token_id", "rocketchat_token_id_file",
              since="0.28"),
)


# ---------------------------------------------------------------- receivers
# Each check takes (item, where, version, global config): the global config gives the values a
# receiver may leave out (Alertmanager fills them in from there).


def _needs(item: dict, glob: dict, where: str, fields, global_fields) -> None:
    """One of ``fields`` set in ``item``, or one of ``global_fields`` in the global section."""
    if not any(_set(item, f) for f in fields) and not any(_set(glob, f) for f in global_fields):
        alternatives = " or ".join(fields)
        if global_fields:
            alternatives += " (or global.%s)" % " / global.".join(global_fields)
        raise _fail(where, "%s is required" % alternatives)


def _check_webhook(item, where, version, glob):
    _needs(item, glob, where, ("url",), ())


def _check_email(item, where, version, glob):
    _needs(item, glob, where, ("to",), ())
    _needs(item, glob, where, ("from",), ("smtp_from",))
    _needs(item, glob, where, ("smarthost",), ("smtp_smarthost",))
    seen: dict = {}
    for header in item.get("headers") or {}:
        canonical = "-".join(part[:1].upper() + part[1:].lower() for part in header.split("-"))
        if canonical in seen:
            raise _fail(_sub(where, "headers"), "%r and %r are the same header (names are case-insensitive); "
                                                "keep one" % (seen[canonical], header))
        seen[canonical] = header


def _slack_field(value, where, version):
    _check_fields(value, SLACK_FIELD_SCHEMA, "Slack field", where, version)
    for required in ("title", "value"):
        if not _set(value, required):
            raise _fail(where, "%s is required" % required)


def _slack_confirm(value, where, version):
    _check_fields(value, SLACK_CONFIRM_SCHEMA, "Slack confirmation", where, version)
    if not _set(value, "text"):
        raise _fail(where, "text is required")


def _slack_action(value, where, version):
    _check_fields(value, SLACK_ACTION_SCHEMA, "Slack action", where, version)
    for required in ("type", "text"):
        if not _set(value, required):
            raise _fail(where, "%s is required" % required)
    if not _set(value, "url") and not _set(value, "name"):
        raise _fail(where, "url (a button linking to it) or name (a message action) is required")


def _check_slack(item, where, version, glob):
    _exclusive(item, where, "api_url", "api_url_file")
    _needs(item, glob, where, ("api_url", "api_url_file"), ("slack_api_url", "slack_api_url_file"))


def _check_pagerduty(item, where, version, glob):
    _needs(item, glob, where, ("routing_key", "routing_key_file", "service_key", "service_key_file"), ())
    _exclusive(item, where, "routing_key", "routing_key_file")
    _exclusive(item, where, "service_key", "service_key_file")


def _check_opsgenie(item, where, version, glob):
    _exclusive(item, where, "api_key", "api_key_file")
    _needs(item, glob, where, ("api_key", "api_key_file"), ("opsgenie_api_key", "opsgenie_api_key_file"))
    for index, responder in enumerate(item.get("responders") or []):
        responder_where = "%s.responders[%d]" % (where, index)
        if not any(_set(responder, f) for f in ("id", "name", "username")):
            raise _fail(responder_where, "id, name or username is required")
        kind = responder.get("type") or ""
        if "{{" not in kind and kind.lower() not in OPSGENIE_RESPONDER_TYPES:
            raise _fail(_sub(responder_where, "type"), "%r is not valid; use one of %s (or a template)"
                        % (kind, ", ".join(OPSGENIE_RESPONDER_TYPES)))


def _check_wechat(item, where, version, glob):
    _needs(item, glob, where, ("api_secret",), ("wechat_api_secret",))
    _needs(item, glob, where, ("corp_id",), ("wechat_api_corp_id",))


def _check_pushover(item, where, version, glob):
    _needs(item, glob, where, ("user_key",), ())
    _needs(item, glob, where, ("token",), ())


def _check_victorops(item, where, version, glob):
    _needs(item, glob, where, ("routing_key",), ())
    _exclusive(item, where, "api_key", "api_key_file")
    _needs(item, glob, where, ("api_key", "api_key_file"), ("victorops_api_key", "victorops_api_key_file"))
    for field in VICTOROPS_RESERVED_FIELDS:
        if field in (item.get("custom_fields") or {}):
            raise _fail(_sub(where, "custom_fields"), "%s is a field VictorOps notifications set themselves; "
                                                      "use another name" % field)


def _check_sns(item, where, version, glob):
    given = [f for f in ("topic_arn", "target_arn", "phone_number") if _set(item, f)]
    if len(given) != 1:
        raise _fail(where, "set exactly one of topic_arn, target_arn or phone_number (set: %s)"
                    % (", ".join(given) or "none"))


def _check_telegram(item, where, version, glob):
    _needs(item, glob, where, ("bot_token",), ())
    if not item.get("chat_id"):
        raise _fail(where, "chat_id is required (a number, not 0)")


def _check_webex(item, where, version, glob):
    _needs(item, glob, where, ("room_id",), ())
    if not isinstance(item.get("http_config"), dict) or item["http_config"].get("authorization") is None:
        raise _fail(where, "http_config.authorization is required (the bot's access token in "
                           "http_config.authorization.credentials)")


def _check_discord(item, where, version, glob):
    _needs(item, glob, where, ("webhook_url",), ())


def _no_check(item, where, version, glob):
    """A later line's receiver, accepted as a mapping."""


NOTIFIER_SCHEMA = {"send_resolved": (_bool, None), "http_config": (_http_config, None)}
WEBHOOK_SCHEMA = dict(NOTIFIER_SCHEMA, url=(_webhook_url, None), max_alerts=(_uint, None))
EMAIL_SCHEMA = dict(
    send_resolved=(_bool, None),
    smarthost=(_host_port, None),
    headers=(_str_map, None),
    require_tls=(_bool, None),
    tls_config=(_tls_config, None),
    **_fields(_str, "to", "from", "hello", "auth_username", "auth_password", "auth_password_file", "auth_secret",
              "auth_identity", "html", "text"),
)
SLACK_FIELD_SCHEMA = dict(_fields(_str, "title", "value"), short=(_bool, None))
SLACK_CONFIRM_SCHEMA = _fields(_str, "text", "title", "ok_text", "dismiss_text")
SLACK_ACTION_SCHEMA = dict(_fields(_str, "type", "text", "url", "style", "name", "value"),
                           confirm=(_slack_confirm, None))
SLACK_SCHEMA = dict(
    NOTIFIER_SCHEMA,
    api_url=(_secret_url, None),
    fields=(_list_of(_slack_field), None),
    short_fields=(_bool, None),
    link_names=(_bool, None),
    mrkdwn_in=(_list_of(_str), None),
    actions=(_list_of(_slack_action), None),
    **_fields(_str, "api_url_file", "channel", "username", "color", "title", "title_link", "pretext", "text",
              "footer", "fallback", "callback_id", "icon_emoji", "icon_url", "image_url", "thumb_url"),
)
PAGERDUTY_SCHEMA = dict(
    NOTIFIER_SCHEMA,
    url=(_url, None),
    details=(_str_map, None),
    images=(_list_of(_mapping(_fields(_str, "src", "alt", "href"), "PagerDuty image")), None),
    links=(_list_of(_mapping(_fields(_str, "href", "text"), "PagerDuty link")), None),
    **_fields(_str, "service_key", "service_key_file", "routing_key", "routing_key_file", "client", "client_url",
              "description", "source", "severity", "class", "component", "group"),
)
OPSGENIE_RESPONDER_TYPES = ("team", "teams", "user", "escalation", "schedule")
OPSGENIE_SCHEMA = dict(
    NOTIFIER_SCHEMA,
    api_url=(_url, None),
    details=(_str_map, None),
    responders=(_list_of(_mapping(_fields(_str, "id", "name", "username", "type"), "OpsGenie responder")), None),
    update_alerts=(_bool, None),
    **_fields(_str, "api_key", "api_key_file", "message", "description", "source", "entity", "actions", "tags",
              "note", "priority"),
)
WECHAT_SCHEMA = dict(
    NOTIFIER_SCHEMA,
    api_url=(_url, None),
    message_type=(_one_of("", "text", "markdown"), None),
    **_fields(_str, "api_secret", "corp_id", "message", "to_user", "to_party", "to_tag", "agent_id"),
)
PUSHOVER_SCHEMA = dict(
    NOTIFIER_SCHEMA,
    retry=(_go_duration, None),
    expire=(_go_duration, None),
    html=(_bool, None),
    **_fields(_str, "user_key", "token", "title", "message", "url", "url_title", "sound", "priority"),
)
VICTOROPS_RESERVED_FIELDS = ("routing_key", "message_type", "state_message", "entity_display_name", "monitoring_tool",
                             "entity_id", "entity_state")
VICTOROPS_SCHEMA = dict(
    NOTIFIER_SCHEMA,
    api_url=(_url, None),
    custom_fields=(_str_map, None),
    **_fields(_str, "api_key", "api_key_file", "routing_key", "message_type", "state_message", "entity_display_name",
              "monitoring_tool"),
)
SIGV4_SCHEMA = _fields(_str, "region", "access_key", "secret_key", "profile", "role_arn")
SNS_SCHEMA = dict(
    NOTIFIER_SCHEMA,
    sigv4=(_mapping(SIGV4_SCHEMA, "sigv4 config"), None),
    attributes=(_str_map, None),
    **_fields(_str, "api_url", "topic_arn", "phone_number", "target_arn", "subject", "message"),
)
TELEGRAM_SCHEMA = dict(
    NOTIFIER_SCHEMA,
    api_url=(_url, None),
    chat_id=(_int, None),
    disable_notifications=(_bool, None),
    parse_mode=(_one_of("", "Markdown", "MarkdownV2", "HTML"), None),
    **_fields(_str, "bot_token", "message"),
)
WEBEX_SCHEMA = dict(NOTIFIER_SCHEMA, api_url=(_url, None), **_fields(_str, "message", "room_id"))
DISCORD_SCHEMA = dict(NOTIFIER_SCHEMA, webhook_url=(_secret_url, None), **_fields(_str, "title", "message"))

# Each kind of receiver config: its field schema (None: any mapping), its check, the line that added it.
RECEIVER_KINDS = {
    "webhook_configs": (WEBHOOK_SCHEMA, _check_webhook, None),
    "email_configs": (EMAIL_SCHEMA, _check_email, None),
    "slack_configs": (SLACK_SCHEMA, _check_slack, None),
    "pagerduty_configs": (PAGERDUTY_SCHEMA, _check_pagerduty, None),
    "opsgenie_configs": (OPSGENIE_SCHEMA, _check_opsgenie, None),
    "wechat_configs": (WECHAT_SCHEMA, _check_wechat, None),
    "pushover_configs": (PUSHOVER_SCHEMA, _check_pushover, None),
    "victorops_configs": (VICTOROPS_SCHEMA, _check_victorops, None),
    "sns_configs": (SNS_SCHEMA, _check_sns, None),
    "telegram_configs": (TELEGRAM_SCHEMA, _check_telegram, None),
    "webex_configs": (WEBEX_SCHEMA, _check_webex, None),
    "discord_configs": (DISCORD_SCHEMA, _check_discord, None),
    "msteams_configs": (None, _no_check, "0.26"),
    "jira_configs": (None, _no_check, "0.28"),
    "rocketchat_configs": (None, _no_check, "0.28"),
    "msteamsv2_configs": (None, _no_check, "0.28"),
}
RECEIVER_SCHEMA = dict({"name": (_str, None)},
                       **{kind: (_any, since) for kind, (_schema, _check, since) in RECEIVER_KINDS.items()})


def _receiver(item, where: str, version: str, glob: dict) -> None:
    _check_fields(item, RECEIVER_SCHEMA, "receiver", where, version)
    if not _set(item, "name"):
        raise _fail(where, "name is required: the name routes use to send alerts to this receiver")
    for kind, (schema, check, _since) in RECEIVER_KINDS.items():
        configs = item.get(kind)
        if configs is None:
            continue
        if not isinstance(configs, list):
            raise _fail(_sub(where, kind), "must be a list, got %r" % (configs,))
        for index, config in enumerate(configs):
            config_where = "%s[%d]" % (_sub(where, kind), index)
            if not isinstance(config, dict):
                raise _fail(config_where, "must be a mapping (a %s entry), got %r" % (kind[:-1], config))
            if schema is not None:
                _check_fields(config, schema, kind[:-1], config_where, version)
            check(config, config_where, version, glob)


# ---------------------------------------------------------------- time intervals


def _time_range(value, where, version):
    _check_fields(value, {"start_time": (_str, None), "end_time": (_str, None)}, "time range", where, version)
    if not _set(value, "start_time") or not _set(value, "end_time"):
        raise _fail(where, "start_time and end_time are both required (HH:MM)")
    minutes = []
    for field in ("start_time", "end_time"):
        text = value[field]
        if not _TIME_OF_DAY.fullmatch(text):
            raise _fail(_sub(where, field), "%r is not a time of day; write HH:MM from 00:00 to 24:00" % text)
        hours, mins = text.split(":")
        minutes.append(int(hours) * 60 + int(mins))
    if minutes[0] >= minutes[1]:
        raise _fail(where, "start_time %s is not before end_time %s (a range cannot cross midnight: split it in two)"
                    % (value["start_time"], value["end_time"]))


def _range(value, where, member, what: str) -> tuple[int, int]:
    """``a`` or ``a:b`` with ``member(text)`` giving the number of a bound (None if not one)."""
    text = str(value).lower() if isinstance(value, (str, int)) and not isinstance(value, bool) else None
    if text is None:
        raise _fail(where, "must be a %s or a range of them (first:last), got %r" % (what, value))
    parts = text.split(":")
    if len(parts) > 2:
        raise _fail(where, "%r is not a range; write one %s or first:last" % (value, what))
    bounds = [member(part) for part in parts]
    for part, bound in zip(parts, bounds):
        if bound is None:
            raise _fail(where, "%r is not a %s" % (part, what))
    return bounds[0], bounds[-1]


def _integer(text: str):
    return int(text) if re.fullmatch(r"[-+]?[0-9]+", text) else None


def _weekdays(value, where, version):
    begin, end = _range(value, where, lambda t: _WEEKDAYS.index(t) if t in _WEEKDAYS else None, "weekday")
    if begin > end:
        raise _fail(where, "%r ends before it starts; weeks run from sunday to saturday" % value)


def _days_of_month(value, where, version):
    begin, end = _range(value, where, _integer, "day of the month")
    for day in (begin, end):
        if day == 0 or not -31 <= day <= 31:
            raise _fail(where, "%d is not a day of the month: use 1 to 31, or -1 (the last day) to -31" % day)
    if begin < 0 < end:
        raise _fail(where, "%r starts from the end of the month and ends from its start; make the end negative too"
                    % value)
    if (28 + begin if begin < 0 else begin) > (28 + end if end < 0 else end):
        raise _fail(where, "%r always ends before it starts" % value)


def _months(value, where, version):
    begin, end = _range(value, where, lambda t: _MONTHS.index(t) + 1 if t in _MONTHS else _integer(t), "month")
    for month in (begin, end):
        if not 1 <= month <= 12:
            raise _fail(where, "%d is not a month: use 1 to 12 or january to december" % month)
    if begin > end:
        raise _fail(where, "%r ends before it starts; write two ranges to cross the new year" % value)


def _years(value, where, version):
    begin, end = _range(value, where, _integer, "year")
    if begin > end:
        raise _fail(where, "%r ends before it starts" % value)


def _location(value, where, version):
    _str(value, where, version)
    if value in ("", "UTC", "Local"):
        return
    try:
        import zoneinfo  # Python 3.9 and newer; on older targets the name is not checked
    except ImportError:
        return
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise _fail(where, "%r is not a time zone of the IANA database (e.g. Europe/Paris, America/New_York, UTC)"
                    % value) from None


TIME_INTERVAL_SCHEMA = {
    "times": (_list_of(_time_range), None),
    "weekdays": (_list_of(_weekdays), None),
    "days_of_month": (_list_of(_days_of_month), None),
    "months": (_list_of(_months), None),
    "years": (_list_of(_years), None),
    "location": (_location, None),
}
NAMED_TIME_INTERVAL_SCHEMA = {
    "name": (_str, None),
    "time_intervals": (_list_of(_mapping(TIME_INTERVAL_SCHEMA, "time interval")), None),
}


def _time_intervals(config: dict, version: str) -> dict:
    """The names of ``mute_time_intervals`` (deprecated) and ``time_intervals``, with where each is."""
    names: dict = {}
    for section in ("mute_time_intervals", "time_intervals"):
        items = config.get(section)
        if items is None:
            continue
        if not isinstance(items, list):
            raise _fail(section, "must be a list of named time intervals, got %r" % (items,))
        for index, item in enumerate(items):
            where = _named(section, index, item)
            _check_fields(item, NAMED_TIME_INTERVAL_SCHEMA, "named time interval", where, version)
            if not _set(item, "name"):
                raise _fail(where, "name is required: the name routes use in mute_time_intervals or "
                                   "active_time_intervals")
            if item["name"] in names:
                raise _fail(where, "the name %r is already used by %s; names must be unique"
                            % (item["name"], names[item["name"]]))
            names[item["name"]] = where
    return names


# ---------------------------------------------------------------- matchers, inhibit rules


def _named_angle(version: str) -> bool:
    return version_at_least(version, "0.28")


def _matcher_list(value, where: str, field: str, version: str) -> list[Matcher]:
    """The matchers of a ``matchers`` list (each entry may hold several, ``a="b", c="d"``)."""
    if not isinstance(value, list):
        raise _fail(_sub(where, field), "must be a list of matchers like 'severity=\"critical\"', got %r" % (value,))
    matchers = []
    for index, text in enumerate(value):
        source = "%s[%d]" % (field, index)
        if not isinstance(text, str):
            raise _fail(where, "%s %r: a matcher must be a string like 'severity=\"critical\"'" % (source, text))
        try:
            matchers += parse_matchers(text, _sub(where, source), _named_angle(version))
        except AlertmanagerConfigError as exc:
            raise _fail(where, "%s %r: %s" % (source, text, exc)) from None
    return matchers


def _match_map(value, where: str, field: str, version: str) -> list[Matcher]:
    """The matchers of an old ``match`` (equality) or ``match_re`` (regex) map."""
    if not isinstance(value, dict):
        raise _fail(_sub(where, field), "must be a mapping of label names to %s, got %r"
                    % ("regular expressions" if field.endswith("_re") else "values", value))
    matchers = []
    for name, text in value.items():
        _label_name(name, _sub(where, field), version)
        _str(text, "%s.%s" % (_sub(where, field), name), version)
        try:
            matchers.append(Matcher(name, "=~" if field.endswith("_re") else "=", text,
                                    "%s.%s" % (_sub(where, field), name), _named_angle(version)))
        except AlertmanagerConfigError as exc:
            raise _fail("%s.%s" % (_sub(where, field), name), str(exc)) from None
    return matchers


def _matchers_of(obj: dict, where: str, version: str, prefix: str = "") -> list[Matcher]:
    """Every matcher of ``obj`` from ``<prefix>match``, ``<prefix>match_re`` and ``<prefix>matchers``."""
    matchers = []
    for field in (prefix + "match", prefix + "match_re"):
        if obj.get(field) is not None:
            matchers += _match_map(obj[field], where, field, version)
    if obj.get(prefix + "matchers") is not None:
        matchers += _matcher_list(obj[prefix + "matchers"], where, prefix + "matchers", version)
    return matchers


INHIBIT_RULE_SCHEMA = dict(
    {prefix + field: (_any, None) for prefix in ("source_", "target_") for field in ("match", "match_re", "matchers")},
    equal=(_list_of(_label_name), None),
)


def _inhibit_rules(value, version: str) -> None:
    if not isinstance(value, list):
        raise _fail("inhibit_rules", "must be a list of inhibit rules, got %r" % (value,))
    for index, rule in enumerate(value):
        where = "inhibit_rules[%d]" % index
        _check_fields(rule, INHIBIT_RULE_SCHEMA, "inhibit rule", where, version)
        for prefix in ("source_", "target_"):
            _matchers_of(rule, where, version, prefix)


# ---------------------------------------------------------------- templates


def _glob(value, where, version):
    """A template path or glob, as Go's filepath.Glob parses it (``*``, ``?``, ``[...]``, ``\\``)."""
    _str(value, where, version)
    i = 0
    while i < len(value):
        char = value[i]
        if char == "\\":
            if i + 1 >= len(value):
                raise _fail(where, "%r ends with a lone backslash" % value)
            i += 2
        elif char == "[":
            i = _glob_class(value, i + 1, where)
        else:
            i += 1


def _glob_class(pattern: str, i: int, where: str) -> int:
    """Past the character class that starts at ``pattern[i]`` (after its ``[``), as Go's matchChunk
    reads it: an optional ``^``, then characters or ranges ``a-z`` (``\\`` escapes), closed by ``]``."""
    bad = _fail(where, "%r has an invalid character class: write [abc], [a-z] or [^abc], closed by ]" % pattern)

    def bound(i: int) -> int:  # Go's getEsc: one character of the class, which must go on
        if i >= len(pattern) or pattern[i] in "-]":
            raise bad
        i += 2 if pattern[i] == "\\" else 1
        if i >= len(pattern):
            raise bad
        return i

    if i < len(pattern) and pattern[i] == "^":
        i += 1
    ranges = 0
    while not (pattern[i:i + 1] == "]" and ranges):
        i = bound(i)
        if pattern[i] == "-":
            i = bound(i + 1)
        ranges += 1
    return i + 1


# ---------------------------------------------------------------- routes


class _Route:
    """A node of the routing tree with the options it gives its matches (inherited ones included)."""

    __slots__ = ("path", "matchers", "cont", "children", "receiver", "group_by", "group_by_all", "group_wait",
                 "group_interval", "repeat_interval", "mute_time_intervals", "active_time_intervals")

    def __init__(self, path: str, parent: _Route | None, route: dict, matchers: list) -> None:
        self.path = path
        self.matchers = matchers
        self.cont = bool(route.get("continue"))
        self.children: list = []
        self.receiver = route.get("receiver") or (parent.receiver if parent else "")
        labels = [name for name in route.get("group_by") or [] if name != "..."]
        if labels:
            self.group_by, self.group_by_all = labels, False
        elif "..." in (route.get("group_by") or []):
            self.group_by, self.group_by_all = (parent.group_by if parent else []), True
        else:
            self.group_by = parent.group_by if parent else []
            self.group_by_all = parent.group_by_all if parent else False
        defaults = (DEFAULT_GROUP_WAIT, DEFAULT_GROUP_INTERVAL, DEFAULT_REPEAT_INTERVAL)
        for field, default in zip(("group_wait", "group_interval", "repeat_interval"), defaults):
            setattr(self, field, route.get(field) or (getattr(parent, field) if parent else default))
        self.mute_time_intervals = list(route.get("mute_time_intervals") or [])
        self.active_time_intervals = list(route.get("active_time_intervals") or [])

    def match(self, labels: dict) -> list:
        """Alertmanager's Route.Match: depth first, left to right; a matching child stops the search
        among its siblings unless it has ``continue``; without a matching child, this node."""
        if not matches_all(self.matchers, labels):
            return []
        found = []
        for child in self.children:
            matches = child.match(labels)
            found += matches
            if matches and not child.cont:
                break
        return found or [self]


def _group_by(value, where, version):
    _list_of(_str)(value, where, version)
    seen = set()
    for index, name in enumerate(value):
        if name != "...":
            _label_name(name, "%s[%d]" % (where, index), version)
        if name in seen:
            raise _fail(where, "lists %r twice; list each label once" % name)
        seen.add(name)
    if "..." in value and len(value) > 1:
        raise _fail(where, "'...' (group by every label) cannot be combined with other labels; keep '...' alone or "
                           "list the labels")


def _nonzero_duration(value, where, version):
    _duration(value, where, version)
    if parse_duration(value) == 0:
        raise _fail(where, "cannot be zero; use e.g. 5m")


ROUTE_SCHEMA = {
    "receiver": (_str, None),
    "group_by": (_group_by, None),
    "match": (_any, None),
    "match_re": (_any, None),
    "matchers": (_any, None),
    "mute_time_intervals": (_list_of(_str), None),
    "active_time_intervals": (_list_of(_str), None),
    "continue": (_bool, None),
    "routes": (_any, None),
    "group_wait": (_duration, None),
    "group_interval": (_nonzero_duration, None),
    "repeat_interval": (_nonzero_duration, None),
}


def _reference(name: str, known, what: str, where: str) -> None:
    if name in known:
        return
    close = difflib.get_close_matches(name, list(known), n=1)
    hint = "did you mean %r?" % close[0] if close else (
        "the %ss are %s" % (what, ", ".join(repr(k) for k in known)) if known else "none is defined")
    raise _fail(where, "%r is not a %s; %s" % (name, what, hint))


def _route(route, where: str, version: str, parent: _Route | None, context: dict) -> _Route:
    """Check one route and its children; the node of the routing tree it makes."""
    _check_fields(route, ROUTE_SCHEMA, "route", where, version)
    matchers = _matchers_of(route, where, version)
    if parent is None:
        if not _set(route, "receiver"):
            raise _fail(where, "receiver is required at the root route: it takes the alerts no child route takes")
        what = "matchers" if matchers else "continue" if route.get("continue") else next(
            (f for f in ("mute_time_intervals", "active_time_intervals") if _set(route, f)), None)
        if what:
            raise _fail(where, "the root route cannot have %s: it takes every alert; put them in a child route "
                               "(route.routes)" % what)
    if _set(route, "receiver"):
        _reference(route["receiver"], context["receivers"], "receiver", _sub(where, "receiver"))
    for field in ("mute_time_intervals", "active_time_intervals"):
        for index, name in enumerate(route.get(field) or []):
            _reference(name, context["time_intervals"], "time interval", "%s[%d]" % (_sub(where, field), index))
    inherited = context["matchers"]
    clash = contradiction(inherited + matchers)
    if clash:
        first, second = clash

        def shown(matcher):
            source = matcher.source[len(where) + 1:] if matcher.source.startswith(where + ".") else matcher.source
            return "%s (%s)" % (matcher, source)

        raise _fail(where, "this route can never match: %s and %s contradict each other (no alert has both); "
                           "remove one of them" % (shown(first), shown(second)))
    node = _Route(where, parent, route, matchers)
    children = route.get("routes")
    if children is None:
        return node
    if not isinstance(children, list):
        raise _fail(_sub(where, "routes"), "must be a list of routes, got %r" % (children,))
    catch_all = None
    context["matchers"] = inherited + matchers
    for index, child in enumerate(children):
        child_where = "%s.routes[%d]" % (where, index)
        if catch_all is not None:
            raise _fail(child_where, "can never be reached: %s before it has no matchers and no continue, so it takes "
                                     "every alert that gets there; move this route before it, or give %s matchers "
                                     "or continue: true" % (catch_all, catch_all))
        node.children.append(_route(child, child_where, version, node, context))
        if not node.children[-1].matchers and not node.children[-1].cont:
            catch_all = child_where
    context["matchers"] = inherited
    return node


# ---------------------------------------------------------------- the whole configuration


TOP_LEVEL_SCHEMA = {
    "global": (_global, None),
    "route": (_any, None),
    "inhibit_rules": (_any, None),
    "receivers": (_any, None),
    "templates": (_list_of(_glob), None),
    "mute_time_intervals": (_any, None),
    "time_intervals": (_any, None),
}


def check_alertmanager_version(version: str) -> str:
    """``version`` when the model knows it; AlertmanagerConfigError naming the known lines otherwise."""
    try:
        known = "%d.%d" % version_tuple(version)[:2] in ALERTMANAGER_VERSIONS
    except (TypeError, ValueError):
        known = False
    if not known:
        raise AlertmanagerConfigError("Alertmanager version %s is not modelled by the engine; use one of %s"
                                      % (version, ", ".join(ALERTMANAGER_VERSIONS)))
    return version


def _copy(value):
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


def _routing_tree(config, version: str) -> _Route:
    """Check a whole alertmanager.yml; its routing tree."""
    check_alertmanager_version(version)
    if not isinstance(config, dict):
        raise AlertmanagerConfigError("the configuration must be a mapping (alertmanager.yml) with route and "
                                      "receivers, got %r" % (config,))
    _check_fields(config, TOP_LEVEL_SCHEMA, "Alertmanager configuration", "", version)
    glob = config.get("global") or {}
    receivers = config.get("receivers")
    if receivers is not None and not isinstance(receivers, list):
        raise _fail("receivers", "must be a list of receivers, got %r" % (receivers,))
    names: dict = {}
    for index, item in enumerate(receivers or []):
        where = _named("receivers", index, item)
        _receiver(item, where, version, glob)
        if item["name"] in names:
            raise _fail(where, "the name %r is already used by %s; receiver names must be unique"
                        % (item["name"], names[item["name"]]))
        names[item["name"]] = where
    if config.get("inhibit_rules") is not None:
        _inhibit_rules(config["inhibit_rules"], version)
    time_intervals = _time_intervals(config, version)
    if config.get("route") is None:
        raise _fail("route", "is required: the root route, with the receiver of the alerts no child route takes")
    context = {"receivers": names, "time_intervals": time_intervals, "matchers": []}
    return _route(config["route"], "route", version, None, context)


def normalize_alertmanager_config(config: dict, version: str = DEFAULT_ALERTMANAGER_VERSION) -> dict:
    """Validate a whole alertmanager.yml (as a dict) like Alertmanager ``version`` loads it, and
    return a copy of it, unchanged. Raises AlertmanagerConfigError naming the path."""
    _routing_tree(config, version)
    return _copy(config)


# ---------------------------------------------------------------- secrets


# Fields whose value is a secret (Alertmanager's Secret and SecretURL types), by where they are.
GLOBAL_SECRETS = ("smtp_auth_password", "smtp_auth_secret", "slack_api_url", "opsgenie_api_key", "wechat_api_secret",
                  "victorops_api_key", "rocketchat_token", "rocketchat_token_id")
RECEIVER_SECRETS = {
    "webhook_configs": ("url",),
    "email_configs": ("auth_password", "auth_secret"),
    "slack_configs": ("api_url",),
    "pagerduty_configs": ("routing_key", "service_key"),
    "opsgenie_configs": ("api_key",),
    "wechat_configs": ("api_secret",),
    "pushover_configs": ("user_key", "token"),
    "victorops_configs": ("api_key",),
    "telegram_configs": ("bot_token",),
    "discord_configs": ("webhook_url",),
    "msteams_configs": ("webhook_url",),
    "msteamsv2_configs": ("webhook_url",),
    "rocketchat_configs": ("token", "token_id"),
}


def _mask(obj: dict, fields) -> dict:
    return {key: SECRET if key in fields and value not in (None, "") else value for key, value in obj.items()}


def _redact_http_config(value):
    if not isinstance(value, dict):
        return value
    out = _mask(value, ("bearer_token",))
    for field, secret in (("basic_auth", "password"), ("authorization", "credentials"), ("oauth2", "client_secret")):
        if isinstance(value.get(field), dict):
            out[field] = _mask(value[field], (secret,))
    if isinstance(value.get("proxy_connect_header"), dict):
        out["proxy_connect_header"] = {name: [SECRET] * len(items) if isinstance(items, list) else SECRET
                                       for name, items in value["proxy_connect_header"].items()}
    if isinstance(value.get("http_headers"), dict):
        out["http_headers"] = {name: dict(spec, secrets=[SECRET] * len(spec["secrets"]))
                               if isinstance(spec, dict) and isinstance(spec.get("secrets"), list) else spec
                               for name, spec in value["http_headers"].items()}
    return out


def _redact_receiver_config(kind: str, value):
    if not isinstance(value, dict):
        return value
    out = _mask(value, RECEIVER_SECRETS.get(kind, ()))
    if "http_config" in value:
        out["http_config"] = _redact_http_config(value["http_config"])
    if isinstance(value.get("sigv4"), dict):
        out["sigv4"] = _mask(value["sigv4"], ("secret_key",))
    return out


def redact_alertmanager_config(config: dict) -> dict:
    """A copy of ``config`` with every secret replaced by ``"<secret>"``, as Alertmanager shows its
    configuration: the fields of its Secret and SecretURL types (``GLOBAL_SECRETS``,
    ``RECEIVER_SECRETS``, ``webhook_configs[].url`` included), and in every ``http_config`` the
    basic_auth password, authorization credentials, bearer_token, oauth2 client_secret and proxy
    headers. Paths (``*_file``) and empty values are kept; a configuration that does not validate is
    redacted as far as its shape allows."""
    out = _copy(config)
    if not isinstance(out, dict):
        return out
    if isinstance(out.get("global"), dict):
        out["global"] = _mask(out["global"], GLOBAL_SECRETS)
        if "http_config" in out["global"]:
            out["global"]["http_config"] = _redact_http_config(out["global"]["http_config"])
    receivers = out.get("receivers") if isinstance(out.get("receivers"), list) else []
    for receiver in receivers:
        if not isinstance(receiver, dict):
            continue
        for kind, items in receiver.items():
            if kind.endswith("_configs") and isinstance(items, list):
                receiver[kind] = [_redact_receiver_config(kind, item) for item in items]
    return out


# ---------------------------------------------------------------- routing


def _seconds(duration: str):
    milliseconds = parse_duration(duration)
    return milliseconds // 1000 if milliseconds % 1000 == 0 else milliseconds / 1000


def _check_labels(labels, index: int) -> dict:
    if not isinstance(labels, dict):
        raise LabelSetError("alerts[%d] must be a mapping of label names to values, got %r" % (index, labels))
    for name, value in labels.items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise LabelSetError("alerts[%d]: the label %r must have a string value, got %r (quote it)"
                                % (index, name, value))
    return labels


def _match_result(node: _Route, labels: dict) -> dict:
    group_labels = {name: value for name, value in sorted(labels.items())
                    if value and (node.group_by_all or name in node.group_by)}
    return {
        "route": node.path,
        "receiver": node.receiver,
        "group_by": ["..."] if node.group_by_all else list(node.group_by),
        "group_labels": group_labels,
        "group_wait": node.group_wait,
        "group_wait_seconds": _seconds(node.group_wait),
        "group_interval": node.group_interval,
        "group_interval_seconds": _seconds(node.group_interval),
        "repeat_interval": node.repeat_interval,
        "repeat_interval_seconds": _seconds(node.repeat_interval),
        "mute_time_intervals": list(node.mute_time_intervals),
        "active_time_intervals": list(node.active_time_intervals),
    }


def route_alerts(config: dict, label_sets: list, version: str = DEFAULT_ALERTMANAGER_VERSION) -> list:
    """``route_alert`` for each label set of ``label_sets``, the configuration checked once."""
    tree = _routing_tree(config, version)
    return [[_match_result(node, labels) for node in tree.match(_check_labels(labels, index))]
            for index, labels in enumerate(label_sets)]


def route_alert(config: dict, labels: dict, version: str = DEFAULT_ALERTMANAGER_VERSION) -> list:
    """Where Alertmanager's routing tree sends an alert with ``labels``, as its dispatcher does: the
    matching routes in order (depth first; a matching route stops its later siblings unless it has
    ``continue``; a route whose children all miss is the match itself; the root always matches).

    Each match: ``route`` (its path, ``route.routes[0]``), ``receiver``, ``group_by`` (``["..."]``
    for every label), ``group_labels`` (the alert's labels that make its group), ``group_wait``,
    ``group_interval``, ``repeat_interval`` as written (or inherited, or Alertmanager's defaults
    30s, 5m, 4h) and in seconds (``*_seconds``): the group's first notification goes out
    ``group_wait`` after its first alert, alerts joining the group are sent ``group_interval`` after
    the previous notification, and a notification that changed nothing is repeated every
    ``repeat_interval``. ``mute_time_intervals`` and ``active_time_intervals`` are the route's own
    (they are not inherited). Raises AlertmanagerConfigError, or LabelSetError for ``labels``."""
    return route_alerts(config, [labels], version)[0]
