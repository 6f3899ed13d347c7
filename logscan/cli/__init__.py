"""The ``logscan`` command: options in, library calls, a report out. No logic lives here."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import Annotated

import polars as pl
import typer

from ..errors import LogscanError
from .signatures import app as signatures_app

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Find why Azure Backup failed, from the log bundles collected on Azure VMs.",
    rich_markup_mode="rich",
)
app.add_typer(signatures_app, name="signatures")


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
    from .. import load
    from ..reports import timeline as tl

    try:
        b = load(path)
    except LogscanError as exc:
        _fail(exc)
    ev = tl.select(b.events, since=parse_when(since), until=parse_when(until), sources=source, levels=level)
    if format is TimelineFormat.parquet and output is None:
        _fail(LogscanError("--format parquet needs --output FILE"))
    tl.write(ev, b, format.value, output, limit=limit)


class ScanFormat(str, Enum):
    table = "table"
    json = "json"
    markdown = "markdown"
    html = "html"


@app.command()
def scan(
    path: Annotated[Path, typer.Argument(help="Bundle: folder, .zip or .tar.gz")],
    format: Annotated[ScanFormat, typer.Option("--format", "-f", help="Report format")] = ScanFormat.table,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the report here")] = None,
    error_code: Annotated[str | None, typer.Option("--error-code", help="The backup job's error code")] = None,
    at: Annotated[str | None, typer.Option("--at", help="When the backup job failed (ISO 8601, UTC)")] = None,
) -> None:
    """Name the most likely cause(s) of the backup failure, with evidence and the fix."""
    from .. import load
    from ..diagnosis import diagnose

    when = parse_when(at)
    try:
        report = diagnose(load(path), error_code=error_code, at=when)
    except LookupError as exc:
        _fail(LogscanError(str(exc).strip("'\"")))
    except LogscanError as exc:
        _fail(exc)
    write_reports([report], format.value, output)


def write_reports(reports: list, fmt: str, output: Path | None) -> None:
    """Render diagnosis reports in ``fmt`` to ``output`` (or the terminal)."""
    from rich.console import Console

    if fmt == "table":
        from ..reports import table

        if output:
            with open(output, "w", encoding="utf-8") as fh:
                table.render(reports, Console(file=fh, width=160))
        else:
            table.render(reports, Console())
        return
    if fmt == "json":
        from ..reports import json_report

        text = json_report.render(reports)
    elif fmt == "markdown":
        from ..reports import markdown

        text = markdown.render(reports)
    else:
        from ..reports import html

        text = html.render(reports)
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


@app.command()
def explain(
    term: Annotated[str, typer.Argument(help="A backup error code (any case) or a cause id")],
) -> None:
    """What an error code or cause means: candidate causes, evidence, remediation."""
    from rich.console import Console

    from ..knowledge.explain import UnknownTerm, render_explain

    try:
        renderable = render_explain(term)
    except UnknownTerm as exc:
        typer.echo(f"logscan: {exc}", err=True)
        raise typer.Exit(2) from None
    Console().print(renderable)


from .batch import batch_command  # noqa: E402  (the batch command lives in its own module)

app.command("batch")(batch_command)


def main() -> None:
    try:
        app()
    except BrokenPipeError:  # `logscan timeline ... | head`
        sys.stderr.close()


__all__ = ["app", "main", "parse_when", "pl"]
