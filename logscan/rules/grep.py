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
from .prefilter import MIN_LITERAL
from .requirements import regex_requirement, requirement

#: Problem-level words, and the usual companions of a failure.
PROBLEM_WORDS = ("error", "warn", "critical", "traceback", "exception")
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
    code = [here / "grep.py", here / "requirements.py", here / "prefilter.py", here / "compiler.py", *sorted((here.parent / "sources").glob("*grep*.py")),
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



__all__ = ["PROBLEM_WORDS", "grep_plan", "regex_requirement", "requirement"]
