# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""Prometheus 2.42 relabeling, as pure functions: rule parsing and validation, and ``relabel``.

Checked differentially against ``promtool check service-discovery`` of Debian's Prometheus 2.42.0
(tests/integration/test_relabel_promtool.py). Regexes are Go (RE2) regexes, see ``re2.py`` for
what is translated and what is refused. Rule numbers in error messages count from 1.
"""

from __future__ import annotations

import hashlib

from ansible_collections.promfleet.federation.plugins.module_utils.errors import RegexError, RelabelError
from ansible_collections.promfleet.federation.plugins.module_utils.model.re2 import GoRegex, compile_go

ACTIONS = (
    "replace",
    "keep",
    "drop",
    "keepequal",
    "dropequal",
    "hashmod",
    "labelmap",
    "labeldrop",
    "labelkeep",
    "lowercase",
    "uppercase",
)
FIELDS = ("source_labels", "separator", "regex", "modulus", "target_label", "replacement", "action")
DEFAULT_SEPARATOR = ";"
DEFAULT_REGEX = "(.*)"
DEFAULT_REPLACEMENT = "$1"
MAX_MODULUS = 2**64 - 1

_DEFAULT_REGEX = compile_go(DEFAULT_REGEX)
_NAME_HINT = "letters, digits and _, not starting with a digit"


class RelabelRule:
    """One relabel config with Prometheus' defaults applied; build it with ``parse_rule``."""

    __slots__ = (
        "source_labels",
        "separator",
        "regex",
        "regex_given",
        "modulus",
        "target_label",
        "replacement",
        "action",
    )

    def __init__(
        self,
        source_labels: tuple | None,
        separator: str,
        regex: GoRegex,
        regex_given: bool,
        modulus: int,
        target_label: str,
        replacement: str,
        action: str,
    ) -> None:
        self.source_labels = source_labels
        self.separator = separator
        self.regex = regex
        self.regex_given = regex_given
        self.modulus = modulus
        self.target_label = target_label
        self.replacement = replacement
        self.action = action

    def as_dict(self) -> dict:
        """The rule as a relabel config dict with every field explicit (defaults filled in)."""
        return {
            "source_labels": list(self.source_labels or ()),
            "separator": self.separator,
            "regex": self.regex.source,
            "modulus": self.modulus,
            "target_label": self.target_label,
            "replacement": self.replacement,
            "action": self.action,
        }


def is_label_name(name: str) -> bool:
    """Prometheus 2.x label name: ``[a-zA-Z_][a-zA-Z0-9_]*``."""
    if not name or "0" <= name[0] <= "9":
        return False
    return all(c == "_" or "0" <= c <= "9" or "a" <= c <= "z" or "A" <= c <= "Z" for c in name)


def _is_word(c: str) -> bool:
    return c == "_" or "0" <= c <= "9" or "a" <= c <= "z" or "A" <= c <= "Z"


def is_label_template(text: str) -> bool:
    """Prometheus' ``relabelTarget`` check: a label name that may contain ``$1``/``${name}``
    references (``^(?:(?:[a-zA-Z_]|\\$(?:\\{\\w+\\}|\\w+))+\\w*)+$``), without backtracking."""
    i = 0
    n = len(text)
    if n == 0:
        return False
    while i < n:
        c = text[i]
        if c == "$":
            if i + 1 < n and text[i + 1] == "{":
                end = text.find("}", i + 2)
                if end <= i + 2 or not all(_is_word(ch) for ch in text[i + 2 : end]):
                    return False
                i = end + 1
            else:
                j = i + 1
                while j < n and _is_word(text[j]):
                    j += 1
                if j == i + 1:
                    return False
                i = j
        elif _is_word(c) and not (i == 0 and "0" <= c <= "9"):
            i += 1
        else:
            return False
    return True


def _string_field(config: dict, field: str, default: str, fail) -> str:
    value = config.get(field, default)
    if value is None:  # YAML null decodes to Go's zero value
        return ""
    if not isinstance(value, str):
        raise fail("%s must be a string, got %r (quote it)" % (field, value))
    return value


def parse_rule(config: dict, index: int = 1, where: str = "") -> RelabelRule:
    """Parse and validate one relabel config as Prometheus 2.42 does (``index`` counts from 1).

    Missing fields take Prometheus' defaults; a YAML null takes Go's zero value (empty string,
    modulus 0, empty regex), as Prometheus' YAML decoding does.
    """
    prefix = "%s: relabel rule %d" % (where, index) if where else "relabel rule %d" % index

    def fail(message: str) -> RelabelError:
        return RelabelError("%s: %s" % (prefix, message))

    if not isinstance(config, dict):
        raise fail("must be a mapping with the fields %s, got %r" % (", ".join(FIELDS), config))
    unknown = sorted(str(k) for k in config if k not in FIELDS)
    if unknown:
        raise fail("unknown field %s; the fields are %s" % (", ".join(unknown), ", ".join(FIELDS)))

    raw_action = _string_field(config, "action", "replace", fail)
    action = raw_action.lower()
    if not action:
        raise fail("action must not be empty; use one of %s" % ", ".join(ACTIONS))
    if action not in ACTIONS:
        raise fail("unknown action %r; use one of %s" % (raw_action, ", ".join(ACTIONS)))

    source_labels = config.get("source_labels")
    if source_labels is not None:
        if not isinstance(source_labels, (list, tuple)):
            raise fail("source_labels must be a list of label names, got %r" % (source_labels,))
        for name in source_labels:
            if not isinstance(name, str) or not is_label_name(name):
                raise fail("source_labels: %r is not a valid label name (%s)" % (name, _NAME_HINT))
        source_labels = tuple(source_labels)

    separator = _string_field(config, "separator", DEFAULT_SEPARATOR, fail)
    target_label = _string_field(config, "target_label", "", fail)
    replacement = _string_field(config, "replacement", DEFAULT_REPLACEMENT, fail)

    modulus = config.get("modulus", 0)
    if modulus is None:
        modulus = 0
    if isinstance(modulus, bool) or not isinstance(modulus, int) or not 0 <= modulus <= MAX_MODULUS:
        raise fail("modulus must be an integer from 1 to 2^64-1, got %r" % (modulus,))

    regex_given = "regex" in config
    if regex_given:
        regex_text = _string_field(config, "regex", DEFAULT_REGEX, fail)
        try:
            regex = compile_go(regex_text)
        except RegexError as exc:
            raise fail("regex: %s" % exc) from None
    else:
        regex = _DEFAULT_REGEX

    _validate(action, source_labels, separator, regex_given, modulus, target_label, replacement, fail)
    return RelabelRule(source_labels, separator, regex, regex_given, modulus, target_label, replacement, action)


def _validate(action, source_labels, separator, regex_given, modulus, target_label, replacement, fail) -> None:
    """The checks of Prometheus 2.42's ``relabel.Config.Validate``, in its order."""
    if action == "hashmod" and modulus == 0:
        raise fail("action hashmod needs modulus > 0")
    if action in ("replace", "hashmod", "lowercase", "uppercase", "keepequal", "dropequal") and not target_label:
        raise fail("action %s needs target_label" % action)
    if action == "replace":
        if "$" in target_label and not is_label_template(target_label):
            raise fail(
                "target_label %r is not a valid label name template (%s, with $1 or ${name} references)"
                % (target_label, _NAME_HINT)
            )
        if "$" not in target_label and not is_label_name(target_label):
            raise fail("target_label %r is not a valid label name (%s)" % (target_label, _NAME_HINT))
    if action in ("lowercase", "uppercase", "keepequal", "dropequal", "hashmod") and not is_label_name(target_label):
        raise fail("target_label %r is not a valid label name for action %s (%s)" % (target_label, action, _NAME_HINT))
    if action in ("lowercase", "uppercase", "keepequal", "dropequal") and replacement != DEFAULT_REPLACEMENT:
        raise fail("action %s takes no replacement (got %r); remove it" % (action, replacement))
    if action == "labelmap" and not is_label_template(replacement):
        raise fail(
            "replacement %r of action labelmap must be a label name template (%s, with $1 or ${name} references)"
            % (replacement, _NAME_HINT)
        )
    if action in ("keepequal", "dropequal"):
        # Prometheus compares the regex by identity: even an explicit regex: "(.*)" is refused.
        extra = [
            field
            for field, is_set in (
                ("regex", regex_given),
                ("modulus", modulus != 0),
                ("separator", separator != DEFAULT_SEPARATOR),
            )
            if is_set
        ]
        if extra:
            raise fail("action %s allows only source_labels and target_label; remove %s" % (action, ", ".join(extra)))
    if action in ("labeldrop", "labelkeep"):
        extra = [
            field
            for field, is_set in (
                ("source_labels", source_labels is not None),
                ("target_label", target_label != ""),
                ("modulus", modulus != 0),
                ("separator", separator != DEFAULT_SEPARATOR),
                ("replacement", replacement != DEFAULT_REPLACEMENT),
            )
            if is_set
        ]
        if extra:
            raise fail("action %s allows only regex; remove %s" % (action, ", ".join(extra)))


def parse_rules(configs: list, where: str = "") -> list[RelabelRule]:
    """Parse and validate a ``relabel_configs`` list; ``where`` prefixes errors, e.g.
    ``job "node", relabel_configs``."""
    if configs is None:
        return []
    if not isinstance(configs, list):
        raise RelabelError("%s: relabel configs must be a list, got %r" % (where or "relabel", configs))
    return [parse_rule(config, index, where) for index, config in enumerate(configs, 1)]


# ---------------------------------------------------------------- applying rules


def go_lower(text: str) -> str:
    """Go's ``strings.ToLower``: rune by rune with the simple mapping (``İ`` becomes ``i``)."""
    out = []
    for c in text:
        lower = c.lower()
        out.append(lower if len(lower) == 1 else ("i" if c == "\u0130" else c))
    return "".join(out)


def go_upper(text: str) -> str:
    """Go's ``strings.ToUpper``: rune by rune with the simple mapping (``ß`` stays ``ß``)."""
    out = []
    for c in text:
        upper = c.upper()
        if len(upper) != 1:
            # Only the special-cased letters expand; their simple mapping, where there is one,
            # is their title case (``ᾳ`` -> ``ᾼ``), otherwise they stay.
            title = c.title()
            upper = title if len(title) == 1 else c
        out.append(upper)
    return "".join(out)


def hashmod(value: str, modulus: int) -> int:
    """Prometheus' hashmod: big-endian uint64 of bytes 8..15 of md5(value), modulo ``modulus``."""
    digest = hashlib.md5(value.encode("utf-8")).digest()  # a hash for sharding, not for security
    return int.from_bytes(digest[8:16], "big") % modulus


def set_label(labels: dict, name: str, value: str) -> None:
    """Set label ``name``; an empty value removes it, as in Prometheus."""
    if value:
        labels[name] = value
    else:
        labels.pop(name, None)


def _apply(rule: RelabelRule, labels: dict) -> bool:
    """Apply one rule to ``labels`` in place; False when the rule drops the label set."""
    value = rule.separator.join(labels.get(name, "") for name in rule.source_labels or ())
    action = rule.action
    if action == "drop":
        return rule.regex.fullmatch(value) is None
    if action == "keep":
        return rule.regex.fullmatch(value) is not None
    if action == "dropequal":
        return labels.get(rule.target_label, "") != value
    if action == "keepequal":
        return labels.get(rule.target_label, "") == value
    if action == "replace":
        match = rule.regex.fullmatch(value)
        if match is not None:
            target = rule.regex.expand(rule.target_label, match)
            if is_label_name(target):
                set_label(labels, target, rule.regex.expand(rule.replacement, match))
    elif action == "lowercase":
        set_label(labels, rule.target_label, go_lower(value))
    elif action == "uppercase":
        set_label(labels, rule.target_label, go_upper(value))
    elif action == "hashmod":
        set_label(labels, rule.target_label, str(hashmod(value, rule.modulus)))
    elif action == "labelmap":
        # Every name of the label set as it was before this rule, in sorted order; names made by
        # the replacement are not checked (Prometheus 2.42 does not either).
        for name, label_value in sorted(labels.items()):
            match = rule.regex.fullmatch(name)
            if match is not None:
                set_label(labels, rule.regex.expand(rule.replacement, match), label_value)
    elif action == "labeldrop":
        for name in [n for n in labels if rule.regex.fullmatch(n) is not None]:
            del labels[name]
    elif action == "labelkeep":
        for name in [n for n in labels if rule.regex.fullmatch(n) is None]:
            del labels[name]
    return True


def relabel(labels: dict, rules: list) -> dict | None:
    """Apply relabel rules (``RelabelRule`` objects or config dicts) in order, like Prometheus.

    Returns the new label set (labels with empty values are absent), or None when it is dropped.
    ``labels`` itself is not changed.
    """
    current = {name: value for name, value in labels.items() if value != ""}
    for index, rule in enumerate(rules, 1):
        if not isinstance(rule, RelabelRule):
            rule = parse_rule(rule, index)
        if not _apply(rule, current):
            return None
    return current
