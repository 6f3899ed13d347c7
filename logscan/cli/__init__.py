"""The ``logscan`` command line: one module per command, registered here.

Each command parses its options, calls the library and picks a report; no diagnosis logic
lives in this package. Imports run one way: ``cli`` → library, never back.
"""

from __future__ import annotations

import sys

import typer

from .batch import batch_command
from .collect import collect_command
from .common import parse_when
from .explain import explain
from .scan import scan
from .signatures import app as signatures_app
from .timeline import timeline

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Find why Azure Backup failed, from the log bundles collected on Azure VMs.",
    rich_markup_mode="rich",
)


@app.callback()
def _root() -> None:
    """Find why Azure Backup failed, from the log bundles collected on Azure VMs."""


app.command()(timeline)
app.command()(scan)
app.command()(explain)
app.command("batch")(batch_command)
app.command("collect")(collect_command)
app.add_typer(signatures_app, name="signatures")


def main() -> None:
    try:
        app()
    except BrokenPipeError:  # `logscan timeline ... | head`
        sys.stderr.close()


__all__ = ["app", "main", "parse_when"]
