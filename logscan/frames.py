"""The three frames every parser returns, documented in one place.

Every source parser turns one file into rows of these schemas, so the diagnoser, the
signatures and the reports never need to know which file kind a row came from.

events
    One row per log *record* (a header line plus its continuation lines). ``line`` is the
    1-based line where the record starts; ``text`` is the whole record (continuation lines
    joined with ``\\n``) exactly as written, so evidence can be quoted verbatim, and
    ``message`` the same with the header (timestamp, level, prefix) removed.
    ``time`` is UTC; ``time_basis`` says how it was known (see ``TimeBasis``).
facts
    Long key/value rows about the VM: ``subject`` groups them (``agent``, ``os``, ``vm``,
    ``conf``, ``goal_state``, ``extension:<Name>``), ``key``/``value`` are strings.
ingest_errors
    One row per file (or record) that could not be read, decoded or parsed, and why.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import polars as pl

UTC_DT = pl.Datetime("us", "UTC")

#: How an event's time was known.
class TimeBasis:
    UTC = "utc"  # the text carries an explicit UTC marker (Z, "UTC", ISO with offset)
    LOCAL_ASSUMED_UTC = "local-assumed-utc"  # local wall time; the bundle holds no zone, so read as UTC
    INHERITED = "inherited"  # the line had no stamp; it took its record's/neighbour's time
    NONE = "none"  # no time could be known


DATA_STRUCT = pl.List(pl.Struct({"name": pl.String, "value": pl.String}))

EVENT_SCHEMA: dict[str, pl.DataType] = {
    "source": pl.String(),  # parser name, e.g. "waagent_log", "vmsnapshot_log", "evtx"
    "file": pl.String(),  # path inside the bundle (archive members of members joined with "!")
    "line": pl.Int64(),  # 1-based line (text) or record number (EVTX) where the record starts
    "time": UTC_DT,
    "time_raw": pl.String(),
    "time_basis": pl.String(),
    "level": pl.String(),  # VERBOSE|DEBUG|INFO|WARNING|ERROR|CRITICAL (normalised), or null
    "process": pl.String(),  # Daemon / ExtHandler / LogCollector / extension handler / service
    "thread": pl.String(),
    "extension": pl.String(),  # Publisher.Type[.Name] when the line is about an extension
    "ext_version": pl.String(),
    "event_name": pl.String(),  # "Event: name=..." (Linux) or task name
    "event_op": pl.String(),
    "event_duration": pl.Int64(),
    "provider": pl.String(),  # Windows event provider
    "event_id": pl.Int64(),  # Windows event id, masked to 16 bits
    "channel": pl.String(),
    "computer": pl.String(),
    "record_id": pl.Int64(),
    "data": DATA_STRUCT,  # Windows event data, named and positional, in order
    "message": pl.String(),  # the record's message: header (time, level, prefix) removed
    "text": pl.String(),  # the record exactly as written (all its lines), quoted as evidence
}

FACT_SCHEMA: dict[str, pl.DataType] = {
    "source": pl.String(),
    "file": pl.String(),
    "line": pl.Int64(),
    "time": UTC_DT,
    "subject": pl.String(),
    "key": pl.String(),
    "value": pl.String(),
}

INGEST_ERROR_SCHEMA: dict[str, pl.DataType] = {
    "file": pl.String(),
    "source": pl.String(),
    "kind": pl.String(),  # unreadable | decode | parse | truncated | too-large | unsafe | ...
    "detail": pl.String(),
    "line": pl.Int64(),
}

LEVELS = ("VERBOSE", "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
#: Levels of the records a reader looks at first (``unexplained`` lists them; a grep-first scan keeps them).
PROBLEM_LEVELS = ("ERROR", "WARNING", "CRITICAL")

_LEVEL_ALIASES = {
    "WARN": "WARNING",
    "ERR": "ERROR",
    "FATAL": "CRITICAL",
    "CRIT": "CRITICAL",
    "INFORMATION": "INFO",
    "INFORMATIONAL": "INFO",
    "TRACE": "DEBUG",
    "HEART": "INFO",
}


def empty(schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    """An empty frame of ``schema`` (parsers return it rather than None)."""
    return pl.DataFrame(schema=dict(schema))


def conform(df: pl.DataFrame, schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    """Add the schema's missing columns as nulls, cast, and order them.

    Parsers only build the columns they know; this gives every frame the one shared shape so
    they concatenate without surprises.
    """
    if df.width == 0:  # literal columns would broadcast to one all-null row
        return empty(schema)
    cols = []
    for name, dtype in schema.items():
        if name in df.columns:
            cols.append(pl.col(name).cast(dtype, strict=False))
        else:
            cols.append(pl.lit(None, dtype=dtype).alias(name))
    return df.select(cols)


def normalise_level(expr: pl.Expr) -> pl.Expr:
    """Map the many level spellings (WARN, Warning, Information, ERROR:) onto ``LEVELS``."""
    up = expr.str.strip_chars(" :[]").str.to_uppercase()
    return up.replace(_LEVEL_ALIASES)


def events_from_records(records: Iterable[Mapping[str, Any]]) -> pl.DataFrame:
    """Build an events frame from a few dict rows (small files: XML, JSON, status)."""
    rows = list(records)
    if not rows:
        return empty(EVENT_SCHEMA)
    return conform(_frame(rows), EVENT_SCHEMA)


def facts_from_records(records: Iterable[Mapping[str, Any]]) -> pl.DataFrame:
    """Build a facts frame from dict rows; values are stored as strings."""
    rows = [{**r, "value": None if r.get("value") is None else str(r["value"])} for r in records]
    if not rows:
        return empty(FACT_SCHEMA)
    return conform(_frame(rows), FACT_SCHEMA)


def _frame(rows: list[dict]) -> pl.DataFrame:
    """Rows into a frame. JSON may hold lone surrogates (``"\\ud800"``) that polars cannot
    store; only when that happens are the strings re-encoded with U+FFFD in their place."""
    try:
        return pl.DataFrame(rows, infer_schema_length=None)
    except UnicodeEncodeError:
        return pl.DataFrame([_scrub(r) for r in rows], infer_schema_length=None)


def _scrub(v: Any) -> Any:
    if isinstance(v, str):
        return v.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    if isinstance(v, dict):
        return {_scrub(k): _scrub(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_scrub(x) for x in v]
    return v


def concat(frames: Iterable[pl.DataFrame], schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    """Concatenate frames of one schema (conforming each), or an empty frame."""
    parts = [conform(f, schema) for f in frames if f is not None and f.height]
    if not parts:
        return empty(schema)
    return pl.concat(parts, how="vertical")
