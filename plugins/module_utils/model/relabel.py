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
        # Worked out once for applying the rule to many label sets (see _prepare).
        "_run",
        "_sources",
        "_source",
        "_target_parts",
        "_target_literal",
        "_target_ok",
        "_replacement_parts",
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
        self._prepare()

    def _prepare(self) -> None:
        """What applying the rule needs besides the label set: the action's function, the source
        names, the templates parsed (``GoRegex.template_parts``) and, when ``target_label`` has no
        reference, the target name and whether it is valid."""
        self._run = _RUNNERS.get(self.action, _run_nothing)
        self._sources = tuple(self.source_labels or ())
        self._source = self._sources[0] if len(self._sources) == 1 else None
        self._target_parts = self.regex.template_parts(self.target_label)
        if all(isinstance(part, str) for part in self._target_parts):
            self._target_literal = "".join(self._target_parts)
            self._target_ok = is_label_name(self._target_literal, self.utf8_names)
        else:
            self._target_literal = None
            self._target_ok = False
        self._replacement_parts = self.regex.template_parts(self.replacement)

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
    if value:
        labels[name] = value
    else:
        labels.pop(name, None)


def _source_value(rule: RelabelRule, labels: dict) -> str:
    """The values of the rule's source labels joined with its separator (a missing label is empty)."""
    if rule._source is not None:
        value = labels.get(rule._source, "")
        if value.__class__ is str:
            return value
    # (also a single value that is not a str: join refuses it as it always did)
    return rule.separator.join([labels.get(name, "") for name in rule._sources])


def _expand(parts: tuple, match) -> str:
    """``GoRegex.expand`` of a template parsed by ``GoRegex.template_parts``."""
    if len(parts) == 1:
        part = parts[0]
        return part if part.__class__ is str else (match.group(part) or "")
    return "".join([part if part.__class__ is str else (match.group(part) or "") for part in parts])


def _expand_whole(parts: tuple, text: str) -> str:
    """``_expand`` for a regex whose ``match_all`` matched ``text``: every group (0 and 1) is ``text``."""
    if len(parts) == 1:
        part = parts[0]
        return part if part.__class__ is str else text
    return "".join([part if part.__class__ is str else text for part in parts])


def _check_sources(rule: RelabelRule, labels: dict) -> None:
    """For the actions that do not use the source labels (labelmap takes them, unused): their values
    are still joined, so that a value that is not a string fails there as in any other action."""
    if rule._sources:
        _source_value(rule, labels)


def _run_nothing(rule: RelabelRule, labels: dict, base: set) -> bool:
    _check_sources(rule, labels)
    return True


def _run_drop(rule: RelabelRule, labels: dict, base: set) -> bool:
    return rule.regex.fullmatch(_source_value(rule, labels)) is None


def _run_keep(rule: RelabelRule, labels: dict, base: set) -> bool:
    return rule.regex.fullmatch(_source_value(rule, labels)) is not None


def _run_dropequal(rule: RelabelRule, labels: dict, base: set) -> bool:
    return labels.get(rule.target_label, "") != _source_value(rule, labels)


def _run_keepequal(rule: RelabelRule, labels: dict, base: set) -> bool:
    return labels.get(rule.target_label, "") == _source_value(rule, labels)


def _run_replace(rule: RelabelRule, labels: dict, base: set) -> bool:
    # The most used action, so _source_value's common case is written out here.
    value = labels.get(rule._source, "") if rule._source is not None else None
    if value.__class__ is not str:
        value = _source_value(rule, labels)
    target = rule._target_literal
    match_all = rule.regex.match_all
    # A regex known to match any text (or any without a newline) with groups 0 and 1 = the text,
    # such as the default "(.*)", is not run.
    if match_all is not None and (match_all == "all" or "\n" not in value):
        if target is None:
            target = _expand_whole(rule._target_parts, value)
            if not is_label_name(target, rule.utf8_names):
                return True
        elif not rule._target_ok:
            return True
        _set(labels, base, target, _expand_whole(rule._replacement_parts, value))
        return True
    match = rule.regex.fullmatch(value)
    if match is not None:
        if target is None:
            target = _expand(rule._target_parts, match)
            if not is_label_name(target, rule.utf8_names):
                return True
        elif not rule._target_ok:
            return True
        _set(labels, base, target, _expand(rule._replacement_parts, match))
    return True


def _run_lowercase(rule: RelabelRule, labels: dict, base: set) -> bool:
    _set(labels, base, rule.target_label, go_lower(_source_value(rule, labels)))
    return True


def _run_uppercase(rule: RelabelRule, labels: dict, base: set) -> bool:
    _set(labels, base, rule.target_label, go_upper(_source_value(rule, labels)))
    return True


def _run_hashmod(rule: RelabelRule, labels: dict, base: set) -> bool:
    _set(labels, base, rule.target_label, str(hashmod(_source_value(rule, labels), rule.modulus)))
    return True


def _run_labelmap(rule: RelabelRule, labels: dict, base: set) -> bool:
    _check_sources(rule, labels)
    # Every label as it was before this rule; names made by the replacement are not checked
    # (Prometheus does not either). When two names map to one, the last one wins: 2.42 went
    # in sorted order, later lines in the Builder's order (the input's untouched labels
    # sorted, then the labels set, in the order they were first set).
    snapshot = dict(labels) if rule.builder_order else dict(sorted(labels.items()))
    parts = rule._replacement_parts
    for match in filter(None, map(rule.regex.fullmatch, snapshot)):  # the names that match, in order
        _set(labels, base, _expand(parts, match), snapshot[match.string])
    return True


def _run_labeldrop(rule: RelabelRule, labels: dict, base: set) -> bool:
    _check_sources(rule, labels)
    for name in [n for n in labels if rule.regex.fullmatch(n) is not None]:
        del labels[name]
        base.discard(name)
    return True


def _run_labelkeep(rule: RelabelRule, labels: dict, base: set) -> bool:
    _check_sources(rule, labels)
    for name in [n for n in labels if rule.regex.fullmatch(n) is None]:
        del labels[name]
        base.discard(name)
    return True


_RUNNERS = {
    "drop": _run_drop,
    "keep": _run_keep,
    "dropequal": _run_dropequal,
    "keepequal": _run_keepequal,
    "replace": _run_replace,
    "lowercase": _run_lowercase,
    "uppercase": _run_uppercase,
    "hashmod": _run_hashmod,
    "labelmap": _run_labelmap,
    "labeldrop": _run_labeldrop,
    "labelkeep": _run_labelkeep,
}


def _apply(rule: RelabelRule, labels: dict, base: set) -> bool:
    """Apply one rule to ``labels`` in place; False when the rule drops the label set. ``base``: the
    names of the input not yet set or deleted (their order matters to labelmap from 2.43)."""
    return rule._run(rule, labels, base)


def relabel(labels: dict, rules: list, version: str = DEFAULT_SCHEMA_VERSION, built: bool = False) -> dict | None:
    """Apply relabel rules (``RelabelRule`` objects, or config dicts for Prometheus ``version``) in
    order, like Prometheus.

    ``built``: the labels were set one by one in the order of ``labels`` (a discovered target, as
    the scrape manager builds it), rather than given as one sorted label set (a scraped sample).
    Returns the new label set (labels with empty values are absent), or None when it is dropped.
    ``labels`` itself is not changed.
    """
    if built:
        current = _without_empty(labels)
        base: set = set()
    else:
        current = {name: value for name, value in sorted(labels.items()) if value != ""}
        base = set(current)
    for index, rule in enumerate(rules, 1):
        if not isinstance(rule, RelabelRule):
            rule = parse_rule(rule, index, version=version)
        if not rule._run(rule, current, base):
            return None
    return current


def relabel_parsed(labels: dict, rules: list) -> dict | None:
    """``relabel(labels, rules, built=True)`` for rules that are all ``RelabelRule`` objects
    (``parse_rules``), as the target pipeline applies them to every target of a job."""
    current = _without_empty(labels)
    base: set = set()
    for rule in rules:
        if not rule._run(rule, current, base):
            return None
    return current


def _without_empty(labels: dict) -> dict:
    """A copy of ``labels`` without the labels whose value is empty (absent, in Prometheus)."""
    if isinstance(labels, dict) and "" not in labels.values():
        return dict(labels)
    return {name: value for name, value in labels.items() if value != ""}
