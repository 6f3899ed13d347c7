"""From hits to scored causes: strength per signature, noisy-OR per cause, a confidence grade.

1. A signature's **strength** for a cause is its weight (from its level, or a check's own
   weight), scaled by how close its hit nearest the reference time is (``--at``, else the
   latest strong hit: old history counts less) and a small bonus for repeats.
2. A cause's **score** is a noisy-OR over its signatures, ``1 - Π(1 - s)``: independent
   signatures that agree raise it, one signature repeated many times does not.
3. Its **confidence** comes from the best single piece of evidence, not the sum: a decisive
   line or fact (weight ≥ 0.95) is ``confirmed``, a strong indirect one (≥ 0.5) ``likely``,
   anything weaker ``possible``; evidence far from the failure (time factor < 0.5) drops one
   grade, and two independent ``likely`` signatures from different sources make ``confirmed``.
4. A specific cause outranks its umbrella (``dhcp-disabled`` over
   ``snapshot-status-unavailable``).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import polars as pl

from ..errors import LogscanError
from .model import CONFIDENCE, Finding

#: Half-life of evidence age, measured back from the reference time.
AGE_HALF_LIFE = timedelta(days=3)
#: Evidence this long *after* --at cannot have caused that failure.
AFTER_AT_GRACE = timedelta(hours=1)
#: Weight at or above which one hit is decisive / strong (see the module docstring).
CONFIRMED_WEIGHT = 0.95
LIKELY_WEIGHT = 0.5
#: A hit whose time factor is below this (old, or after --at) counts one grade lower.
STALE_FACTOR = 0.5


def reference_time(hits: pl.DataFrame, events: pl.DataFrame, at: datetime | None) -> datetime | None:
    """``--at`` when given; else the newest strong hit; else the newest event."""
    if at is not None:
        return at
    strong = hits.filter((pl.col("weight") >= LIKELY_WEIGHT) & pl.col("time").is_not_null())
    if strong.height:
        return strong["time"].max()
    if events.height and events["time"].null_count() < events.height:
        return events["time"].max()
    return None


def time_factor(t: datetime | None, ref: datetime | None, at_given: bool) -> float:
    """1 at the reference time, halving every :data:`AGE_HALF_LIFE` before it (floor 0.15);
    0.35 for evidence well after a given ``--at``; 0.8 when either time is unknown."""
    if t is None or ref is None:
        return 0.8
    delta = ref - t
    if delta < -AFTER_AT_GRACE:
        return 0.35 if at_given else 1.0
    age = max(delta, timedelta(0))
    return max(0.15, 0.5 ** (age / AGE_HALF_LIFE))


def grade(weight: float, factor: float) -> str:
    """The confidence one hit gives on its own."""
    level = 0 if weight >= CONFIRMED_WEIGHT else 1 if weight >= LIKELY_WEIGHT else 2
    if factor < STALE_FACTOR:
        level = min(level + 1, 2)
    return CONFIDENCE[level]


def _nearest(times: pl.Series, ref: datetime | None) -> datetime | None:
    """The time closest to ``ref`` (the first of equals), else the latest."""
    times = times.drop_nulls()
    if not len(times):
        return None
    if ref is None:
        return times.max()
    return times[int((times - ref).abs().arg_min())]


def cause_confidence(grades: list[tuple[str, str | None]]) -> str:
    """Best grade among a cause's signatures; two ``likely`` ones from different sources
    (independent evidence) make ``confirmed``."""
    best = min((CONFIDENCE.index(g) for g, _ in grades), default=2)
    if best == 1:
        sources = {src for g, src in grades if g == "likely"}
        if len(sources) >= 2:
            best = 0
    return CONFIDENCE[best]


def score_causes(hits: pl.DataFrame, ref: datetime | None, at_given: bool, kb) -> list[Finding]:
    """One :class:`Finding` per cause with a positive score, without evidence lines yet."""
    if not hits.height:
        return []
    unknown = sorted(set(hits["cause"].drop_nulls().to_list()) - set(kb.causes))
    if unknown:
        # Signature and check files are validated against the knowledge base when they load;
        # reaching this means a rule bypassed validation, which must not pass silently.
        raise LogscanError(f"hits name unknown cause id(s): {', '.join(unknown)}")
    findings: list[Finding] = []
    for (cause_id,), grp in hits.group_by(["cause"], maintain_order=True):
        strengths: list[float] = []
        grades: list[tuple[str, str | None]] = []
        for (_sig,), sg in grp.group_by(["signature"], maintain_order=True):
            w = sg["weight"].max()
            if not w:
                continue
            best_t = _nearest(sg["time"], ref)
            factor = time_factor(best_t, ref, at_given)
            bonus = 1 + 0.05 * min(math.log2(sg.height), 4)
            strengths.append(min(0.97, w * factor * bonus))
            src = next((s for s in sg["source"].to_list() if s), None)
            grades.append((grade(w, factor), src))
        if not strengths:
            continue
        cause = kb.causes[cause_id]
        findings.append(
            Finding(
                cause=cause_id,
                title=cause.title,
                score=1 - math.prod(1 - s for s in strengths),
                error_codes=list(cause.error_codes),
                evidence=[],
                remediation=cause.remediation,
                doc=cause.doc,
                summary=cause.summary,
                signatures=sorted(set(grp["signature"].to_list())),
                sources=sorted({s for s in grp["source"].to_list() if s and s != "check"}),
                hits=grp.filter(pl.col("weight") > 0).select(pl.struct("file", "line")).n_unique(),
                guest_visible=cause.guest_visible,
                confidence=cause_confidence(grades),
            )
        )
    present = {f.cause for f in findings}
    for f in findings:
        if any(c.parent == f.cause and c.id in present for c in kb.causes.values()):
            f.score *= 0.9
    findings.sort(key=lambda f: -f.score)  # ranks stay by score; confidence is shown beside
    return findings


#: Score factor for a finding whose every line another cause explains more specifically.
SUBSUMED_FACTOR = 0.8


def demote_subsumed(findings: list[Finding], hits: pl.DataFrame) -> list[Finding]:
    """A specific cause outranks a generic one on the same lines.

    When every line behind finding F is also behind another finding G, and on each of those
    lines G's signature weighs at least as much as F's, F says nothing G does not: its score
    drops by :data:`SUBSUMED_FACTOR`. Two causes resting on exactly the same lines demote each
    other, so a cause with evidence of its own ("python: No such file or directory") ranks
    above both ("Non-zero exit code: 127" read as "an extension failed" and as "exit 127").
    F stays in the report. Lines are the (file, line) of positive-weight hits.
    """
    if len(findings) < 2 or not hits.height:
        return findings
    per = (
        hits.filter((pl.col("weight") > 0) & pl.col("file").is_not_null())
        .group_by("cause", "file", "line")
        .agg(w=pl.col("weight").max())
    )
    present = {f.cause for f in findings}
    per = per.filter(pl.col("cause").is_in(list(present)))
    mine = per.rename({"cause": "c1", "w": "w1"})
    other = per.rename({"cause": "c2", "w": "w2"})
    pairs = mine.join(other, on=["file", "line"]).filter((pl.col("c1") != pl.col("c2")) & (pl.col("w2") >= pl.col("w1")))
    covered = pairs.group_by("c1").agg(pl.struct("file", "line").n_unique().alias("n"))
    total = per.group_by("cause").agg(pl.struct("file", "line").n_unique().alias("n"))
    subsumed = set(
        covered.join(total, left_on="c1", right_on="cause").filter(pl.col("n") == pl.col("n_right"))["c1"].to_list()
    )
    for f in findings:
        if f.cause in subsumed:
            f.score *= SUBSUMED_FACTOR
    findings.sort(key=lambda f: -f.score)
    return findings
