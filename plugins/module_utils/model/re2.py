# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""Go regular expressions (RE2 syntax, as Prometheus compiles them) on top of Python's ``re``.

``compile_go(pattern)`` parses ``pattern`` with the rules of Go 1.19's ``regexp/syntax`` (the Go
that Debian's Prometheus 2.42 was built with, flags ``syntax.Perl``), rejects what Go rejects, and
translates the rest into a Python pattern that matches the same strings with the same groups.
Two keyword options give the dialects of later Prometheus versions:

- ``named_angle=True`` also accepts ``(?<name>re)`` like ``(?P<name>re)``, as Go 1.22 does
  (Prometheus 2.51 on, including 3.x).
- ``dot_nl=True`` parses the pattern with the ``s`` flag already set, as Prometheus 3.x compiles a
  relabel regex as ``^(?s:R)$`` (2.x: ``^(?:R)$``): ``.`` matches ``\\n`` unless ``(?-s)``.

What is translated:

- ``\\d \\w \\s \\b \\B`` are ASCII-only as in Go; ``\\s`` is ``[\\t\\n\\f\\r ]`` (no ``\\v``).
- ``.`` does not match ``\\n`` unless ``(?s)``; ``^``/``$`` match at the ends of the text only,
  unless ``(?m)``; ``\\A``, ``\\z`` (Python's ``\\Z``); flags ``i m s U`` and ``(?flags:re)``.
- ``(?i)`` uses Go's simple case folding: ``k`` also matches the Kelvin sign, ``s`` the long s,
  but ``i`` does not match dotless ``ı`` (Python's ``re.I`` would).
- ``(?P<name>re)`` (names of letters, digits and ``_``), ``\\Q...\\E``, ``\\x{10FFFF}``, octal
  escapes, POSIX classes ``[[:alpha:]]`` and ``[[:^alpha:]]``, repeat counts up to 1000
  (nested counted repeats up to 1000 copies in all, as Go checks).
- ``\\pX``/``\\p{X}``/``\\PX``/``\\p{^X}``, also inside brackets, for ``Any``, the Unicode general
  categories (``L Lu Ll Lt Lm Lo M Mn Mc Me N Nd Nl No P Pc Pd Ps Pe Pi Pf Po S Sm Sc Sk So Z Zs
  Zl Zp C Cc Cf Co Cs``, built from ``unicodedata``) and the Unicode scripts by Go's names
  (``Greek``, ``Han``, ``Latin``, ``Common``, ``Old_Italic``..., from ``unicode_scripts.py``,
  generated from Unicode 15.0.0's ``Scripts.txt``). Names are case-sensitive as in Go up to 1.24:
  ``\\p{greek}`` is refused. With ``(?i)`` the class is closed under case folding, as Go adds
  ``unicode.FoldCategory``/``FoldScript``.

Rejected as Go rejects them: lookarounds, backreferences, ``(?<name>`` unless ``named_angle``
(Go 1.19 knows only ``(?P<name>``), atomic groups and possessive repeats, ``\\C``, ``\\Z``, unknown
escapes, unknown Unicode classes, repeat counts over 1000, stacked repeats (``a**``), unbalanced
parentheses, bad classes and ranges.

Rejected because this engine cannot guarantee Go's result (the message says so):

- A repetition that can run more than once over a sub-expression that contains a capture group and
  can match the empty string, e.g. ``(a*)*`` or ``(a|)+``: Go and Python fill the group
  differently (Go gives ``aa`` for ``(a*)*`` on ``aa``, Python ``""``). Without the group,
  ``(?:a*)*``, it is accepted.

Known residual differences, all about characters assigned in recent Unicode versions:

- Unicode categories and case folding come from the running Python's Unicode database (12.1 on
  Python 3.8, 14.0 on 3.11); Go 1.19 (Prometheus 2.42) uses Unicode 13.0, Go 1.21 and later
  (Prometheus 2.53, 3.x) 15.0. Characters whose properties differ between these versions may be
  classified differently by ``\\p`` classes and ``(?i)``.
- Scripts are those of Unicode 15.0: for Prometheus 2.42 (Unicode 13.0) characters assigned since
  13.0 are in their script here, and the scripts new in 14.0/15.0 (``Cypro_Minoan``,
  ``Old_Uyghur``, ``Tangsa``, ``Toto``, ``Vithkuqi``, ``Kawi``, ``Nag_Mundari``) are accepted
  here although Go 1.19 refuses them.
"""

from __future__ import annotations

import bisect
import functools
import re
import unicodedata

from ansible_collections.promfleet.federation.plugins.module_utils.errors import RegexError
from ansible_collections.promfleet.federation.plugins.module_utils.model.unicode_scripts import (
    script_names,
    script_ranges,
)

MAX_RUNE = 0x10FFFF
MAX_REPEAT = 1000
MAX_NESTING = 1000

_WORD = [(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)]
_PERL = {
    "d": [(0x30, 0x39)],
    "s": [(0x09, 0x0A), (0x0C, 0x0D), (0x20, 0x20)],
    "w": _WORD,
}
_POSIX = {
    "alnum": [(0x30, 0x39), (0x41, 0x5A), (0x61, 0x7A)],
    "alpha": [(0x41, 0x5A), (0x61, 0x7A)],
    "ascii": [(0x00, 0x7F)],
    "blank": [(0x09, 0x09), (0x20, 0x20)],
    "cntrl": [(0x00, 0x1F), (0x7F, 0x7F)],
    "digit": [(0x30, 0x39)],
    "graph": [(0x21, 0x7E)],
    "lower": [(0x61, 0x7A)],
    "print": [(0x20, 0x7E)],
    "punct": [(0x21, 0x2F), (0x3A, 0x40), (0x5B, 0x60), (0x7B, 0x7E)],
    "space": [(0x09, 0x0D), (0x20, 0x20)],
    "upper": [(0x41, 0x5A)],
    "word": _WORD,
    "xdigit": [(0x30, 0x39), (0x41, 0x46), (0x61, 0x66)],
}
_CATEGORIES = {
    "L": ("Lu", "Ll", "Lt", "Lm", "Lo"),
    "M": ("Mn", "Mc", "Me"),
    "N": ("Nd", "Nl", "No"),
    "P": ("Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po"),
    "S": ("Sm", "Sc", "Sk", "So"),
    "Z": ("Zs", "Zl", "Zp"),
    "C": ("Cc", "Cf", "Co", "Cs"),
}
_CATEGORY_NAMES = set(_CATEGORIES) | {c for cs in _CATEGORIES.values() for c in cs}
_REPEAT = re.compile(r"\{(\d+)(?:(,)(\d*))?\}")
# Python patterns that are one group around "any text" (a full match of any string, or of any
# string without a newline), by what their character class matches: GoRegex.match_all.
_MATCH_ALL = {
    "((?:[\\x00-\\U0010ffff])*)": "all",
    "((?:[\\x00-\\x09\\x0b-\\U0010ffff])*)": "no_newline",
}

_category_cache: dict[str, list[tuple[int, int]]] = {}
_orbits: dict[int, tuple[int, ...]] = {}


class GoRegex:
    """A translated Go regular expression: the Python pattern plus Go's group numbering and names."""

    def __init__(self, source: str, python_pattern: str, groups: int, names: dict[str, int]) -> None:
        self.source = source
        self.python_pattern = python_pattern
        self.groups = groups
        self.names = names
        self.compiled = re.compile(python_pattern)
        # A pattern that is one group around "any text" (what "(.*)" becomes): the full match and
        # group 1 are the text itself; "all" for any text, "no_newline" for text without "\n".
        self.match_all = _MATCH_ALL.get(python_pattern) if groups == 1 else None
        # fullmatch(text): match the whole of ``text`` (Prometheus anchors every regex as ``^(?:R)$``,
        # 3.x as ``^(?s:R)$``). The compiled pattern's own method, without a call in between:
        # relabeling calls it for every rule and label of every target.
        self.fullmatch = self.compiled.fullmatch

    def group_index(self, name: str) -> int:
        """The group a template name refers to, as Go's ``Regexp.Expand``: -1 if there is none."""
        num = -1
        if name.isdigit() and name.isascii() and not (name[0] == "0" and len(name) > 1) and len(name) < 10:
            num = int(name)
        if num >= 0:
            return num
        return self.names.get(name, -1)

    def expand(self, template: str, match) -> str:
        """Go's ``Regexp.ExpandString``: ``$name``/``${name}`` become group values, ``$$`` is ``$``."""
        out = []
        i = 0
        n = len(template)
        while i < n:
            dollar = template.find("$", i)
            if dollar < 0:
                out.append(template[i:])
                break
            out.append(template[i:dollar])
            i = dollar + 1
            if i < n and template[i] == "$":
                out.append("$")
                i += 1
                continue
            name, i_after = _template_name(template, i)
            if name is None:
                out.append("$")
                continue
            i = i_after
            index = self.group_index(name)
            if 0 <= index <= self.groups and match.group(index) is not None:
                out.append(match.group(index))
        return "".join(out)

    def template_parts(self, template: str) -> tuple:
        """``template`` parsed once for ``expand``: a tuple of literal texts (``str``) and group
        numbers (``int``, only groups this regex has), so that ``expand(template, match)`` is the
        concatenation of the literals and of ``match.group(n) or ""``. Adjacent literals are merged."""
        parts: list = []
        i = 0
        n = len(template)

        def literal(text: str) -> None:
            if not text:
                return
            if parts and isinstance(parts[-1], str):
                parts[-1] += text
            else:
                parts.append(text)

        while i < n:  # the loop of ``expand``, recording instead of appending
            dollar = template.find("$", i)
            if dollar < 0:
                literal(template[i:])
                break
            literal(template[i:dollar])
            i = dollar + 1
            if i < n and template[i] == "$":
                literal("$")
                i += 1
                continue
            name, i_after = _template_name(template, i)
            if name is None:
                literal("$")
                continue
            i = i_after
            index = self.group_index(name)
            if 0 <= index <= self.groups:
                parts.append(index)
        return tuple(parts)


def _is_word_char(c: str) -> bool:
    return c == "_" or ("0" <= c <= "9") or ("a" <= c <= "z") or ("A" <= c <= "Z")


def _template_name(template: str, i: int) -> tuple[str | None, int]:
    """The name after a ``$`` at ``template[i:]`` (Go's ``extract``), or None if malformed."""
    n = len(template)
    brace = i < n and template[i] == "{"
    j = i + 1 if brace else i
    k = j
    while k < n and _is_word_char(template[k]):
        k += 1
    if k == j:
        return None, i
    if brace:
        if k >= n or template[k] != "}":
            return None, i
        return template[j:k], k + 1
    return template[j:k], k


@functools.lru_cache(maxsize=4096)  # relabel rules reuse few patterns over many targets
def compile_go(pattern: str, *, named_angle: bool = False, dot_nl: bool = False) -> GoRegex:
    """Compile a Go (RE2) regular expression; raise ``RegexError`` naming the construct if Go
    rejects it or this engine cannot match it exactly like Go.

    ``named_angle``: accept ``(?<name>re)`` as Go 1.22 does (Prometheus 2.51 on).
    ``dot_nl``: start with the ``s`` flag set, as Prometheus 3.x's ``^(?s:R)$`` wrapper does."""
    parser = _Parser(pattern, named_angle=named_angle)
    node = parser.parse(_DOTNL if dot_nl else 0)
    _check_repeats(node, pattern)
    return GoRegex(pattern, _emit(node), parser.ncap, parser.names)


# ---------------------------------------------------------------- character sets


def _normalize(ranges) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            if hi > out[-1][1]:
                out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return out


def _negate(ranges) -> list[tuple[int, int]]:
    out = []
    nxt = 0
    for lo, hi in _normalize(ranges):
        if lo > nxt:
            out.append((nxt, lo - 1))
        nxt = hi + 1
    if nxt <= MAX_RUNE:
        out.append((nxt, MAX_RUNE))
    return out


def _fold_key(c: str) -> str:
    folded = c.casefold()
    if len(folded) == 1:
        return folded
    lower = c.lower()
    return lower if len(lower) == 1 else c


def _orbit_table() -> dict[int, tuple[int, ...]]:
    """Go's case-folding orbits: code points that share a simple case folding (lazily built)."""
    if not _orbits:
        by_key: dict[str, list[int]] = {}
        for cp in range(0x1F000):
            if 0xD800 <= cp <= 0xDFFF:
                continue
            by_key.setdefault(_fold_key(chr(cp)), []).append(cp)
        for members in by_key.values():
            if len(members) > 1:
                for cp in members:
                    _orbits[cp] = tuple(members)
    return _orbits


def _fold(ranges) -> list[tuple[int, int]]:
    ranges = _normalize(ranges)
    starts = [lo for lo, _hi in ranges]
    extra = []
    for cp, members in _orbit_table().items():
        pos = bisect.bisect_right(starts, cp) - 1
        if pos >= 0 and ranges[pos][1] >= cp:
            extra.extend((m, m) for m in members)
    return _normalize(ranges + extra)


def _category(name: str) -> list[tuple[int, int]]:
    if name == "Any":
        return [(0, MAX_RUNE)]
    if name not in _category_cache:
        wanted = set(_CATEGORIES.get(name, (name,)))
        ranges = []
        start = None
        for cp in range(MAX_RUNE + 2):
            inside = cp <= MAX_RUNE and unicodedata.category(chr(cp)) in wanted
            if inside and start is None:
                start = cp
            elif not inside and start is not None:
                ranges.append((start, cp - 1))
                start = None
        _category_cache[name] = ranges
    return _category_cache[name]


def _char(cp: int) -> str:
    if cp < 0x80 and chr(cp).isalnum():
        return chr(cp)
    if cp <= 0xFF:
        return "\\x%02x" % cp
    if cp <= 0xFFFF:
        return "\\u%04x" % cp
    return "\\U%08x" % cp


def _class_pattern(ranges) -> str:
    ranges = _normalize(ranges)
    if not ranges:
        return "(?!)"
    if len(ranges) == 1 and ranges[0][0] == ranges[0][1]:
        return _char(ranges[0][0])
    parts = []
    for lo, hi in ranges:
        parts.append(_char(lo) if lo == hi else "%s-%s" % (_char(lo), _char(hi)))
    return "[" + "".join(parts) + "]"


# ---------------------------------------------------------------- parser

# AST nodes are tuples:
#   ("set", ranges)                      one character out of ranges
#   ("empty", kind)                      zero-width: bot, eot, bol, eol, wordb, nwordb
#   ("cat", [nodes]) / ("alt", [nodes])
#   ("cap", number, node)
#   ("rep", min, max_or_None, greedy, counted, node)

_FOLD, _MULTILINE, _DOTNL, _UNGREEDY = 1, 2, 4, 8
_FLAG_BITS = {"i": _FOLD, "m": _MULTILINE, "s": _DOTNL, "U": _UNGREEDY}


class _Parser:
    def __init__(self, pattern: str, named_angle: bool = False) -> None:
        self.src = pattern
        self.named_angle = named_angle
        self.pos = 0
        self.ncap = 0
        self.names: dict[str, int] = {}
        self.depth = 0

    def error(self, message: str) -> RegexError:
        return RegexError("invalid regex %r: %s" % (self.src, message))

    def parse(self, flags: int = 0) -> tuple:
        node = self.parse_group_body(flags)
        if self.pos < len(self.src):
            raise self.error("unexpected ) at offset %d" % self.pos)
        return node

    def parse_group_body(self, flags: int) -> tuple:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self.error("expression nests too deeply (Go allows %d levels)" % MAX_NESTING)
        alternatives = []
        items: list = []
        last_was_repeat = False
        src = self.src
        while self.pos < len(src):
            c = src[self.pos]
            if c == ")":
                break
            if c == "|":
                alternatives.append(items)
                items = []
                self.pos += 1
                last_was_repeat = False
                continue
            if c in "*+?" or (c == "{" and _REPEAT.match(src, self.pos)):
                self.parse_repeat(items, flags, last_was_repeat)
                last_was_repeat = True
                continue
            last_was_repeat = False
            if c == "(":
                flags = self.parse_paren(items, flags)
            elif c == "[":
                items.append(("set", self.parse_class(flags)))
            elif c == "\\":
                self.parse_escape_atom(items, flags)
            elif c == ".":
                self.pos += 1
                items.append(("set", [(0, MAX_RUNE)] if flags & _DOTNL else [(0, 9), (11, MAX_RUNE)]))
            elif c == "^":
                self.pos += 1
                items.append(("empty", "bol" if flags & _MULTILINE else "bot"))
            elif c == "$":
                self.pos += 1
                items.append(("empty", "eol" if flags & _MULTILINE else "eot"))
            else:
                self.pos += 1
                items.append(self.literal(ord(c), flags))
        alternatives.append(items)
        self.depth -= 1
        branches = [("cat", its) for its in alternatives]
        return branches[0] if len(branches) == 1 else ("alt", branches)

    def literal(self, cp: int, flags: int) -> tuple:
        ranges = [(cp, cp)]
        return ("set", _fold(ranges) if flags & _FOLD else ranges)

    def parse_repeat(self, items: list, flags: int, last_was_repeat: bool) -> None:
        src = self.src
        start = self.pos
        c = src[self.pos]
        if c == "{":
            m = _REPEAT.match(src, self.pos)
            lo_text, comma, hi_text = m.group(1), m.group(2), m.group(3)
            if (len(lo_text) > 1 and lo_text[0] == "0") or (hi_text and len(hi_text) > 1 and hi_text[0] == "0"):
                # Go's parseInt refuses leading zeros: then `{` is a literal.
                self.pos += 1
                items.append(self.literal(ord("{"), flags))
                return
            low = int(lo_text)
            high = low if not comma else (int(hi_text) if hi_text else None)
            self.pos = m.end()
            if low > MAX_REPEAT or (high is not None and (high > MAX_REPEAT or low > high)):
                raise self.error("invalid repeat count `%s` (Go allows at most %d)" % (m.group(0), MAX_REPEAT))
            counted = True
        else:
            low, high = {"*": (0, None), "+": (1, None), "?": (0, 1)}[c]
            self.pos += 1
            counted = False
        greedy = not flags & _UNGREEDY
        if self.pos < len(src) and src[self.pos] == "?":
            greedy = not greedy
            self.pos += 1
        if last_was_repeat:
            raise self.error("invalid nested repetition operator `%s`" % src[start - 1 : self.pos])
        if not items:
            raise self.error("missing argument to repetition operator `%s`" % src[start : self.pos])
        items[-1] = ("rep", low, high, greedy, counted, items[-1])

    def parse_paren(self, items: list, flags: int) -> int:
        src = self.src
        start = self.pos
        if src.startswith("(?", start):
            rest = src[start + 2 :]
            # Go 1.22 reads `(?<=` and `(?<!` as bad names too; the lookbehind message below says more.
            angle = self.named_angle and rest.startswith("<") and not rest.startswith(("<=", "<!"))
            if rest.startswith("P<") or angle:
                end = src.find(">", start)
                if end < 0:
                    raise self.error("invalid named capture `%s`" % src[start:])
                name = src[start + (3 if angle else 4) : end]
                if not name or not all(_is_word_char(ch) for ch in name):
                    raise self.error("invalid named capture `%s`" % src[start : end + 1])
                if name in self.names:
                    raise self.error("duplicate capture group name `%s`" % name)
                self.pos = end + 1
                self.ncap += 1
                self.names[name] = self.ncap
                items.append(("cap", self.ncap, self.parse_sub(flags)))
                return flags
            for construct, what in (
                ("<=", "lookbehind `(?<=` is not supported by Go's regexp (RE2)"),
                ("<!", "negative lookbehind `(?<!` is not supported by Go's regexp (RE2)"),
                (
                    "<",
                    "named group `(?<name>...)` is accepted from Prometheus 2.51 on (built with Go 1.22), "
                    "not by older lines; use `(?P<name>...)`",
                ),
                ("=", "lookahead `(?=` is not supported by Go's regexp (RE2)"),
                ("!", "negative lookahead `(?!` is not supported by Go's regexp (RE2)"),
                (">", "atomic group `(?>` is not supported by Go's regexp (RE2)"),
                ("#", "comment group `(?#` is not supported by Go's regexp (RE2)"),
                ("P=", "named backreference `(?P=` is not supported by Go's regexp (RE2)"),
                ("P>", "named subroutine call `(?P>` is not supported by Go's regexp (RE2)"),
            ):
                if rest.startswith(construct):
                    raise self.error(what)
            return self.parse_flags(items, flags)
        self.pos += 1
        self.ncap += 1
        items.append(("cap", self.ncap, self.parse_sub(flags)))
        return flags

    def parse_sub(self, flags: int) -> tuple:
        open_at = self.pos
        node = self.parse_group_body(flags)
        if self.pos >= len(self.src):
            raise self.error("missing closing ) for the group opened before offset %d" % open_at)
        self.pos += 1
        return node

    def parse_flags(self, items: list, flags: int) -> int:
        src = self.src
        start = self.pos
        i = start + 2
        negate = False
        saw_flag = False
        new = flags
        while i < len(src):
            c = src[i]
            i += 1
            if c in _FLAG_BITS:
                new = new & ~_FLAG_BITS[c] if negate else new | _FLAG_BITS[c]
                saw_flag = True
            elif c == "-" and not negate:
                negate = True
                saw_flag = False
            elif c in ":)":
                if negate and not saw_flag:
                    break
                self.pos = i
                if c == ":":
                    items.append(self.parse_sub(new))
                    return flags
                return new
            else:
                break
        raise self.error("invalid or unsupported Perl syntax `%s`" % src[start:i])

    def parse_escape_atom(self, items: list, flags: int) -> None:
        src = self.src
        if self.pos + 1 >= len(src):
            raise self.error("trailing backslash at end of expression")
        c = src[self.pos + 1]
        simple = {"A": "bot", "z": "eot", "b": "wordb", "B": "nwordb"}
        if c in simple:
            self.pos += 2
            items.append(("empty", simple[c]))
            return
        if c == "Q":
            end = src.find("\\E", self.pos + 2)
            text = src[self.pos + 2 :] if end < 0 else src[self.pos + 2 : end]
            self.pos = len(src) if end < 0 else end + 2
            items.extend(self.literal(ord(ch), flags) for ch in text)
            return
        group = self.class_escape(flags)
        if group is not None:
            items.append(("set", group))
            return
        items.append(self.literal(self.parse_escape(), flags))

    def class_escape(self, flags: int):
        """A Perl (``\\d``) or Unicode (``\\pL``) class escape at the current position, or None."""
        src = self.src
        c = src[self.pos + 1] if self.pos + 1 < len(src) else ""
        if c.lower() in _PERL and c.isascii():
            self.pos += 2
            ranges = _fold(_PERL[c.lower()]) if flags & _FOLD else _PERL[c.lower()]
            return _negate(ranges) if c.isupper() else ranges
        if c in ("p", "P"):
            start = self.pos
            negated = c == "P"
            if self.pos + 2 >= len(src):
                raise self.error("invalid character class range `%s`" % src[start:])
            if src[self.pos + 2] == "{":
                end = src.find("}", self.pos + 3)
                if end < 0:
                    raise self.error("invalid character class range `%s`" % src[start:])
                name = src[self.pos + 3 : end]
                self.pos = end + 1
            else:
                name = src[self.pos + 2]
                self.pos += 3
            if name.startswith("^"):
                negated = not negated
                name = name[1:]
            ranges = self.unicode_class(name, src[start : self.pos])
            if flags & _FOLD:
                ranges = _fold(ranges)
            return _negate(ranges) if negated else ranges
        return None

    def unicode_class(self, name: str, escape: str) -> list[tuple[int, int]]:
        """The ranges of ``\\p{name}``, looked up as Go does: Any, then categories, then scripts."""
        if name == "Any" or name in _CATEGORY_NAMES:
            return _category(name)
        script = script_ranges(name)
        if script is not None:
            return list(script)
        # Go before 1.25 looks names up exactly: point at the spelling it knows.
        known = ["Any", *sorted(_CATEGORY_NAMES), *script_names()]
        spelled = [known_name for known_name in known if known_name.lower() == name.lower()]
        hint = " (names are case-sensitive: `%s`)" % spelled[0] if spelled else ""
        message = "invalid character class range `%s`: Go knows no Unicode category or script `%s`%s"
        raise self.error(message % (escape, name, hint))

    def parse_escape(self) -> int:
        """A single-character escape at the current position (Go's ``parseEscape``)."""
        src = self.src
        start = self.pos
        c = src[self.pos + 1]
        self.pos += 2
        if "1" <= c <= "7" and not (self.pos < len(src) and "0" <= src[self.pos] <= "7"):
            raise self.error("backreference `\\%s` is not supported by Go's regexp (RE2)" % c)
        if "0" <= c <= "7":
            value = ord(c) - 48
            for _unused in range(2):
                if self.pos < len(src) and "0" <= src[self.pos] <= "7":
                    value = value * 8 + ord(src[self.pos]) - 48
                    self.pos += 1
            return value
        if c == "x":
            if src.startswith("{", self.pos):
                end = src.find("}", self.pos)
                digits = src[self.pos + 1 : end] if end > 0 else ""
                if end < 0 or not digits or not all(d in "0123456789abcdefABCDEF" for d in digits):
                    raise self.error("invalid escape sequence `%s`" % src[start : (end + 1 if end > 0 else None)])
                value = int(digits, 16)
                if value > MAX_RUNE:
                    raise self.error("invalid escape sequence `%s`" % src[start : end + 1])
                self.pos = end + 1
                return value
            digits = src[self.pos : self.pos + 2]
            if len(digits) < 2 or not all(d in "0123456789abcdefABCDEF" for d in digits):
                raise self.error("invalid escape sequence `%s`" % src[start : self.pos + 2])
            self.pos += 2
            return int(digits, 16)
        simple = {"a": 7, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11}
        if c in simple:
            return simple[c]
        if c.isascii() and not c.isalnum():
            return ord(c)
        if c == "C":
            raise self.error("`\\C` (any byte) is not supported by Go's regexp")
        if c == "Z":
            raise self.error("`\\Z` is not supported by Go's regexp; use `\\z` for the end of the text")
        raise self.error("invalid escape sequence `\\%s`" % c)

    def parse_class(self, flags: int) -> list[tuple[int, int]]:
        src = self.src
        start = self.pos
        self.pos += 1
        negated = src.startswith("^", self.pos)
        if negated:
            self.pos += 1
        ranges: list[tuple[int, int]] = []
        first = True
        while True:
            if self.pos >= len(src):
                raise self.error("missing closing ] for the class at offset %d" % start)
            c = src[self.pos]
            if c == "]" and not first:
                self.pos += 1
                break
            first = False
            if src.startswith("[:", self.pos):
                end = src.find(":]", self.pos + 2)
                if end >= 0:
                    name = src[self.pos + 2 : end]
                    neg = name.startswith("^")
                    if neg:
                        name = name[1:]
                    if name not in _POSIX:
                        raise self.error("invalid character class range `%s`" % src[self.pos : end + 2])
                    self.pos = end + 2
                    group = _fold(_POSIX[name]) if flags & _FOLD else _POSIX[name]
                    ranges.extend(_negate(group) if neg else group)
                    continue
            if c == "\\":
                group = self.class_escape(flags)
                if group is not None:
                    ranges.extend(group)
                    continue
            lo = self.class_char(start)
            hi = lo
            if src.startswith("-", self.pos) and self.pos + 1 < len(src) and src[self.pos + 1] != "]":
                range_start = self.pos
                self.pos += 1
                hi = self.class_char(start)
                if hi < lo:
                    raise self.error("invalid character class range `%s`" % src[range_start - 1 : self.pos])
            ranges.extend(_fold([(lo, hi)]) if flags & _FOLD else [(lo, hi)])
        return _negate(ranges) if negated else _normalize(ranges)

    def class_char(self, start: int) -> int:
        src = self.src
        if self.pos >= len(src):
            raise self.error("missing closing ] for the class at offset %d" % start)
        if src[self.pos] == "\\":
            if self.pos + 1 >= len(src):
                raise self.error("trailing backslash at end of expression")
            return self.parse_escape()
        self.pos += 1
        return ord(src[self.pos - 1])


# ---------------------------------------------------------------- checks and output


def _nullable(node: tuple) -> bool:
    kind = node[0]
    if kind == "set":
        return False
    if kind == "empty":
        return True
    if kind == "cat":
        return all(_nullable(n) for n in node[1])
    if kind == "alt":
        return any(_nullable(n) for n in node[1])
    if kind == "cap":
        return _nullable(node[2])
    return node[1] == 0 or _nullable(node[5])


def _has_capture(node: tuple) -> bool:
    kind = node[0]
    if kind == "cap":
        return True
    if kind in ("cat", "alt"):
        return any(_has_capture(n) for n in node[1])
    if kind == "rep":
        return _has_capture(node[5])
    return False


def _repeat_is_valid(node: tuple, limit: int) -> bool:
    """Go's ``repeatIsValid``: nested counted repeats give at most ``limit`` copies."""
    if node[0] == "rep" and node[4]:
        most = node[2] if node[2] is not None else node[1]
        if most == 0:
            return True
        if most > limit:
            return False
        limit //= most
    subs = node[1] if node[0] in ("cat", "alt") else [node[2]] if node[0] == "cap" else []
    if node[0] == "rep":
        subs = [node[5]]
    return all(_repeat_is_valid(n, limit) for n in subs)


def _check_repeats(node: tuple, pattern: str) -> None:
    kind = node[0]
    if kind == "rep":
        low, high, counted, sub = node[1], node[2], node[4], node[5]
        if counted and ((high is not None and high >= 2) or low >= 2) and not _repeat_is_valid(node, MAX_REPEAT):
            raise RegexError("invalid regex %r: nested repeat counts exceed %d copies" % (pattern, MAX_REPEAT))
        if (high is None or high > 1) and _has_capture(sub) and _nullable(sub):
            raise RegexError(
                "regex %r repeats a capture group that can match the empty string; Go fills such "
                "groups differently from this engine: write the group so that it cannot match the empty "
                "string, or make it non-capturing `(?:...)`" % pattern
            )
        _check_repeats(sub, pattern)
    elif kind in ("cat", "alt"):
        for sub in node[1]:
            _check_repeats(sub, pattern)
    elif kind == "cap":
        _check_repeats(node[2], pattern)


_WORD_CLASS = "[0-9A-Za-z_]"
_EMPTY = {
    "bot": r"\A",
    "eot": r"\Z",
    "bol": r"(?<![^\n])",
    "eol": r"(?![^\n])",
    "wordb": r"(?:(?<=%s)(?!%s)|(?<!%s)(?=%s))" % ((_WORD_CLASS,) * 4),
    "nwordb": r"(?:(?<=%s)(?=%s)|(?<!%s)(?!%s))" % ((_WORD_CLASS,) * 4),
}


def _emit(node: tuple) -> str:
    kind = node[0]
    if kind == "set":
        return _class_pattern(node[1])
    if kind == "empty":
        return _EMPTY[node[1]]
    if kind == "cat":
        return "".join(_emit(n) for n in node[1])
    if kind == "alt":
        return "(?:" + "|".join(_emit(n) for n in node[1]) + ")"
    if kind == "cap":
        return "(" + _emit(node[2]) + ")"
    low, high, greedy, sub = node[1], node[2], node[3], node[5]
    if (low, high) == (0, None):
        op = "*"
    elif (low, high) == (1, None):
        op = "+"
    elif (low, high) == (0, 1):
        op = "?"
    elif high is None:
        op = "{%d,}" % low
    elif low == high:
        op = "{%d}" % low
    else:
        op = "{%d,%d}" % (low, high)
    return "(?:" + _emit(sub) + ")" + op + ("" if greedy else "?")
