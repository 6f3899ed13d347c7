"""``logscan scan``: one bundle in, the ranked causes with evidence and the fix out."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from ..errors import LogscanError
from .common import FailOn, captured_warnings, fail, fail_on, identities_applied, parse_when, resolve_output


class ScanFormat(str, Enum):
    table = "table"
    json = "json"
    markdown = "markdown"
    html = "html"


def scan(
    path: Annotated[str | None, typer.Argument(help="Bundle folder, archive, single log file, or - for standard input")] = None,
    format: Annotated[ScanFormat | None, typer.Option("--format", "-f", help="Report format [default: from -o's extension, else table]")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the report here (- for standard output)")] = None,
    error_code: Annotated[str | None, typer.Option("--error-code", help="The backup job's error code")] = None,
    at: Annotated[str | None, typer.Option("--at", help="When the backup job failed (ISO 8601, UTC)")] = None,
    signatures: Annotated[list[Path] | None, typer.Option("--signatures", metavar="DIR", help="Add a team's own signature files")] = None,
    fail_on_level: Annotated[FailOn | None, typer.Option("--fail-on", help="Exit 1 on a finding of this confidence or stronger")] = None,
    redact_identities: Annotated[bool, typer.Option("--redact-identities", help="Pseudonymise names, IPs, ids, e-mails")] = False,
    identity_map: Annotated[Path | None, typer.Option("--identity-map", metavar="FILE", help="Write the pseudonym mapping here")] = None,
    live: Annotated[bool, typer.Option("--live", help="Collect this VM in memory (as `collect` does) and scan that")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No notes on stderr (the report is unchanged)")] = False,
    full_parse: Annotated[bool, typer.Option("--full-parse", help="Parse every record of big logs (the findings are the same)")] = False,
) -> None:
    """Name the most likely cause(s) of the backup failure, with evidence and the fix."""
    from .. import load
    from ..diagnosis import diagnose

    fmt, output = resolve_output(output, format.value if format else None, default="table", allowed=[f.value for f in ScanFormat])
    when = parse_when(at)
    if live == (path is not None):
        fail("give a BUNDLE to scan, or --live to scan this VM (not both)")
    notes: list[str] = []
    with captured_warnings(notes):  # library warnings become one-line notes, not tracebacks
        try:
            sigs = None
            if signatures:
                from ..rules.signatures import PACKAGE_DIR, load_signatures

                sigs = load_signatures([PACKAGE_DIR, *signatures])
            if live:
                from ..collect.live import load_live

                bundle = load_live()
            else:
                from ..rules.grep import grep_plan

                # The HTML chart counts every event, so it needs the full parse.
                bundle = load(path, grep=None if full_parse or fmt == "html" else grep_plan(sigs))
            bundle = identities_applied(bundle, redact_identities, identity_map)
            report = diagnose(bundle, error_code=error_code, at=when, signatures=sigs)
        except LookupError as exc:
            fail(LogscanError(str(exc).strip("'\"")))
        except LogscanError as exc:
            fail(exc)
    for note in [] if quiet else notes:
        typer.echo(f"logscan: note: {note}", err=True)
    write_reports([report], fmt, output)
    raise typer.Exit(fail_on(report.as_dict().get("findings") or [], fail_on_level))


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
