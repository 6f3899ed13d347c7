"""Scan planning: each row predicate runs only on the rows that can satisfy it.

:func:`.cost.flagged_rows` computes every flag on the union of all candidate rows (any
prefilter word of any condition): on a big agent log that union is a sixth of the rows, and
a hundred and fifty predicates over it cost seconds. Here one overlapping Aho-Corasick pass
(``str.extract_many``) over the candidates records *which* words each row holds, so a
condition keyed on ``FIFREEZE`` is computed on the rows holding ``FIFREEZE`` only. A
condition scoped to sources (``logsource``) is computed on its sources' rows only, and not at
all when the bundle has none. Conditions with no word still run, on their sources' rows.

The result is the same frame :func:`.cost.flagged_rows` returns (a test compares them and the
findings of both on every sample and a generated fleet): flags are superset-filtered exactly,
and a flag left uncomputed on a row is one that could not hold there.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import polars as pl

from ..sources.grep import leaves, resolve
from .compiler import rx_escape
from .cost import PREFILTER_MAX_SHARE, flagged_rows, word_costs
from .prefilter import required_literals
from .requirements import requirement

#: Threads computing flags (each flag's query is small and single-threaded in polars).
FLAG_THREADS = max(1, min(4, os.cpu_count() or 1))


def planned_rows(
    events: pl.DataFrame,
    parts: list[list],
    flags: list[pl.Expr],
    flag_names: list[str],
    keep: list[str],
    scopes: list[tuple[str, ...] | None],
) -> pl.DataFrame:
    """The rows where any flag holds, with every flag column (False where it does not hold),
    in frame order. ``scopes`` is each flag's sources (None: every source); the flag
    expressions already carry that scope, so skipping other sources' rows changes nothing."""
    trees = [p for sig_parts in parts for p in sig_parts]
    # Each condition's words as a tree of choices (every literal run of every alternative of
    # a regex, each side of an "and"): the frame's own word shares pick the rarest choice.
    choices = [requirement(p, "") or _static(p) for p in trees]
    all_words = sorted(set().union(*[leaves(r) for r in choices if r]))
    if not all_words or not all(w.isascii() for w in all_words):
        # Non-ASCII words need Unicode case folding: the regex path of cost.py handles them.
        return flagged_rows(events, parts, flags, flag_names, keep)
    share = word_costs(events, all_words)
    cost = lambda ws: sum(share.get(w, 0.0) for w in ws)  # noqa: E731
    reqs = [resolve(r, cost) if r else None for r in choices]
    reqs = [r if r and cost(r) <= PREFILTER_MAX_SHARE else None for r in reqs]
    present = set(events["source"].drop_nulls().unique().to_list())
    has_null_source = events["source"].null_count() > 0
    rows = events.with_row_index("_row")
    words = sorted(set().union(*[r for r in reqs if r]))
    pairs = _word_rows(rows, words) if words else pl.DataFrame(schema={"_row": pl.UInt32, "_w": pl.String})

    # Row ids per word, split once (each flag then unites a few small lists).
    by_word: dict[str, pl.Series] = {w: g["_row"] for (w,), g in pairs.partition_by("_w", as_dict=True).items()} if pairs.height else {}
    def flag(job: tuple[str, pl.Expr, frozenset[str] | None, tuple[str, ...] | None]) -> tuple[str, pl.Series | None]:
        name, expr, req, scope = job
        if scope is not None and not (set(scope) & present):
            return name, None  # no row of its sources: the flag is False everywhere
        # Only the columns the predicate reads are gathered.
        sub = rows.select(list(dict.fromkeys(["_row", "source", *expr.meta.root_names()])))
        if req:
            ids = _rows_holding(by_word, req)
            if not len(ids):
                return name, None
            sub = sub[ids]
        if scope is not None and (present - set(scope) or has_null_source):
            sub = sub.filter(pl.col("source").is_in(list(scope)))
        got = sub.select("_row", expr.alias("_f")).filter(pl.col("_f").fill_null(False))["_row"]
        return name, got if len(got) else None

    # Each flag is a small query that polars runs on one core, releasing the GIL: two threads
    # keep both cores busy (the flags are independent; results are taken in flag order).
    jobs = list(zip(flag_names, flags, reqs, scopes, strict=True))
    with ThreadPoolExecutor(max_workers=FLAG_THREADS) as pool:
        hit_ids = {name: got for name, got in pool.map(flag, jobs) if got is not None}
    if not hit_ids:
        return rows.head(0).select(*keep, *[pl.lit(False).alias(n) for n in flag_names])
    all_ids = pl.concat(list(hit_ids.values())).unique().sort()
    out = rows[all_ids].select(*keep)
    return out.with_columns(
        [pl.col("_row").is_in(hit_ids[n].implode()).alias(n) if n in hit_ids else pl.lit(False).alias(n) for n in flag_names]
    )


def _static(node: object) -> tuple | None:
    """:func:`.prefilter.required_literals` as a requirement (conditions the choice tree cannot
    read, such as a regex with flags other than ``i``)."""
    words = required_literals(node)
    return ("w", words) if words else None


def _rows_holding(by_word: dict[str, pl.Series], words: frozenset[str] | set[str]) -> pl.Series:
    """The sorted ids of the rows holding any of ``words``."""
    found = [by_word[w] for w in sorted(words) if w in by_word]
    if not found:
        return pl.Series("_row", [], dtype=pl.UInt32)
    return found[0].sort() if len(found) == 1 else pl.concat(found).unique().sort()


def _word_rows(rows: pl.DataFrame, words: list[str]) -> pl.DataFrame:
    """(``_row``, lower-cased word) for every prefilter word each row's message or text holds.

    A regex alternation first narrows to the candidate rows (literal-set search, fast); the
    overlapping Aho-Corasick pass then runs on those only, so no word hidden inside another's
    match is lost. The candidate regex folds case the Unicode way (``K`` matches the Kelvin
    sign), the Aho-Corasick pass the ASCII way: a candidate row with any non-ASCII character is
    therefore paired with every word, so its conditions are all computed.
    """
    alternation = "(?i)" + "|".join(rx_escape(w) for w in words)
    # Where the record's text ends with its message (the header-stripped text: nearly every
    # row), every word of the message is a word of the text, so the message is searched only
    # on the other rows.
    own_message = pl.when(~pl.col("text").str.ends_with(pl.col("message")).fill_null(False)).then(pl.col("message"))
    cand = rows.lazy().with_columns(_m=own_message).filter(
        pl.col("_m").str.contains(alternation).fill_null(False) | pl.col("text").str.contains(alternation).fill_null(False)
    )
    found = [
        pl.col(c).fill_null("").str.extract_many(words, ascii_case_insensitive=True, overlapping=True) for c in ("_m", "text")
    ]
    # A string is ASCII exactly when its byte length is its character length (no regex pass).
    non_ascii = _non_ascii(pl.col("_m")) | _non_ascii(pl.col("text"))
    every = pl.lit(pl.Series(words, dtype=pl.String).implode())
    return (
        cand.select("_row", _w=pl.when(non_ascii).then(every).otherwise(pl.concat_list(found)))
        .explode("_w")
        .drop_nulls("_w")
        .with_columns(pl.col("_w").str.to_lowercase())
        .unique()
        .collect()
    )


def _non_ascii(e: pl.Expr) -> pl.Expr:
    return (e.str.len_bytes() != e.str.len_chars()).fill_null(False)
