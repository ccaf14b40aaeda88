# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""Prometheus relabeling, as pure functions: rule parsing and validation, and ``relabel``, with the
semantics of the release line the rules are for (``versions.semantics``): in 3.x ``.`` matches a
newline and any non-empty UTF-8 string is a label name; Go 1.22 builds accept ``(?<name>re)``.

Checked differentially against ``promtool check service-discovery`` of Debian's Prometheus 2.42.0,
2.53.3 and 3.5.3 (tests/integration/test_relabel_promtool.py). Regexes are Go (RE2) regexes, see
``re2.py`` for what is translated and what is refused. Rule numbers in error messages count from 1.
"""

from __future__ import annotations

import hashlib

from ansible_collections.promfleet.federation.plugins.module_utils.errors import RegexError, RelabelError
from ansible_collections.promfleet.federation.plugins.module_utils.model.re2 import GoRegex, compile_go
from ansible_collections.promfleet.federation.plugins.module_utils.model.versions import (
    DEFAULT_SCHEMA_VERSION,
    Semantics,
    semantics,
)

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

_NAME_HINT = "letters, digits and _, not starting with a digit"
_UTF8_HINT = "any non-empty text in Prometheus 3"


def _name_hint(sem: Semantics) -> str:
    return _UTF8_HINT if sem.utf8_names else _NAME_HINT + " (before Prometheus 3)"


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
        "utf8_names",
        "builder_order",
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
        utf8_names: bool = False,
        builder_order: bool = False,
    ) -> None:
        self.source_labels = source_labels
        self.separator = separator
        self.regex = regex
        self.regex_given = regex_given
        self.modulus = modulus
        self.target_label = target_label
        self.replacement = replacement
        self.action = action
        self.utf8_names = utf8_names
        self.builder_order = builder_order

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


def is_label_name(name: str, utf8: bool = False) -> bool:
    """A valid label name: ``[a-zA-Z_][a-zA-Z0-9_]*`` in 2.x; with ``utf8`` (3.x), any non-empty text."""
    if utf8:
        return bool(name)
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


def parse_rule(config: dict, index: int = 1, where: str = "", version: str = DEFAULT_SCHEMA_VERSION) -> RelabelRule:
    """Parse and validate one relabel config as Prometheus ``version`` does (``index`` counts from 1).

    Missing fields take Prometheus' defaults; a YAML null takes Go's zero value (empty string,
    modulus 0, empty regex), as Prometheus' YAML decoding does.
    """
    prefix = "%s: relabel rule %d" % (where, index) if where else "relabel rule %d" % index
    sem = semantics(version)

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
            if not isinstance(name, str) or not is_label_name(name, sem.utf8_names):
                raise fail("source_labels: %r is not a valid label name (%s)" % (name, _name_hint(sem)))
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
    regex_text = _string_field(config, "regex", DEFAULT_REGEX, fail) if regex_given else DEFAULT_REGEX
    try:
        regex = compile_go(regex_text, **sem.regex_options())
    except RegexError as exc:
        raise fail("regex: %s" % exc) from None

    _validate(sem, action, source_labels, separator, regex_given, modulus, target_label, replacement, fail)
    return RelabelRule(
        source_labels, separator, regex, regex_given, modulus, target_label, replacement, action, sem.utf8_names,
        sem.builder_order,
    )


def _validate(sem, action, source_labels, separator, regex_given, modulus, target_label, replacement, fail) -> None:
    """The checks of Prometheus' ``relabel.Config.Validate`` for the line of ``sem``, in its order."""
    utf8 = sem.utf8_names
    if action == "hashmod" and modulus == 0:
        raise fail("action hashmod needs modulus > 0")
    if action in ("replace", "hashmod", "lowercase", "uppercase", "keepequal", "dropequal") and not target_label:
        raise fail("action %s needs target_label" % action)
    if action == "replace" and not utf8:
        if "$" in target_label and not is_label_template(target_label):
            raise fail(
                "target_label %r is not a valid label name template (%s, with $1 or ${name} references)"
                % (target_label, _name_hint(sem))
            )
        if "$" not in target_label and not is_label_name(target_label):
            raise fail("target_label %r is not a valid label name (%s)" % (target_label, _name_hint(sem)))
    # Until 2.48 these four were checked with the template pattern, 2.49 to 2.55 with the label
    # name pattern; 3.x takes any name.
    template_ok = (
        action in ("lowercase", "uppercase", "keepequal", "dropequal")
        and sem.case_target_template
        and is_label_template(target_label)
    )
    if (
        action in ("lowercase", "uppercase", "keepequal", "dropequal", "hashmod")
        and not template_ok
        and not is_label_name(target_label, utf8)
    ):
        raise fail(
            "target_label %r is not a valid label name for action %s in Prometheus %s (%s)"
            % (target_label, action, sem.version, _name_hint(sem))
        )
    if action in ("lowercase", "uppercase", "keepequal", "dropequal") and replacement != DEFAULT_REPLACEMENT:
        raise fail("action %s takes no replacement (got %r); remove it" % (action, replacement))
    if action == "labelmap" and not (is_label_name(replacement, True) if utf8 else is_label_template(replacement)):
        raise fail(
            "replacement %r of action labelmap must be a label name template (%s, with $1 or ${name} references)"
            % (replacement, _name_hint(sem))
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


def parse_rules(configs: list, where: str = "", version: str = DEFAULT_SCHEMA_VERSION) -> list[RelabelRule]:
    """Parse and validate a ``relabel_configs`` list for Prometheus ``version``; ``where`` prefixes
    errors, e.g. ``job "node", relabel_configs``."""
    if configs is None:
        return []
    if not isinstance(configs, list):
        raise RelabelError("%s: relabel configs must be a list, got %r" % (where or "relabel", configs))
    return [parse_rule(config, index, where, version) for index, config in enumerate(configs, 1)]


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


def _set(labels: dict, base: set, name: str, value: str) -> None:
    """``set_label`` in the order of Prometheus' ``labels.Builder``: a label of the input that is set
    or deleted leaves the input's sorted run at the front and, when set, goes behind the rest."""
    if name in base:
        base.discard(name)
        labels.pop(name, None)
    set_label(labels, name, value)


def _apply(rule: RelabelRule, labels: dict, base: set) -> bool:
    """Apply one rule to ``labels`` in place; False when the rule drops the label set. ``base``: the
    names of the input not yet set or deleted (their order matters to labelmap from 2.43)."""
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
            if is_label_name(target, rule.utf8_names):
                _set(labels, base, target, rule.regex.expand(rule.replacement, match))
    elif action == "lowercase":
        _set(labels, base, rule.target_label, go_lower(value))
    elif action == "uppercase":
        _set(labels, base, rule.target_label, go_upper(value))
    elif action == "hashmod":
        _set(labels, base, rule.target_label, str(hashmod(value, rule.modulus)))
    elif action == "labelmap":
        # Every label as it was before this rule; names made by the replacement are not checked
        # (Prometheus does not either). When two names map to one, the last one wins: 2.42 went
        # in sorted order, later lines in the Builder's order (the input's untouched labels
        # sorted, then the labels set, in the order they were first set).
        snapshot = list(labels.items()) if rule.builder_order else sorted(labels.items())
        for name, label_value in snapshot:
            match = rule.regex.fullmatch(name)
            if match is not None:
                _set(labels, base, rule.regex.expand(rule.replacement, match), label_value)
    elif action == "labeldrop":
        for name in [n for n in labels if rule.regex.fullmatch(n) is not None]:
            del labels[name]
            base.discard(name)
    elif action == "labelkeep":
        for name in [n for n in labels if rule.regex.fullmatch(n) is None]:
            del labels[name]
            base.discard(name)
    return True


def relabel(labels: dict, rules: list, version: str = DEFAULT_SCHEMA_VERSION, built: bool = False) -> dict | None:
    """Apply relabel rules (``RelabelRule`` objects, or config dicts for Prometheus ``version``) in
    order, like Prometheus.

    ``built``: the labels were set one by one in the order of ``labels`` (a discovered target, as
    the scrape manager builds it), rather than given as one sorted label set (a scraped sample).
    Returns the new label set (labels with empty values are absent), or None when it is dropped.
    ``labels`` itself is not changed.
    """
    if built:
        current = {name: value for name, value in labels.items() if value != ""}
        base: set = set()
    else:
        current = {name: value for name, value in sorted(labels.items()) if value != ""}
        base = set(current)
    for index, rule in enumerate(rules, 1):
        if not isinstance(rule, RelabelRule):
            rule = parse_rule(rule, index, version=version)
        if not _apply(rule, current, base):
            return None
    return current
