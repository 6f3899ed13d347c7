"""The latest value of each (subject, key): the one rule for "what is the state now"."""

from __future__ import annotations

import polars as pl


def latest_values(facts: pl.DataFrame) -> pl.DataFrame:
    """One row per (subject, key): the newest by time; rows without a time count as oldest,
    and among equals the one read last (bundle order) wins.

    Every consumer (checks, diagnosis, reports, fleet) reads this frame, so "the extension's
    state" or "the OS name" cannot mean two things in two places.
    """
    if not facts.height:
        return facts
    return (
        facts.with_row_index("_order")
        .sort(["time", "_order"], nulls_last=False)
        .group_by(["subject", "key"], maintain_order=True)
        .last()
        .drop("_order")
    )


def as_mapping(latest: pl.DataFrame) -> dict[str, dict[str, str]]:
    """``{subject: {key: value}}`` of a :func:`latest_values` frame (null values left out)."""
    out: dict[str, dict[str, str]] = {}
    for subject, key, value in latest.select("subject", "key", "value").iter_rows():
        if value is not None:
            out.setdefault(subject, {})[key] = value
    return out
