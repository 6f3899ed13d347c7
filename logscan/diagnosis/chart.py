"""Chart data for the HTML report: event counts per time bucket around the failure.

Reports must not read the events frame (it can be millions of rows, and batch never ships it
out of a worker), so the chart's data is aggregated here.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl

from .model import Finding

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
