"""The grep plan of a scan (issue 13's "scan greps first"): per big log, the words a record
must hold for anything a scan reads to see it.

A record is parsed fully only if it holds one of, case-insensitively:

- for every row-level part of every signature that can read the source (scoped to it, or
  unscoped), the words of which every matching row holds one (:func:`.prefilter.required_literals`,
  widened below); both sides of a sequence, so a ``not followed_by`` keeps its closing rows;
- the problem levels (``unexplained`` reads every ERROR/WARNING/CRITICAL record);
- the words of the facts read from log lines (the agent's banners and heartbeats, the version
  in 2.2-era prefixes) and the backup error-code names (``codes`` scans every event);
- the values a ``silence`` check sets aside (its last line is the last of the other records).

Records a plan cannot select by words (the span, the silence check's last line, inherited
times) are kept by :mod:`logscan.sources.grep`. A source any of whose parts needs no word
(``level == INFO``, a regex without a literal) gets no plan: it is parsed fully.
"""

from __future__ import annotations

import re

from ..facts.agent import _LOG_VERSION
from ..knowledge import load_knowledge
from ..sources import registry
from ..sources.grep import Grep
from ..sources.waagent_log import FACT_LINES
from .checks import load_checks
from .compiler import rx_escape
from .language import And, Not, Or, Predicate, Regex
from .prefilter import MIN_LITERAL, _predicate, regex_literals

#: Problem-level words, and the usual companions of a failure.
PROBLEM_WORDS = ("error", "warn", "critical", "traceback", "exception")
#: Per source: fields whose values a parser copies from the record's own text (so a value
#: test is a word test), and the levels its records state in their text.
TEXT_FIELDS = {
    "waagent_log": frozenset({"extension", "ext_version", "thread", "event_name", "event_op", "time_raw"}),
}
TEXT_LEVELS = {"waagent_log": frozenset({"ERROR", "WARNING", "VERBOSE"})}
#: Facts each source derives from lines, as regexes (their literal runs become words).
FACT_REGEXES = {"waagent_log": (*(rx for _, _, rx in FACT_LINES), _LOG_VERSION)}


def grep_plan(signatures: list | None = None) -> dict[str, Grep]:
    """Source name → :class:`Grep` for every source with a grep-first parser the plan can
    serve (see the module docstring); sources left out are parsed fully."""
    from .signatures import load_signatures

    sigs = signatures if signatures is not None else load_signatures()
    codes = tuple(load_knowledge().codes)
    plans: dict[str, Grep] = {}
    for spec in registry():
        if spec.parse_grep is None:
            continue
        words = _words(spec.name, sigs, codes)
        aside = _aside(spec.name)
        if words is None or aside is None:
            continue
        plans[spec.name] = Grep(_alternation(words | set(aside)), _alternation(set(aside)) if aside else None)
    return plans


def _words(source: str, sigs: list, codes: tuple[str, ...]) -> set[str] | None:
    words: set[str] = {*PROBLEM_WORDS, *(c.lower() for c in codes)}
    for rx in FACT_REGEXES.get(source, ()):
        found = regex_literals(rx)
        if not found:
            return None
        words |= found
    for s in sigs:
        if s.sources and source not in s.sources:
            continue
        for part in s.parts:
            found = literals(part, source)
            if not found:
                return None
            words |= found
    return words


def _aside(source: str) -> tuple[str, ...] | None:
    """Words of the records a silence check on ``source`` ignores; None when one is no word."""
    out: list[str] = []
    for c in load_checks():
        if c.kind != "silence" or c.params.get("log") != source:
            continue
        for value in (c.params.get("ignore") or {}).values():
            if not isinstance(value, str) or len(value) < MIN_LITERAL:
                return None
            out.append(value.lower())
    return tuple(out)


def _alternation(words: set[str]) -> str:
    return "(?i)" + "|".join(rx_escape(w) for w in sorted(words))


def literals(node: object, source: str) -> frozenset[str] | None:
    """Words of which every row of ``source`` satisfying ``node`` holds one in its text; None
    if unknown. :func:`.prefilter.required_literals`, also reading the fields ``source``
    copies from the text, the levels its text states, and a regex that is one group of
    alternatives."""
    if isinstance(node, Predicate):
        return _field_words(node, source) or _predicate(node) or _group_regex(node)
    if isinstance(node, And):
        options = [r for r in (literals(i, source) for i in node.items) if r]
        return min(options, key=lambda ws: (len(ws), -min(map(len, ws)))) if options else None
    if isinstance(node, Or):
        out: set[str] = set()
        for i in node.items:
            r = literals(i, source)
            if not r:
                return None
            out |= r
        return frozenset(out)
    if isinstance(node, Not):
        return None
    return None


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


def _group_regex(p: Predicate) -> frozenset[str] | None:
    """``^(?:a|b|c)`` (one group of alternatives, anchored or not): the words of each."""
    if p.op != "~" or not isinstance(p.value, Regex) or p.field not in ("message", "text"):
        return None
    m = re.fullmatch(r"\^?\(\?:(.*)\)", p.value.pattern, re.S)
    if not m or p.value.flags:
        return None
    inner = m.group(1)
    depth = 0
    for c in inner:  # the group must span the whole pattern: "(a)|(b)" is not one group
        depth += c == "("
        depth -= c == ")"
        if depth < 0:
            return None
    return regex_literals(inner)


__all__ = ["PROBLEM_WORDS", "grep_plan", "literals"]
