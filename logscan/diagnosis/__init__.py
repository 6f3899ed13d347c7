"""From frames to ranked causes with evidence.

Inputs are frames only (a loaded bundle's events, facts and ingest errors, and the facts
layer's decisions) plus the rule set and the knowledge base; nothing here reads a file.

- :mod:`.hits`: signatures, checks and correlations → one hits frame;
- :mod:`.scoring`: hits → scored causes with a confidence grade;
- :mod:`.evidence`: the lines to show for each cause;
- :mod:`.ranking`: ``--error-code`` re-ranking (never hiding);
- :mod:`.unexplained`: problem lines nothing explained, as templates;
- :mod:`.model`: the report objects reports render; :mod:`.chart`, :mod:`.summary`: their
  chart data and "what is this VM" box.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import polars as pl

from ..facts import decide
from ..knowledge import load_knowledge, render_fix_text
from ..rules.checks import report_notes
from ..rules.signatures import load_signatures
from ..sources.ingest import LoadedBundle
from .chart import TIMELINE_SCHEMA, timeline_summary
from .codes import code_hits
from .evidence import drop_repeated_umbrellas, pick
from .hits import hits_for
from .model import CONFIDENCE, Evidence, Finding, VmReport, confidence_rank, verdict
from .ranking import apply_error_code, candidate_causes
from .scoring import demote_subsumed, reference_time, score_causes
from .summary import facts_summary
from .unexplained import unexplained_templates

#: ``--at`` this far outside the bundle's events is "not covered by the bundle".
SPAN_GRACE = timedelta(hours=1)


def _time_honesty(at: datetime | None, first: datetime | None, last: datetime | None) -> tuple[str | None, str | None]:
    """(coverage flag, note) when ``--at`` falls outside the bundle's time span."""
    if at is None or first is None or last is None:
        return None, None
    fmt = "%Y-%m-%d %H:%M UTC"
    if at > last + SPAN_GRACE:
        return "after", (
            f"The failure time {at:{fmt}} is after the bundle's last event ({last:{fmt}}): the bundle "
            "does not cover that time, so it cannot show what happened then. Collect logs again after a failure."
        )
    if at < first - SPAN_GRACE:
        return "before", (
            f"The failure time {at:{fmt}} is before the bundle's first event ({first:{fmt}}): the logs "
            "of that time have rotated away or were not collected."
        )
    return None, None


def _platform_fixes(findings: list[Finding], kb, facts) -> None:
    """Each finding's fix for the VM's platform and distribution (both platforms, or every
    distribution family that differs, when the bundle does not say)."""
    ident = facts.identity
    distro = kb.distro_key(ident.distro, ident.os_name)
    for f in findings:
        steps = kb.fix_steps(f.cause, ident.platform, distro)
        if steps:
            f.fix = [s.as_dict() for s in steps]
            f.remediation = render_fix_text(steps)


def diagnose(
    bundle: LoadedBundle,
    *,
    error_code: str | None = None,
    at: datetime | None = None,
    signatures=None,
) -> VmReport:
    """Rank the causes the bundle supports (see the package docstring for the steps)."""
    kb = load_knowledge()
    code = kb.code(error_code) if error_code else None
    if error_code and code is None:
        raise LookupError(f"unknown error code {error_code!r} (see `logscan explain`)")
    facts = decide(bundle)
    outside, note = _time_honesty(at, facts.span.first, facts.span.last)
    # Silence-based checks measure up to the failure; past the bundle's end there is nothing to
    # measure, so they look only as far as the bundle goes.
    check_at = facts.span.last if outside == "after" else at
    sigs = signatures if signatures is not None else load_signatures()
    hits = hits_for(bundle, check_at, sigs)
    named, codes_seen = code_hits(bundle.events, kb)
    if named.height:
        hits = pl.concat([hits, named], how="vertical")
    # The unexplained lines' templates (pure-Python Drain3) are mined on a second thread while
    # this one scores and picks evidence (polars, which releases the GIL): same results, less wait.
    pool = ThreadPoolExecutor(max_workers=1)
    unexplained = pool.submit(unexplained_templates, bundle.events, hits)
    pool.shutdown(wait=False)
    ref = reference_time(hits, bundle.events, at)
    findings = demote_subsumed(score_causes(hits, ref, at is not None, kb), hits)
    by_cause = {c: g for (c,), g in hits.group_by(["cause"], maintain_order=True)} if hits.height else {}
    for f in findings:
        f.evidence = pick(by_cause[f.cause], ref)
    findings = drop_repeated_umbrellas(findings, kb)
    _platform_fixes(findings, kb, facts)

    other: list[Finding] = []
    not_found: list[str] = []
    if code is not None:
        findings, other, not_found = apply_error_code(findings, code, kb)
        _platform_fixes([f for f in findings if not f.fix], kb, facts)
    notes = report_notes(bundle.facts)
    coverage = {**bundle.coverage, "signatures": len(sigs)}
    if codes_seen:
        coverage["error_codes_seen"] = codes_seen
    if outside:
        coverage["at_outside_span"] = outside
        notes = [note, *notes]
    return VmReport(
        vm=facts.identity.name,
        bundle=bundle.name,
        path=bundle.path,
        identity=facts.identity.as_dict(),
        findings=findings,
        ingest_errors=bundle.ingest_errors.to_dicts(),
        coverage=coverage,
        facts_summary=facts_summary(facts),
        error_code=code.code if code else None,
        at=at,
        reference_time=ref,
        other_findings=other,
        not_found=not_found,
        notes=notes,
        unexplained=unexplained.result(),
        timeline=timeline_summary(bundle.events, findings, ref),
        hits=hits,
    )


__all__ = [
    "CONFIDENCE",
    "TIMELINE_SCHEMA",
    "Evidence",
    "Finding",
    "VmReport",
    "candidate_causes",
    "confidence_rank",
    "diagnose",
    "facts_summary",
    "hits_for",
    "pl",
    "reference_time",
    "timeline_summary",
    "verdict",
]
