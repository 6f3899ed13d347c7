"""``logscan redact``: a copy of the bundle with secrets (and, on request, identities) masked."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import LogscanError
from .common import fail


def redact_command(
    path: Annotated[Path, typer.Argument(help="Bundle: folder, .zip or .tar.gz (or what `scan` accepts)")],
    out: Annotated[Path, typer.Option("--out", "-o", metavar="CLEAN", help="Write the copy here: CLEAN.zip, or a new folder")],
    redact_identities: Annotated[
        bool, typer.Option("--redact-identities", help="Also replace host/user names, IPs, ids, storage accounts, e-mails")
    ] = False,
    identity_map: Annotated[
        Path | None, typer.Option("--identity-map", metavar="FILE", help="Write the pseudonym mapping here (keep it private)")
    ] = None,
) -> None:
    """Write a copy of the bundle safe to share: secrets masked, unsafe files left out and listed."""
    from ..sharing import redact_bundle

    if identity_map is not None and not redact_identities:
        fail(LogscanError("--identity-map needs --redact-identities"))
    try:
        res = redact_bundle(path, out, identities=redact_identities, identity_map=identity_map)
    except LogscanError as exc:
        fail(exc)
    typer.echo(f"{len(res.written)} files written to {res.out} ({len(res.evtx_exported)} .evtx re-exported as XML)")
    if res.skipped:
        typer.echo(f"{len(res.skipped)} left out (listed in the copy's REDACTED.md):")
        for name, why in res.skipped[:50]:
            typer.echo(f"  {name}: {why}")
    if redact_identities:
        where = f"; mapping in {res.identity_map} (keep it private)" if res.identity_map else "; no mapping written"
        typer.echo(f"{res.identities} identities pseudonymised{where}")
