"""Grep first: parse only the records of a big log that a scan can use.

``scan`` needs few of a big agent log's records: those holding a word some signature, fact,
error-code or problem level needs (the plan is made by :mod:`logscan.rules.grep` and handed
down as plain data, so this layer never imports the rules). One case-insensitive alternation
runs over the raw lines; whole records (a header and its continuation lines) around the
matching lines are kept and parsed by the normal parser, at their original line numbers.

What the scan also reads from records no word selects is kept too, so the result equals a
full parse: each file's first record, the records at its earliest and latest time (the
bundle's span, the reference time, the silence check's "last line" among the records the
check does not set aside), and for a kept record without a time of its own, the record whose
time it inherits. The number of records the full parse would give is returned for coverage.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class Grep:
    """A source's grep plan: ``pattern`` (a regex alternation) selects records; records
    matching ``aside`` (a regex) may be set aside by a check, so the latest of the others is
    kept as well (that check reads it)."""

    pattern: str
    aside: str | None = None


def select_records(lines: pl.DataFrame, plan: Grep) -> tuple[pl.DataFrame, int]:
    """The lines (``idx``, ``raw``) of the records to parse, and the file's record count.

    ``lines`` has ``idx``, ``raw``, ``is_header`` and ``time`` (the header's own time, null
    on other lines), as cheaply computed by the source.
    """
    df = lines.with_columns(
        _rec=pl.col("is_header").fill_null(False).cum_sum(),
        _hit=pl.col("raw").str.contains(plan.pattern),
        _aside=pl.col("raw").str.contains(plan.aside) if plan.aside else pl.lit(False),
    )
    recs = df.group_by("_rec", maintain_order=True).agg(
        _time=pl.col("time").first(), _hit=pl.col("_hit").any(), _aside=pl.col("_aside").any()
    )
    eff = pl.col("_time").forward_fill().backward_fill()
    recs = recs.with_columns(_eff=eff)
    own = pl.col("_eff").filter(~pl.col("_aside"))
    keep = (
        pl.col("_hit")
        | (pl.int_range(pl.len()) == 0)
        | (pl.col("_eff") == pl.col("_eff").max()).fill_null(False)
        | (pl.col("_eff") == pl.col("_eff").min()).fill_null(False)
        | (~pl.col("_aside") & (pl.col("_eff") == own.max())).fill_null(False)
    )
    recs = recs.with_columns(
        _keep=keep, _src=pl.when(pl.col("_time").is_not_null()).then(pl.col("_rec")).forward_fill().backward_fill()
    )
    inherit = recs.filter(pl.col("_keep") & pl.col("_time").is_null())["_src"].drop_nulls()
    kept = recs.filter(pl.col("_keep") | pl.col("_rec").is_in(inherit.implode()))["_rec"]
    out = df.filter(pl.col("_rec").is_in(kept.implode())).select("idx", "raw")
    return out, recs.height

