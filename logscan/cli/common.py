"""What every command shares: time parsing, output resolution, exit codes, warnings capture.

Exit codes (README, "Use"): 0 ran; 1 ran and ``--fail-on`` matched a finding; 2 usage or
input error (one line on stderr, no traceback); 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import contextlib
import sys
import warnings
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta, timezone
from enum import Enum
from pathlib import Path
from typing import IO, Any

import typer

EXIT_OK = 0
EXIT_FOUND = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

#: Output formats implied by a file extension when ``--format`` is not given.
EXTENSIONS = {
    ".json": "json",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".csv": "csv",
    ".ndjson": "ndjson",
    ".parquet": "parquet",
    ".txt": "table",
}

#: Confidence levels, strongest first; ``--fail-on X`` fires for X or anything stronger.
CONFIDENCE_ORDER = ("confirmed", "likely", "possible")


class FailOn(str, Enum):
    confirmed = "confirmed"
    likely = "likely"
    possible = "possible"


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


def parse_duration(value: str) -> timedelta:
    """``30m``, ``2h``, ``90s``, ``1d`` (a bare number is minutes)."""
    v = value.strip().lower()
    units = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
    try:
        if v and v[-1] in units:
            return timedelta(**{units[v[-1]]: float(v[:-1])})
        return timedelta(minutes=float(v))
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a duration (e.g. 30m, 2h, 90s)") from None


def fail(exc: Exception | str) -> None:
    """One line on stderr saying what went wrong, exit 2 (a usage or input error)."""
    typer.echo(f"logscan: {exc}", err=True)
    raise typer.Exit(EXIT_USAGE)


def resolve_output(output: Path | None, fmt: str | None, *, default: str, allowed: Iterable[str]) -> tuple[str, Path | None]:
    """The format and destination: ``-f`` wins, else the output file's extension, else ``default``.

    ``-o -`` (or no ``-o``) is standard output (returned as None). A format the command cannot
    write, or an output folder that does not exist, is a usage error raised here, before any
    work, with one line saying how to fix it.
    """
    allowed = tuple(allowed)
    dest = None if output is None or str(output) == "-" else Path(output)
    if fmt is None:
        fmt = EXTENSIONS.get(dest.suffix.lower(), default) if dest is not None else default
        if fmt not in allowed:
            fmt = default
    if fmt not in allowed:
        fail(f"--format {fmt} is not one of {', '.join(allowed)}")
    if dest is not None:
        if dest.is_dir():
            fail(f"{dest}: is a folder; give a file name (or -o - for standard output)")
        if not dest.parent.exists():
            fail(f"{dest.parent}: no such folder for --output; create it first (or use -o - for standard output)")
    return fmt, dest


@contextlib.contextmanager
def open_output(dest: Path | None, *, binary: bool = False) -> Iterator[IO]:
    """A stream for ``dest`` (None: standard output), written in full or not at all: a
    failure while rendering leaves no half-written file behind."""
    if dest is None:
        yield sys.stdout.buffer if binary else sys.stdout
        return
    tmp = dest.with_name(f".{dest.name}.tmp")
    try:
        with open(tmp, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8"})) as fh:
            yield fh
        tmp.replace(dest)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        fail(f"{dest}: cannot write ({exc.strerror or exc})")
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def finding_matches(finding, level: str) -> bool:
    """Whether one finding (dict or object) is at ``level`` confidence or stronger.

    Reads ``confidence`` where diagnosis states it; a finding without one never matches
    (nothing is derived from scores here).
    """
    get: Callable = finding.get if isinstance(finding, dict) else (lambda k, d=None: getattr(finding, k, d))
    conf = get("confidence")
    if conf is None:
        return False
    conf = getattr(conf, "value", conf)
    if conf not in CONFIDENCE_ORDER:
        return False
    return CONFIDENCE_ORDER.index(conf) <= CONFIDENCE_ORDER.index(level)


def fail_on(findings: Iterable, level: FailOn | str | None) -> int:
    """Exit code for ``--fail-on``: 1 when any finding reaches ``level``, else 0."""
    if level is None:
        return EXIT_OK
    lv = getattr(level, "value", level)
    return EXIT_FOUND if any(finding_matches(f, lv) for f in findings) else EXIT_OK


@contextlib.contextmanager
def captured_warnings(notes: list[str] | None = None) -> Iterator[list[str]]:
    """Library warnings never reach the terminal: they are collected as one-line notes (the
    caller shows them as ingest notes, or drops them with ``--quiet``)."""
    out = notes if notes is not None else []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield out
        finally:
            out.extend(f"{w.category.__name__}: {w.message}" for w in caught)


def version_callback(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            v = version("logscan")
        except PackageNotFoundError:  # pragma: no cover - a source tree without metadata
            v = "unknown"
        typer.echo(f"logscan {v}")
        raise typer.Exit(EXIT_OK)


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
