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

import functools
import re
from pathlib import Path

from .. import content
from ..facts.agent import _LOG_VERSION
from ..io import cache as disk
from ..knowledge import load_knowledge
from ..sources import registry
from ..sources.grep import Grep, Req
from ..sources.waagent_log import FACT_LINES
from . import validate
from .checks import load_checks
from .compiler import rx_escape
from .language import And, Or, Predicate, Regex
from .prefilter import MIN_LITERAL, _class_end, _predicate, literal_runs, split_alternatives

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
    if signatures is None:
        return dict(_default_plan())
    return _plan(list(signatures))


@functools.cache
def _default_plan() -> tuple[tuple[str, Grep], ...]:
    """The shipped signatures' plan, made once per process (batch scans many bundles) and
    kept in the startup cache: making it reads every regex of every signature (~0.1 s)."""
    from . import loader
    from .checks import check_files, checks_dir
    from .signatures import load_signatures

    here = Path(__file__).parent
    code = [here / "grep.py", here / "prefilter.py", here / "compiler.py", *sorted((here.parent / "sources").glob("*grep*.py")),
            here.parent / "sources" / "waagent_log.py", here.parent / "facts" / "agent.py"]
    knowledge = sorted(Path(str(content.path("knowledge"))).glob("*.yaml"))
    inputs = [loader.content_key(loader.signature_files(None)), *check_files(checks_dir()), *knowledge, *code, "\0".join(validate.source_names())]
    return disk.cached(
        "grep-plan",
        disk.content_key("grep-plan", inputs),
        lambda: tuple(_plan(load_signatures()).items()),
        lambda plan: [[name, [_encode_req(r) for r in g.needs], g.aside] for name, g in plan],
        lambda doc: tuple((name, Grep(tuple(_decode_req(r) for r in needs), aside)) for name, needs, aside in doc),
    )


def _encode_req(req: Req) -> list:
    kind, body = req
    return [kind, sorted(body)] if kind == "w" else [kind, [_encode_req(r) for r in body]]


def _decode_req(doc: list) -> Req:
    kind, body = doc
    if kind == "w":
        return ("w", frozenset(str(w) for w in body))
    if kind not in ("and", "or"):
        raise ValueError(f"not a grep requirement: {kind!r}")
    return (kind, tuple(_decode_req(r) for r in body))


def _plan(sigs: list) -> dict[str, Grep]:
    codes = tuple(load_knowledge().codes)
    plans: dict[str, Grep] = {}
    for spec in registry():
        if spec.parse_grep is None:
            continue
        needs = _needs(spec.name, sigs, codes)
        aside = _aside(spec.name)
        if needs is None or aside is None:
            continue
        if aside:
            needs.append(("w", frozenset(aside)))
        plans[spec.name] = Grep(tuple(needs), "(?i)" + "|".join(rx_escape(w) for w in sorted(aside)) if aside else None)
    return plans


def _needs(source: str, sigs: list, codes: tuple[str, ...]) -> list[Req] | None:
    needs: list[Req] = [("w", frozenset({*PROBLEM_WORDS, *(c.lower() for c in codes)}))]
    for rx in FACT_REGEXES.get(source, ()):
        found = regex_requirement(rx)
        if found is None:
            return None
        needs.append(found)
    for s in sigs:
        if s.sources and source not in s.sources:
            continue
        for part in s.parts:
            found = requirement(part, source)
            if found is None:
                return None
            needs.append(found)
    return needs


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


__all__ = ["PROBLEM_WORDS", "grep_plan", "regex_requirement", "requirement"]
