"""Temporal forms (``count``, ``followed_by``, ``not followed_by``) on the few flagged rows.

The row predicates of a temporal signature are computed with everything else in
:func:`logscan.rules.evaluate.evaluate`; these functions only order and pair the rows that
passed, with as-of joins (no Python loop over rows).
"""

from __future__ import annotations

import polars as pl

from .tree import Count, Sequence

HIT_PARTS = {"_row": pl.UInt32, "role": pl.String, "group": pl.Int64}


def _empty_parts() -> pl.DataFrame:
    return pl.DataFrame(schema=HIT_PARTS)


def _by_key(by: tuple[str, ...]) -> pl.Expr:
    """One string key for the grouping columns (nulls are a group of their own)."""
    if not by:
        return pl.lit("").alias("_by")
    parts = [pl.col(f).cast(pl.String).fill_null("\x00") for f in by]
    return (parts[0] if len(parts) == 1 else pl.concat_str(parts, separator="\x1f")).alias("_by")


def count_hits(rows: pl.DataFrame, flag: str, node: Count) -> pl.DataFrame:
    """Rows of every window that reaches ``node.minimum`` matches (``_row``, role, group).

    ``rows`` holds ``_row``, ``time``, the ``by`` columns and the boolean column ``flag``.
    With ``within D``: a row *i* ends a qualifying window when the matches in
    ``[time_i - D, time_i]`` (in time order, up to and including *i*) number at least N; every
    row inside such a window is a hit, and overlapping windows form one group. Without
    ``within``: all matches of each ``by`` group whose total reaches N, one group per ``by``.
    Rows without a time take part only in the form without ``within``.
    """
    a = rows.filter(pl.col(flag)).with_columns(_by_key(node.by))
    if node.within is None:
        groups = (
            a.group_by("_by")
            .agg(_n=pl.len(), _first=pl.col("time").min(), _r=pl.col("_row").min())
            .filter(pl.col("_n") >= node.minimum)
            .sort(["_first", "_r"], nulls_last=True)
            .with_columns(group=pl.int_range(1, pl.len() + 1, dtype=pl.Int64))
        )
        if not groups.height:
            return _empty_parts()
        a = a.join(groups.select("_by", "group"), on="_by", how="inner")
        return a.sort(["group", "time", "_row"], nulls_last=True).select(
            "_row", pl.lit("match").alias("role"), "group"
        )
    a = a.filter(pl.col("time").is_not_null()).sort(["time", "_row"])
    if a.height < node.minimum:
        return _empty_parts()
    # _n: position of each match in (by, time) order; _start: position of the first match of
    # the same group at or after time - D (an as-of join, forward).
    a = a.sort(["_by", "time", "_row"]).with_columns(_n=pl.int_range(pl.len(), dtype=pl.Int64))
    look = a.select("_by", "_n", (pl.col("time") - pl.lit(node.within.delta)).alias("_from")).sort("_from")
    first = a.select("_by", "time", pl.col("_n").alias("_start")).sort("time")
    starts = look.join_asof(
        first, left_on="_from", right_on="time", by="_by", strategy="forward", check_sortedness=False
    ).select("_n", "_start")
    a = a.join(starts, on="_n", how="left").sort("_n")
    a = a.with_columns(_end=pl.when(pl.col("_n") - pl.col("_start") + 1 >= node.minimum).then(pl.col("_start")))
    # The nearest qualifying window ending at or after a row has the smallest start of all
    # that do (starts never decrease), so one backward fill decides whether the row is in one.
    a = a.with_columns(_es=pl.col("_end").backward_fill().over("_by"))
    a = a.filter(pl.col("_es").is_not_null() & (pl.col("_es") <= pl.col("_n")))
    if not a.height:
        return _empty_parts()
    a = a.with_columns(group=(pl.col("_es") == pl.col("_n")).cum_sum().cast(pl.Int64))
    return a.select("_row", pl.lit("match").alias("role"), "group")


def sequence_hits(rows: pl.DataFrame, first: str, then: str, node: Sequence) -> pl.DataFrame:
    """Pairs (A row, its first later B row within D) or, when ``absent``, A rows without one.

    "Later" is time order, ties broken by the frame's own row order; B must be a different row
    from A. An A whose window runs past the end of the data and saw no B is absent: the freeze
    that starts and never ends.
    """
    r = rows.filter(pl.col(first) | pl.col(then)).filter(pl.col("time").is_not_null())
    r = r.with_columns(_by_key(node.by)).sort(["time", "_row"]).with_columns(_o=pl.int_range(pl.len(), dtype=pl.Int64))
    a = r.filter(pl.col(first)).select("_row", "_o", "_by", "time")
    if not a.height:
        return _empty_parts()
    b = r.filter(pl.col(then)).select(pl.col("_row").alias("_brow"), "_o", "_by", pl.col("time").alias("_btime"))
    if b.height:
        j = a.join_asof(
            b, on="_o", by="_by", strategy="forward", allow_exact_matches=False, check_sortedness=False
        )
    else:
        j = a.with_columns(_brow=pl.lit(None, pl.UInt32), _btime=pl.lit(None, a.schema["time"]))
    ok = pl.col("_brow").is_not_null() & ((pl.col("_btime") - pl.col("time")) <= pl.lit(node.within.delta))
    if node.absent:
        j = j.filter(~ok).with_columns(group=pl.int_range(1, pl.len() + 1, dtype=pl.Int64))
        return j.select("_row", pl.lit("start").alias("role"), "group")
    j = j.filter(ok).with_columns(group=pl.int_range(1, pl.len() + 1, dtype=pl.Int64))
    if not j.height:
        return _empty_parts()
    firsts = j.select("_row", pl.lit("first").alias("role"), "group")
    thens = j.select(pl.col("_brow").alias("_row"), pl.lit("then").alias("role"), "group")
    return pl.concat([firsts, thens]).sort(["group", "role"])

