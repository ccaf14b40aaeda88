"""The alertmanager.yml model against the real ``amtool`` of Debian's prometheus-alertmanager 0.25.

(a) ``amtool check-config`` accepts every configuration of ``ACCEPTED`` (rich ones: every field of
every receiver the model checks, the global section, HTTP clients, time intervals, inhibit rules,
templates), as the model does, and refuses each of ``REFUSED`` (one mistake each), which the model
refuses too. Where the model is stricter on purpose, ``STRICTER`` lists the case and asserts that
amtool accepts it, so that the list stays true:

- a route whose matchers contradict each other, or those of its parents (it can never match);
- a route after a sibling without matchers and without ``continue`` (it can never be reached);
- scalars that are not strings where strings are meant (``match: {code: 500}``, a receiver named
  ``1``): YAML turns them into strings for Alertmanager, the model asks to quote them;
- a month outside 1..12 in a time interval (Alertmanager takes ``13`` and never matches it);
- an SNS config with topic_arn, target_arn and phone_number all set (Alertmanager's check lets the
  three pass together, not two of them);
- a regular expression whose groups Go and Python fill differently (``(a*)*``), which
  ``model/re2.py`` refuses because it cannot match it exactly like Go.

(b) ``amtool config routes test --verify.receivers=<the model's receivers> <labels>`` agrees with
``route_alert`` for hand-written trees and for routing trees generated deterministically (nested
routes, ``continue``, regular expressions, negations, the old ``match``/``match_re``) over a few
hundred label sets; the module gives the same answer through ansible for one case.
"""

from __future__ import annotations

import copy
import itertools
import json
import random
import shutil
import subprocess
from pathlib import Path

import fleet
import pytest

from ansible_collections.promfleet.federation.plugins.module_utils.errors import AlertmanagerConfigError
from ansible_collections.promfleet.federation.plugins.module_utils.model.alertmanager import (
    normalize_alertmanager_config,
    route_alert,
)

AMTOOL = shutil.which("amtool") or "/usr/bin/amtool"
SEED = 20250125

# ---------------------------------------------------------------- amtool


def write(directory: Path, config: dict) -> Path:
    """``config`` as alertmanager.yml in ``directory`` (JSON, which YAML reads unchanged)."""
    path = directory / "alertmanager.yml"
    path.write_text(json.dumps(config, ensure_ascii=False), encoding="utf-8")
    return path


def amtool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([AMTOOL, *args], capture_output=True, text=True, check=False, timeout=60)


def amtool_accepts(directory: Path, config: dict) -> tuple[bool, str]:
    run = amtool("check-config", str(write(directory, config)))
    return run.returncode == 0, run.stdout + run.stderr


def model_accepts(config: dict) -> tuple[bool, str]:
    try:
        normalize_alertmanager_config(copy.deepcopy(config))
    except AlertmanagerConfigError as exc:
        return False, str(exc)
    return True, ""


@pytest.fixture(scope="module", autouse=True)
def debian_amtool():
    run = amtool("--version")
    assert run.returncode == 0 and "version 0.25." in run.stdout + run.stderr, (
        "amtool 0.25 (Debian's prometheus-alertmanager) is needed: run scripts/setup.sh")


# ---------------------------------------------------------------- (a) check-config

TLS = {"ca_file": "/etc/ssl/ca.pem", "cert_file": "/etc/ssl/c.pem", "key_file": "/etc/ssl/k.pem",
       "server_name": "x.example.org", "insecure_skip_verify": False, "min_version": "TLS12", "max_version": "TLS13"}
HTTP = {"basic_auth": {"username": "u", "password": "p"}, "tls_config": TLS, "proxy_url": "http://proxy:3128",
        "proxy_connect_header": {"X-Proxy": ["a"]}, "follow_redirects": True, "enable_http2": False}
EVERY_RECEIVER = [
    {"name": "webhook", "webhook_configs": [
        {"url": "https://hooks.example.org/a", "max_alerts": 5, "send_resolved": False, "http_config": HTTP},
        {"url": "http://127.0.0.1:5001/", "http_config": {"authorization": {"type": "Bearer", "credentials": "t"}}},
        {"url": "http://h/", "http_config": {"bearer_token_file": "/run/token"}},
        {"url": "http://h/", "http_config": {"oauth2": {
            "client_id": "id", "client_secret_file": "/run/s", "token_url": "https://idp/token", "scopes": ["a"],
            "endpoint_params": {"k": "v"}, "tls_config": {"insecure_skip_verify": True},
            "proxy_url": "http://proxy:3128"}}},
    ]},
    {"name": "email", "email_configs": [
        {"to": "ops@example.org", "from": "am@example.org", "hello": "am.example.org",
         "smarthost": "smtp.example.org:587", "auth_username": "am", "auth_password": "p", "auth_secret": "s",
         "auth_identity": "i", "headers": {"Subject": "[{{ .Status }}]", "X-Team": "ops"}, "html": "<b/>",
         "text": "t", "require_tls": True, "tls_config": TLS, "send_resolved": True},
        {"to": "db@example.org", "from": "am@example.org", "smarthost": "[2001:db8::1]:25",
         "auth_password_file": "/run/smtp"},
    ]},
    {"name": "slack", "slack_configs": [
        {"api_url": "https://hooks.slack.com/services/T/B/X", "channel": "#ops", "username": "am", "color": "red",
         "title": "t", "title_link": "https://x", "pretext": "p", "text": "t", "short_fields": True,
         "fields": [{"title": "a", "value": "b", "short": False}], "footer": "f", "fallback": "f",
         "callback_id": "c", "icon_emoji": ":x:", "icon_url": "https://i", "image_url": "https://i",
         "thumb_url": "https://t", "link_names": True, "mrkdwn_in": ["text", "pretext"], "send_resolved": True,
         "actions": [{"type": "button", "text": "Runbook", "url": "https://runbooks", "style": "primary"},
                     {"type": "button", "text": "Ack", "name": "ack", "value": "1",
                      "confirm": {"text": "Sure?", "title": "Ack", "ok_text": "Yes", "dismiss_text": "No"}}],
         "http_config": {"proxy_url": "http://proxy:3128"}},
        {"api_url_file": "/run/slack-url"},
    ]},
    {"name": "pagerduty", "pagerduty_configs": [
        {"routing_key": "k", "url": "https://events.pagerduty.com/v2/enqueue", "client": "am", "client_url": "u",
         "description": "d", "details": {"a": "b"}, "images": [{"src": "s", "alt": "a", "href": "h"}],
         "links": [{"href": "h", "text": "t"}], "source": "s", "severity": "critical", "class": "c",
         "component": "c", "group": "g", "send_resolved": True, "http_config": {}},
        {"service_key": "k"}, {"routing_key_file": "/run/rk"}, {"service_key_file": "/run/sk"},
    ]},
    {"name": "opsgenie", "opsgenie_configs": [
        {"api_key": "k", "api_url": "https://api.opsgenie.com/", "message": "m", "description": "d", "source": "s",
         "details": {"a": "b"}, "entity": "e", "actions": "a", "tags": "t", "note": "n", "priority": "P1",
         "update_alerts": True, "responders": [{"id": "1", "type": "team"}, {"name": "n", "type": "Schedule"},
                                               {"username": "u", "type": "{{ .CommonLabels.kind }}"}]},
        {"api_key_file": "/run/og"},
    ]},
    {"name": "others",
     "victorops_configs": [{"api_key": "k", "routing_key": "r", "api_url": "https://alert.victorops.com/x/",
                            "message_type": "CRITICAL", "state_message": "s", "entity_display_name": "e",
                            "monitoring_tool": "m", "custom_fields": {"team": "ops"}}],
     "wechat_configs": [{"api_secret": "s", "corp_id": "c", "message": "m", "api_url": "https://qyapi/",
                         "to_user": "u", "to_party": "p", "to_tag": "t", "agent_id": "a", "message_type": "markdown"}],
     "pushover_configs": [{"user_key": "u", "token": "t", "title": "t", "message": "m", "url": "u", "url_title": "t",
                           "sound": "s", "priority": "2", "retry": "1m30s", "expire": "1.5h", "html": True}],
     "sns_configs": [{"topic_arn": "arn:aws:sns:eu-west-1:1:t", "api_url": "https://sns", "subject": "s",
                      "message": "m", "attributes": {"a": "b"},
                      "sigv4": {"region": "eu-west-1", "access_key": "a", "secret_key": "s", "profile": "p",
                                "role_arn": "r"}},
                     {"phone_number": "+33100000000"}],
     "telegram_configs": [{"bot_token": "t", "chat_id": -1001, "api_url": "https://api.telegram.org",
                           "message": "m", "disable_notifications": True, "parse_mode": "MarkdownV2"}],
     "webex_configs": [{"room_id": "r", "message": "m", "api_url": "https://webexapis.com/v1/messages",
                        "http_config": {"authorization": {"credentials": "c"}}}],
     "discord_configs": [{"webhook_url": "https://discord.com/api/webhooks/1/x", "title": "t", "message": "m"}]},
    {"name": "blackhole"},
]
RICH_ROUTE = {
    "receiver": "blackhole",
    "group_by": ["alertname", "dc"],
    "group_wait": "30s", "group_interval": "5m", "repeat_interval": "1d12h",
    "routes": [
        {"matchers": ['severity="critical"'], "receiver": "pagerduty", "continue": True},
        {"matchers": ['{team=~"db|storage", env!="dev"}', "dc=~eu-.*"], "receiver": "email", "group_by": ["..."],
         "routes": [{"match": {"env": "prod"}, "receiver": "webhook", "mute_time_intervals": ["nights"]},
                    {"match_re": {"env": "stag.*"}, "group_wait": "0s", "active_time_intervals": ["office"]}]},
        {"matchers": ['team="web"', 'severity!~"info|debug"'], "receiver": "slack", "group_interval": "1m"},
        {"matchers": ["team=mobile"], "receiver": "opsgenie", "repeat_interval": "2w"},
        {"receiver": "others"},
    ],
}
TIME_INTERVALS = [
    {"name": "nights", "time_intervals": [{"times": [{"start_time": "00:00", "end_time": "07:00"},
                                                     {"start_time": "22:00", "end_time": "24:00"}]}]},
    {"name": "office", "time_intervals": [{"weekdays": ["monday:friday"], "times": [{"start_time": "09:00",
                                                                                     "end_time": "17:30"}],
                                           "days_of_month": ["1:-1"], "months": ["january:december"],
                                           "years": ["2024:2099"], "location": "Europe/Paris"}]},
]


def rich(templates: str) -> dict:
    return {
        "global": {"resolve_timeout": "10m", "http_config": {"follow_redirects": True}, "smtp_from": "am@x.org",
                   "smtp_hello": "x.org", "smtp_smarthost": "smtp:25", "smtp_auth_username": "u",
                   "smtp_auth_password_file": "/run/p", "smtp_auth_secret": "s", "smtp_auth_identity": "i",
                   "smtp_require_tls": False, "slack_api_url": "https://hooks.slack.com/x",
                   "pagerduty_url": "https://events.pagerduty.com/v2/enqueue",
                   "opsgenie_api_url": "https://api.opsgenie.com/", "opsgenie_api_key": "k",
                   "wechat_api_url": "https://qyapi.weixin.qq.com/cgi-bin/", "wechat_api_secret": "s",
                   "wechat_api_corp_id": "c", "victorops_api_url": "https://alert.victorops.com/x/",
                   "victorops_api_key_file": "/run/vo", "telegram_api_url": "https://api.telegram.org",
                   "webex_api_url": "https://webexapis.com/v1/messages"},
        "route": RICH_ROUTE,
        "receivers": EVERY_RECEIVER,
        "inhibit_rules": [
            {"source_matchers": ['severity="critical"'], "target_matchers": ['severity=~"warning|info"'],
             "equal": ["alertname", "dc"]},
            {"source_match": {"alertname": "DatacenterDown"}, "source_match_re": {"dc": ".+"},
             "target_match": {"severity": "warning"}, "target_match_re": {"team": ".*"}, "equal": ["dc"]},
        ],
        "templates": [templates, "/nonexistent/[a-z]*.tmpl"],
        "time_intervals": TIME_INTERVALS,
    }


GLOBAL_DEFAULTS = {
    "global": {"smtp_from": "am@x.org", "smtp_smarthost": "smtp:25", "slack_api_url_file": "/run/slack",
               "opsgenie_api_key_file": "/run/og", "victorops_api_key": "k", "wechat_api_secret": "s",
               "wechat_api_corp_id": "c", "http_config": {"oauth2": {"client_id": "i", "client_secret": "s",
                                                                     "token_url": "https://t"}}},
    "route": {"receiver": "all", "routes": [{"matchers": ["a=b"], "receiver": "all"}]},
    "receivers": [{"name": "all", "email_configs": [{"to": "x@y"}], "slack_configs": [{}], "opsgenie_configs": [{}],
                   "victorops_configs": [{"routing_key": "r"}], "wechat_configs": [{}]}],
    "mute_time_intervals": [{"name": "old", "time_intervals": [{"weekdays": ["saturday", "sunday"]}]}],
}


def accepted_cases(directory: Path) -> dict:
    (directory / "templates").mkdir(exist_ok=True)
    (directory / "templates" / "ops.tmpl").write_text('{{ define "ops.title" }}[{{ .Status }}]{{ end }}\n')
    return {
        "rich": rich(str(directory / "templates" / "*.tmpl")),
        "global defaults": GLOBAL_DEFAULTS,
        "minimal": {"route": {"receiver": "r"}, "receivers": [{"name": "r"}]},
        "empty matcher entries": {"route": {"receiver": "r", "matchers": ["", "{}"], "routes": [
            {"matchers": ['a="b",'], "group_by": []}]}, "receivers": [{"name": "r"}]},
        "null sections": {"global": None, "route": {"receiver": "r", "routes": None},
                          "receivers": [{"name": "r", "webhook_configs": None}], "inhibit_rules": None},
    }


def route_with(**fields) -> dict:
    return {"route": {"receiver": "r", "routes": [dict({"matchers": ['a="b"']}, **fields)]},
            "receivers": [{"name": "r"}, {"name": "s"}]}


def receiver_with(kind: str, item: dict, **global_config) -> dict:
    config = {"route": {"receiver": "r"}, "receivers": [{"name": "r", kind: [item]}]}
    if global_config:
        config["global"] = global_config
    return config


WEBHOOK = {"url": "http://h/"}
REFUSED = {
    "no route": {"receivers": [{"name": "r"}]},
    "unknown top-level field": {"route": {"receiver": "r"}, "receivers": [{"name": "r"}], "recievers": []},
    "root without receiver": {"route": {}, "receivers": [{"name": "r"}]},
    "root with matchers": {"route": {"receiver": "r", "matchers": ['a="b"']}, "receivers": [{"name": "r"}]},
    "root with match": {"route": {"receiver": "r", "match": {"a": "b"}}, "receivers": [{"name": "r"}]},
    "root with continue": {"route": {"receiver": "r", "continue": True}, "receivers": [{"name": "r"}]},
    "root with mute_time_intervals": {"route": {"receiver": "r", "mute_time_intervals": ["t"]},
                                      "receivers": [{"name": "r"}], "time_intervals": [{"name": "t"}]},
    "root with active_time_intervals": {"route": {"receiver": "r", "active_time_intervals": ["t"]},
                                        "receivers": [{"name": "r"}], "time_intervals": [{"name": "t"}]},
    "unknown root receiver": {"route": {"receiver": "x"}, "receivers": [{"name": "r"}]},
    "no receivers": {"route": {"receiver": "r"}},
    "unknown child receiver": route_with(receiver="pagr"),
    "unknown route field": route_with(recevier="s"),
    "unknown mute time interval": route_with(mute_time_intervals=["nights"]),
    "unknown active time interval": route_with(active_time_intervals=["office"]),
    "bad duration": route_with(group_wait="1x"),
    "fractional duration": route_with(group_wait="1.5m"),
    "negative duration": route_with(group_wait="-1m"),
    "unordered duration": route_with(repeat_interval="2d1w"),
    "duration without unit": route_with(group_wait="30"),
    "zero group_interval": route_with(group_interval="0s"),
    "zero repeat_interval": route_with(repeat_interval="0"),
    "group_by ... and a label": route_with(group_by=["...", "a"]),
    "group_by twice": route_with(group_by=["a", "a"]),
    "group_by bad label": route_with(group_by=["a-b"]),
    "continue not a bool": route_with(**{"continue": "yes"}),
    "matchers not a list": {"route": {"receiver": "r", "routes": [{"matchers": "a=b"}]}, "receivers": [{"name": "r"}]},
    "matcher without operator": route_with(matchers=["severity"]),
    "matcher bad regex": route_with(matchers=['severity=~"("']),
    "matcher open quote": route_with(matchers=['a="b']),
    "matcher inner quote": route_with(matchers=['a=b"c']),
    "matcher label starts with digit": route_with(matchers=["1a=b"]),
    "matcher quoted label": route_with(matchers=['"a"="b"']),
    "matcher dotted label": route_with(matchers=['a.b="c"']),
    "matchers empty between commas": route_with(matchers=['a="x",,b="y"']),
    "matcher only a comma": route_with(matchers=[","]),
    "matcher not a string": route_with(matchers=[1]),
    "regex named with angle brackets (Go 1.19)": route_with(matchers=['a=~"(?<n>x)"']),
    "match_re bad regex": route_with(match_re={"a": "("}),
    "match_re null": route_with(match_re={"a": None}),
    "match bad label": route_with(match={"a-b": "x"}),
    "duplicate receiver": {"route": {"receiver": "r"}, "receivers": [{"name": "r"}, {"name": "r"}]},
    "receiver without name": {"route": {"receiver": "r"}, "receivers": [{"name": "r"}, {}]},
    "unknown receiver field": {"route": {"receiver": "r"}, "receivers": [{"name": "r", "webhook_config": []}]},
    "msteams before 0.26": receiver_with("msteams_configs", {"webhook_url": "https://x"}),
    "null receiver config": receiver_with("webhook_configs", None),
    "webhook without url": receiver_with("webhook_configs", {}),
    "webhook ftp url": receiver_with("webhook_configs", {"url": "ftp://x"}),
    "webhook url without host": receiver_with("webhook_configs", {"url": "http://"}),
    "webhook url without scheme": receiver_with("webhook_configs", {"url": "hooks.example.org"}),
    "webhook url_file (0.26+)": receiver_with("webhook_configs", {"url_file": "/f"}),
    "webhook timeout (later)": receiver_with("webhook_configs", dict(WEBHOOK, timeout="10s")),
    "webhook negative max_alerts": receiver_with("webhook_configs", dict(WEBHOOK, max_alerts=-1)),
    "webhook two auths": receiver_with("webhook_configs", dict(WEBHOOK, http_config={
        "bearer_token": "t", "basic_auth": {"username": "u"}})),
    "webhook authorization and bearer": receiver_with("webhook_configs", dict(WEBHOOK, http_config={
        "bearer_token": "t", "authorization": {"credentials": "c"}})),
    "webhook basic_auth and authorization": receiver_with("webhook_configs", dict(WEBHOOK, http_config={
        "basic_auth": {"username": "u"}, "authorization": {"credentials": "c"}})),
    "webhook basic_auth password twice": receiver_with("webhook_configs", dict(WEBHOOK, http_config={
        "basic_auth": {"username": "u", "password": "p", "password_file": "/f"}})),
    "webhook authorization Basic": receiver_with("webhook_configs", dict(WEBHOOK, http_config={
        "authorization": {"type": "Basic", "credentials": "c"}})),
    "webhook oauth2 without client_id": receiver_with("webhook_configs", dict(WEBHOOK, http_config={
        "oauth2": {"client_secret": "s", "token_url": "http://t"}})),
    "webhook oauth2 without client_secret (0.27+)": receiver_with("webhook_configs", dict(WEBHOOK, http_config={
        "oauth2": {"client_id": "i", "token_url": "http://t"}})),
    "webhook oauth2 without token_url": receiver_with("webhook_configs", dict(WEBHOOK, http_config={
        "oauth2": {"client_id": "i", "client_secret": "s"}})),
    "webhook proxy header without proxy": receiver_with("webhook_configs", dict(WEBHOOK, http_config={
        "proxy_connect_header": {"X": ["y"]}})),
    "webhook no_proxy (0.26+)": receiver_with("webhook_configs", dict(WEBHOOK, http_config={"no_proxy": "x"})),
    "webhook inline ca (0.26+)": receiver_with("webhook_configs", dict(WEBHOOK, http_config={
        "tls_config": {"ca": "PEM"}})),
    "webhook bad tls version": receiver_with("webhook_configs", dict(WEBHOOK, http_config={
        "tls_config": {"min_version": "TLS9"}})),
    "webhook follow_redirects not a bool": receiver_with("webhook_configs", dict(WEBHOOK, http_config={
        "follow_redirects": 1})),
    "email without to": receiver_with("email_configs", {"from": "a@b", "smarthost": "h:25"}),
    "email without from": receiver_with("email_configs", {"to": "a@b", "smarthost": "h:25"}),
    "email without smarthost": receiver_with("email_configs", {"to": "a@b", "from": "c@d"}),
    "email smarthost without port": receiver_with("email_configs", {"to": "a@b", "from": "c@d", "smarthost": "h"}),
    "email smarthost empty port": receiver_with("email_configs", {"to": "a@b", "from": "c@d", "smarthost": "h:"}),
    "email duplicate header": receiver_with("email_configs", {"to": "a@b", "from": "c@d", "smarthost": "h:25",
                                                              "headers": {"subject": "x", "Subject": "y"}}),
    "email auth_secret_file (later)": receiver_with("email_configs", {"to": "a@b", "from": "c@d",
                                                                      "smarthost": "h:25", "auth_secret_file": "/f"}),
    "email http_config": receiver_with("email_configs", {"to": "a@b", "from": "c@d", "smarthost": "h:25",
                                                         "http_config": {}}),
    "slack without api_url": receiver_with("slack_configs", {}),
    "slack api_url twice": receiver_with("slack_configs", {"api_url": "http://x", "api_url_file": "/f"}),
    "slack bad api_url": receiver_with("slack_configs", {"api_url": "x"}),
    "slack field without value": receiver_with("slack_configs", {"api_url": "http://x", "fields": [{"title": "a"}]}),
    "slack field without title": receiver_with("slack_configs", {"api_url": "http://x", "fields": [{"value": "a"}]}),
    "slack action without type": receiver_with("slack_configs", {"api_url": "http://x",
                                                                 "actions": [{"text": "x", "url": "u"}]}),
    "slack action without text": receiver_with("slack_configs", {"api_url": "http://x",
                                                                 "actions": [{"type": "x", "url": "u"}]}),
    "slack action without url or name": receiver_with("slack_configs", {"api_url": "http://x",
                                                                        "actions": [{"type": "x", "text": "t"}]}),
    "slack confirm without text": receiver_with("slack_configs", {"api_url": "http://x", "actions": [
        {"type": "x", "text": "t", "name": "n", "confirm": {"title": "t"}}]}),
    "slack app_token (later)": receiver_with("slack_configs", {"api_url": "http://x", "app_token": "t"}),
    "pagerduty without key": receiver_with("pagerduty_configs", {}),
    "pagerduty routing key twice": receiver_with("pagerduty_configs", {"routing_key": "k", "routing_key_file": "/f"}),
    "pagerduty service key twice": receiver_with("pagerduty_configs", {"service_key": "k", "service_key_file": "/f"}),
    "pagerduty bad url": receiver_with("pagerduty_configs", {"routing_key": "k", "url": "x"}),
    "pagerduty unknown image field": receiver_with("pagerduty_configs", {"routing_key": "k",
                                                                         "images": [{"foo": "x"}]}),
    "opsgenie without key": receiver_with("opsgenie_configs", {}),
    "opsgenie key twice": receiver_with("opsgenie_configs", {"api_key": "k", "api_key_file": "/f"}),
    "opsgenie responder without id": receiver_with("opsgenie_configs", {"api_key": "k",
                                                                        "responders": [{"type": "team"}]}),
    "opsgenie responder bad type": receiver_with("opsgenie_configs", {"api_key": "k",
                                                                      "responders": [{"id": "x", "type": "bad"}]}),
    "victorops without routing key": receiver_with("victorops_configs", {"api_key": "k"}),
    "victorops without api key": receiver_with("victorops_configs", {"routing_key": "r"}),
    "victorops reserved custom field": receiver_with("victorops_configs", {"api_key": "k", "routing_key": "r",
                                                                           "custom_fields": {"entity_id": "x"}}),
    "wechat without secret": receiver_with("wechat_configs", {"corp_id": "c"}),
    "wechat bad message type": receiver_with("wechat_configs", {"api_secret": "s", "corp_id": "c",
                                                                "message_type": "bad"}),
    "pushover without token": receiver_with("pushover_configs", {"user_key": "u"}),
    "pushover without user key": receiver_with("pushover_configs", {"token": "t"}),
    "pushover bad retry": receiver_with("pushover_configs", {"user_key": "u", "token": "t", "retry": "1x"}),
    "pushover device (later)": receiver_with("pushover_configs", {"user_key": "u", "token": "t", "device": "d"}),
    "sns without target": receiver_with("sns_configs", {}),
    "sns two targets": receiver_with("sns_configs", {"topic_arn": "t", "phone_number": "p"}),
    "telegram without chat": receiver_with("telegram_configs", {"bot_token": "t"}),
    "telegram without token": receiver_with("telegram_configs", {"chat_id": 1}),
    "telegram bad parse mode": receiver_with("telegram_configs", {"bot_token": "t", "chat_id": 1, "parse_mode": "x"}),
    "telegram bot_token_file (0.26+)": receiver_with("telegram_configs", {"bot_token_file": "/f", "chat_id": 1}),
    "webex without authorization": receiver_with("webex_configs", {"room_id": "r"}),
    "webex without room": receiver_with("webex_configs", {"http_config": {"authorization": {"credentials": "c"}}}),
    "discord without url": receiver_with("discord_configs", {}),
    "discord content (later)": receiver_with("discord_configs", {"webhook_url": "http://x", "content": "c"}),
    "global unknown field": receiver_with("webhook_configs", WEBHOOK, smtp_tls_config={}),
    "global bad resolve_timeout": receiver_with("webhook_configs", WEBHOOK, resolve_timeout="5 minutes"),
    "global bad smarthost": receiver_with("webhook_configs", WEBHOOK, smtp_smarthost="x"),
    "global slack url twice": receiver_with("webhook_configs", WEBHOOK, slack_api_url="http://x",
                                            slack_api_url_file="/f"),
    "global opsgenie key twice": receiver_with("webhook_configs", WEBHOOK, opsgenie_api_key="x",
                                               opsgenie_api_key_file="/f"),
    "global victorops key twice": receiver_with("webhook_configs", WEBHOOK, victorops_api_key="x",
                                                victorops_api_key_file="/f"),
    "global smtp password twice": receiver_with("webhook_configs", WEBHOOK, smtp_auth_password="x",
                                                smtp_auth_password_file="/f"),
    "global bad slack url": receiver_with("webhook_configs", WEBHOOK, slack_api_url="x"),
    "global bad pagerduty url": receiver_with("webhook_configs", WEBHOOK, pagerduty_url="x"),
    "global jira_api_url (0.28)": receiver_with("webhook_configs", WEBHOOK, jira_api_url="http://x"),
    "inhibit bad equal label": {"route": {"receiver": "r"}, "receivers": [{"name": "r"}],
                                "inhibit_rules": [{"equal": ["a-b"]}]},
    "inhibit equal not a list": {"route": {"receiver": "r"}, "receivers": [{"name": "r"}],
                                 "inhibit_rules": [{"equal": "a"}]},
    "inhibit bad matcher": {"route": {"receiver": "r"}, "receivers": [{"name": "r"}],
                            "inhibit_rules": [{"source_matchers": ["a"]}]},
    "inhibit bad source_match label": {"route": {"receiver": "r"}, "receivers": [{"name": "r"}],
                                       "inhibit_rules": [{"source_match": {"1a": "x"}}]},
    "inhibit bad target_match_re": {"route": {"receiver": "r"}, "receivers": [{"name": "r"}],
                                    "inhibit_rules": [{"target_match_re": {"a": "("}}]},
    "inhibit unknown field": {"route": {"receiver": "r"}, "receivers": [{"name": "r"}],
                              "inhibit_rules": [{"name": "x"}]},
    "templates not a list": {"route": {"receiver": "r"}, "receivers": [{"name": "r"}], "templates": "x"},
    "template bad class": {"route": {"receiver": "r"}, "receivers": [{"name": "r"}], "templates": ["/x/[.tmpl"]},
    "template bad range": {"route": {"receiver": "r"}, "receivers": [{"name": "r"}], "templates": ["/x/[a-].tmpl"]},
}


def with_interval(*intervals, name="t", section="time_intervals") -> dict:
    return {"route": {"receiver": "r"}, "receivers": [{"name": "r"}],
            section: [{"name": name, "time_intervals": list(intervals)}] if name else [{"time_intervals": []}]}


REFUSED.update({
    "time interval without name": with_interval(name=""),
    "mute time interval without name": with_interval(name="", section="mute_time_intervals"),
    "time interval names twice": {"route": {"receiver": "r"}, "receivers": [{"name": "r"}],
                                  "mute_time_intervals": [{"name": "x"}], "time_intervals": [{"name": "x"}]},
    "time interval unknown field": with_interval({"bogus": ["0"]}),
    "time_zone instead of location": with_interval({"time_zone": "UTC"}),
    "unknown location": with_interval({"location": "Nowhere/City"}),
    "times reversed": with_interval({"times": [{"start_time": "17:00", "end_time": "09:00"}]}),
    "times one digit hour": with_interval({"times": [{"start_time": "9:00", "end_time": "10:00"}]}),
    "times past 24:00": with_interval({"times": [{"start_time": "09:00", "end_time": "24:01"}]}),
    "times minute 60": with_interval({"times": [{"start_time": "09:60", "end_time": "10:00"}]}),
    "times without end": with_interval({"times": [{"start_time": "09:00"}]}),
    "times unknown field": with_interval({"times": [{"start_time": "09:00", "end_time": "10:00", "x": 1}]}),
    "weekdays reversed": with_interval({"weekdays": ["friday:monday"]}),
    "weekday abbreviated": with_interval({"weekdays": ["mon"]}),
    "weekday as a number": with_interval({"weekdays": ["1"]}),
    "weekdays three bounds": with_interval({"weekdays": ["monday:tuesday:friday"]}),
    "day of month 0": with_interval({"days_of_month": ["0"]}),
    "day of month 32": with_interval({"days_of_month": ["32"]}),
    "days of month negative to positive": with_interval({"days_of_month": ["-5:3"]}),
    "days of month reversed": with_interval({"days_of_month": ["5:3"]}),
    "days of month reversed negative": with_interval({"days_of_month": ["-1:-5"]}),
    "days of month always reversed": with_interval({"days_of_month": ["30:-1"]}),
    "day of month not a number": with_interval({"days_of_month": ["x"]}),
    "months reversed": with_interval({"months": ["march:january"]}),
    "month abbreviated": with_interval({"months": ["jan"]}),
    "years reversed": with_interval({"years": ["2030:2020"]}),
    "year not a number": with_interval({"years": ["x"]}),
})

STRICTER = {
    "contradicting matchers": route_with(matchers=['a="b"', 'a="c"']),
    "matcher contradicting its parent's": {"route": {"receiver": "r", "routes": [
        {"matchers": ['team=~"db|web"'], "routes": [{"match": {"team": "mobile"}}]}]}, "receivers": [{"name": "r"}]},
    "equality and negation of one value": route_with(matchers=['a="b"', 'a!="b"']),
    "route after a catch-all sibling": {"route": {"receiver": "r", "routes": [{"receiver": "s"}, {
        "matchers": ['a="b"']}]}, "receivers": [{"name": "r"}, {"name": "s"}]},
    "match value not a string": route_with(match={"code": 500}),
    "receiver name not a string": {"route": {"receiver": "1"}, "receivers": [{"name": 1}]},
    "month 13": with_interval({"months": ["13"]}),
    "sns with all three targets": receiver_with("sns_configs", {"topic_arn": "t", "target_arn": "a",
                                                                "phone_number": "p"}),
    "regex Go and Python group differently": route_with(matchers=['a=~"(a*)*"']),
}


def test_amtool_accepts_every_configuration_the_model_accepts_in_the_rich_cases(tmp_path):
    disagreements = []
    for name, config in accepted_cases(tmp_path).items():
        model, why = model_accepts(config)
        tool, output = amtool_accepts(tmp_path, config)
        if not (model and tool):
            disagreements.append("%s: model %s (%s), amtool %s (%s)" % (name, model, why, tool, output.strip()))
    assert not disagreements


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_amtool_refuses_each_configuration_the_model_refuses(tmp_path, name):
    model, _why = model_accepts(REFUSED[name])
    tool, output = amtool_accepts(tmp_path, REFUSED[name])
    assert (model, tool) == (False, False), output


@pytest.mark.parametrize("name", sorted(STRICTER))
def test_the_model_is_stricter_than_amtool_on_purpose(tmp_path, name):
    model, _why = model_accepts(STRICTER[name])
    tool, output = amtool_accepts(tmp_path, STRICTER[name])
    assert (model, tool) == (False, True), output


# ---------------------------------------------------------------- (b) routes test

RECEIVERS = ["default", "pager", "db", "web", "ops", "night"]
VALUES = {"severity": ["critical", "warning", "info"], "team": ["db", "web", "storage", "mobile"],
          "env": ["prod", "dev", "staging"], "dc": ["eu-west-1", "us-east-1"]}
REGEXES = {"severity": ["crit.*", "critical|warning", "(?i)CRITICAL", "[a-z]+ing", "warn"],
           "team": ["db|storage", "web", "d.*", ".*o.*", "db|"],
           "env": ["prod", "p.*|d.*", ".+", "stag(ing)?"], "dc": ["eu-.*", "us-east-[0-9]", ".*-1", "eu"]}


def generated_matcher(rng: random.Random) -> tuple:
    label = rng.choice(sorted(VALUES))
    op = rng.choice(["=", "=", "!=", "=~", "=~", "!~"])
    value = rng.choice(VALUES[label] + [""]) if op in ("=", "!=") else rng.choice(REGEXES[label])
    return label, op, value


def generated_route(rng: random.Random, depth: int, last: bool) -> dict:
    route: dict = {}
    if last and rng.random() < 0.15:
        pass  # a fallback without matchers, only where nothing comes after it
    elif rng.random() < 0.25:  # the old syntax, one label each
        for label, op, value in [generated_matcher(rng) for _draw in range(rng.choice([1, 2]))]:
            if op == "=":
                route.setdefault("match", {})[label] = value
            elif op == "=~":
                route.setdefault("match_re", {})[label] = value
            else:
                route.setdefault("matchers", []).append('%s%s"%s"' % (label, op, value))
    else:
        matchers = ['%s%s"%s"' % generated_matcher(rng) for _draw in range(rng.choice([1, 1, 2]))]
        route["matchers"] = [", ".join(matchers)] if len(matchers) > 1 and rng.random() < 0.5 else matchers
    if rng.random() < 0.7:
        route["receiver"] = rng.choice(RECEIVERS)
    if rng.random() < 0.35:
        route["continue"] = True
    if depth < 2 and rng.random() < 0.45:
        count = rng.randint(1, 3)
        route["routes"] = [generated_route(rng, depth + 1, index == count - 1) for index in range(count)]
    return route


def generated_trees(rng: random.Random, count: int) -> list:
    """``count`` routing trees the model accepts (those it refuses on purpose are drawn again)."""
    trees = []
    while len(trees) < count:
        children = rng.randint(2, 5)
        config = {"route": {"receiver": "default", "group_by": ["alertname"],
                            "routes": [generated_route(rng, 1, index == children - 1) for index in range(children)]},
                  "receivers": [{"name": name} for name in RECEIVERS]}
        if model_accepts(config)[0]:
            trees.append(config)
    return trees


def label_sets(rng: random.Random, count: int) -> list:
    every = [dict((label, value) for label, value in zip(sorted(VALUES), combination, strict=True) if value is not None)
             for combination in itertools.product(*[VALUES[label] + [None] for label in sorted(VALUES)])]
    return rng.sample(every, count)


HAND_WRITTEN = [
    ({"route": {"receiver": "default", "routes": [
        {"matchers": ['severity="critical"'], "receiver": "pager", "continue": True},
        {"match_re": {"team": "db|storage"}, "receiver": "db", "routes": [
            {"match": {"env": "prod"}, "receiver": "ops", "continue": True},
            {"matchers": ['dc=~"eu-.*"'], "receiver": "night"}]},
        {"matchers": ['team="web"', 'severity!~"info"'], "receiver": "web"},
        {"receiver": "ops"}]}, "receivers": [{"name": name} for name in RECEIVERS]},
     [{"severity": "critical", "team": "db", "env": "prod", "dc": "eu-west-1"}, {"team": "storage"},
      {"team": "web", "severity": "info"}, {"team": "web", "severity": "warning"}, {}, {"severity": "critical"},
      {"team": "dbx"}, {"team": "db", "env": "prod"}, {"team": "db", "dc": "us-east-1"}]),
]


def amtool_routes(config_file: Path, labels: dict, expected: list) -> tuple[int, str]:
    args = ['%s="%s"' % (name, value) for name, value in sorted(labels.items())]
    run = amtool("config", "routes", "test", "--config.file=%s" % config_file,
                 "--verify.receivers=%s" % ",".join(expected), *args)
    return run.returncode, run.stdout.strip().splitlines()[0] if run.stdout.strip() else ""


def test_amtool_routes_alerts_to_the_receivers_route_alert_gives(tmp_path):
    rng = random.Random(SEED)
    cases = list(HAND_WRITTEN) + [(tree, label_sets(rng, 40)) for tree in generated_trees(rng, 10)]
    compared, differences = 0, []
    for index, (config, alerts) in enumerate(cases):
        directory = tmp_path / str(index)
        directory.mkdir()
        assert amtool_accepts(directory, config)[0], json.dumps(config)
        config_file = write(directory, config)
        for labels in alerts:
            expected = [match["receiver"] for match in route_alert(config, labels)]
            code, printed = amtool_routes(config_file, labels, expected)
            compared += 1
            if code != 0 or printed != ",".join(expected):
                differences.append("tree %d, %s: model %s, amtool %s" % (index, labels, expected, printed))
    assert (compared >= 400, differences) == (True, [])


def test_the_module_answers_as_amtool_through_ansible(tmp_path):
    config, alerts = HAND_WRITTEN[0]
    host = fleet.run_module("promfleet.federation.alertmanager_routes", {"config": config, "alerts": alerts},
                            "--check")
    config_file = write(tmp_path, config)
    answers = [amtool_routes(config_file, labels, [m["receiver"] for m in matches])
               for labels, matches in zip(alerts, host["routes"], strict=True)]
    assert (host["changed"], len(host["routes"]), [code for code, _printed in answers]) == (
        False, len(alerts), [0] * len(alerts))
    assert [printed.split(",") for _code, printed in answers] == [
        [m["receiver"] for m in matches] for matches in host["routes"]]
