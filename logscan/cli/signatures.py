"""``logscan signatures list|test``: what the signature set holds, and whether it passes its tests."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

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


@app.command("list")
def list_signatures(paths: PathsArg = None) -> None:
    """One line per signature: id, level, status, sources, causes, title."""
    try:
        sigs = _load(paths)
    except SignatureError as exc:
        typer.echo(f"logscan: {exc}", err=True)
        raise typer.Exit(2) from None
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, header_style="bold")
    table.add_column("id", no_wrap=True)
    for col in ("level", "status", "sources", "causes", "title"):
        table.add_column(col, overflow="fold")
    for s in sigs:
        table.add_row(s.id, s.level, s.status, ", ".join(s.sources or ("all",)), ", ".join(s.causes), s.title)
    console = Console()
    console.print(table)
    console.print(f"{len(sigs)} signature(s)", style="dim")


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
