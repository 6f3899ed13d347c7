"""What every row matching a condition holds in its text, as a tree of choices.

A condition's words (``message contains "Failed to FIFREEZE"``, every literal run of every
alternative of a regex, either side of an ``and``) are a :data:`~logscan.sources.grep.Req`:
``("w", words)`` (a row holds one of the words), ``("and", reqs)`` (any one is a valid test),
``("or", reqs)`` (all are needed). The data picks among the choices: the grep plan per file
(:mod:`.grep`), the planner per frame (:mod:`.plan`), each taking the rarest words.
"""

from __future__ import annotations

import re

from ..sources.grep import Req
from .language import And, Or, Predicate, Regex
from .prefilter import MIN_LITERAL, _class_end, _predicate, literal_runs, split_alternatives

#: Per source: fields whose values a parser copies from the record's own text (so a value
#: test is a word test), and the levels its records state in their text.
TEXT_FIELDS = {
    "waagent_log": frozenset({"extension", "ext_version", "thread", "event_name", "event_op", "time_raw"}),
}
TEXT_LEVELS = {"waagent_log": frozenset({"ERROR", "WARNING", "VERBOSE"})}


def requirement(node: object, source: str) -> Req | None:
    """What every row of ``source`` satisfying ``node`` holds in its text (see
    :data:`logscan.sources.grep.Req`); None if unknown. :func:`.prefilter.required_literals`
    with every choice left open (the data picks, file by file), also reading the fields
    ``source`` copies from the text, the levels its text states, and every literal run of a
    regex."""
    if isinstance(node, Predicate):
        words = _field_words(node, source) or _predicate_words(node)
        if words:
            return ("w", words)
        if node.op == "~" and isinstance(node.value, Regex) and node.field in ("message", "text") and not node.value.flags.replace("i", ""):
            return regex_requirement(node.value.pattern)
        return None
    if isinstance(node, And):
        options = tuple(r for r in (requirement(i, source) for i in node.items) if r)
        return ("and", options) if options else None
    if isinstance(node, Or):
        items = tuple(requirement(i, source) for i in node.items)
        return ("or", items) if items and all(items) else None
    return None  # Not, or an unknown node


def _predicate_words(p: Predicate) -> frozenset[str] | None:
    return None if p.op == "~" else _predicate(p)


def regex_requirement(pattern: str) -> Req | None:
    """Each top-level alternative needs one of its literal runs (any one will do); a pattern
    that is one group of alternatives (``^(?:a|b)``) is read inside the group."""
    m = re.match(r"^\(\?([a-zA-Z]+)\)", pattern)
    if m:
        if set(m.group(1)) - {"i"}:
            return None
        pattern = pattern[m.end() :]
    inner = _one_group(pattern)
    alts: list[Req] = []
    for alt in split_alternatives(inner if inner is not None else pattern):
        options: list[Req] = [("w", frozenset({r.lower()})) for r in (literal_runs(alt) or []) if len(r) >= MIN_LITERAL]
        options += [r for r in map(regex_requirement, _groups(alt)) if r is not None]
        if not options:
            return None
        alts.append(("and", tuple(options)))
    return ("or", tuple(alts)) if alts else None


def _groups(pattern: str) -> list[str]:
    """The insides of the top-level groups every match of ``pattern`` goes through
    (``(?:a|b)``, not ``(?:a|b)?``; none when ``pattern`` has a top-level ``|``)."""
    out: list[str] = []
    depth, start, i, n = 0, 0, 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if c == "[":
            i = _class_end(pattern, i) + 1
            continue
        if c == "(":
            depth += 1
            start = i + 1 if depth == 1 else start
        elif c == ")" and depth:
            depth -= 1
            optional = i + 1 < n and pattern[i + 1] in "?*{"
            inner = pattern[start:i]
            if depth == 0 and not optional and not inner.startswith(("?=", "?!", "?<=", "?<!")):
                out.append(inner[2:] if inner.startswith("?:") else inner if not inner.startswith("?") else "")
        elif c == "|" and depth == 0:
            return []
        i += 1
    return [g for g in out if g]


def _one_group(pattern: str) -> str | None:
    """The inside of ``^(?:...)`` / ``(?:...)`` when that group is the whole pattern."""
    m = re.fullmatch(r"\^?\(\?:(.*)\)", pattern, re.S)
    if not m:
        return None
    depth = 0
    for c in m.group(1):  # "(?:a)|(?:b)" is two groups, not one
        depth += c == "("
        depth -= c == ")"
        if depth < 0:
            return None
    return m.group(1)


def _field_words(p: Predicate, source: str) -> frozenset[str] | None:
    vals = p.value if isinstance(p.value, tuple) else (p.value,)
    if not all(isinstance(v, str) for v in vals) or p.value is None:
        return None
    if p.field == "level" and p.op in ("==", "in") and vals and set(vals) <= TEXT_LEVELS.get(source, frozenset()):
        return frozenset(v.lower() for v in vals)
    text_op = p.op in ("==", "in", "contains", "icontains", "startswith", "endswith")
    if p.field in TEXT_FIELDS.get(source, ()) and text_op and vals and all(len(v) >= MIN_LITERAL for v in vals):
        return frozenset(v.lower() for v in vals)
    return None
