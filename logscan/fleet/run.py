"""A batch run: inputs → tasks → an executor → the store, with progress and interruption."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .inputs import collect, make_tasks
from .local import run_local
from .progress import _Progress
from .schemas import RETRY_STATUSES
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
    skip_failed: bool = False,
    events: bool = False,
    executor: str = "local",
    scheduler: str | None = None,
    error_code: str | None = None,
    at: datetime | None = None,
    signature_dirs: Sequence[str] = (),
    fmt: str = "parquet",
    progress: bool = True,
    progress_every: float = 10.0,
    merge_every: float = 30.0,
    _scan: ScanFn = scan_bundle,
) -> BatchRun:
    """Scan every bundle of ``inputs`` into ``out`` (see :mod:`logscan.fleet.batch`).

    Bundles finished in an earlier run are skipped, except failed and timed-out ones, which
    are retried (a timeout may have been a busy machine) unless ``skip_failed``; ``force``
    rescans everything. ``_scan`` replaces the per-bundle function; it exists for tests (a
    worker that hangs or is killed on a given bundle) and must be a picklable module-level
    function.
    """
    from ..errors import LogscanError

    paths, per_bundle = collect(inputs)
    tasks = make_tasks(
        paths,
        error_code=error_code,
        at=at,
        events_dir=str(Path(out).resolve() / "events") if events else None,
        jobs=per_bundle,
        signature_dirs=[str(Path(d).resolve()) for d in signature_dirs],
    )
    _check_codes({t.error_code for t in tasks if t.error_code})
    if signature_dirs:
        from ..rules.signatures import PACKAGE_DIR, load_signatures

        load_signatures([PACKAGE_DIR, *signature_dirs])  # validate once here: one clear error
    if executor not in ("local", "dask"):
        raise LogscanError(f"unknown executor {executor!r} (local or dask)")
    store = Store(out)
    keys = [t.key for t in tasks]
    finished = store.statuses()
    redo = {k for k, st in finished.items() if force or (st in RETRY_STATUSES and not skip_failed)}
    for k in redo & set(keys):
        store.forget(k)
    todo = [t for t in tasks if t.key not in finished or t.key in redo]
    skipped = len(tasks) - len(todo)
    options = {"error_code": error_code, "at": at.isoformat() if at else None, "events": events}
    if per_bundle:
        options["jobs_file"] = True
    if signature_dirs:
        options["signatures"] = [str(d) for d in signature_dirs]
    jobs = jobs or _default_jobs()
    if executor == "local":
        results = run_local(todo, jobs=jobs, timeout=timeout, scan=_scan)
    else:
        from .dask import run_dask

        results = run_dask(todo, scheduler=scheduler, jobs=jobs, timeout=timeout, scan=_scan)

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
                store.merge(keys, options, fmt=fmt)
                last_merge = time.monotonic()
                merge_cost = last_merge - t0
    except KeyboardInterrupt:
        interrupted = True
    finally:
        if hasattr(results, "close"):
            results.close()
        bar.close()
        summary = store.merge(keys, options, fmt=fmt)
        _write_fleet_html(Path(out))
    return BatchRun(Path(out), summary, scanned, skipped, interrupted)


def _check_codes(codes: set[str]) -> None:
    """Every error code given must be one the knowledge base knows (a typo is a usage error)."""
    if not codes:
        return
    from ..errors import LogscanError
    from ..knowledge import load_knowledge

    kb = load_knowledge()
    unknown = sorted(c for c in codes if kb.code(c) is None)
    if unknown:
        raise LogscanError(f"unknown error code(s) {', '.join(map(repr, unknown))} (see `logscan explain`)")


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
