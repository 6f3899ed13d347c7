"""``logscan timeline``: the bundle's events merged from every source, in time order."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from ..errors import LogscanError
from .common import fail, parse_when


class TimelineFormat(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"
    parquet = "parquet"


def timeline(
    path: Annotated[str, typer.Argument(help="Bundle folder, archive, single log file, or - for standard input")],
    format: Annotated[TimelineFormat, typer.Option("--format", "-f", help="Output format")] = TimelineFormat.table,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here instead of stdout")] = None,
    since: Annotated[str | None, typer.Option(help="Only events at or after this UTC time")] = None,
    until: Annotated[str | None, typer.Option(help="Only events at or before this UTC time")] = None,
    source: Annotated[list[str] | None, typer.Option(help="Only these sources (repeatable)")] = None,
    level: Annotated[list[str] | None, typer.Option(help="Only these levels, e.g. ERROR (repeatable)")] = None,
    limit: Annotated[int | None, typer.Option(help="At most this many events (table: default 200)")] = None,
) -> None:
    """The bundle's events, merged from every source and ordered by time (UTC)."""
    from .. import load
    from ..reports import timeline as tl

    try:
        b = load(path)
    except LogscanError as exc:
        fail(exc)
    ev = tl.select(b.events, since=parse_when(since), until=parse_when(until), sources=source, levels=level)
    if format is TimelineFormat.parquet and output is None:
        fail(LogscanError("--format parquet needs --output FILE"))
    tl.write(ev, b, format.value, output, limit=limit)
