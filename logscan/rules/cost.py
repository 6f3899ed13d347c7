"""The cost model of evaluation: which rows each row predicate needs to run on.

Most conditions require one of a few words (see :mod:`.prefilter`). Which words a condition
is keyed on (``a and b``: either side's) is chosen by how rare they are in a sample of the
frame being scanned; words common enough not to be worth it are dropped.
"""

from __future__ import annotations

import polars as pl

from .compiler import rx_escape
from .prefilter import required_literals

#: Rows sampled to measure how common each prefilter word is.
PREFILTER_SAMPLE = 20_000
#: A flag whose words occur in more than this share of rows is not worth prefiltering.
PREFILTER_MAX_SHARE = 0.05


def word_costs(events: pl.DataFrame, words: list[str]) -> dict[str, float]:
    """Share of (sampled) rows containing each word, lower-cased."""
    # Every n-th row (a strided gather is cheaper than a random sample of the text column);
    # one overlapping Aho-Corasick pass finds every word a row holds. The costs only choose
    # which words key a condition; any choice gives the same hits.
    text = events["text"] if events.height <= PREFILTER_SAMPLE else events["text"].gather_every(events.height // PREFILTER_SAMPLE)
    if not all(w.isascii() for w in words):  # Unicode case folding needs the regex
        alternation = "(?i)" + "|".join(rx_escape(w) for w in words)
        matches = text.fill_null("").str.extract_all(alternation)
    else:
        matches = text.fill_null("").str.extract_many(words, ascii_case_insensitive=True, overlapping=True)
    found = (
        pl.DataFrame({"w": matches})
        .with_row_index("_r")
        .explode("w")
        .drop_nulls("w")
        .select("_r", pl.col("w").str.to_lowercase())
        .unique()
        .group_by("w")
        .len()
    )
    n = max(len(text), 1)
    costs = dict.fromkeys(words, 0.0)
    for w, c in found.iter_rows():
        costs[w] = c / n
    return costs


def flagged_rows(
    events: pl.DataFrame,
    parts: list[list],
    flags: list[pl.Expr],
    flag_names: list[str],
    keep: list[str],
) -> pl.DataFrame:
    """The rows where any flag holds, with every flag column, in frame order.

    Most conditions require one of a few words (see :mod:`.prefilter`). Their flags are
    computed only on the rows where one regex alternation of all those words matches (the
    Rust regex engine runs literal sets with SIMD/Aho-Corasick, one pass); which words a
    condition is keyed on (``a and b``: either side's) is chosen by how rare they are in a
    sample of the frame. Flags that need no word, or only common words, run on every row.
    The result equals computing every flag on every row.
    """
    trees = [p for sig_parts in parts for p in sig_parts]  # one per flag, in flag order
    parts_by_name = dict(zip(flag_names, trees, strict=True))
    static = {n: required_literals(p) for n, p in parts_by_name.items()}
    all_words = sorted(set().union(*[r for r in static.values() if r]))
    lf = events.lazy().with_row_index("_row")
    if not all_words:
        return lf.with_columns(flags).filter(pl.any_horizontal(flag_names)).select(*keep, *flag_names).collect()
    share = word_costs(events, all_words)
    cost = lambda ws: sum(share.get(w, 0.0) for w in ws)  # noqa: E731
    reqs = {n: required_literals(p, cost) for n, p in parts_by_name.items()}
    reqs = {n: (r if r and cost(r) <= PREFILTER_MAX_SHARE else None) for n, r in reqs.items()}
    words = sorted(set().union(*[r for r in reqs.values() if r]))
    if not words:
        return lf.with_columns(flags).filter(pl.any_horizontal(flag_names)).select(*keep, *flag_names).collect()
    by_name = dict(zip(flag_names, flags, strict=True))
    open_flags = [by_name[n] for n in flag_names if not reqs[n]]
    alternation = "(?i)" + "|".join(rx_escape(w) for w in words)
    cand = pl.col("message").str.contains(alternation).fill_null(False) | pl.col("text").str.contains(
        alternation
    ).fill_null(False)
    base = lf.with_columns(_cand=cand)
    inside = base.filter(pl.col("_cand")).with_columns(flags)
    outside = base.filter(~pl.col("_cand")).with_columns(
        *open_flags, *[pl.lit(False).alias(n) for n in flag_names if reqs[n]]
    )
    halves = [p.filter(pl.any_horizontal(flag_names)).select(*keep, *flag_names) for p in (inside, outside)]
    return pl.concat(halves, how="vertical").sort("_row").collect()

