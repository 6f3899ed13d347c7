"""Literal prefilters: which words a row must contain for a condition to hold.

Evaluating a hundred signatures means a hundred-odd substring and regex scans of the text
column. Most conditions, though, *require* one of a few literal words (``message contains
"Failed to FIFREEZE"``, ``/\\[DhcpError\\] .*/``). One Aho-Corasick pass over the text with the
union of those words finds the few candidate rows; the full predicates then run only there.
Conditions that need no word (a level or event-id test, a ``not``) still run on every row.

The rule is conservative: a prefilter is a *superset* test (case-insensitive, any of the
words), so it may let rows through that the predicate rejects, never the reverse.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .language import And, Not, Or, Predicate, Regex

#: Fields whose text is also searched by the prefilter (``text`` holds the whole record).
TEXT_FIELDS = frozenset({"message", "text"})
#: Shorter words filter too little to be worth it.
MIN_LITERAL = 3

_META = set(".^$*+?{}[]()|\\")
_CLASS_ESCAPES = set("dDwWsSbBAzZpPnrtfvx0123456789")


def _default_cost(words: frozenset[str]) -> float:
    # Without data: fewer words first, then longer shortest word.
    return len(words) - min(len(w) for w in words) / 1000


def required_literals(node: object, cost: Callable[[frozenset[str]], float] | None = None) -> frozenset[str] | None:
    """Lower-cased words of which every matching row contains at least one; None if unknown.

    For ``a and b`` any side's words will do; ``cost`` (e.g. how many rows contain the
    words, measured on a sample) picks the most selective side.
    """
    cost = cost or _default_cost
    if isinstance(node, Predicate):
        return _predicate(node)
    if isinstance(node, And):
        options = [r for r in (required_literals(i, cost) for i in node.items) if r]
        if not options:
            return None
        return min(options, key=cost)
    if isinstance(node, Or):
        out: set[str] = set()
        for i in node.items:
            r = required_literals(i, cost)
            if not r:
                return None
            out |= r
        return frozenset(out)
    if isinstance(node, Not):
        return None
    return None


def _predicate(p: Predicate) -> frozenset[str] | None:
    if p.field not in TEXT_FIELDS:
        return None
    v = p.value
    if p.op in ("contains", "icontains", "startswith", "endswith", "==") and v is not None:
        vals = v if isinstance(v, tuple) else (v,)
        if all(isinstance(x, str) and len(x) >= MIN_LITERAL for x in vals):
            return frozenset(x.lower() for x in vals)
        return None
    if p.op == "~" and isinstance(v, Regex):
        return regex_literals(v.pattern)
    return None


def _class_end(pattern: str, i: int) -> int:
    """Index of the ``]`` closing the character class opened at ``i`` (a ``]`` right after
    ``[`` or ``[^`` is a literal)."""
    n = len(pattern)
    j = i + 1
    if j < n and pattern[j] == "^":
        j += 1
    if j < n and pattern[j] == "]":
        j += 1
    while j < n and pattern[j] != "]":
        j += 2 if pattern[j] == "\\" else 1
    return j


def split_alternatives(pattern: str) -> list[str]:
    """Split at top-level ``|`` (outside groups and classes)."""
    parts, cur, depth, i, n = [], [], 0, 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\" and i + 1 < n:
            cur.append(pattern[i : i + 2])
            i += 2
            continue
        if c == "[":
            j = _class_end(pattern, i)
            cur.append(pattern[i : j + 1])
            i = j + 1
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth = max(0, depth - 1)
        elif c == "|" and depth == 0:
            parts.append("".join(cur))
            cur = []
            i += 1
            continue
        cur.append(c)
        i += 1
    parts.append("".join(cur))
    return parts


def regex_literals(pattern: str) -> frozenset[str] | None:
    """Lower-cased words one of which every match contains: one per top-level alternative."""
    flags = ""
    m = re.match(r"^\(\?([a-zA-Z]+)\)", pattern)
    if m:
        flags, pattern = m.group(1), pattern[m.end() :]
    if "x" in flags:
        return None
    out = set()
    for alt in split_alternatives(pattern):
        lit = regex_literal(alt)
        if not lit:
            return None
        out.add(lit.lower())
    return frozenset(out) if out else None


def regex_literal(pattern: str) -> str | None:
    """The longest literal run every match of ``pattern`` must contain, or None."""
    best = max(literal_runs(pattern) or [], key=len, default="")
    return best if len(best) >= MIN_LITERAL else None


def literal_runs(pattern: str) -> list[str] | None:
    """Every literal run every match of ``pattern`` must contain (None: a top-level ``|``).

    Only top-level sequences are read: any top-level alternation gives None; groups and
    classes break a run (their contents are skipped); a quantifier that can make the
    previous character optional removes it from the run.
    """
    if "(?x" in pattern:
        return None
    runs: list[str] = []
    cur: list[str] = []
    i, n = 0, len(pattern)
    depth = 0

    def cut() -> None:
        if cur:
            runs.append("".join(cur))
            cur.clear()

    while i < n:
        c = pattern[i]
        if c == "\\" and i + 1 < n:
            d = pattern[i + 1]
            if depth == 0 and d not in _CLASS_ESCAPES and not d.isalnum():
                cur.append(d)
            elif depth == 0:
                cut()
            i += 2
            if d in "xpPu":  # \x41, \x{263a}, \p{L}, \pL, \u2603: skip the escape's argument
                if i < n and pattern[i] == "{":
                    j = pattern.find("}", i)
                    i = (j + 1) if j > 0 else n
                elif d == "x":
                    i += 2
                elif d == "u":
                    i += 4
                else:
                    i += 1
            continue
        if c == "[":
            if depth == 0:
                cut()
            i = _class_end(pattern, i) + 1
            continue
        if c == "(":
            depth += 1
            if depth == 1:
                cut()
            i += 1
            continue
        if c == ")":
            depth = max(0, depth - 1)
            i += 1
            if depth == 0 and i < n and pattern[i] in "?*{":
                pass  # an optional group: already cut
            continue
        if depth > 0:
            i += 1
            continue
        if c == "|":
            return None
        if c in "?*":
            if cur:
                cur.pop()
            cut()
            i += 1
            continue
        if c == "{":
            j = pattern.find("}", i)
            quant = pattern[i + 1 : j] if j > 0 else ""
            if cur and (quant.startswith("0") or quant.startswith(",")):
                cur.pop()
            cut()
            i = (j + 1) if j > 0 else n
            continue
        if c == "+":
            cut()
            i += 1
            continue
        if c in ".^$":
            cut()
            i += 1
            continue
        cur.append(c)
        i += 1
    cut()
    return runs
