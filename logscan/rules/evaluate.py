"""Every signature over the event frame in one pass: the hits frame of :data:`.model.HIT_SCHEMA`.

Row predicates of all signatures are computed together (one ``with_columns`` + ``filter``),
on the candidate rows :mod:`.cost` picks; temporal signatures are then finished by
:mod:`.temporal` on the few rows that passed.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from ..frames import EVENT_SCHEMA, conform, empty
from .cost import flagged_rows
from .model import HIT_SCHEMA, Signature
from .plan import planned_rows
from .temporal import count_hits, sequence_hits
from .tree import Count, Sequence


def _empty_hits() -> pl.DataFrame:
    return empty(HIT_SCHEMA)


def evaluate(signatures: Iterable[Signature], events: pl.DataFrame, *, planned: bool = True) -> pl.DataFrame:
    """The hits of every signature over ``events`` (see :data:`HIT_SCHEMA`).

    All row predicates (one boolean column per plain signature, one or two per temporal
    one) are computed in one lazy ``with_columns`` + ``filter`` over the frame — a single
    scan however many signatures there are; hits are gathered from the few flagged rows, and
    temporal signatures are finished on those rows only. Each event appears at most once per
    signature (a ``then`` row that closes two pairs is listed with the first).

    ``planned`` (the default) computes each predicate only on the rows that can satisfy it
    (:mod:`.plan`); ``planned=False`` is the reference path the equality tests compare with.
    """
    sigs = list(signatures)
    if not sigs or events is None or not events.height:
        return _empty_hits()
    if any(c not in events.columns for c in EVENT_SCHEMA):
        events = conform(events, EVENT_SCHEMA)

    flags: list[pl.Expr] = []
    plans: list[tuple[int, Signature, list[str]]] = []
    by_cols: set[str] = set()
    for i, s in enumerate(sigs):
        names = [f"_s{i}_{k}" for k in range(len(s.exprs))]
        flags.extend(e.alias(n) for e, n in zip(s.exprs, names, strict=True))
        plans.append((i, s, names))
        if s.temporal:
            by_cols.update(s.tree.by)
    flag_names = [n for _, _, names in plans for n in names]
    keep = list(dict.fromkeys(["_row", "file", "line", "time", "source", "level", "text", "message", *by_cols]))
    if planned:
        scopes = [tuple(s.sources) if s.sources else None for _, s, names in plans for _ in names]
        small = planned_rows(events, [s.parts for s in sigs], flags, flag_names, keep, scopes)
    else:
        small = flagged_rows(events, [s.parts for s in sigs], flags, flag_names, keep)
    if not small.height:
        return _empty_hits()

    parts: list[pl.DataFrame] = []
    simple = {names[0]: i for i, s, names in plans if not s.temporal}
    if simple:
        long = (
            small.select("_row", *simple)
            .unpivot(index="_row", variable_name="_flag", value_name="_hit")
            .filter(pl.col("_hit"))
        )
        parts.append(
            long.select(
                pl.col("_flag").replace_strict(simple, return_dtype=pl.Int64).alias("_sig"),
                "_row",
                pl.lit("match").alias("role"),
                pl.lit(None, pl.Int64).alias("group"),
            )
        )
    for i, s, names in plans:
        if isinstance(s.tree, Count):
            got = count_hits(small, names[0], s.tree)
        elif isinstance(s.tree, Sequence):
            got = sequence_hits(small, names[0], names[1], s.tree)
        else:
            continue
        if got.height:
            parts.append(got.select(pl.lit(i, pl.Int64).alias("_sig"), "_row", "role", "group"))
    parts = [p for p in parts if p.height]
    if not parts:
        return _empty_hits()

    hits = pl.concat(parts, how="vertical").unique(["_sig", "_row"], keep="first", maintain_order=True)
    meta = pl.DataFrame(
        {"_sig": list(range(len(sigs))), "signature": [s.id for s in sigs], "_level": [s.level for s in sigs]},
        schema={"_sig": pl.Int64, "signature": pl.String, "_level": pl.String},
    )
    hits = (
        hits.join(small.select(*keep), on="_row", how="left")
        .join(meta, on="_sig", how="left")
        .sort(["_sig", "time", "_row"], nulls_last=True)
        .with_columns(group=pl.coalesce("group", pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over("_sig")))
        .sort(["_sig", "group", "time", "_row"], nulls_last=True)
    )
    return hits.select(
        "signature",
        pl.col("_level").alias("level"),
        "role",
        "group",
        "file",
        "line",
        "time",
        "source",
        pl.col("level").alias("event_level"),
        pl.coalesce("text", "message").alias("text"),
        pl.col("_row").cast(pl.Int64).alias("row"),
    ).cast(HIT_SCHEMA)  # type: ignore[arg-type]

