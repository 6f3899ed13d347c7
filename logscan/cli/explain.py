"""``logscan explain``: what an error code or a cause means."""

from __future__ import annotations

from typing import Annotated

import typer


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
