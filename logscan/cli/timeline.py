"""``logscan timeline``: the bundle's events merged from every source, in time order."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from ..errors import LogscanError
from .common import captured_warnings, fail, identities_applied, parse_duration, parse_when, resolve_output


class TimelineFormat(str, Enum):
    table = "table"
    json = "json"
    ndjson = "ndjson"
    csv = "csv"
    parquet = "parquet"


def timeline(
    path: Annotated[str, typer.Argument(help="Bundle folder, archive, single log file, or - for standard input")],
    format: Annotated[
        TimelineFormat | None, typer.Option("--format", "-f", help="Output format [default: from -o's extension, else table]")
    ] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here (- for standard output)")] = None,
    since: Annotated[str | None, typer.Option(help="Only events at or after this UTC time")] = None,
    until: Annotated[str | None, typer.Option(help="Only events at or before this UTC time")] = None,
    around: Annotated[str | None, typer.Option("--around", metavar="TIME", help="Events within --window of this UTC time")] = None,
    window: Annotated[str, typer.Option("--window", help="Half-width of --around (30m, 2h, 90s)")] = "30m",
    at: Annotated[
        str | None, typer.Option("--at", help="When the backup job failed; the table centres on it (else on the latest ERROR)")
    ] = None,
    source: Annotated[list[str] | None, typer.Option(help="Only these sources (repeatable)")] = None,
    level: Annotated[list[str] | None, typer.Option(help="Only these levels, e.g. ERROR (repeatable)")] = None,
    min_level: Annotated[str | None, typer.Option("--min-level", help="This level and more severe, e.g. WARNING")] = None,
    first: Annotated[int | None, typer.Option("--first", "--limit", metavar="N", min=0, help="The first N events")] = None,
    last: Annotated[int | None, typer.Option("--last", metavar="N", min=0, help="The last N events")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No notes under the table")] = False,
    redact_identities: Annotated[bool, typer.Option("--redact-identities", help="Pseudonymise names, IPs, ids, e-mails")] = False,
    identity_map: Annotated[Path | None, typer.Option("--identity-map", metavar="FILE", help="Write the pseudonym mapping here")] = None,
    all_columns: Annotated[
        bool, typer.Option("--all-columns", help="Also write text (the record as written), time_raw and the Windows event fields")
    ] = False,
) -> None:
    """The bundle's events, merged from every source and ordered by time (UTC).

    The table centres on the failure (--at, else the latest ERROR) with --window on each side;
    JSON, NDJSON, CSV and Parquet hold every event unless a filter is given, in the
    contract columns (--all-columns adds the rest).
    """
    from .. import load
    from ..reports import timeline as tl

    fmt, dest = resolve_output(output, format.value if format else None, default="table", allowed=[f.value for f in TimelineFormat])
    if first is not None and last is not None:
        fail("--first and --last cannot be combined; pick one")
    try:
        levels = tl.level_names(level or [])
        if min_level:
            floor = tl.levels_at_least(min_level)
            levels = [lv for lv in levels if lv in floor] if levels else floor
        sources = tl.check_sources(source or [])
    except ValueError as exc:
        fail(exc)
    half = parse_duration(window)
    centre, when = parse_when(around), parse_when(at)
    try:
        with captured_warnings() as notes:
            # The record as written (``text``) and ``time_raw`` are only written with
            # --all-columns; pseudonyms are learnt from ``text`` too, so --redact-identities
            # keeps it for the same mapping.
            drop = () if all_columns or redact_identities else ("text", "time_raw")
            b = identities_applied(load(path, drop=drop), redact_identities, identity_map)
    except LogscanError as exc:
        fail(exc)
    ev = tl.select(b.events, since=parse_when(since), until=parse_when(until), sources=sources, levels=levels)
    note = None
    if centre is None and fmt == "table" and not (since or until or first is not None or last is not None):
        centre = tl.focus_time(ev, when)
        if centre is not None:
            note = f"Around {centre:%Y-%m-%d %H:%M:%S}Z ({'--at' if when else 'the latest ERROR'}) ± {window}; --window, --around, --first/--last N change it."
    elif centre is not None:
        note = f"Around {centre:%Y-%m-%d %H:%M:%S}Z ± {window}."
    if centre is not None:
        ev = tl.around(ev, centre, half)
    if notes and not quiet:
        note = "; ".join(filter(None, [note, *notes]))
    if fmt == "parquet" and dest is None and output is None:
        fail("--format parquet needs --output FILE (or -o - to write it to standard output)")
    tl.write(ev, b, fmt, dest, limit=first, last=last, note=None if quiet else note, all_columns=all_columns)
