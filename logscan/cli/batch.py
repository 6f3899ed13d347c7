"""``logscan batch``: the CLI face of :mod:`logscan.batch` (options in, one call, a table out).

Kept in its own module and registered on the main app with one line, so the batch command can
grow without touching ``cli.py``.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import polars as pl
import typer

from .common import EXIT_INTERRUPTED, FailOn, captured_warnings, fail, parse_when
from .common import fail_on as fail_on_code


class TableFormat(str, Enum):
    parquet = "parquet"
    csv = "csv"


class Executor(str, Enum):
    local = "local"
    dask = "dask"


def batch_command(
    inputs: Annotated[
        list[str],
        typer.Argument(
            metavar="INPUT...",
            help="Folder of bundles (each sub-folder, .zip, .tar.gz, .tar.xz is one VM), bundle paths, globs, fsspec URLs, "
            "or a jobs file (.csv/.parquet with bundle,error_code,at: each VM's own code and failure time)",
        ),
    ],
    out: Annotated[Path, typer.Option("--out", metavar="DIR", help="Output folder (Parquet files + summary)")],
    jobs: Annotated[int | None, typer.Option("--jobs", metavar="N", min=1, help="Bundles in parallel [default: all cores]")] = None,
    timeout_per_bundle: Annotated[
        float, typer.Option("--timeout-per-bundle", metavar="SECONDS", min=0, help="Stop a bundle's worker after this long (0 = never)")
    ] = 300.0,
    force: Annotated[bool, typer.Option("--force", help="Rescan bundles already finished in DIR")] = False,
    skip_failed: Annotated[
        bool, typer.Option("--skip-failed", help="Do not retry bundles that failed or timed out in an earlier run")
    ] = False,
    table_format: Annotated[
        TableFormat, typer.Option("--format", "-f", help="Also write the tables as CSV (Parquet is always written)")
    ] = TableFormat.parquet,
    signatures: Annotated[
        list[Path] | None, typer.Option("--signatures", metavar="DIR", help="Add a team's own signature files (repeatable)")
    ] = None,
    fail_on: Annotated[
        FailOn | None, typer.Option("--fail-on", help="Exit 1 when any VM has a finding of this confidence or stronger")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress and no summary table (errors only)")] = False,
    events: Annotated[bool, typer.Option("--events", help="Also keep every VM's events under DIR/events/vm=<name>/")] = False,
    executor: Annotated[Executor, typer.Option("--executor", help="local processes, or a Dask cluster")] = Executor.local,
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", metavar="ADDRESS", help="Dask scheduler (default: start a local cluster)")
    ] = None,
    error_code: Annotated[str | None, typer.Option("--error-code", help="The backup jobs' error code (every bundle)")] = None,
    at: Annotated[str | None, typer.Option("--at", help="When the backup jobs failed (ISO 8601, UTC; every bundle)")] = None,
) -> None:
    """Scan a fleet of bundles in parallel: what is wrong across the fleet, and on which VMs."""
    from rich.console import Console

    from ..errors import LogscanError
    from ..fleet.run import run_batch

    if scheduler and executor is not Executor.dask:
        fail("--scheduler needs --executor dask")
    when = parse_when(at)
    notes: list[str] = []
    try:
        with captured_warnings(notes):
            run = run_batch(
            inputs,
            out,
            jobs=jobs,
            timeout=timeout_per_bundle or None,
            force=force,
            events=events,
            executor=executor.value,
            scheduler=scheduler,
                error_code=error_code,
                at=when,
                skip_failed=skip_failed,
                fmt=table_format.value,
                signature_dirs=[str(d) for d in signatures or ()],
                progress=not quiet,
            )
    except LogscanError as exc:
        fail(exc)
    console = Console(stderr=True) if quiet else Console()
    if not quiet:
        render_summary(run.summary, console)
        console.print(
            f"{run.scanned} scanned, {run.skipped} already done (use --force to rescan). Outputs in {run.out}/",
            style="dim",
        )
    if run.interrupted:
        not_done = run.summary.get("not_done", 0)
        typer.echo(
            f"logscan: interrupted: {not_done} bundle(s) not done; the finished ones are saved; "
            "run the same command to continue.",
            err=True,
        )
        raise typer.Exit(EXIT_INTERRUPTED)
    if fail_on is not None:
        from ..fleet.read import read_batch

        findings = read_batch(run.out).findings.filter(pl.col("status") == "evidence").to_dicts()
        raise typer.Exit(fail_on_code(findings, fail_on))


def render_summary(s: dict, console) -> None:
    """The fleet summary table printed at the end of a run."""
    from rich.table import Table

    st = s["status"]
    not_done = s.get("not_done") or 0
    console.print(
        f"[bold]{s['vms'] + not_done} VMs[/]: {st['ok']} scanned, [red]{st['failed']} failed[/], "
        f"[yellow]{st['timed-out']} timed out[/]" + (f", [yellow]{not_done} not done[/]" if not_done else "")
        + f"; {s['healthy']} with no known cause"
    )
    t = Table(title="Causes by number of VMs", title_justify="left")
    t.add_column("cause", style="magenta", overflow="fold")
    t.add_column("title")
    t.add_column("VMs (top)", justify="right")
    t.add_column("VMs (any)", justify="right")
    t.add_column("e.g.", style="dim", overflow="fold")
    for c in s["causes"][:20]:
        t.add_row(c["cause"], c["title"] or "", str(c["vms_top"]), str(c["vms_any"]), ", ".join(c["vm_list"][:3]))
    console.print(t)
    for tp in s.get("time_patterns") or []:
        console.print(
            f"[bold yellow]{tp['vms']} of {tp['of']} VMs[/] failed with [magenta]{tp['cause']}[/] between "
            f"{tp['start']} and {tp['end']}: a platform or network event is more likely than {tp['vms']} guest faults."
        )
    if s["failed"]:
        f = Table(title="VMs that could not be scanned", title_justify="left")
        f.add_column("VM")
        f.add_column("status")
        f.add_column("reason", overflow="fold")
        for r in s["failed"][:15]:
            f.add_row(r["vm"], r["status"], r["reason"] or "")
        console.print(f)
    if s["unexplained"]:
        u = Table(title="Most common unexplained error lines", title_justify="left")
        u.add_column("VMs", justify="right")
        u.add_column("lines", justify="right")
        u.add_column("template", overflow="fold")
        for r in s["unexplained"][:8]:
            u.add_row(str(r["vms"]), str(r["lines"]), r["template"][:200])
        console.print(u)
