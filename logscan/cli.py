"""The ``logscan`` command: options in, library calls, a report out. No logic lives here."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import Annotated

import polars as pl
import typer

from .errors import LogscanError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Find why Azure Backup failed, from the log bundles collected on Azure VMs.",
    rich_markup_mode="rich",
)


class TimelineFormat(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"
    parquet = "parquet"


@app.callback()
def _root() -> None:
    """Find why Azure Backup failed, from the log bundles collected on Azure VMs."""


def parse_when(value: str | None) -> datetime | None:
    """ISO 8601 date/time; no zone means UTC (bundles are analysed in UTC throughout)."""
    if value is None:
        return None
    v = value.strip().replace(" ", "T", 1)
    if v.endswith("Z"):
        v = v[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(v)
    except ValueError as exc:
        raise typer.BadParameter(f"{value!r} is not an ISO 8601 time (e.g. 2024-05-30T13:15:00Z)") from exc
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)


def _fail(exc: Exception) -> None:
    typer.echo(f"logscan: {exc}", err=True)
    raise typer.Exit(2)


@app.command()
def timeline(
    path: Annotated[Path, typer.Argument(help="Bundle: folder, .zip or .tar.gz")],
    format: Annotated[TimelineFormat, typer.Option("--format", "-f", help="Output format")] = TimelineFormat.table,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here instead of stdout")] = None,
    since: Annotated[str | None, typer.Option(help="Only events at or after this UTC time")] = None,
    until: Annotated[str | None, typer.Option(help="Only events at or before this UTC time")] = None,
    source: Annotated[list[str] | None, typer.Option(help="Only these sources (repeatable)")] = None,
    level: Annotated[list[str] | None, typer.Option(help="Only these levels, e.g. ERROR (repeatable)")] = None,
    limit: Annotated[int | None, typer.Option(help="At most this many events (table: default 200)")] = None,
) -> None:
    """The bundle's events, merged from every source and ordered by time (UTC)."""
    from . import load
    from .reports import timeline as tl

    try:
        b = load(path)
    except LogscanError as exc:
        _fail(exc)
    ev = tl.select(b.events, since=parse_when(since), until=parse_when(until), sources=source, levels=level)
    if format is TimelineFormat.parquet and output is None:
        _fail(LogscanError("--format parquet needs --output FILE"))
    tl.write(ev, b, format.value, output, limit=limit)


def main() -> None:
    try:
        app()
    except BrokenPipeError:  # `logscan timeline ... | head`
        sys.stderr.close()


__all__ = ["app", "main", "parse_when", "pl"]
