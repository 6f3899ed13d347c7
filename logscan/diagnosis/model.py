"""The report model: what a diagnosis says about one VM, independent of any output format.

Reports read only these objects (and their ``as_dict()``, the JSON contract); nothing here
reads a file or a frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import polars as pl

#: Confidence grades, strongest first. ``confirmed``: a decisive line or fact; ``likely``:
#: strong but indirect; ``possible``: a lead worth a look (an ERROR from a component, one
#: failed call).
CONFIDENCE = ("confirmed", "likely", "possible")
STRONG = frozenset(CONFIDENCE[:2])


def confidence_rank(c: str | None) -> int:
    """0 for confirmed … 2 for possible; unknown sorts last."""
    return CONFIDENCE.index(c) if c in CONFIDENCE else len(CONFIDENCE)


@dataclass
class Evidence:
    file: str | None
    line: int | None
    time: datetime | None
    text: str
    source: str | None = None
    signature: str | None = None
    rank: int = 0  # 1 = the most telling line (strong, distinct signature, near the failure)
    note: str | None = None  # what a check concluded from this line, if any

    def as_dict(self) -> dict:
        return {
            "file": self.file,
            "line": self.line,
            "time": self.time.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if self.time else None,
            "text": self.text,
            "source": self.source,
            "signature": self.signature,
            "rank": self.rank,
            "note": self.note,
        }


@dataclass
class Finding:
    cause: str
    title: str
    score: float
    error_codes: list[str]
    evidence: list[Evidence]
    remediation: str
    doc: str
    status: str = "evidence"  # evidence | check-in-portal
    summary: str = ""
    signatures: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    hits: int = 0
    guest_visible: bool = True
    confidence: str = "possible"  # confirmed | likely | possible (see CONFIDENCE)
    #: With --error-code: True when the cause is among the code's documented causes, False when
    #: it is ranked although outside them; None without --error-code.
    in_error_code: bool | None = None
    #: Structured fix steps for the VM's platform/distro (dicts: text, command, platform,
    #: source, heuristic, why); ``remediation`` is the same as one text.
    fix: list[dict] = field(default_factory=list)

    @property
    def strong(self) -> bool:
        return self.status == "evidence" and self.confidence in STRONG

    def as_dict(self) -> dict:
        return {
            "cause": self.cause,
            "title": self.title,
            "score": round(self.score, 3),
            "confidence": self.confidence,
            "error_codes": self.error_codes,
            "evidence": [e.as_dict() for e in self.evidence],
            "remediation": self.remediation,
            "fix_steps": self.fix,
            "doc": self.doc,
            "status": self.status,
            "summary": self.summary,
            "signatures": self.signatures,
            "sources": self.sources,
            "hits": self.hits,
            "guest_visible": self.guest_visible,
            "in_error_code": self.in_error_code,
        }


@dataclass
class VmReport:
    vm: str
    bundle: str
    path: str
    identity: dict
    findings: list[Finding]
    ingest_errors: list[dict]
    coverage: dict
    facts_summary: dict
    error_code: str | None = None
    at: datetime | None = None
    reference_time: datetime | None = None
    #: With --error-code: the findings outside the code's documented causes (they are also in
    #: ``findings``, ranked below the code's own causes of the same confidence).
    other_findings: list[Finding] = field(default_factory=list)
    not_found: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: ERROR/WARNING lines no signature or check explained (known-benign ones left out),
    #: grouped into templates: dicts of template, count, levels, first (file:line), sample.
    unexplained: list[dict] = field(default_factory=list)
    #: Event counts per time bucket x source x level plus the evidence points, for the HTML
    #: report's chart (see :func:`logscan.diagnosis.chart.timeline_summary`); not in the JSON.
    timeline: pl.DataFrame | None = None
    #: Every signature/check hit behind the findings (not part of the JSON); batch uses it to
    #: tell explained error lines from unexplained ones without a second signature pass.
    hits: pl.DataFrame | None = None

    @property
    def healthy(self) -> bool:
        """No confirmed or likely cause: ``possible`` leads alone do not make a VM faulty."""
        return not any(f.strong for f in self.findings)

    def as_dict(self) -> dict:
        iso = lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ") if d else None  # noqa: E731
        return {
            "vm": self.vm,
            "bundle": self.bundle,
            "path": self.path,
            "identity": self.identity,
            "healthy": self.healthy,
            "verdict": verdict(self),
            "error_code": self.error_code,
            "at": iso(self.at),
            "reference_time": iso(self.reference_time),
            "findings": [f.as_dict() for f in self.findings],
            "other_findings": [f.as_dict() for f in self.other_findings],
            "not_found": self.not_found,
            "notes": self.notes,
            "unexplained": self.unexplained,
            "ingest_errors": self.ingest_errors,
            "coverage": self.coverage,
            "facts": self.facts_summary,
        }


def verdict(r: VmReport) -> str:
    """One sentence for the top of a report."""
    with_evidence = [f for f in r.findings if f.status == "evidence"]
    if with_evidence:
        top = with_evidence[0]
        if top.confidence in STRONG:
            return f"Most likely cause: {top.title} ({top.cause}), {top.confidence}, score {top.score:.2f}."
        return (
            f"No clear cause; a lead worth a look: {top.title} ({top.cause}), possible, "
            f"score {top.score:.2f}."
        )
    if r.error_code and r.findings:
        return (
            f"No guest evidence for the causes of {r.error_code}; "
            f"check in the portal: {', '.join(f.cause for f in r.findings)}."
        )
    if r.unexplained:
        return (
            "No known cause found; the bundle has unexplained error/warning lines "
            "(see below and coverage for what was checked)."
        )
    return "No known cause found in this bundle (see coverage for what was checked)."
