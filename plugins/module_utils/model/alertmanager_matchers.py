# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""Alertmanager's label matchers: the ``matchers`` syntax (``a="b"``, ``a=~"re"``, ``a!="b"``,
``a!~"re"``, quoted or not, several per line separated by commas, optionally in braces), the old
``match``/``match_re`` maps, matching a label set, and matchers that contradict each other.

The syntax is that of Alertmanager 0.25's parser (``pkg/labels/parse.go``), which 0.27 and 0.28
still fall back to: label names of letters, digits, ``_`` and ``:``; a value in double quotes with
the escapes ``\\"``, ``\\\\`` and ``\\n`` (any other backslash is kept), or unquoted up to the
next comma outside quotes. A regular expression is Go's (RE2), anchored as Alertmanager anchors it:
``^(?:re)$``. A label the alert does not have matches as the empty value.
"""

from __future__ import annotations

import re

from ansible_collections.promfleet.federation.plugins.module_utils.errors import AlertmanagerConfigError, RegexError
from ansible_collections.promfleet.federation.plugins.module_utils.model.re2 import GoRegex, compile_go

OPERATORS = ("=", "!=", "=~", "!~")
# Go's \s is ASCII whitespace; '=~' is tried before '=' so that '~' is not read as the value.
_MATCHER = re.compile(r"[\t\n\f\r ]*([a-zA-Z_:][a-zA-Z0-9_:]*)[\t\n\f\r ]*(=~|=|!=|!~)[\t\n\f\r ]*(.*?)[\t\n\f\r ]*",
                      re.S)
_UNESCAPE = {"n": "\n", '"': '"', "\\": "\\"}
# What Go's strings.TrimSpace trims (unicode.IsSpace).
_GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000" + "".join(map(chr, range(0x2000, 0x200B)))


class Matcher:
    """One label matcher: ``name``, ``op`` (one of ``OPERATORS``), ``value``; ``source`` says where
    it was written (for messages), e.g. ``matchers[0] 'severity="critical"'`` or ``match.severity``."""

    __slots__ = ("name", "op", "value", "source", "_regex")

    def __init__(self, name: str, op: str, value: str, source: str = "", named_angle: bool = False) -> None:
        self.name = name
        self.op = op
        self.value = value
        self.source = source
        self._regex: GoRegex | None = None
        if op in ("=~", "!~"):
            self._regex = compile_regex(value, named_angle)

    def matches(self, labels: dict) -> bool:
        """Whether the label set ``labels`` satisfies this matcher (a missing label is ``""``)."""
        actual = labels.get(self.name, "")
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        found = self._regex.compiled.search(actual) is not None
        return found if self.op == "=~" else not found

    def __str__(self) -> str:
        """Alertmanager's own rendering: ``name<op>"value"`` with ``\\``, ``"`` and newlines escaped."""
        escaped = self.value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')
        return '%s%s"%s"' % (self.name, self.op, escaped)


def compile_regex(pattern: str, named_angle: bool = False) -> GoRegex:
    """``pattern`` as Alertmanager compiles a regex matcher, ``^(?:pattern)$`` with Go's regexp;
    AlertmanagerConfigError naming what Go refuses. ``named_angle``: accept ``(?<name>re)`` (Go 1.22,
    Alertmanager 0.28)."""
    wrapped = "^(?:" + pattern + ")$"
    try:
        return compile_go(wrapped, named_angle=named_angle)
    except RegexError as exc:
        if not named_angle and "(?<" in pattern:
            try:
                compile_go(wrapped, named_angle=True)
            except RegexError:
                pass
            else:
                raise AlertmanagerConfigError(
                    "named groups (?<name>...) need Alertmanager 0.28 (built with Go 1.22); write (?P<name>...)"
                ) from None
        reason = str(exc).split(": ", 1)[-1]
        raise AlertmanagerConfigError("%r is not a valid Go regular expression (as %s): %s" % (pattern, wrapped, reason)
                                      ) from None


def split_matchers(text: str) -> list[str]:
    """The matcher texts of one ``matchers`` entry: an optional leading ``{`` and trailing ``}``
    trimmed, split at the commas outside double quotes (Alertmanager's ``ParseMatchers``)."""
    if text.startswith("{"):
        text = text[1:]
    if text.endswith("}"):
        text = text[:-1]
    tokens = []
    token: list[str] = []
    inside_quotes = escaped = False
    for char in text:
        if char == "," and not inside_quotes:
            tokens.append("".join(token))
            token = []
            continue
        if char == '"':
            if escaped:
                escaped = False
            else:
                inside_quotes = not inside_quotes
        elif char == "\\":
            escaped = not escaped
        else:
            escaped = False
        token.append(char)
    last = "".join(token).strip(_GO_SPACE)
    if last:
        tokens.append(last)
    return tokens


def parse_matcher(text: str, source: str = "", named_angle: bool = False) -> Matcher:
    """One matcher (``severity=~"critical|page"``); AlertmanagerConfigError saying what is wrong."""
    found = _MATCHER.fullmatch(text)
    if not found:
        raise AlertmanagerConfigError(
            "%r is not a matcher; write label=\"value\" (or !=, =~, !~), the label of letters, digits, _ and :"
            % text
        )
    name, op, raw = found.groups()
    quoted = raw.startswith('"')
    if quoted:
        raw = raw[1:]
    value = []
    escaped = False
    last = len(raw) - 1
    for index, char in enumerate(raw):
        if escaped:
            escaped = False
            value.append(_UNESCAPE.get(char, "\\" + char))
        elif char == "\\":
            if index < last:
                escaped = True
            else:
                value.append("\\")
        elif char == '"':
            if not quoted or index < last:
                raise AlertmanagerConfigError(
                    'the value %s has a double quote inside; escape it as \\" or quote the whole value' % found.group(3)
                )
            quoted = False
        else:
            value.append(char)
    if quoted:
        raise AlertmanagerConfigError("the value %s has no closing double quote" % found.group(3))
    return Matcher(name, op, "".join(value), source, named_angle)


def parse_matchers(text: str, source: str = "", named_angle: bool = False) -> list[Matcher]:
    """The matchers of one ``matchers`` entry (``a="b", c=~"d"``; ``""`` and ``{}`` have none)."""
    return [parse_matcher(token, source, named_angle) for token in split_matchers(text)]


def matches_all(matchers, labels: dict) -> bool:
    """Whether ``labels`` satisfies every matcher of ``matchers``."""
    return all(matcher.matches(labels) for matcher in matchers)


def contradiction(matchers) -> tuple[Matcher, Matcher] | None:
    """Two matchers of ``matchers`` that no label set satisfies together, or None: an equality
    matcher (``a="x"``) and another matcher of the same label that the value ``x`` fails
    (``a="y"``, ``a!="x"``, ``a=~"y.*"``, ``a!~"x|z"``). Matchers without an equality on their
    label are not compared with each other (whether two regular expressions overlap is not decided)."""
    by_label: dict[str, list[Matcher]] = {}
    for matcher in matchers:
        by_label.setdefault(matcher.name, []).append(matcher)
    for group in by_label.values():
        for equal in (m for m in group if m.op == "="):
            for other in group:
                if other is not equal and not other.matches({equal.name: equal.value}):
                    return equal, other
    return None
