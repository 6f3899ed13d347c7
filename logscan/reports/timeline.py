"""Render a bundle's events: rich table, JSON, CSV or Parquet."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import polars as pl
from rich.text import Text

#: Columns of the JSON/CSV timeline, in order. ``time``/``file``/``line``/``source``/
#: ``level``/``message`` are a contract; the rest are extras.
COLUMNS = [
    "time",
    "file",
    "line",
    "source",
    "level",
    "message",
    "time_raw",
    "time_basis",
    "process",
    "thread",
    "extension",
    "ext_version",
    "event_name",
    "event_op",
    "event_duration",
    "provider",
    "event_id",
    "channel",
    "computer",
    "record_id",
]


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


def to_records(ev: pl.DataFrame) -> list[dict]:
    """Events as JSON-ready dicts, ``time`` as ISO 8601 UTC with a ``Z`` (or null)."""
    df = ev.select([c for c in COLUMNS if c in ev.columns]).with_columns(
        pl.col("time").dt.strftime("%Y-%m-%dT%H:%M:%S%.6fZ")
    )
    return df.to_dicts()


def write(ev: pl.DataFrame, bundle, fmt: str, output: Path | None, *, limit: int | None = None) -> None:
    if limit is not None:
        ev = ev.head(limit)
    if fmt == "parquet":
        ev.write_parquet(output)
        return
    if fmt == "csv":
        df = ev.select([c for c in COLUMNS if c in ev.columns]).with_columns(
            pl.col("time").dt.strftime("%Y-%m-%dT%H:%M:%S%.6fZ")
        )
        if output:
            df.write_csv(output)
        else:
            sys.stdout.write(df.write_csv())
        return
    if fmt == "json":
        doc = {
            "vm": bundle.vm,
            "bundle": bundle.name,
            "events": to_records(ev),
            "ingest_errors": bundle.ingest_errors.to_dicts(),
        }
        text = json.dumps(doc, indent=1, ensure_ascii=False, default=str)
        if output:
            Path(output).write_text(text + "\n", encoding="utf-8")
        else:
            sys.stdout.write(text + "\n")
        return
    _table(ev, bundle, output, limit)


def _table(ev: pl.DataFrame, bundle, output: Path | None, limit: int | None) -> None:
    from rich.console import Console
    from rich.table import Table

    shown = ev if limit is not None else ev.head(200)
    table = Table(title=f"{bundle.vm}: {ev.height:,} events", show_lines=False, expand=True)
    for col, style, ratio in (
        ("time (UTC)", "cyan", None),
        ("level", "", None),
        ("source", "magenta", None),
        ("where", "dim", 1),
        ("message", "", 3),
    ):
        table.add_column(col, style=style, overflow="fold", no_wrap=ratio is None, ratio=ratio)
    colours = {"ERROR": "bold red", "CRITICAL": "bold red", "WARNING": "yellow"}
    for t, lvl, src, file, line, msg, basis in shown.select(
        "time", "level", "source", "file", "line", "message", "time_basis"
    ).iter_rows():
        ts = t.strftime("%Y-%m-%d %H:%M:%S") if t else "-"
        if basis == "local-assumed-utc":
            ts += "*"
        first = (msg or "").split("\n", 1)[0]
        # Text objects, not markup: log lines are full of "[ExtensionError]"-style brackets.
        table.add_row(ts, Text(lvl or "", style=colours.get(lvl or "", "")), src, f"{file}:{line}", Text(first[:300]))
    if output:
        with open(output, "w", encoding="utf-8") as fh:
            _print_table(Console(file=fh, width=200), table, ev, shown, bundle)
    else:
        _print_table(Console(), table, ev, shown, bundle)


def _print_table(console, table, ev: pl.DataFrame, shown: pl.DataFrame, bundle) -> None:
    console.print(table)
    if shown.height < ev.height:
        console.print(f"[dim]… {ev.height - shown.height:,} more events; use --limit, --since/--until or --format json[/]")
    console.print("[dim]* local time in the log, read as UTC (the bundle records no zone)[/]")
    if bundle.ingest_errors.height:
        detail = "; ".join(
            f"{f}: {k} ({d})" for f, k, d in bundle.ingest_errors.select("file", "kind", "detail").head(10).iter_rows()
        )
        console.print(Text(f"{bundle.ingest_errors.height} ingest error(s): {detail}", style="yellow"))
