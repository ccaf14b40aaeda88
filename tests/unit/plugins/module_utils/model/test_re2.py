"""Go (RE2) regex translation: what matches like Go, what is refused."""

from __future__ import annotations

import pytest

from ansible_collections.promfleet.federation.plugins.module_utils.errors import RegexError
from ansible_collections.promfleet.federation.plugins.module_utils.model.re2 import compile_go


def matches(pattern: str, text: str) -> bool:
    return compile_go(pattern).fullmatch(text) is not None


def test_backslash_d_is_ascii_only():
    assert matches(r"\d+", "42") and not matches(r"\d", "\u0663")


def test_backslash_w_is_ascii_only():
    assert matches(r"\w+", "a_1") and not matches(r"\w", "é")


def test_backslash_s_has_no_vertical_tab():
    assert matches(r"\s", "\f") and not matches(r"\s", "\v")


def test_dot_does_not_match_newline_without_s_flag():
    assert not matches("a.b", "a\nb") and matches("(?s)a.b", "a\nb")


def test_dollar_does_not_match_before_trailing_newline():
    assert compile_go("a$").compiled.search("a\n") is None


def test_multiline_caret_matches_after_newline():
    assert matches("(?m)a\n^b", "a\nb")


def test_case_folding_is_go_simple_folding():
    assert matches("(?i)k", "\u212a") and matches("(?i)s", "\u017f") and not matches("(?i)i", "\u0131")


def test_folded_word_class_includes_kelvin_sign():
    assert matches(r"(?i)\w", "\u212a") and not matches(r"\w", "\u212a")


def test_posix_class():
    assert matches("[[:alpha:]]+", "abC") and matches("[[:^digit:]]", "x") and not matches("[[:digit:]]", "x")


def test_unicode_category():
    assert matches(r"\pL+", "πß") and matches(r"\p{Lu}", "Π") and not matches(r"\PL", "a")


def test_unicode_script():
    assert matches(r"\p{Greek}+", "αβγ") and not matches(r"\p{Greek}", "a")


def test_negated_unicode_script_both_spellings():
    for pattern in (r"\P{Greek}", r"\p{^Greek}"):
        assert matches(pattern, "a") and not matches(pattern, "α")


def test_double_negation_of_a_script_is_the_script():
    assert matches(r"\P{^Greek}", "α") and not matches(r"\P{^Greek}", "a")


def test_unicode_script_inside_brackets():
    assert matches(r"[\p{Han}a]+", "漢a字") and not matches(r"[\p{Han}a]", "b")


def test_script_names_are_gos_with_underscores():
    assert matches(r"\p{Old_Italic}", "\U00010300") and matches(r"\p{Common}", "1")


def test_case_insensitive_script_matches_both_cases():
    assert matches(r"(?i)\p{Greek}+", "ΑΒΓαβγ") and matches(r"(?i)[\p{Greek}]+", "ΣΩσω")


def test_case_folding_adds_fold_equivalents_from_other_scripts():
    # The micro sign is Common but folds with Greek mu: Go's unicode.FoldScript["Greek"] holds it.
    assert matches(r"(?i)\p{Greek}", "\u00b5") and not matches(r"\p{Greek}", "\u00b5")
    assert matches(r"\P{Greek}", "\u00b5") and not matches(r"(?i)\P{Greek}", "\u00b5")


def test_lower_case_script_name_is_refused_as_go_does():
    with pytest.raises(RegexError, match="case-sensitive: `Greek`"):
        compile_go(r"\p{greek}")


def test_quoted_literal():
    assert matches(r"\Qa.b\E", "a.b") and not matches(r"\Qa.b\E", "axb")


def test_brace_that_is_not_a_repeat_is_literal():
    assert matches("x{,3}", "x{,3}") and matches("x{01}", "x{01}")


def test_ungreedy_flag_swaps_greediness():
    match = compile_go("(?U)(a+)(a*)").fullmatch("aaa")
    assert match.group(1) == "a"


def test_named_group_number_and_name():
    regex = compile_go("(?P<first>a)(b)")
    assert regex.names == {"first": 1} and regex.groups == 2


def test_octal_and_hex_escapes():
    assert matches(r"\101\x42\x{43}", "ABC")


@pytest.mark.parametrize(
    "pattern, message",
    [
        ("(?<n>a)", "(?P<name>"),
        ("(?=a)", "lookahead"),
        ("(?<=a)", "lookbehind"),
        (r"\1", "backreference"),
        (r"\C", r"\C"),
        (r"\Z", r"\z"),
        ("a**", "nested repetition"),
        ("a{1001}", "at most 1000"),
        ("(a{100}){11}", "exceed 1000"),
        ("*", "missing argument"),
        ("(a", "missing closing )"),
        ("a)", "unexpected )"),
        ("[a", "missing closing ]"),
        ("[z-a]", "invalid character class range"),
        ("[[:foo:]]", "invalid character class range"),
        ("(?i-)a", "invalid or unsupported Perl syntax"),
        (r"\p{Klingon}", "no Unicode category or script `Klingon`"),
        (r"[\P{Klingon}]", "invalid character class range `\\P{Klingon}`"),
        ("(a*)*", "capture group that can match the empty string"),
        (r"\q", "invalid escape"),
    ],
)
def test_rejected(pattern, message):
    with pytest.raises(RegexError) as info:
        compile_go(pattern)
    assert message in str(info.value)


def test_non_capturing_nullable_repeat_is_accepted():
    assert matches("(?:a*)*", "aa")


@pytest.mark.parametrize(
    "template, expected",
    [
        ("$1_x", ""),
        ("${1}_x", "a_x"),
        ("$$", "$"),
        ("$01", ""),
        ("${1}x", "ax"),
        ("$name", "b"),
        ("$ 1", "$ 1"),
        ("${1", "${1"),
        ("$9", ""),
        ("x$", "x$"),
    ],
)
def test_expand_like_go(template, expected):
    regex = compile_go("(a)(?P<name>b)")
    assert regex.expand(template, regex.fullmatch("ab")) == expected


@pytest.mark.parametrize(
    "template",
    ["$1_x", "${1}_x", "$$", "$01", "${1}x", "$name", "$ 1", "${1", "$9", "x$", "$3", "${3}", "$0", "", "lit",
     "$1$$${name}", "$$$1", "${}", "$-", "a$1b$2c"],
)
def test_template_parts_expand_like_expand(template):
    regex = compile_go("(a)(?P<name>b)(c)?")
    match = regex.fullmatch("ab")
    parts = regex.template_parts(template)
    by_parts = "".join(part if isinstance(part, str) else (match.group(part) or "") for part in parts)
    assert by_parts == regex.expand(template, match)


def test_match_all_is_known_only_for_one_group_around_any_text():
    cases = [("(.*)", False), ("(.*)", True), ("(?s)(.*)", False), ("(.+)", True), (".*", True), ("(.*)(.*)", True),
             ("((.*))", True), ("(?:.*)", True)]
    assert [compile_go(pattern, dot_nl=dot_nl).match_all for pattern, dot_nl in cases] == [
        "no_newline", "all", "all", None, None, None, None, None]
