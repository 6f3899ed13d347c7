"""From frames to ranked causes with evidence.

Inputs are frames only (events, facts, ingest errors, coverage) plus the signature set and the
knowledge base; nothing here reads a file. The steps:

1. **Hits.** Every signature is evaluated over the events in one pass
   (:func:`logscan.signatures.evaluate`); facts-based checks (:mod:`logscan.checks`) add hits
   of the same shape. A hit supports one or more cause ids with a weight (the signature's
   specificity, from its level).
2. **Strength per signature.** A signature's strength for a cause is its weight, scaled by
   how close its newest hit is to the reference time (``--at``, else the latest failure in the
   bundle: old history counts less) and a small bonus for repeated hits.
3. **Score per cause** is a noisy-OR over its signatures' strengths, ``1 - Π(1 - s)``:
   independent signatures (often from different sources) that agree raise the score, one
   signature repeated many times does not.
4. **Ranking.** Causes sort by score; a specific cause beats its umbrella
   (``dhcp-disabled`` over ``snapshot-status-unavailable``). With ``--error-code`` only that
   code's candidate causes are ranked (others are kept aside as ``other_findings``), in the
   article's order when scores tie, and the candidates the guest cannot show are listed as
   "check in the portal", never as confirmed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import polars as pl

from ..knowledge import load_knowledge
from ..rules.checks import HIT_SCHEMA, conf_notes, run_checks
from ..rules.correlate import correlate
from ..rules.signatures import evaluate, load_signatures
from ..sources.ingest import LoadedBundle

MAX_EVIDENCE = 8
EVIDENCE_TEXT_MAX = 2000
#: Half-life of evidence age, measured back from the reference time.
AGE_HALF_LIFE = timedelta(days=3)
#: Evidence this long *after* --at cannot have caused that failure.
AFTER_AT_GRACE = timedelta(hours=1)


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

    def as_dict(self) -> dict:
        return {
            "cause": self.cause,
            "title": self.title,
            "score": round(self.score, 3),
            "error_codes": self.error_codes,
            "evidence": [e.as_dict() for e in self.evidence],
            "remediation": self.remediation,
            "doc": self.doc,
            "status": self.status,
            "summary": self.summary,
            "signatures": self.signatures,
            "sources": self.sources,
            "hits": self.hits,
            "guest_visible": self.guest_visible,
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
    other_findings: list[Finding] = field(default_factory=list)
    not_found: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: Event counts per time bucket x source x level plus the evidence points, for the HTML
    #: report's chart (see :func:`timeline_summary`); not part of the JSON contract.
    timeline: pl.DataFrame | None = None
    #: Every signature/check hit behind the findings (not part of the JSON); batch uses it to
    #: tell explained error lines from unexplained ones without a second signature pass.
    hits: pl.DataFrame | None = None

    @property
    def healthy(self) -> bool:
        return not any(f.status == "evidence" for f in self.findings + self.other_findings)

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
            "ingest_errors": self.ingest_errors,
            "coverage": self.coverage,
            "facts": self.facts_summary,
        }


def verdict(r: VmReport) -> str:
    """One sentence for the top of a report."""
    confirmed = [f for f in r.findings if f.status == "evidence"]
    if confirmed:
        top = confirmed[0]
        return f"Most likely cause: {top.title} ({top.cause}), score {top.score:.2f}."
    if r.error_code and r.findings:
        return (
            f"No guest evidence for the causes of {r.error_code}; "
            f"check in the portal: {', '.join(f.cause for f in r.findings)}."
        )
    return "No known cause found in this bundle (see coverage for what was checked)."


def hits_for(bundle: LoadedBundle, at: datetime | None = None, signatures=None) -> pl.DataFrame:
    """All signature and check hits, one row per (hit, cause) with weights."""
    sigs = signatures if signatures is not None else load_signatures()
    meta = pl.DataFrame(
        {
            "signature": [s.id for s in sigs],
            "cause": [list(s.causes) for s in sigs],
            "weight": [float(s.weight) for s in sigs],
        },
        schema={"signature": pl.String, "cause": pl.List(pl.String), "weight": pl.Float64},
    )
    raw = evaluate(sigs, bundle.events)
    if raw.height:
        sig_hits = raw.join(meta, on="signature", how="inner").explode("cause").with_columns(note=pl.lit(None, pl.String))
        sig_hits = sig_hits.select(list(HIT_SCHEMA)).cast(HIT_SCHEMA)  # type: ignore[arg-type]
    else:
        sig_hits = pl.DataFrame(schema=HIT_SCHEMA)
    chk = run_checks(bundle, at)
    return correlate(pl.concat([sig_hits, chk], how="vertical"), bundle.events)


def reference_time(hits: pl.DataFrame, events: pl.DataFrame, at: datetime | None) -> datetime | None:
    """``--at`` when given; else the newest strong hit; else the newest event."""
    if at is not None:
        return at
    strong = hits.filter((pl.col("weight") >= 0.5) & pl.col("time").is_not_null())
    if strong.height:
        return strong["time"].max()
    if events.height and events["time"].null_count() < events.height:
        return events["time"].max()
    return None


def _time_factor(t: datetime | None, ref: datetime | None, at_given: bool) -> float:
    if t is None or ref is None:
        return 0.8
    delta = ref - t
    if delta < -AFTER_AT_GRACE:
        return 0.35 if at_given else 1.0
    age = max(delta, timedelta(0))
    return max(0.15, 0.5 ** (age / AGE_HALF_LIFE))


def diagnose(
    bundle: LoadedBundle,
    *,
    error_code: str | None = None,
    at: datetime | None = None,
    signatures=None,
) -> VmReport:
    """Rank the causes the bundle supports. See the module docstring for the method."""
    kb = load_knowledge()
    code = kb.code(error_code) if error_code else None
    if error_code and code is None:
        raise LookupError(f"unknown error code {error_code!r} (see `logscan explain`)")
    hits = hits_for(bundle, at, signatures)
    ref = reference_time(hits, bundle.events, at)
    findings = _score(hits, ref, at is not None, kb)

    other: list[Finding] = []
    not_found: list[str] = []
    if code is not None:
        order = {c: i for i, c in enumerate(code.candidates)}
        keep = [f for f in findings if f.cause in order]
        other = [f for f in findings if f.cause not in order]
        keep.sort(key=lambda f: (-round(f.score, 3), order[f.cause]))
        shown = {f.cause for f in keep}
        for cid in code.candidates:
            if cid in shown:
                continue
            cause = kb.causes[cid]
            if not cause.guest_visible:
                keep.append(_portal_finding(cause))
            else:
                not_found.append(cid)
        findings = keep
    vm_report = VmReport(
        vm=bundle.vm,
        bundle=bundle.name,
        path=bundle.path,
        identity=bundle.identity,
        findings=findings,
        ingest_errors=bundle.ingest_errors.to_dicts(),
        coverage={**bundle.coverage, "signatures": len(signatures if signatures is not None else load_signatures())},
        facts_summary=facts_summary(bundle.facts),
        error_code=code.code if code else None,
        at=at,
        reference_time=ref,
        other_findings=other,
        not_found=not_found,
        notes=conf_notes(bundle.facts),
        timeline=timeline_summary(bundle.events, findings + other, ref),
        hits=hits,
    )
    return vm_report


#: Row cap of :func:`timeline_summary` (small enough for batch to carry per VM).
TIMELINE_MAX_ROWS = 2000
#: Bucket widths tried in order until the counts fit the row cap and ~120 buckets.
_BUCKETS = ("1m", "5m", "15m", "30m", "1h", "3h", "6h", "12h", "1d", "7d", "30d")
_BUCKET_SECONDS = {"m": 60, "h": 3600, "d": 86400}
TIMELINE_SCHEMA: dict[str, pl.DataType] = {
    "kind": pl.String(),  # "count" (a bucket) or "evidence" (one evidence line)
    "time": pl.Datetime("us", "UTC"),  # bucket start, or the evidence line's time
    "bucket": pl.String(),  # bucket width (polars duration string)
    "source": pl.String(),
    "level": pl.String(),  # normalised level, "OTHER" when the record has none
    "count": pl.Int64(),
    "cause": pl.String(),  # evidence rows: the cause it supports
    "label": pl.String(),  # evidence rows: file:line
}


def timeline_summary(events: pl.DataFrame, findings: list[Finding], ref: datetime | None) -> pl.DataFrame:
    """Event counts per time bucket x source x level around the failure, plus evidence points.

    Reports must not read the events frame (it can be millions of rows, and batch never ships
    it out of a worker), so the chart's data is aggregated here: a window of a day before to
    two hours after the reference time, widened to the evidence shown (at most 30 days back),
    cut into the finest bucket that keeps the frame under :data:`TIMELINE_MAX_ROWS` rows.
    """
    timed = events.filter(pl.col("time").is_not_null()) if events.height else events
    ev_times = [e.time for f in findings for e in f.evidence if e.time is not None]
    if not timed.height and not ev_times:
        return pl.DataFrame(schema=TIMELINE_SCHEMA)
    if ref is not None:
        lo, hi = ref - timedelta(days=1), ref + timedelta(hours=2)
        if ev_times:
            lo = max(min(lo, min(ev_times)), ref - timedelta(days=30))
            hi = max(hi, min(max(ev_times), ref + timedelta(days=1)))
    else:
        lo = min([timed["time"].min(), *ev_times] if timed.height else ev_times)
        hi = max([timed["time"].max(), *ev_times] if timed.height else ev_times)
    win = timed.filter(pl.col("time").is_between(lo, hi)) if timed.height else timed
    span = max((hi - lo).total_seconds(), 60.0)
    fits = [w for w in _BUCKETS if span / (int(w[:-1]) * _BUCKET_SECONDS[w[-1]]) <= 120] or [_BUCKETS[-1]]
    for width in fits:
        counts = (
            win.group_by(pl.col("time").dt.truncate(width), pl.col("source").fill_null("?"), pl.col("level").fill_null("OTHER"))
            .agg(count=pl.len().cast(pl.Int64))
            .sort("time", "source", "level")
            .with_columns(kind=pl.lit("count"), bucket=pl.lit(width))
        )
        if counts.height <= TIMELINE_MAX_ROWS:
            break
    counts = counts.head(TIMELINE_MAX_ROWS)
    marks = [
        {
            "kind": "evidence",
            "time": e.time,
            "source": e.source,
            "cause": f.cause,
            "label": f"{e.file}:{e.line}" if e.file else (e.signature or f.cause),
        }
        for f in findings
        for e in f.evidence
        if e.time is not None
    ]
    ev_frame = pl.DataFrame(marks, schema={k: TIMELINE_SCHEMA[k] for k in ("kind", "time", "source", "cause", "label")})
    return pl.concat([pl.DataFrame(schema=TIMELINE_SCHEMA), counts, ev_frame], how="diagonal_relaxed").cast(TIMELINE_SCHEMA)  # type: ignore[arg-type]


def _portal_finding(cause) -> Finding:
    return Finding(
        cause=cause.id,
        title=cause.title,
        score=0.0,
        error_codes=list(cause.error_codes),
        evidence=[],
        remediation=cause.remediation,
        doc=cause.doc,
        status="check-in-portal",
        summary=cause.summary,
        guest_visible=False,
    )


def _score(hits: pl.DataFrame, ref: datetime | None, at_given: bool, kb) -> list[Finding]:
    if not hits.height:
        return []
    hits = hits.filter(pl.col("cause").is_in(list(kb.causes)))
    findings: list[Finding] = []
    for (cause_id,), grp in hits.group_by(["cause"], maintain_order=True):
        strengths = []
        for (_sig,), sg in grp.group_by(["signature"], maintain_order=True):
            w = sg["weight"].max()
            if not w:
                continue
            times = [t for t in sg["time"].to_list() if t is not None]
            best_t = min(times, key=lambda t: abs((ref - t).total_seconds())) if (times and ref) else (max(times) if times else None)
            bonus = 1 + 0.05 * min(math.log2(sg.height), 4)
            strengths.append(min(0.97, w * _time_factor(best_t, ref, at_given) * bonus))
        if not strengths:
            continue
        score = 1 - math.prod(1 - s for s in strengths)
        cause = kb.causes[cause_id]
        findings.append(
            Finding(
                cause=cause_id,
                title=cause.title,
                score=score,
                error_codes=list(cause.error_codes),
                evidence=_evidence(grp, ref),
                remediation=cause.remediation,
                doc=cause.doc,
                summary=cause.summary,
                signatures=sorted(set(grp["signature"].to_list())),
                sources=sorted({s for s in grp["source"].to_list() if s and s != "check"}),
                hits=grp.filter(pl.col("weight") > 0).select(pl.struct("file", "line")).n_unique(),
                guest_visible=cause.guest_visible,
            )
        )
    # A specific cause outranks its umbrella when both have evidence.
    present = {f.cause for f in findings}
    for f in findings:
        children = [c for c in kb.causes.values() if c.parent == f.cause and c.id in present]
        if children:
            f.score *= 0.9
    findings.sort(key=lambda f: -f.score)
    return findings


def _evidence(grp: pl.DataFrame, ref: datetime | None) -> list[Evidence]:
    """The best evidence rows: strongest signatures first, then nearest the reference time."""
    df = grp.unique(subset=["file", "line", "text"], keep="first", maintain_order=True)
    if ref is not None:
        df = df.with_columns(
            _d=(pl.col("time") - pl.lit(ref)).dt.total_seconds().abs().fill_null(1e12)
        )
    else:
        df = df.with_columns(_d=pl.lit(0.0))
    # One line per signature first (the strongest, nearest), then more of the same: a few
    # repeats of one line must not crowd out a second, independent kind of evidence.
    df = df.sort(["weight", "_d"], descending=[True, False]).with_columns(
        _k=pl.int_range(pl.len()).over("signature")
    )
    df = df.sort(["_k", "weight", "_d"], descending=[False, True, False]).head(MAX_EVIDENCE)
    df = df.with_columns(_rank=pl.int_range(1, pl.len() + 1))
    # Show the chosen lines in time order: that is how an engineer reads them.
    df = df.sort(["time", "file", "line"], nulls_last=True)
    out = []
    for r in df.iter_rows(named=True):
        text = r["text"] or ""
        if len(text) > EVIDENCE_TEXT_MAX:
            text = text[:EVIDENCE_TEXT_MAX] + " …"
        out.append(
            Evidence(r["file"], r["line"], r["time"], text, r["source"], r["signature"], r["_rank"], r.get("note"))
        )
    return out


def facts_summary(facts: pl.DataFrame) -> dict:
    """Agent version(s), OS, extensions with version/state/status: the 'what is this VM' box."""
    if not facts.height:
        return {}
    latest = facts.sort("time", nulls_last=False).group_by(["subject", "key"], maintain_order=True).last()
    out: dict = {"agent": {}, "os": {}, "extensions": {}, "conf": {}}
    for subject, key, value in latest.select("subject", "key", "value").iter_rows():
        if subject == "agent":
            out["agent"][key] = value
        elif subject == "os":
            out["os"][key] = value
        elif subject == "conf" and key in (
            "Extensions.Enabled",
            "Extensions.Enable",
            "Provisioning.Agent",
            "AutoUpdate.Enabled",
            "AutoUpdate.UpdateToLatestVersion",
            "OS.EnableFirewall",
            "HttpProxy.Host",
            "HttpProxy.Port",
            "Logs.Verbose",
        ):
            out["conf"][key] = value
        elif subject.startswith("extension:"):
            out["extensions"].setdefault(subject[len("extension:") :], {})[key] = value
    versions = facts.filter((pl.col("subject") == "agent") & pl.col("key").str.ends_with("version"))
    out["agent"]["versions_seen"] = sorted(set(versions["value"].to_list()))
    return out
