"""A batch run: inputs → tasks → an executor → the store, with progress and interruption."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .inputs import expand_inputs, make_tasks
from .local import run_local
from .progress import _Progress
from .store import Store, _atomic_text
from .worker import ScanFn, scan_bundle


@dataclass
class BatchRun:
    """What a run did: the summary, and how many bundles were scanned/skipped."""

    out: Path
    summary: dict
    scanned: int
    skipped: int
    interrupted: bool = False


def run_batch(
    inputs: Sequence[str],
    out: str | os.PathLike,
    *,
    jobs: int | None = None,
    timeout: float | None = 300.0,
    force: bool = False,
    events: bool = False,
    executor: str = "local",
    scheduler: str | None = None,
    error_code: str | None = None,
    at: datetime | None = None,
    progress: bool = True,
    progress_every: float = 10.0,
    merge_every: float = 30.0,
    _scan: ScanFn = scan_bundle,
) -> BatchRun:
    """Scan every bundle of ``inputs`` into ``out`` (see the module docstring).

    ``_scan`` replaces the per-bundle function; it exists for tests (a worker that hangs or
    is killed on a given bundle) and must be a picklable module-level function.
    """
    if error_code:
        from ..knowledge import load_knowledge

        if load_knowledge().code(error_code) is None:
            from ..errors import LogscanError

            raise LogscanError(f"unknown error code {error_code!r} (see `logscan explain`)")
    store = Store(out)
    paths = expand_inputs(inputs)
    tasks = make_tasks(
        paths,
        error_code=error_code,
        at=at,
        events_dir=str(Path(out).resolve() / "events") if events else None,
    )
    keys = [t.key for t in tasks]
    done = store.done()
    if force:
        for t in tasks:
            if t.key in done:
                store.forget(t.key)
        done = set()
    todo = [t for t in tasks if t.key not in done]
    skipped = len(tasks) - len(todo)
    options = {"error_code": error_code, "at": at.isoformat() if at else None, "events": events}
    jobs = jobs or _default_jobs()
    if executor == "local":
        results = run_local(todo, jobs=jobs, timeout=timeout, scan=_scan)
    elif executor == "dask":
        from .dask import run_dask

        results = run_dask(todo, scheduler=scheduler, jobs=jobs, timeout=timeout, scan=_scan)
    else:
        from ..errors import LogscanError

        raise LogscanError(f"unknown executor {executor!r} (local or dask)")

    bar = _Progress(len(tasks), skipped, every=progress_every, enabled=progress)
    scanned = 0
    interrupted = False
    last_merge = time.monotonic()
    merge_cost = 0.0
    try:
        for res in results:
            store.write(res)
            scanned += 1
            bar.advance(res)
            # Keep the fleet files fresh, but never spend more than ~10% of the time merging.
            if time.monotonic() - last_merge > max(merge_every, 10 * merge_cost):
                t0 = time.monotonic()
                store.merge(keys, options)
                last_merge = time.monotonic()
                merge_cost = last_merge - t0
    except KeyboardInterrupt:
        interrupted = True
    finally:
        if hasattr(results, "close"):
            results.close()
        bar.close()
        summary = store.merge(keys, options)
        _write_fleet_html(Path(out))
    return BatchRun(Path(out), summary, scanned, skipped, interrupted)


def _write_fleet_html(out: Path) -> None:
    """summary.html: the fleet report. Written once at the end (chart rendering is slow to
    start); a failure here must never cost the Parquet/JSON outputs."""
    try:
        from ..reports.fleet_html import render_fleet
        from .read import read_batch

        _atomic_text(out / "summary.html", render_fleet(read_batch(out)))
    except Exception as exc:  # pragma: no cover - reported, not fatal
        print(f"logscan batch: summary.html not written: {type(exc).__name__}: {exc}", file=sys.stderr)


def _default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1
