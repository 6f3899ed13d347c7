"""``logscan timeline``: the bundle's events merged from every source, in time order."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from ..errors import LogscanError
from .common import fail, identities_applied, parse_when


class TimelineFormat(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"
    parquet = "parquet"


def timeline(
    path: Annotated[Path, typer.Argument(help="Bundle: folder, .zip or .tar.gz")],
    format: Annotated[TimelineFormat, typer.Option("--format", "-f", help="Output format")] = TimelineFormat.table,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here instead of stdout")] = None,
    since: Annotated[str | None, typer.Option(help="Only events at or after this UTC time")] = None,
    until: Annotated[str | None, typer.Option(help="Only events at or before this UTC time")] = None,
    source: Annotated[list[str] | None, typer.Option(help="Only these sources (repeatable)")] = None,
    level: Annotated[list[str] | None, typer.Option(help="Only these levels, e.g. ERROR (repeatable)")] = None,
    limit: Annotated[int | None, typer.Option(help="At most this many events (table: default 200)")] = None,
    redact_identities: Annotated[bool, typer.Option("--redact-identities", help="Pseudonymise names, IPs, ids, e-mails")] = False,
    identity_map: Annotated[Path | None, typer.Option("--identity-map", metavar="FILE", help="Write the pseudonym mapping here")] = None,
) -> None:
    """The bundle's events, merged from every source and ordered by time (UTC)."""
    from .. import load
    from ..reports import timeline as tl

    try:
        b = identities_applied(load(path), redact_identities, identity_map)
    except LogscanError as exc:
        fail(exc)
    ev = tl.select(b.events, since=parse_when(since), until=parse_when(until), sources=source, levels=level)
    if format is TimelineFormat.parquet and output is None:
        fail(LogscanError("--format parquet needs --output FILE"))
    tl.write(ev, b, format.value, output, limit=limit)
