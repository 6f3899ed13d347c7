"""``logscan signatures list|test``: what the signature set holds, and whether it passes its tests."""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import SignatureError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="The signature set: list it, run every signature's own examples.",
)

PathsArg = Annotated[
    list[Path] | None,
    typer.Argument(help="Signature files or folders (default: the built-in set)", show_default=False),
]


def _load(paths: list[Path] | None):
    from ..rules.signatures import load_signatures

    return load_signatures(paths or None)


class ListFormat(str, Enum):
    table = "table"
    json = "json"


@app.command("list")
def list_signatures(
    paths: PathsArg = None,
    format: Annotated[ListFormat, typer.Option("--format", "-f", help="A table, or JSON with every field")] = ListFormat.table,
) -> None:
    """Every signature: id, level, title, and the causes it points to (JSON adds sources, codes, file)."""
    try:
        sigs = _load(paths)
    except SignatureError as exc:
        typer.echo(f"logscan: {exc}", err=True)
        raise typer.Exit(2) from None
    if format is ListFormat.json:
        sys.stdout.write(json.dumps([signature_row(s) for s in sigs], indent=1, ensure_ascii=False) + "\n")
        return
    from rich.console import Console

    console = Console()
    console.print(signature_table(sigs))
    console.print(f"{len(sigs)} signature(s); --format json for sources, error codes and files", style="dim")


def signature_row(s) -> dict:
    """One signature as JSON: what the table shows and what it leaves out."""
    return {
        "id": s.id,
        "title": s.title,
        "level": s.level,
        "status": s.status,
        "causes": list(s.causes),
        "sources": list(s.sources) if s.sources else None,  # null: every source
        "error_codes": list(s.error_codes),
        "tags": list(s.tags),
        "examples": len(s.tests),
        "file": s.path,
        "line": s.line,
    }


def signature_table(sigs) -> Any:
    """Three columns that fit 100 characters: ids never wrap (they are what people copy), the
    title wraps between words, and under it, dimmed, the causes and any status but stable."""
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, header_style="bold", pad_edge=False, expand=False)
    table.add_column("id", no_wrap=True)
    table.add_column("level", no_wrap=True)
    table.add_column("title → causes", overflow="fold", min_width=30)
    for s in sigs:
        cell = Text(s.title)
        detail = "→ " + ", ".join(s.causes) + ("" if s.status == "stable" else f"  [{s.status}]")
        cell.append("\n" + detail, style="dim")
        table.add_row(s.id, LEVEL_SHORT.get(s.level, s.level), cell)
    return table


#: Level names short enough for a narrow column.
LEVEL_SHORT = {"informational": "info"}


@app.command("test")
def test_signatures(paths: PathsArg = None) -> None:
    """Run every signature's match/nomatch examples; exit 1 on any failure."""
    from ..rules.signatures import run_tests

    try:
        sigs = _load(paths)
    except SignatureError as exc:
        typer.echo(f"FAIL {exc}", err=True)
        raise typer.Exit(1) from None
    failed = 0
    examples = 0
    for s in sigs:
        examples += len(s.tests)
        failures = run_tests(s)
        if failures:
            failed += 1
            for f in failures:
                typer.echo(f"FAIL {f}")
    typer.echo(f"{len(sigs)} signature(s), {examples} example(s): {len(sigs) - failed} passed, {failed} failed")
    if failed:
        raise typer.Exit(1)
