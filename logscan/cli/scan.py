"""``logscan scan``: one bundle in, the ranked causes with evidence and the fix out."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from ..errors import LogscanError
from .common import fail, parse_when


class ScanFormat(str, Enum):
    table = "table"
    json = "json"
    markdown = "markdown"
    html = "html"


def scan(
    path: Annotated[str, typer.Argument(help="Bundle folder, archive, single log file, or - for standard input")],
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
        fail(LogscanError(str(exc).strip("'\"")))
    except LogscanError as exc:
        fail(exc)
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
