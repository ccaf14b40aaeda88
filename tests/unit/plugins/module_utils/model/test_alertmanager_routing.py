"""The routing tree's answer for one alert (``model.alertmanager.route_alert``), as Alertmanager's
dispatcher gives it, the matcher syntax it reads, and what the alertmanager_routes module answers
(``model.alertmanager_explain.explain_routes``)."""

from __future__ import annotations

import pytest

from ansible_collections.promfleet.federation.plugins.module_utils.errors import (
    AlertmanagerConfigError,
    LabelSetError,
)
from ansible_collections.promfleet.federation.plugins.module_utils.model.alertmanager import route_alert
from ansible_collections.promfleet.federation.plugins.module_utils.model.alertmanager_explain import explain_routes
from ansible_collections.promfleet.federation.plugins.module_utils.model.alertmanager_matchers import (
    parse_matcher,
    parse_matchers,
    split_matchers,
)
from ansible_collections.promfleet.federation.plugins.modules.alertmanager_routes import argument_spec

NAMES = ("default", "pager", "db", "db-prod", "web", "night")


def config(*routes, **root) -> dict:
    return {"route": dict({"receiver": "default"}, routes=list(routes), **root),
            "receivers": [{"name": name} for name in NAMES],
            "time_intervals": [{"name": "nights"}, {"name": "office"}]}


def receivers(cfg: dict, **labels) -> list:
    return [match["receiver"] for match in route_alert(cfg, labels)]


def paths(cfg: dict, **labels) -> list:
    return [match["route"] for match in route_alert(cfg, labels)]


TREE = config(
    {"matchers": ['severity="critical"'], "receiver": "pager", "continue": True},
    {"match_re": {"team": "db|storage"}, "receiver": "db", "routes": [
        {"match": {"env": "prod"}, "receiver": "db-prod"},
    ]},
    {"matchers": ['team="web"'], "receiver": "web"},
)


# ---------------------------------------------------------------- which routes


def test_the_root_takes_an_alert_no_child_takes():
    assert paths(TREE, team="mobile") == ["route"]


def test_the_first_matching_sibling_stops_the_search():
    cfg = config({"matchers": ['team="db"'], "receiver": "db"}, {"matchers": ['team="db"'], "receiver": "web"})
    assert receivers(cfg, team="db") == ["db"]


def test_continue_lets_the_later_siblings_match_too():
    assert paths(TREE, severity="critical", team="web") == ["route.routes[0]", "route.routes[2]"]


def test_a_continue_route_alone_still_leaves_the_root_out():
    assert paths(TREE, severity="critical") == ["route.routes[0]"]


def test_the_deepest_matching_route_is_the_match():
    assert paths(TREE, team="storage", env="prod") == ["route.routes[1].routes[0]"]


def test_a_parent_whose_children_all_miss_is_the_match_itself():
    assert paths(TREE, team="db", env="dev") == ["route.routes[1]"]


def test_a_matching_parent_stops_its_later_siblings_even_when_its_children_miss():
    assert receivers(TREE, team="db", env="dev") == ["db"]


def test_a_route_without_matchers_takes_everything_that_reaches_it():
    cfg = config({"matchers": ['team="db"'], "receiver": "db"}, {"receiver": "web"})
    assert receivers(cfg, team="mobile") == ["web"]


def test_every_matcher_of_a_route_must_match():
    cfg = config({"matchers": ['team="db"', 'env="prod"'], "receiver": "db-prod"})
    assert (receivers(cfg, team="db", env="prod"), receivers(cfg, team="db")) == (["db-prod"], ["default"])


def test_several_matchers_in_one_entry_all_count():
    cfg = config({"matchers": ['{team="db", env=~"prod|live"}'], "receiver": "db-prod"})
    assert (receivers(cfg, team="db", env="live"), receivers(cfg, team="db", env="dev")) == (["db-prod"], ["default"])


@pytest.mark.parametrize("matcher, value, matched", [
    ('team=~"db"', "db", True),
    ('team=~"db"', "db2", False),  # anchored: ^(?:db)$
    ('team=~"db"', "mydb", False),
    ('team=~"db|web"', "web", True),  # the alternation is inside the anchors
    ('team=~"d.*"', "db-team", True),
    ('team!~"db.*"', "dba", False),
    ('team!~"db.*"', "web", True),
    ('team!="db"', "web", True),
    ('team=~"(?i)DB"', "db", True),
    ('team=~"."', "\n", False),  # Go's dot does not match a newline
])
def test_regex_matchers_are_anchored_go_expressions(matcher, value, matched):
    cfg = config({"matchers": [matcher], "receiver": "db"})
    assert receivers(cfg, team=value) == (["db"] if matched else ["default"])


def test_a_missing_label_matches_as_the_empty_value():
    cfg = config({"matchers": ['env=""'], "receiver": "db"}, {"matchers": ['env!~".+"'], "receiver": "web"})
    assert (receivers(cfg, team="x"), receivers(cfg, env="")) == (["db"], ["db"])


def test_the_old_match_re_is_anchored_too():
    cfg = config({"match_re": {"team": "db"}, "receiver": "db"})
    assert (receivers(cfg, team="db"), receivers(cfg, team="db2")) == (["db"], ["default"])


# ---------------------------------------------------------------- what each match carries


def test_a_match_carries_the_options_of_its_route_and_the_defaults():
    cfg = config({"matchers": ['team="db"'], "receiver": "db"}, group_by=["alertname", "dc"])
    assert route_alert(cfg, {"alertname": "DiskFull", "dc": "eu", "team": "db"}) == [{
        "route": "route.routes[0]",
        "receiver": "db",
        "group_by": ["alertname", "dc"],
        "group_labels": {"alertname": "DiskFull", "dc": "eu"},
        "group_wait": "30s",
        "group_wait_seconds": 30,
        "group_interval": "5m",
        "group_interval_seconds": 300,
        "repeat_interval": "4h",
        "repeat_interval_seconds": 14400,
        "mute_time_intervals": [],
        "active_time_intervals": [],
    }]


def test_children_inherit_receiver_grouping_and_timers():
    cfg = config({"matchers": ['team="db"'], "receiver": "db", "group_by": ["instance"], "group_wait": "10s",
                  "routes": [{"matchers": ['env="prod"'], "repeat_interval": "1h"}]},
                 group_interval="2m", repeat_interval="12h")
    match = route_alert(cfg, {"team": "db", "env": "prod", "instance": "h1"})[0]
    assert {key: match[key] for key in ("receiver", "group_by", "group_wait", "group_interval", "repeat_interval",
                                        "repeat_interval_seconds")} == {
        "receiver": "db", "group_by": ["instance"], "group_wait": "10s", "group_interval": "2m",
        "repeat_interval": "1h", "repeat_interval_seconds": 3600}


def test_group_by_everything_and_back():
    cfg = config({"matchers": ['team="db"'], "group_by": ["..."], "routes": [
        {"matchers": ['env="prod"'], "group_by": ["env"]}, {"matchers": ['env="dev"']}]}, group_by=["alertname"])
    prod = route_alert(cfg, {"team": "db", "env": "prod", "alertname": "A"})[0]
    dev = route_alert(cfg, {"team": "db", "env": "dev", "alertname": "A"})[0]
    assert ((prod["group_by"], prod["group_labels"]), (dev["group_by"], dev["group_labels"])) == (
        (["env"], {"env": "prod"}), (["..."], {"alertname": "A", "env": "dev", "team": "db"}))


def test_an_empty_group_by_inherits():
    cfg = config({"matchers": ['team="db"'], "group_by": []}, group_by=["alertname"])
    assert route_alert(cfg, {"team": "db"})[0]["group_by"] == ["alertname"]


def test_time_intervals_are_the_routes_own():
    cfg = config({"matchers": ['team="db"'], "mute_time_intervals": ["nights"], "routes": [
        {"matchers": ['env="prod"'], "active_time_intervals": ["office"]}]})
    match = route_alert(cfg, {"team": "db", "env": "prod"})[0]
    assert (match["mute_time_intervals"], match["active_time_intervals"]) == ([], ["office"])


def test_durations_below_a_second_are_fractions_of_seconds():
    match = route_alert(config(group_wait="1500ms", repeat_interval="1d"), {})[0]
    assert (match["group_wait_seconds"], match["repeat_interval_seconds"]) == (1.5, 86400)


def test_the_configuration_is_checked_before_routing():
    with pytest.raises(AlertmanagerConfigError, match=r"^route.routes\[0\].receiver: 'nobody' is not a receiver"):
        route_alert(config({"receiver": "nobody"}), {})


@pytest.mark.parametrize("labels, message", [
    ({"code": 500}, "alerts[0]: the label 'code' must have a string value, got 500 (quote it)"),
    (["a"], "alerts[0] must be a mapping of label names to values, got ['a']"),
])
def test_labels_must_be_strings(labels, message):
    with pytest.raises(LabelSetError) as raised:
        route_alert(TREE, labels)
    assert str(raised.value) == message


# ---------------------------------------------------------------- the matcher syntax


@pytest.mark.parametrize("text, parsed", [
    ('a="b"', ("a", "=", "b")),
    ("a=b", ("a", "=", "b")),
    ("  a  !=  b c  ", ("a", "!=", "b c")),
    ('a=~"x|y"', ("a", "=~", "x|y")),
    ("a!~x.*", ("a", "!~", "x.*")),
    ("a==b", ("a", "=", "=b")),
    ("a=", ("a", "=", "")),
    ("job:rate=x", ("job:rate", "=", "x")),
    ('a="say \\"hi\\""', ("a", "=", 'say "hi"')),
    ('a="line\\nbreak"', ("a", "=", "line\nbreak")),
    ('a="back\\\\slash"', ("a", "=", "back\\slash")),
    ('a="\\d+"', ("a", "=", "\\d+")),  # a backslash before anything else stays
    ("a=b\\", ("a", "=", "b\\")),
])
def test_one_matcher(text, parsed):
    matcher = parse_matcher(text)
    assert (matcher.name, matcher.op, matcher.value) == parsed


@pytest.mark.parametrize("text, tokens", [
    ('{a="b", c=~"d,e"}', ['a="b"', 'c=~"d,e"']),  # the last one trimmed
    ('a="b" , c=d', ['a="b" ', 'c=d']),
    ('a="x\\",y",b=c', ['a="x\\",y"', "b=c"]),
    ("a=b,", ["a=b"]),
    ("", []),
    ("{}", []),
    (",", [""]),
])
def test_matchers_are_split_at_commas_outside_quotes(text, tokens):
    assert split_matchers(text) == tokens


def test_a_matcher_renders_as_alertmanager_shows_it():
    assert [str(m) for m in parse_matchers('a=b, c=~"x\\"y", d!="l1\\nl2"')] == [
        'a="b"', 'c=~"x\\"y"', 'd!="l1\\nl2"']


# ---------------------------------------------------------------- the module's answer


def params(**given) -> dict:
    values = {name: spec.get("default") for name, spec in argument_spec().items()}
    values.update(given)
    return values


def test_explain_routes_answers_each_alert_in_order():
    result = explain_routes(params(config=TREE, alerts=[{"team": "web"}, {"team": "db", "severity": "critical"}]))
    assert [[m["receiver"] for m in matches] for matches in result["routes"]] == [["web"], ["pager", "db"]]


def test_explain_routes_without_alerts_only_checks():
    assert explain_routes(params(config=TREE)) == {"routes": []}


def test_explain_routes_checks_for_the_version_given():
    cfg = config({"matchers": ['a=~"(?<x>.)"']})
    assert explain_routes(params(config=cfg, version="0.28", alerts=[{}]))["routes"] == [[
        dict(route_alert(cfg, {}, "0.28")[0])]]
    with pytest.raises(AlertmanagerConfigError):
        explain_routes(params(config=cfg))
