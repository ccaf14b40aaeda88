"""The Go regex dialects of later Prometheus versions: ``(?<name>re)`` (Go 1.22) and ``^(?s:R)$`` (3.x)."""

from __future__ import annotations

import pytest

from ansible_collections.promfleet.federation.plugins.module_utils.errors import RegexError
from ansible_collections.promfleet.federation.plugins.module_utils.model.re2 import compile_go


def test_angle_named_group_is_refused_by_default_naming_the_version_that_accepts_it():
    with pytest.raises(RegexError) as info:
        compile_go("(?<n>a)")
    assert "Prometheus 2.51" in str(info.value) and "(?P<name>" in str(info.value)


def test_angle_named_group_is_a_named_capture_with_named_angle():
    regex = compile_go("(?<first>a)(b)", named_angle=True)
    assert regex.names == {"first": 1} and regex.groups == 2


@pytest.mark.parametrize("template", ["$n", "${n}"])
def test_angle_named_group_expands_by_name(template):
    regex = compile_go("x(?<n>a+)", named_angle=True)
    assert regex.expand(template + "-", regex.fullmatch("xaa")) == "aa-"


@pytest.mark.parametrize(
    "pattern, message",
    [
        ("(?<a-b>x)", "invalid named capture"),
        ("(?<>x)", "invalid named capture"),
        ("(?<n>x)(?P<n>y)", "duplicate capture group name"),
        ("(?<n", "invalid named capture"),
        ("(?<=a)b", "lookbehind"),
        ("(?<!a)b", "negative lookbehind"),
    ],
)
def test_angle_named_group_names_are_checked_like_go(pattern, message):
    with pytest.raises(RegexError, match=message):
        compile_go(pattern, named_angle=True)


def test_dot_does_not_match_newline_by_default():
    assert compile_go("a.b").fullmatch("a\nb") is None


def test_dot_matches_newline_with_dot_nl():
    assert compile_go("a.b", dot_nl=True).fullmatch("a\nb") is not None


def test_pattern_can_turn_dot_nl_off():
    assert compile_go("(?-s)a.b", dot_nl=True).fullmatch("a\nb") is None
    assert compile_go("a(?-s:.)b.", dot_nl=True).fullmatch("a\nb\n") is None
    assert compile_go("a(?-s:.)b.", dot_nl=True).fullmatch("axb\n") is not None


def test_options_are_part_of_the_cache_key():
    assert compile_go("a.b", dot_nl=True) is not compile_go("a.b")
    assert compile_go("a.b", dot_nl=True) is compile_go("a.b", dot_nl=True)


def test_source_is_the_pattern_as_given():
    assert compile_go("(?<n>.)", named_angle=True, dot_nl=True).source == "(?<n>.)"
