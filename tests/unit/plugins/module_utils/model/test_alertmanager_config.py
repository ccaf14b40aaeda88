"""The alertmanager.yml model (``model.alertmanager``): what it accepts, each refusal with its exact
message naming the path, the release lines, and the redaction of secrets."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.promfleet.federation.plugins.module_utils.errors import AlertmanagerConfigError
from ansible_collections.promfleet.federation.plugins.module_utils.model.alertmanager import (
    normalize_alertmanager_config,
    redact_alertmanager_config,
)

RECEIVERS = [{"name": "default"}, {"name": "pager"}, {"name": "team"}]


def config(route=None, receivers=None, **sections) -> dict:
    """A configuration with a root route to ``default`` (children ``route``) and ``RECEIVERS``."""
    result = {"route": {"receiver": "default", **({"routes": route} if route is not None else {})},
              "receivers": copy.deepcopy(RECEIVERS if receivers is None else receivers)}
    result.update(sections)
    return result


def with_receiver(kind: str, item: dict, **global_config) -> dict:
    """A configuration whose third receiver, ``pager``, has one ``kind`` config: ``item``."""
    receivers = copy.deepcopy(RECEIVERS)
    receivers[1][kind] = [item]
    result = config(receivers=receivers)
    if global_config:
        result["global"] = global_config
    return result


def refusal(cfg: dict, version: str = "0.25") -> str:
    with pytest.raises(AlertmanagerConfigError) as raised:
        normalize_alertmanager_config(cfg, version)
    return str(raised.value)


RICH = {
    "global": {
        "resolve_timeout": "5m",
        "smtp_from": "alertmanager@example.org",
        "smtp_smarthost": "smtp.example.org:587",
        "smtp_auth_username": "am",
        "smtp_auth_password": "smtp-pass",
        "slack_api_url": "https://hooks.slack.com/services/T0/B0/XYZ",
        "opsgenie_api_key": "og-key",
        "http_config": {"basic_auth": {"username": "u", "password": "p"}, "follow_redirects": True},
    },
    "templates": ["/etc/alertmanager/templates/*.tmpl"],
    "route": {
        "receiver": "default",
        "group_by": ["alertname", "dc"],
        "group_wait": "30s",
        "group_interval": "5m",
        "repeat_interval": "4h",
        "routes": [
            {"matchers": ['severity="critical"'], "receiver": "pager", "continue": True},
            {"match_re": {"team": "db|storage"}, "receiver": "team", "routes": [
                {"match": {"env": "prod"}, "repeat_interval": "1h", "mute_time_intervals": ["weekends"]},
            ]},
            {"matchers": ["{dc=~\"eu-.*\", severity!=\"info\"}"], "receiver": "team",
             "active_time_intervals": ["office"]},
        ],
    },
    "receivers": [
        {"name": "default", "email_configs": [{"to": "ops@example.org"}]},
        {"name": "pager", "pagerduty_configs": [{"routing_key": "pd-key", "severity": "critical"}]},
        {"name": "team", "webhook_configs": [{"url": "https://hooks.example.org/team", "max_alerts": 10}],
         "slack_configs": [{"channel": "#team", "send_resolved": True}]},
    ],
    "inhibit_rules": [{"source_matchers": ['severity="critical"'], "target_matchers": ['severity="warning"'],
                       "equal": ["alertname", "dc"]}],
    "time_intervals": [
        {"name": "weekends", "time_intervals": [{"weekdays": ["saturday", "sunday"]}]},
        {"name": "office", "time_intervals": [{"times": [{"start_time": "09:00", "end_time": "17:00"}],
                                               "weekdays": ["monday:friday"], "location": "Europe/Paris"}]},
    ],
}


# ---------------------------------------------------------------- accepted


def test_a_rich_configuration_comes_back_unchanged():
    assert normalize_alertmanager_config(copy.deepcopy(RICH)) == RICH


def test_the_result_is_a_copy():
    cfg = copy.deepcopy(RICH)
    result = normalize_alertmanager_config(cfg)
    result["route"]["routes"].clear()
    assert cfg == RICH


def test_null_sections_are_unset_as_in_yaml():
    assert normalize_alertmanager_config(config(receivers=[{"name": "default", "webhook_configs": None}],
                                                **{"global": None, "inhibit_rules": None}))


def test_an_empty_matchers_entry_is_no_matcher_and_so_allowed_at_the_root():
    normalize_alertmanager_config({"route": {"receiver": "default", "matchers": ["", "{}"]},
                                   "receivers": [{"name": "default"}]})


def test_the_deprecated_top_level_mute_time_intervals_still_name_intervals():
    normalize_alertmanager_config(config([{"matchers": ['a="b"'], "mute_time_intervals": ["night"]}],
                                         mute_time_intervals=[{"name": "night", "time_intervals": [
                                             {"times": [{"start_time": "00:00", "end_time": "06:00"}]}]}]))


# ---------------------------------------------------------------- the top level and the root route


@pytest.mark.parametrize("cfg, message", [
    (None, "the configuration must be a mapping (alertmanager.yml) with route and receivers, got None"),
    ({"receivers": []}, "route: is required: the root route, with the receiver of the alerts no child route takes"),
    ({"route": {"receiver": "default"}, "receivers": [], "recievers": []},
     "unknown field 'recievers' in an Alertmanager configuration; did you mean 'receivers'?"),
    ({"route": {}, "receivers": []},
     "route: receiver is required at the root route: it takes the alerts no child route takes"),
    ({"route": {"receiver": "default", "matchers": ['a="b"']}, "receivers": [{"name": "default"}]},
     "route: the root route cannot have matchers: it takes every alert; put them in a child route (route.routes)"),
    ({"route": {"receiver": "default", "continue": True}, "receivers": [{"name": "default"}]},
     "route: the root route cannot have continue: it takes every alert; put them in a child route (route.routes)"),
    ({"route": {"receiver": "default", "mute_time_intervals": ["x"]}, "receivers": [{"name": "default"}]},
     "route: the root route cannot have mute_time_intervals: it takes every alert; put them in a child route "
     "(route.routes)"),
    ({"route": {"receiver": "default"}}, "route.receiver: 'default' is not a receiver; none is defined"),
])
def test_the_top_level_and_the_root_route(cfg, message):
    assert refusal(cfg) == message


# ---------------------------------------------------------------- routes


@pytest.mark.parametrize("routes, message", [
    ([{"receiver": "pagr"}], "route.routes[0].receiver: 'pagr' is not a receiver; did you mean 'pager'?"),
    ([{"matchers": ['a="b"'], "recevier": "pager"}],
     "route.routes[0]: unknown field 'recevier' in a route; did you mean 'receiver'?"),
    ([{"matchers": ['a="b"'], "mute_time_intervals": ["weekend"]}],
     "route.routes[0].mute_time_intervals[0]: 'weekend' is not a time interval; none is defined"),
    ([{"matchers": ['a="b"'], "active_time_intervals": ["office"]}],
     "route.routes[0].active_time_intervals[0]: 'office' is not a time interval; none is defined"),
    ([{"matchers": ['a="b"'], "group_wait": "1x"}],
     "route.routes[0].group_wait: '1x' is not a duration; use e.g. 30s, 5m or 1h30m (units y w d h m s ms, "
     "largest first)"),
    ([{"matchers": ['a="b"'], "group_wait": 30}],
     "route.routes[0].group_wait: must be a duration string like 30s, 5m or 1h30m, got 30 (quote it)"),
    ([{"matchers": ['a="b"'], "group_interval": "0s"}], "route.routes[0].group_interval: cannot be zero; use e.g. 5m"),
    ([{"matchers": ['a="b"'], "repeat_interval": "0"}], "route.routes[0].repeat_interval: cannot be zero; use e.g. 5m"),
    ([{"matchers": ['a="b"'], "group_by": ["...", "dc"]}],
     "route.routes[0].group_by: '...' (group by every label) cannot be combined with other labels; keep '...' "
     "alone or list the labels"),
    ([{"matchers": ['a="b"'], "group_by": ["dc", "dc"]}], "route.routes[0].group_by: lists 'dc' twice; list each "
                                                          "label once"),
    ([{"matchers": ['a="b"'], "group_by": ["data-center"]}],
     "route.routes[0].group_by[0]: 'data-center' is not a valid label name (letters, digits and _, not starting "
     "with a digit)"),
    ([{"matchers": ['a="b"'], "continue": "yes"}], "route.routes[0].continue: must be true or false, got 'yes'"),
    ([{"matchers": ['a="b"'], "routes": {"receiver": "pager"}}],
     "route.routes[0].routes: must be a list of routes, got {'receiver': 'pager'}"),
    ([{"routes": [{"receiver": "nobody"}]}], "route.routes[0].routes[0].receiver: 'nobody' is not a receiver; the "
                                             "receivers are 'default', 'pager', 'team'"),
])
def test_routes(routes, message):
    assert refusal(config(routes)) == message


@pytest.mark.parametrize("matchers, message", [
    (['severity=~"("'], "route.routes[1].routes[0]: matchers[0] 'severity=~\"(\"': '(' is not a valid Go regular "
                        "expression (as ^(?:()$): missing closing ) for the group opened before offset 4"),
    (["severity"], "route.routes[1].routes[0]: matchers[0] 'severity': 'severity' is not a matcher; write "
                   "label=\"value\" (or !=, =~, !~), the label of letters, digits, _ and :"),
    (['a="b'], "route.routes[1].routes[0]: matchers[0] 'a=\"b': the value \"b has no closing double quote"),
    (['a=b"c'], "route.routes[1].routes[0]: matchers[0] 'a=b\"c': the value b\"c has a double quote inside; "
                "escape it as \\\" or quote the whole value"),
    (['a="x",,b="y"'], "route.routes[1].routes[0]: matchers[0] 'a=\"x\",,b=\"y\"': '' is not a matcher; write "
                       "label=\"value\" (or !=, =~, !~), the label of letters, digits, _ and :"),
    (['"a"="b"'], "route.routes[1].routes[0]: matchers[0] '\"a\"=\"b\"': '\"a\"=\"b\"' is not a matcher; write "
                  "label=\"value\" (or !=, =~, !~), the label of letters, digits, _ and :"),
    ([1], "route.routes[1].routes[0]: matchers[0] 1: a matcher must be a string like 'severity=\"critical\"'"),
    ('a="b"', "route.routes[1].routes[0].matchers: must be a list of matchers like 'severity=\"critical\"', "
              "got 'a=\"b\"'"),
])
def test_a_bad_matcher_is_named_with_its_route_and_index(matchers, message):
    cfg = config([{"matchers": ['a="b"']}, {"matchers": ['b="c"'], "routes": [{"matchers": matchers}]}])
    assert refusal(cfg) == message


@pytest.mark.parametrize("route, message", [
    ({"match_re": {"team": "db|("}}, "route.routes[0].match_re.team: 'db|(' is not a valid Go regular expression "
                                     "(as ^(?:db|()$): missing closing ) for the group opened before offset 4"),
    ({"match": {"data-center": "eu"}}, "route.routes[0].match: 'data-center' is not a valid label name (letters, "
                                       "digits and _, not starting with a digit)"),
    ({"match": {"code": 500}}, "route.routes[0].match.code: must be a string, got 500 (quote it)"),
    ({"match": ["a=b"]}, "route.routes[0].match: must be a mapping of label names to values, got ['a=b']"),
])
def test_the_old_match_and_match_re(route, message):
    assert refusal(config([route])) == message


def test_named_groups_with_angle_brackets_need_0_28():
    cfg = config([{"matchers": ['a=~"(?<x>y)"']}])
    assert refusal(cfg) == ("route.routes[0]: matchers[0] 'a=~\"(?<x>y)\"': named groups (?<name>...) need "
                            "Alertmanager 0.28 (built with Go 1.22); write (?P<name>...)")
    assert normalize_alertmanager_config(cfg, "0.28") == cfg


# ---------------------------------------------------------------- routes that can never match


def test_two_equality_matchers_on_one_label_contradict():
    assert refusal(config([{"matchers": ['a="x"', 'a="y"'], "receiver": "pager"}])) == (
        'route.routes[0]: this route can never match: a="x" (matchers[0]) and a="y" (matchers[1]) contradict each '
        "other (no alert has both); remove one of them")


def test_an_equality_contradicts_a_regex_of_its_parent():
    cfg = config([{"matchers": ['severity=~"critical|page"'], "routes": [{"match": {"severity": "warning"}}]}])
    assert refusal(cfg) == (
        'route.routes[0].routes[0]: this route can never match: severity="warning" (match.severity) and '
        'severity=~"critical|page" (route.routes[0].matchers[0]) contradict each other (no alert has both); '
        "remove one of them")


@pytest.mark.parametrize("matchers, clash", [
    (['a="x"', 'a!="x"'], 'a="x" (matchers[0]) and a!="x" (matchers[1])'),
    (['a!~"x|y"', 'a="x"'], 'a="x" (matchers[1]) and a!~"x|y" (matchers[0])'),
    (['a="xy"', 'a=~"x"'], 'a="xy" (matchers[0]) and a=~"x" (matchers[1])'),
])
def test_an_equality_contradicts_a_negation_or_a_regex_it_fails(matchers, clash):
    assert refusal(config([{"matchers": matchers}])) == (
        "route.routes[0]: this route can never match: %s contradict each other (no alert has both); remove one of "
        "them" % clash)


@pytest.mark.parametrize("matchers", [
    ['a="x"', 'a=~"x|y"'], ['a="x"', 'a!="y"'], ['a=~"x.*"', 'a=~".*y"'], ['a!="x"', 'a!="y"'], ['a="x"', 'b="y"'],
])
def test_matchers_that_can_hold_together_are_accepted(matchers):
    normalize_alertmanager_config(config([{"matchers": matchers}]))


def test_a_route_after_a_sibling_without_matchers_and_continue_can_never_be_reached():
    cfg = config([{"receiver": "pager"}, {"matchers": ['team="db"'], "receiver": "team"}])
    assert refusal(cfg) == (
        "route.routes[1]: can never be reached: route.routes[0] before it has no matchers and no continue, so it "
        "takes every alert that gets there; move this route before it, or give route.routes[0] matchers or "
        "continue: true")


def test_a_sibling_without_matchers_but_with_continue_lets_the_next_ones_be_reached():
    normalize_alertmanager_config(config([{"receiver": "pager", "continue": True}, {"matchers": ['a="b"']}]))


def test_a_last_route_without_matchers_is_a_fallback():
    normalize_alertmanager_config(config([{"matchers": ['a="b"'], "receiver": "pager"}, {"receiver": "team"}]))


# ---------------------------------------------------------------- receivers


@pytest.mark.parametrize("receivers, message", [
    ([{"name": "default"}, {"name": "default"}],
     "receivers[1] (name 'default'): the name 'default' is already used by receivers[0] (name 'default'); "
     "receiver names must be unique"),
    ([{"name": "default"}, {}], "receivers[1]: name is required: the name routes use to send alerts to this "
                                "receiver"),
    ([{"name": "default", "webhook_config": [{"url": "http://x"}]}],
     "receivers[0] (name 'default'): unknown field 'webhook_config' in a receiver; did you mean 'webhook_configs'?"),
    ([{"name": "default", "webhook_configs": {"url": "http://x"}}],
     "receivers[0] (name 'default'): webhook_configs: must be a list, got {'url': 'http://x'}"),
    ([{"name": "default", "webhook_configs": [None]}],
     "receivers[0] (name 'default'): webhook_configs[0]: must be a mapping (a webhook_config entry), got None"),
    ([{"name": "default", "msteams_configs": [{"webhook_url": "https://x"}]}],
     "receivers[0] (name 'default'): msteams_configs needs Alertmanager 0.26 or newer, but the configuration "
     "targets 0.25; remove it or target 0.26"),
])
def test_receivers(receivers, message):
    assert refusal(config(receivers=receivers)) == message


@pytest.mark.parametrize("kind, item, message", [
    ("webhook_configs", {}, "url is required"),
    ("webhook_configs", {"url": "ftp://hooks.example.org/x"},
     "webhook_configs[0].url: the URL must be an http:// or https:// URL (scheme 'ftp')"),
    ("webhook_configs", {"url": "https://"}, "webhook_configs[0].url: the URL has no host; write e.g. "
                                             "https://host.example.org/path"),
    ("webhook_configs", {"url": "http://x", "max_alerts": -1},
     "webhook_configs[0].max_alerts: must be a whole number >= 0, got -1"),
    ("webhook_configs", {"url": "http://x", "url_file": "/f"},
     "webhook_configs[0]: unknown field 'url_file' in a webhook_config; the fields are send_resolved, http_config, "
     "url, max_alerts"),
    ("webhook_configs", {"url": "http://x", "http_config": {"bearer_token": "t", "basic_auth": {"username": "u"}}},
     "webhook_configs[0].http_config: bearer_token and basic_auth are exclusive; use only one way to authenticate"),
    ("email_configs", {"from": "a@b", "smarthost": "h:25"}, "to is required"),
    ("email_configs", {"to": "a@b", "smarthost": "h:25"}, "from (or global.smtp_from) is required"),
    ("email_configs", {"to": "a@b", "from": "c@d"}, "smarthost (or global.smtp_smarthost) is required"),
    ("email_configs", {"to": "a@b", "from": "c@d", "smarthost": "smtp.example.org"},
     "email_configs[0].smarthost: 'smtp.example.org' is not host:port (e.g. smtp.example.org:587, "
     "[2001:db8::1]:25)"),
    ("email_configs", {"to": "a@b", "from": "c@d", "smarthost": "h:"},
     "email_configs[0].smarthost: 'h:' has an empty port; write host:port, e.g. smtp.example.org:587"),
    ("email_configs", {"to": "a@b", "from": "c@d", "smarthost": "h:25", "headers": {"subject": "x", "Subject": "y"}},
     "email_configs[0].headers: 'subject' and 'Subject' are the same header (names are case-insensitive); keep one"),
    ("email_configs", {"to": "a@b", "from": "c@d", "smarthost": "h:25", "http_config": {}},
     "email_configs[0]: unknown field 'http_config' in an email_config; did you mean 'tls_config'?"),
    ("slack_configs", {}, "api_url or api_url_file (or global.slack_api_url / global.slack_api_url_file) is "
                          "required"),
    ("slack_configs", {"api_url": "http://x", "api_url_file": "/f"}, "api_url and api_url_file are exclusive; keep "
                                                                     "one of them"),
    ("slack_configs", {"api_url": "not a url"}, "slack_configs[0].api_url: the URL must be an http:// or https:// "
                                                "URL (scheme '')"),
    ("slack_configs", {"api_url": "http://x", "fields": [{"title": "a"}]},
     "slack_configs[0].fields[0]: value is required"),
    ("slack_configs", {"api_url": "http://x", "actions": [{"type": "button", "text": "t"}]},
     "slack_configs[0].actions[0]: url (a button linking to it) or name (a message action) is required"),
    ("slack_configs", {"api_url": "http://x", "actions": [{"type": "b", "text": "t", "name": "n", "confirm": {}}]},
     "slack_configs[0].actions[0].confirm: text is required"),
    ("pagerduty_configs", {}, "routing_key or routing_key_file or service_key or service_key_file is required"),
    ("pagerduty_configs", {"routing_key": "k", "routing_key_file": "/f"},
     "routing_key and routing_key_file are exclusive; keep one of them"),
    ("pagerduty_configs", {"routing_key": "k", "images": [{"source": "x"}]},
     "pagerduty_configs[0].images[0]: unknown field 'source' in a PagerDuty image; did you mean 'src'?"),
    ("pagerduty_configs", {"routing_key": "k", "url": "events.pagerduty.com"},
     "pagerduty_configs[0].url: 'events.pagerduty.com' must be an http:// or https:// URL (scheme '')"),
    ("opsgenie_configs", {}, "api_key or api_key_file (or global.opsgenie_api_key / global.opsgenie_api_key_file) "
                             "is required"),
    ("opsgenie_configs", {"api_key": "k", "responders": [{"id": "x", "type": "squad"}]},
     "opsgenie_configs[0].responders[0].type: 'squad' is not valid; use one of team, teams, user, escalation, "
     "schedule (or a template)"),
    ("victorops_configs", {"api_key": "k", "routing_key": "r", "custom_fields": {"entity_id": "x"}},
     "victorops_configs[0].custom_fields: entity_id is a field VictorOps notifications set themselves; use "
     "another name"),
    ("pushover_configs", {"user_key": "u", "token": "t", "retry": "1d"},
     "pushover_configs[0].retry: '1d' is not a Go duration; use e.g. 30s, 1m or 1.5h (units h m s ms us ns)"),
    ("sns_configs", {"topic_arn": "t", "phone_number": "p"},
     "set exactly one of topic_arn, target_arn or phone_number (set: topic_arn, phone_number)"),
    ("telegram_configs", {"bot_token": "t", "chat_id": 0}, "chat_id is required (a number, not 0)"),
    ("telegram_configs", {"bot_token": "t", "chat_id": 1, "parse_mode": "markdown"},
     "telegram_configs[0].parse_mode: 'markdown' is not valid; use one of , Markdown, MarkdownV2, HTML"),
    ("wechat_configs", {"api_secret": "s"}, "corp_id (or global.wechat_api_corp_id) is required"),
    ("webex_configs", {"room_id": "r"}, "http_config.authorization is required (the bot's access token in "
                                        "http_config.authorization.credentials)"),
    ("discord_configs", {"title": "t"}, "webhook_url is required"),
])
def test_receiver_configs(kind, item, message):
    where = "receivers[1] (name 'pager'): "
    refused = refusal(with_receiver(kind, item))
    assert refused == where + (message if message.startswith(kind) else "%s[0]: %s" % (kind, message))


def test_the_global_section_gives_what_a_receiver_leaves_out():
    cfg = with_receiver("email_configs", {"to": "ops@example.org"}, smtp_from="am@example.org",
                        smtp_smarthost="smtp.example.org:25")
    assert normalize_alertmanager_config(cfg) == cfg


@pytest.mark.parametrize("global_config, message", [
    ({"resolve_timeout": "5 minutes"}, "global.resolve_timeout: '5 minutes' is not a duration; use e.g. 30s, 5m or "
                                       "1h30m (units y w d h m s ms, largest first)"),
    ({"slack_api_url": "http://x", "slack_api_url_file": "/f"},
     "global: slack_api_url and slack_api_url_file are exclusive; keep one of them"),
    ({"smtp_tls_config": {}}, "global: unknown field 'smtp_tls_config' in a global config; did you mean "
                              "'http_config'?"),
    ({"jira_api_url": "https://jira.example.org"}, "global: jira_api_url needs Alertmanager 0.28 or newer, but the "
                                                   "configuration targets 0.25; remove it or target 0.28"),
    ({"http_config": {"no_proxy": "localhost"}}, "global.http_config: no_proxy needs Alertmanager 0.26 or newer, but "
                                                 "the configuration targets 0.25; remove it or target 0.26"),
    ({"http_config": {"oauth2": {"client_id": "a", "token_url": "http://x"}}},
     "global.http_config.oauth2: client_secret or client_secret_file is required before Alertmanager 0.27 (the "
     "configuration targets 0.25)"),
    ({"http_config": {"authorization": {"type": "basic", "credentials": "x"}}},
     'global.http_config.authorization: type cannot be "Basic"; use basic_auth with username and password instead'),
    ({"http_config": {"proxy_connect_header": {"X": ["y"]}}}, "global.http_config: proxy_connect_header needs "
                                                              "proxy_url"),
    ({"http_config": {"tls_config": {"min_version": "TLS9"}}},
     "global.http_config.tls_config.min_version: 'TLS9' is not valid; use one of TLS10, TLS11, TLS12, TLS13"),
])
def test_global(global_config, message):
    assert refusal(config(**{"global": global_config})) == message


@pytest.mark.parametrize("version", ["0.24", "1.0", "latest"])
def test_an_unknown_release_line_is_refused(version):
    assert refusal(config(), version) == (
        "Alertmanager version %s is not modelled by the engine; use one of 0.25, 0.26, 0.27, 0.28" % version)


def test_later_receivers_are_accepted_on_their_lines():
    cfg = config(receivers=RECEIVERS + [{"name": "teams", "msteams_configs": [{"webhook_url": "https://x"}]}])
    assert normalize_alertmanager_config(cfg, "0.26") == cfg


# ---------------------------------------------------------------- inhibit rules, time intervals, templates


@pytest.mark.parametrize("rule, message", [
    ({"equal": ["a-b"]}, "inhibit_rules[0].equal[0]: 'a-b' is not a valid label name (letters, digits and _, not "
                         "starting with a digit)"),
    ({"equal": "alertname"}, "inhibit_rules[0].equal: must be a list, got 'alertname'"),
    ({"source_matchers": ["severity"]}, "inhibit_rules[0]: source_matchers[0] 'severity': 'severity' is not a "
                                        "matcher; write label=\"value\" (or !=, =~, !~), the label of letters, "
                                        "digits, _ and :"),
    ({"target_match_re": {"a": "("}}, "inhibit_rules[0].target_match_re.a: '(' is not a valid Go regular "
                                      "expression (as ^(?:()$): missing closing ) for the group opened before "
                                      "offset 4"),
    ({"source_match": {"1a": "x"}}, "inhibit_rules[0].source_match: '1a' is not a valid label name (letters, "
                                    "digits and _, not starting with a digit)"),
    ({"name": "x"}, "inhibit_rules[0]: unknown field 'name' in an inhibit rule; the fields are source_match, "
                    "source_match_re, source_matchers, target_match, target_match_re, target_matchers, equal"),
])
def test_inhibit_rules(rule, message):
    assert refusal(config(inhibit_rules=[rule])) == message


@pytest.mark.parametrize("interval, message", [
    ({"times": [{"start_time": "17:00", "end_time": "09:00"}]},
     "times[0]: start_time 17:00 is not before end_time 09:00 (a range cannot cross midnight: split it in two)"),
    ({"times": [{"start_time": "9:00", "end_time": "10:00"}]},
     "times[0].start_time: '9:00' is not a time of day; write HH:MM from 00:00 to 24:00"),
    ({"times": [{"start_time": "09:00"}]}, "times[0]: start_time and end_time are both required (HH:MM)"),
    ({"weekdays": ["friday:monday"]}, "weekdays[0]: 'friday:monday' ends before it starts; weeks run from sunday to "
                                      "saturday"),
    ({"weekdays": ["mon"]}, "weekdays[0]: 'mon' is not a weekday"),
    ({"days_of_month": ["0"]}, "days_of_month[0]: 0 is not a day of the month: use 1 to 31, or -1 (the last day) "
                               "to -31"),
    ({"days_of_month": ["-5:3"]},
     "days_of_month[0]: '-5:3' starts from the end of the month and ends from its start; make the end negative too"),
    ({"days_of_month": ["30:-1"]}, "days_of_month[0]: '30:-1' always ends before it starts"),
    ({"months": ["13"]}, "months[0]: 13 is not a month: use 1 to 12 or january to december"),
    ({"months": ["march:january"]}, "months[0]: 'march:january' ends before it starts; write two ranges to cross "
                                    "the new year"),
    ({"years": ["2030:2020"]}, "years[0]: '2030:2020' ends before it starts"),
    ({"location": "Mars/Olympus"}, "location: 'Mars/Olympus' is not a time zone of the IANA database (e.g. "
                                   "Europe/Paris, America/New_York, UTC)"),
    ({"time_zone": "UTC"}, ": unknown field 'time_zone' in a time interval; the fields are times, weekdays, "
                           "days_of_month, months, years, location"),
])
def test_time_intervals(interval, message):
    where = "time_intervals[0] (name 'office'): time_intervals[0]"
    expected = where + message if message.startswith(":") else "%s.%s" % (where, message)
    assert refusal(config(time_intervals=[{"name": "office", "time_intervals": [interval]}])) == expected


@pytest.mark.parametrize("interval", [
    {"weekdays": ["Monday:FRIDAY"], "days_of_month": ["3:-1", "-7:-1", 1], "months": ["1:3", "december"],
     "years": ["2024:2030"], "times": [{"start_time": "00:00", "end_time": "24:00"}]},
    {"location": "UTC"}, {"location": "Local"}, {"location": "America/New_York"}, {},
])
def test_time_intervals_alertmanager_accepts(interval):
    normalize_alertmanager_config(config(time_intervals=[{"name": "x", "time_intervals": [interval]}]))


def test_time_interval_names_are_unique_across_both_sections():
    cfg = config(mute_time_intervals=[{"name": "night"}], time_intervals=[{"name": "night"}])
    assert refusal(cfg) == ("time_intervals[0] (name 'night'): the name 'night' is already used by "
                            "mute_time_intervals[0] (name 'night'); names must be unique")


@pytest.mark.parametrize("pattern", ["x/[.tmpl", "x/[]a].tmpl", "x/[a-].tmpl", "x/[^", "x\\"])
def test_a_template_glob_go_cannot_parse(pattern):
    assert refusal(config(templates=[pattern])).startswith("templates[0]: %r " % pattern)


@pytest.mark.parametrize("pattern", ["/etc/am/*.tmpl", "t/[a-z]?.tmpl", "t/[^x].tmpl", "t/\\*.tmpl", "t/]x"])
def test_template_globs_go_parses(pattern):
    normalize_alertmanager_config(config(templates=[pattern]))


# ---------------------------------------------------------------- secrets


def test_every_secret_is_redacted_and_nothing_else():
    cfg = {
        "global": {"smtp_auth_password": "p1", "smtp_auth_secret": "p2", "slack_api_url": "https://hooks/T/B/X",
                   "opsgenie_api_key": "p3", "wechat_api_secret": "p4", "victorops_api_key": "p5",
                   "smtp_auth_password_file": "/run/secret", "smtp_from": "am@example.org",
                   "http_config": {"basic_auth": {"username": "u", "password": "p6"}}},
        "route": {"receiver": "r"},
        "receivers": [{"name": "r",
                       "webhook_configs": [{"url": "https://hooks/token", "http_config": {"bearer_token": "p7"}}],
                       "email_configs": [{"to": "a@b", "auth_password": "p8", "auth_secret": ""}],
                       "slack_configs": [{"api_url": "https://hooks/slack", "channel": "#c"}],
                       "pagerduty_configs": [{"routing_key": "p9", "service_key": "p10",
                                              "url": "https://events.pagerduty.com/v2/enqueue"}],
                       "opsgenie_configs": [{"api_key": "p11", "http_config": {
                           "oauth2": {"client_id": "id", "client_secret": "p12", "token_url": "https://t"}}}],
                       "pushover_configs": [{"user_key": "p13", "token": "p14"}],
                       "victorops_configs": [{"api_key": "p15", "routing_key": "rk"}],
                       "wechat_configs": [{"api_secret": "p16", "corp_id": "c"}],
                       "telegram_configs": [{"bot_token": "p17", "chat_id": 1}],
                       "discord_configs": [{"webhook_url": "https://discord/p18"}],
                       "sns_configs": [{"topic_arn": "t", "sigv4": {"access_key": "ak", "secret_key": "p19"}}],
                       "webex_configs": [{"room_id": "r", "http_config": {"authorization": {"credentials": "p20"}}}]}],
    }
    redacted = redact_alertmanager_config(cfg)
    assert redacted == {
        "global": {"smtp_auth_password": "<secret>", "smtp_auth_secret": "<secret>", "slack_api_url": "<secret>",
                   "opsgenie_api_key": "<secret>", "wechat_api_secret": "<secret>", "victorops_api_key": "<secret>",
                   "smtp_auth_password_file": "/run/secret", "smtp_from": "am@example.org",
                   "http_config": {"basic_auth": {"username": "u", "password": "<secret>"}}},
        "route": {"receiver": "r"},
        "receivers": [{"name": "r",
                       "webhook_configs": [{"url": "<secret>", "http_config": {"bearer_token": "<secret>"}}],
                       "email_configs": [{"to": "a@b", "auth_password": "<secret>", "auth_secret": ""}],
                       "slack_configs": [{"api_url": "<secret>", "channel": "#c"}],
                       "pagerduty_configs": [{"routing_key": "<secret>", "service_key": "<secret>",
                                              "url": "https://events.pagerduty.com/v2/enqueue"}],
                       "opsgenie_configs": [{"api_key": "<secret>", "http_config": {
                           "oauth2": {"client_id": "id", "client_secret": "<secret>", "token_url": "https://t"}}}],
                       "pushover_configs": [{"user_key": "<secret>", "token": "<secret>"}],
                       "victorops_configs": [{"api_key": "<secret>", "routing_key": "rk"}],
                       "wechat_configs": [{"api_secret": "<secret>", "corp_id": "c"}],
                       "telegram_configs": [{"bot_token": "<secret>", "chat_id": 1}],
                       "discord_configs": [{"webhook_url": "<secret>"}],
                       "sns_configs": [{"topic_arn": "t", "sigv4": {"access_key": "ak", "secret_key": "<secret>"}}],
                       "webex_configs": [{"room_id": "r",
                                          "http_config": {"authorization": {"credentials": "<secret>"}}}]}],
    }
    assert cfg["global"]["smtp_auth_password"] == "p1"  # the input is left alone


def test_a_redacted_secret_url_is_accepted_back():
    cfg = with_receiver("slack_configs", {"api_url": "<secret>"})
    assert normalize_alertmanager_config(cfg) == cfg


@pytest.mark.parametrize("cfg", [
    None, "text", {"receivers": "x"}, {"receivers": [1, {"name": "a", "webhook_configs": [2]}]},
])
def test_redaction_takes_configurations_that_do_not_validate(cfg):
    assert redact_alertmanager_config(cfg) == cfg
