"""The ``logscan`` command line: one module per command, registered here.

Each command parses its options, calls the library and picks a report; no diagnosis logic
lives in this package. Imports run one way: ``cli`` → library, never back.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from .batch import batch_command
from .collect import collect_command
from .common import EXIT_INTERRUPTED, parse_when, version_callback
from .explain import explain
from .redact import redact_command
from .scan import scan
from .signatures import app as signatures_app
from .timeline import timeline

INTERRUPTED = "logscan: interrupted"
#: click's usage-error base class, from the click typer runs on (recent typer vendors its own).
ClickException: type[Exception] = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


class _Commands(TyperGroup):
    """The root group: Ctrl-C inside any command is one line and exit 130.

    What click and typer do with a ``KeyboardInterrupt`` varies by version ("Aborted!" and exit
    1, or a silent 130); caught here, around every command, it is the same everywhere. A
    command with its own handling (``batch`` saves what finished) exits 130 itself.
    """

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            typer.echo(INTERRUPTED, err=True)
            raise typer.Exit(EXIT_INTERRUPTED) from None


app = typer.Typer(
    cls=_Commands,
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
    """The ``logscan`` entry point: exit codes are decided here, not by click's standalone mode
    (which prints "Aborted!" and exits 1 on an interrupt outside a command, or on EOF)."""
    try:
        code = app(standalone_mode=False)
    except BrokenPipeError:  # `logscan timeline ... | head`
        sys.stderr.close()
        code = 0
    except (KeyboardInterrupt, typer.Abort):  # Ctrl-C outside a command: no traceback
        typer.echo(INTERRUPTED, err=True)
        code = EXIT_INTERRUPTED
    except ClickException as exc:  # usage errors, shown as typer shows them
        _show_usage_error(exc)
        code = getattr(exc, "exit_code", 2)
    sys.exit(code if isinstance(code, int) else 0)


def _show_usage_error(exc: Exception) -> None:
    try:
        from typer import rich_utils

        rich_utils.rich_format_error(exc)
    except ImportError:  # pragma: no cover - typer without rich
        exc.show()  # type: ignore[attr-defined]


__all__ = ["app", "main", "parse_when"]
