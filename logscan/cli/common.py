"""What every command shares: time parsing and the one way to fail with a usage error."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import typer


def parse_when(value: str | None) -> datetime | None:
    """ISO 8601 date/time; no zone means UTC (bundles are analysed in UTC throughout)."""
    if value is None:
        return None
    v = value.strip().replace(" ", "T", 1)
    if v.endswith("Z"):
        v = v[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(v)
    except ValueError as exc:
        raise typer.BadParameter(f"{value!r} is not an ISO 8601 time (e.g. 2024-05-30T13:15:00Z)") from exc
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)


def fail(exc: Exception | str) -> None:
    """One line on stderr saying what went wrong, exit 2 (a usage or input error)."""
    typer.echo(f"logscan: {exc}", err=True)
    raise typer.Exit(2)


def identities_applied(bundle: Any, redact_identities: bool, identity_map: Path | None) -> Any:
    """``--redact-identities``: the loaded bundle with names, IPs and ids pseudonymised, and the
    mapping written to ``--identity-map`` (only there). Without the flag, the bundle as is."""
    if identity_map is not None and not redact_identities:
        fail("--identity-map needs --redact-identities")
    if not redact_identities:
        return bundle
    from ..io.identities import Pseudonymizer

    pz = Pseudonymizer()
    out = pz.loaded(bundle)
    if identity_map is not None:
        pz.write_map(identity_map)
    return out
