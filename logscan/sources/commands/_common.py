"""What the command parsers share: small row builders (command outputs are short)."""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from ...frames import TimeBasis, events_from_records, facts_from_records
from ..base import Parsed, SourceFile


def line_of(text: str, pos: int) -> int:
    """1-based line of character offset ``pos``."""
    return text.count("\n", 0, pos) + 1


def event(source: str, f: SourceFile, line: int, message: str, text: str, level: str | None = None, **extra) -> dict:
    return {
        "source": source, "file": f.display, "line": line, "message": message, "text": text,
        "level": level, "time_basis": TimeBasis.NONE, **extra,
    }


def fact(source: str, f: SourceFile, line: int, subject: str, key: str, value: object) -> dict:
    return {"source": source, "file": f.display, "line": line, "subject": subject, "key": key, "value": value}


def parsed(events: Iterable[dict], facts: Iterable[dict]) -> Parsed:
    ev = events_from_records(events)
    fa = facts_from_records(f for f in facts if f.get("value") not in (None, ""))
    return Parsed(events=ev, facts=fa)


def empty_ok(df: pl.DataFrame | None) -> bool:
    return df is not None and df.height > 0
