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

import functools
from dataclasses import dataclass

import polars as pl

from ..frames import PROBLEM_LEVELS

#: A requirement: ``("w", words)`` (a record holds one of the words), ``("and", reqs)`` (any
#: one of them is a valid test: the cheapest is used) or ``("or", reqs)`` (all are needed).
Req = tuple

#: Lines of the sample on which word costs are measured.
SAMPLE_LINES = 5_000
_RX_META = set("\\.+*?()|[]{}^$#&-~")


@dataclass(frozen=True)
class Grep:
    """A source's grep plan, made by :mod:`logscan.rules.grep`: ``needs`` (one requirement per
    signature part, fact and level) selects records; records matching ``aside`` (a regex)
    may be set aside by a check, so the latest of the others is kept as well (that check
    reads it)."""

    needs: tuple[Req, ...]
    aside: str | None = None

    def pattern(self, sample: pl.Series) -> str:
        """The case-insensitive alternation for one file: for each ``and`` the side whose
        words are rarest in ``sample`` (the file's own lines), as the prefilter does."""
        words = sorted(set().union(*(leaves(r) for r in self.needs)))
        found = (
            sample.str.extract_many(words, ascii_case_insensitive=True, overlapping=True).explode().drop_nulls().str.to_lowercase()
            if sample.len() and words
            else pl.Series([], dtype=pl.String)
        )
        counts = dict(found.value_counts().iter_rows()) if found.len() else {}
        n = max(sample.len(), 1)

        def cost(ws: frozenset[str]) -> float:
            # Rarest first; without data, fewer and longer words.
            return sum(counts.get(w, 0) for w in ws) / n + (len(ws) - min(map(len, ws)) / 1000) / 1e6

        return _alternation(frozenset().union(*(resolve(r, cost) for r in self.needs)))


@functools.lru_cache(maxsize=64)
def _alternation(chosen: frozenset[str]) -> str:
    """The case-insensitive regex of ``chosen`` (made once per set: a bundle's files of one
    era choose the same words)."""
    return "(?i)" + "|".join("".join("\\" + c if c in _RX_META else c for c in w) for w in sorted(_minimal(chosen)))


def _minimal(words: frozenset[str]) -> set[str]:
    """The words without those holding another of them: a line holds one of the set exactly
    when it holds one of these ("failed to download" goes where "failed" is), and the
    alternation is a fraction of the size."""
    return {w for w in words if not any(v != w and v in w for v in words)}


def leaves(req: Req) -> frozenset[str]:
    """Every word a requirement names."""
    kind, body = req
    return body if kind == "w" else frozenset().union(*(leaves(r) for r in body))


def resolve(req: Req, cost) -> frozenset[str]:
    """The words one of which a record must hold: each ``and`` resolved to its cheapest side
    by ``cost`` (a word set's share of the rows)."""
    kind, body = req
    if kind == "w":
        return body
    options = [resolve(r, cost) for r in body]
    return frozenset().union(*options) if kind == "or" else min(options, key=cost)


def select_records(lines: pl.DataFrame, plan: Grep) -> tuple[pl.DataFrame, int]:
    """The lines (``idx``, ``raw``) of the records to parse, and the file's record count.

    ``lines`` has ``idx``, ``raw``, ``is_header`` and ``time``: the header's time, null on
    other lines, to the second or finer. A coarser time only keeps more records: each file's
    first and last second instead of its first and last instant.
    """
    df = lines.with_columns(_rec=pl.col("is_header").fill_null(False).cum_sum())
    hit = df.filter(pl.col("raw").str.contains(plan.pattern(_sample(lines["raw"]))))["_rec"].unique()
    aside = df.filter(pl.col("raw").str.contains(plan.aside))["_rec"].unique() if plan.aside else hit.head(0)
    # One row per record: its header line (or the lines before the first header).
    # (Each header opens its own record; the lines before the first header are record 0.)
    recs = df.filter(pl.col("is_header").fill_null(False) | (pl.int_range(pl.len()) == 0))
    recs = recs.select("_rec", _time=pl.col("time"), _hit=pl.col("_rec").is_in(hit.implode()), _aside=pl.col("_rec").is_in(aside.implode()))
    kept = recs.filter(_kept(recs))["_rec"]
    out = df.filter(pl.col("_rec").is_in(kept.implode())).select("idx", "raw")
    return out, recs.height


def keep_records(events: pl.DataFrame, plan: Grep, levels: tuple[str, ...] = PROBLEM_LEVELS) -> tuple[pl.DataFrame, int]:
    """The parsed records (one file's events, in file order) a scan reads, and their count.

    For logs whose record rules need every line (a parser that looks back at the previous
    line's stamp), the file is parsed whole and the plan then drops the records it cannot
    use, so everything downstream (masking, signatures, scoring) sees the same few rows the
    grep-first parse gives. Records at a problem ``level`` are kept whatever their words: a
    parser may state a level the text does not spell (an outcome line's status)."""
    text = pl.col("text")
    recs = events.select(
        _time=pl.col("time"),
        _hit=(text.str.contains(plan.pattern(_sample(events["text"]))) | pl.col("level").is_in(list(levels))).fill_null(False),
        _aside=text.str.contains(plan.aside).fill_null(False) if plan.aside else pl.lit(False),
    ).with_row_index("_rec")
    return events.filter(_kept(recs)), events.height


def _kept(recs: pl.DataFrame) -> pl.Series:
    """Which records to keep, from one row per record (``_rec`` in file order, ``_time``
    possibly null, ``_hit``, ``_aside``): those a word selects, the first, those at the
    file's earliest and latest time, the latest not set aside, and for each kept record
    without a time the record whose time it inherits."""
    recs = recs.with_columns(_eff=pl.col("_time").forward_fill().backward_fill())
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
    return recs.select(pl.col("_keep") | pl.col("_rec").is_in(inherit.implode()))["_keep"]


def _sample(raw: pl.Series) -> pl.Series:
    """Every n-th line, at most :data:`SAMPLE_LINES` of them."""
    step = max(1, raw.len() // SAMPLE_LINES)
    return raw.gather_every(step) if step > 1 else raw
