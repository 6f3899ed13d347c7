"""The ``logscan`` command line: one module per command, registered here.

Each command parses its options, calls the library and picks a report; no diagnosis logic
lives in this package. Imports run one way: ``cli`` → library, never back.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from .batch import batch_command
from .collect import collect_command
from .common import EXIT_INTERRUPTED, parse_when, version_callback
from .explain import explain
from .redact import redact_command
from .scan import scan
from .signatures import app as signatures_app
from .timeline import timeline

app = typer.Typer(
    add_completion=True,  # --install-completion / --show-completion, from typer
    context_settings={"help_option_names": ["-h", "--help"]},
    no_args_is_help=True,
    help="Find why Azure Backup failed, from the log bundles collected on Azure VMs.",
    rich_markup_mode="rich",
)


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", "-V", callback=version_callback, is_eager=True, help="Print the version and exit")
    ] = False,
) -> None:
    """Find why Azure Backup failed, from the log bundles collected on Azure VMs.

    Exit codes: 0 ran, 1 ran and --fail-on matched, 2 usage or input error, 130 interrupted.
    """


app.command()(timeline)
app.command()(scan)
app.command()(explain)
app.command("batch")(batch_command)
app.command("redact")(redact_command)
app.command("collect")(collect_command)
app.add_typer(signatures_app, name="signatures")


def main() -> None:
    try:
        app()
    except BrokenPipeError:  # `logscan timeline ... | head`
        sys.stderr.close()
    except KeyboardInterrupt:  # Ctrl-C outside a command's own handling: no traceback
        typer.echo("logscan: interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)


__all__ = ["app", "main", "parse_when"]
