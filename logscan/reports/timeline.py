"""Render a bundle's events: rich table, JSON, NDJSON, CSV or Parquet."""

from __future__ import annotations

import contextlib
import json
import sys
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO

import polars as pl
from rich.text import Text

#: The contract columns of every timeline output, in order; they never change.
CONTRACT = ["time", "file", "line", "source", "level", "message"]
#: Columns written by default after the contract ones.
USEFUL = ["time_basis", "process", "thread", "extension", "ext_version", "event_name", "event_op", "event_duration"]
#: Windows event fields: written by default only when the bundle has Windows events (on a
#: Linux bundle they are all null and only cost bytes).
WINDOWS = ["provider", "event_id", "channel", "computer", "record_id"]
#: Added by ``--all-columns``: the record as written (``text``, about the size of the whole
#: bundle again), the timestamp as written and the Windows event data.
EXTRA = ["time_raw", "text", "data"]
#: Columns of the JSON/CSV timeline before issue 13 (kept for callers that import it).
COLUMNS = [*CONTRACT, "time_raw", *USEFUL, *WINDOWS]
ISO = "%Y-%m-%dT%H:%M:%S%.6fZ"
#: Rows serialised at a time: the JSON text of a whole timeline is never held in memory.
CHUNK = 50_000


def columns(ev: pl.DataFrame, *, all_columns: bool = False, fmt: str = "json") -> list[str]:
    """The columns a timeline writes: contract + useful (+ Windows fields when present), or
    with ``all_columns`` every column of the frame (``data``, a struct, not in CSV)."""
    if all_columns:
        wanted = [*CONTRACT, *USEFUL, *WINDOWS, *EXTRA, *[c for c in ev.columns if c not in (*CONTRACT, *USEFUL, *WINDOWS, *EXTRA)]]
    else:
        windows = any(c in ev.columns and ev[c].null_count() < ev.height for c in ("provider", "event_id"))
        wanted = [*CONTRACT, *USEFUL, *(WINDOWS if windows else [])]
    if fmt == "csv":
        wanted = [c for c in wanted if c != "data"]
    return [c for c in wanted if c in ev.columns]


def select(
    ev: pl.DataFrame,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    sources: Sequence[str] | None = None,
    levels: Sequence[str] | None = None,
) -> pl.DataFrame:
    """Filter events by time window, source and level (case-insensitive)."""
    cond = pl.lit(True)
    if since is not None:
        cond &= pl.col("time") >= since
    if until is not None:
        cond &= pl.col("time") <= until
    if sources:
        cond &= pl.col("source").is_in(list(sources))
    if levels:
        cond &= pl.col("level").is_in([lv.upper() for lv in levels])
    return ev.filter(cond)


#: Levels from least to most severe (``frames.LEVELS``) and the spellings logs use for them.
LEVEL_ALIASES = {"WARN": "WARNING", "ERR": "ERROR", "FATAL": "CRITICAL", "CRIT": "CRITICAL", "INFORMATION": "INFO"}


def level_names(names: Sequence[str]) -> list[str]:
    """Normalised level names; an unknown one is a ``ValueError`` listing the valid ones."""
    from ..frames import LEVELS

    out = []
    for n in names:
        up = n.strip().upper()
        up = LEVEL_ALIASES.get(up, up)
        if up not in LEVELS:
            raise ValueError(f"unknown level {n!r}; valid: {', '.join(LEVELS)} (WARN, ERR, FATAL also accepted)")
        out.append(up)
    return out


def levels_at_least(level: str) -> list[str]:
    """``WARNING`` → WARNING, ERROR, CRITICAL."""
    from ..frames import LEVELS

    return list(LEVELS[LEVELS.index(level_names([level])[0]) :])


def check_sources(names: Sequence[str]) -> list[str]:
    """Source names as given; an unknown one is a ``ValueError`` listing the valid ones."""
    from ..sources import registry

    valid = sorted(s.name for s in registry())
    bad = [n for n in names if n not in valid]
    if bad:
        raise ValueError(f"unknown source {', '.join(map(repr, bad))}; valid: {', '.join(valid)}")
    return list(names)


def focus_time(ev: pl.DataFrame, at: datetime | None) -> datetime | None:
    """Where a reader looks first: the failure time given, else the latest ERROR/CRITICAL."""
    if at is not None:
        return at
    errs = ev.filter(pl.col("level").is_in(["ERROR", "CRITICAL"]) & pl.col("time").is_not_null())
    return errs["time"].max() if errs.height else None


def around(ev: pl.DataFrame, centre: datetime, window: timedelta) -> pl.DataFrame:
    """Events within ``window`` before and after ``centre``."""
    return ev.filter(pl.col("time").is_between(centre - window, centre + window))


def to_records(ev: pl.DataFrame) -> list[dict]:
    """Events as JSON-ready dicts, ``time`` as ISO 8601 UTC with a ``Z`` (or null)."""
    return _textual(ev, columns(ev)).to_dicts()


def _textual(ev: pl.DataFrame, cols: list[str]) -> pl.DataFrame:
    """The columns to write, ``time`` as ISO 8601 UTC text (formatted by polars, in Rust)."""
    return ev.select(cols).with_columns(pl.col("time").dt.strftime(ISO))


def write(
    ev: pl.DataFrame, bundle, fmt: str, output: Path | None, *, limit: int | None = None, last: int | None = None,
    note: str | None = None, all_columns: bool = False,
) -> None:
    """Write ``ev`` in ``fmt`` to ``output`` (None: standard output). ``limit`` keeps the first
    N events, ``last`` the last N; ``note`` is printed under the table (what was selected).

    Every file format is serialised by polars: a million-row timeline must never become a
    million Python dicts (that took 6 GB and a minute for JSON)."""
    if limit is not None:
        ev = ev.head(limit)
    if last is not None:
        ev = ev.tail(last)
    if fmt == "table":
        _table(ev, bundle, output, limit is not None or last is not None, note)
        return
    cols = columns(ev, all_columns=all_columns, fmt=fmt)
    with _binary_out(output) as fh:
        if fmt == "parquet":
            # lz4: several times cheaper to write than zstd, files ~20% larger.
            ev.select(cols).write_parquet(fh, compression="lz4", statistics=False)
        elif fmt == "csv":
            _textual(ev, cols).write_csv(fh)
        elif fmt == "ndjson":
            _write_rows(fh, ev.select(cols), "\n", "\n")
        else:
            _json(fh, ev.select(cols), bundle)


def _json(fh: BinaryIO, events: pl.DataFrame, bundle) -> None:
    """``{"vm", "bundle", "events": [...], "ingest_errors": [...]}``: the small parts by
    ``json``, the events array by polars straight into the stream."""
    head = {"vm": bundle.vm, "bundle": bundle.name}
    fh.write(json.dumps(head, ensure_ascii=False)[:-1].encode("utf-8") + b', "events": [')
    _write_rows(fh, events, ",", "")
    fh.write(b"]")
    errors = json.dumps(bundle.ingest_errors.to_dicts(), ensure_ascii=False, default=str)
    fh.write(b', "ingest_errors": ' + errors.encode("utf-8") + b"}\n")


def _write_rows(fh: BinaryIO, events: pl.DataFrame, sep: str, end: str) -> None:
    """Each row as a JSON object followed by ``sep`` (the last one by ``end``), in order.

    Rows are encoded by polars (``struct.json_encode``: the bytes ``write_json`` and
    ``write_ndjson`` write for a row, a third less CPU), ``CHUNK`` rows at a time, two chunks
    at once on threads (polars releases the GIL) while the one before is written; the encoded
    text goes from polars to the file unquoted (``write_csv``, no Python string in between).
    At most three chunks' text is held, never the whole document. A ``time`` still a datetime
    is formatted as :func:`_textual` does, chunk by chunk on the threads (formatting it all
    first was ~0.1 s on one core for the bench bundle)."""
    row = pl.struct(events.columns).struct.json_encode()
    as_text = not isinstance(events.schema.get("time"), pl.Datetime)

    def encode(off: int) -> pl.DataFrame:
        part = events.slice(off, CHUNK)
        return part.select(row) if as_text else part.with_columns(pl.col("time").dt.strftime(ISO)).select(row)

    def out(part: pl.DataFrame, term: str) -> None:
        part.write_csv(fh, include_header=False, quote_style="never", line_terminator=term)

    with ThreadPoolExecutor(max_workers=2) as pool:
        pending: deque[Future[pl.DataFrame]] = deque()
        for off in range(0, events.height, CHUNK):
            pending.append(pool.submit(encode, off))
            if len(pending) > 2:
                out(pending.popleft().result(), sep)
        while len(pending) > 1:
            out(pending.popleft().result(), sep)
        if pending:
            last = pending.popleft().result()
            out(last.head(last.height - 1), sep)
            out(last.tail(1), end)


@contextlib.contextmanager
def _binary_out(output: Path | None) -> Iterator[BinaryIO]:
    if output is not None:
        with open(output, "wb") as fh:
            yield fh
        return
    sys.stdout.flush()
    yield sys.stdout.buffer
    sys.stdout.buffer.flush()


#: Events a table shows when nothing else was asked (the latest ones: failures come last).
TABLE_DEFAULT = 200


def _table(ev: pl.DataFrame, bundle, output: Path | None, limited: bool, note: str | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    shown = ev if limited else ev.tail(TABLE_DEFAULT)
    table = Table(title=f"{bundle.vm}: {ev.height:,} events", show_lines=False, expand=True)
    for col, style, ratio in (
        ("time (UTC)", "cyan", None),
        ("level", "", None),
        ("source", "magenta", None),
        ("where", "dim", None),
        ("message", "", 3),
    ):
        # "where" is cut at the start (…/long/path/file.log:12), never wrapped mid-name.
        table.add_column(
            col, style=style, overflow="ellipsis" if col == "where" else "fold", no_wrap=ratio is None or col == "where", ratio=ratio
        )
    colours = {"ERROR": "bold red", "CRITICAL": "bold red", "WARNING": "yellow"}
    for t, lvl, src, file, line, msg, basis in shown.select(
        "time", "level", "source", "file", "line", "message", "time_basis"
    ).iter_rows():
        ts = t.strftime("%Y-%m-%d %H:%M:%S") if t else "-"
        if basis == "local-assumed-utc":
            ts += "*"
        first = (msg or "").split("\n", 1)[0]
        # Text objects, not markup: log lines are full of "[ExtensionError]"-style brackets.
        table.add_row(ts, Text(lvl or "", style=colours.get(lvl or "", "")), src, _where(file, line), Text(first[:300]))
    if output:
        with open(output, "w", encoding="utf-8") as fh:
            _print_table(Console(file=fh, width=200), table, ev, shown, bundle, note)
    else:
        _print_table(Console(), table, ev, shown, bundle, note)


def _where(file: str | None, line) -> Text:
    """``name:line``: the file's name whole (its folder is in JSON/CSV), never wrapped mid-name."""
    return Text(f"{(file or '').rsplit('/', 1)[-1]}:{line}")


def _print_table(console, table, ev: pl.DataFrame, shown: pl.DataFrame, bundle, note: str | None = None) -> None:
    if shown.height < ev.height:
        console.print(f"[dim]… {ev.height - shown.height:,} earlier events; use --first/--last N, --around TIME or --format json[/]")
    console.print(table)
    if note:
        console.print(Text(note, style="dim"))
    console.print("[dim]* local time in the log, read as UTC (the bundle records no zone)[/]")
    if bundle.ingest_errors.height:
        detail = "; ".join(
            f"{f}: {k} ({d})" for f, k, d in bundle.ingest_errors.select("file", "kind", "detail").head(10).iter_rows()
        )
        console.print(Text(f"{bundle.ingest_errors.height} ingest error(s): {detail}", style="yellow"))
