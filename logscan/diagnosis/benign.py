"""Known-benign messages (``content/benign.yaml``): loaded and checked once, applied as one
vectorised mask over the events frame."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import polars as pl
import yaml

from .. import content
from ..errors import LogscanError


@dataclass(frozen=True)
class Benign:
    id: str
    pattern: str
    levels: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    event_ids: tuple[int, ...] = ()
    below: int | None = None  # benign only while it occurs fewer times than this
    source: str | None = None
    heuristic: bool = False
    why: str | None = None


def parse_benign(text: str, origin: str = "benign.yaml") -> list[Benign]:
    """Parse and validate: every entry has a source or is a heuristic with a reason, its
    pattern compiles, and each of its examples matches."""
    data = yaml.safe_load(text) or {}
    out = []
    for i, raw in enumerate(data.get("benign") or []):
        where = f"{origin}: entry {i + 1} ({raw.get('id', '?')})"
        try:
            rx = re.compile(raw["pattern"], re.IGNORECASE)
        except (KeyError, re.error) as exc:
            raise LogscanError(f"{where}: bad or missing pattern: {exc}") from None
        if not raw.get("source") and not (raw.get("heuristic") and raw.get("why")):
            raise LogscanError(f"{where}: needs a source, or heuristic: true with a why")
        for ex in raw.get("examples") or []:
            if not rx.search(ex):
                raise LogscanError(f"{where}: example does not match its pattern: {ex[:80]!r}")
        out.append(
            Benign(
                id=raw["id"],
                pattern=raw["pattern"],
                levels=tuple(raw.get("levels") or ()),
                sources=tuple(raw.get("sources") or ()),
                event_ids=tuple(raw.get("event_ids") or ()),
                below=raw.get("below"),
                source=raw.get("source"),
                heuristic=bool(raw.get("heuristic")),
                why=raw.get("why"),
            )
        )
    return out


@cache
def load_benign() -> tuple[Benign, ...]:
    """The shipped list (parsed once per process)."""
    return tuple(parse_benign(content.path("benign.yaml").read_text(encoding="utf-8")))


def _entry_expr(b: Benign) -> pl.Expr:
    text = pl.coalesce(pl.col("message"), pl.col("text"), pl.lit(""))
    cond = text.str.contains("(?i)" + b.pattern)
    if b.levels:
        cond = cond & pl.col("level").is_in(list(b.levels)).fill_null(False)
    if b.sources:
        cond = cond & pl.col("source").is_in(list(b.sources)).fill_null(False)
    if b.event_ids:
        cond = cond & (pl.col("event_id").is_in(list(b.event_ids)).fill_null(True))
    return cond.fill_null(False)


def benign_mask(events: pl.DataFrame, entries: tuple[Benign, ...] | None = None) -> pl.Series:
    """True for every event a benign family covers (counted families only while rare)."""
    entries = load_benign() if entries is None else entries
    if not events.height or not entries:
        return pl.Series("benign", [False] * events.height, dtype=pl.Boolean)
    cols = [_entry_expr(b).alias(f"_b{i}") for i, b in enumerate(entries)]
    flags = events.select(cols)
    mask = pl.Series("benign", [False] * events.height, dtype=pl.Boolean)
    for i, b in enumerate(entries):
        col = flags[f"_b{i}"]
        if b.below is not None and int(col.sum()) >= b.below:
            continue  # repeated past the agent team's limit: no longer benign
        mask = mask | col
    return mask
