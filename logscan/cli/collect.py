"""``logscan collect``: gather the VM's logs, state and checks into a bundle ``scan`` reads."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from .common import fail

MB = 1024**2


def collect_command(
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Bundle to write (.tar.gz)")] = None,
    root: Annotated[Path, typer.Option("--root", help="Collect from this folder as if it were / (a mounted disk, a test tree)")] = Path("/"),
    no_commands: Annotated[bool, typer.Option("--no-commands", help="Files only: run no command and no connect test")] = False,
    since: Annotated[str, typer.Option("--since", help="How far back journalctl reads")] = "7 days ago",
    max_file_mb: Annotated[int, typer.Option("--max-file-mb", help="Per file; bigger logs keep their last part")] = 64,
    max_total_mb: Annotated[int, typer.Option("--max-total-mb", help="All files together")] = 512,
    windows_script: Annotated[
        Path | None, typer.Option("--windows-script", help="Write the PowerShell collector for Windows VMs here and stop")
    ] = None,
) -> None:
    """Collect, read-only, what an agent bundle lacks: logs, service and network state, checks."""
    from ..collect import FileLimits, Options, collect_to_file

    if windows_script is not None:
        from ..collect.windows import write_script

        p = write_script(windows_script)
        typer.echo(f"wrote {p}; on the VM run, elevated: powershell -ExecutionPolicy Bypass -File {p.name} -Out C:\\Temp\\vm.zip")
        return
    if out is None:
        fail("--out BUNDLE.tar.gz is required (or --windows-script FILE)")
    if not root.is_dir():
        fail(f"--root {root}: not a folder")
    if sys.platform.startswith("win") and str(root) in ("/", "\\"):
        fail("on Windows use `logscan collect --windows-script FILE` and run that script on the VM")
    if max_file_mb <= 0 or max_total_mb <= 0:
        fail("--max-file-mb and --max-total-mb must be positive")
    limits = FileLimits(max_file_bytes=max_file_mb * MB, max_total_bytes=max_total_mb * MB)
    opts = Options(root=root, commands=not no_commands, since=since, limits=limits)
    try:
        manifest = collect_to_file(out, opts)
    except OSError as exc:
        fail(f"{out}: {exc.strerror or exc}")
    for line in summary(manifest):
        typer.echo(line, err=True)
    typer.echo(str(out))


def summary(m: dict) -> list[str]:
    """A few lines on stderr: what was collected and what is missing, without opening the tar."""
    lines = [f"collected {len(m['files'])} files and {len(m['commands'])} command outputs from {m['root']}"]
    agent = m.get("probes", {}).get("agent", {})
    if agent and not any(agent.values()):
        lines.append("agent: not installed (no waagent program, service unit or /var/lib/waagent)")
    for c in m["commands"]:
        if c.get("kind") == "connect":
            lines.append(f"connect {c['host']}:{c['port']} {c['result']}")
    missing = [" ".join(c["argv"]) for c in m["commands"] if c["status"] == "missing"]
    if missing:
        lines.append("not installed here: " + ", ".join(missing))
    if m["not_collected"]:
        lines.append(f"could not collect {len(m['not_collected'])} (see sos_commands/logscan/manifest.json):")
        lines += [f"  {n['path']}: {n['reason']}" for n in m["not_collected"][:10]]
    return lines
