"""Scan a fleet of bundles: ``logscan batch INPUT... --out DIR``.

Why it is built this way:

* **One bundle, one unit of work.** :func:`scan_bundle` loads and diagnoses one bundle and
  returns a small picklable :class:`BundleResult` (a VM row, finding rows, ingest-error rows
  and the VM's *unexplained* ERROR/WARNING lines, deduplicated). The events frame never leaves
  the worker (with ``--events`` the worker writes it to ``DIR/events/vm=<name>/part.parquet``
  itself), so the parent's memory does not grow with the fleet.
* **A pool we can kill.** ``concurrent.futures.ProcessPoolExecutor`` cannot stop one hung
  task, so the local executor is a small pool of our own ``multiprocessing`` workers, each
  talking over its own pipe. A worker past ``--timeout-per-bundle`` is terminated and
  replaced (the bundle is recorded ``timed-out``); a worker that dies (OOM killer, a crash in
  native code, ``kill -9``) is replaced and its bundle recorded ``failed`` with the signal;
  workers are recycled every :data:`MAX_TASKS_PER_WORKER` bundles so a slow leak cannot
  accumulate. Workers are *spawned* (never forked from a parent holding polars threads).
* **Crash-safe outputs.** Each finished bundle is written at once as a small directory of
  Parquet parts under ``DIR/.parts/<vm>/``, made visible by an atomic rename, so a crash or
  Ctrl-C keeps everything finished, and a re-run skips those bundles unless ``--force``.
  The fleet files (``vms.parquet``, ``findings.parquet``, ``ingest_errors.parquet``,
  ``unexplained.parquet``, ``summary.md``, ``summary.json``) are rebuilt from the parts
  periodically, at the end and on interruption.
* **Dask** runs the very same :func:`scan_bundle` on a distributed cluster; the results come
  back to this process and go through the same writer, so the outputs are identical.

The *unexplained* lines are ERROR/WARNING events whose (file, line) no signature hit; the
fleet summary groups them into templates with Drain3 so new signatures can be written from
them.
"""

from __future__ import annotations

import contextlib
import glob as globmod
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from ..frames import INGEST_ERROR_SCHEMA

#: A worker process is replaced after this many bundles (bounds slow leaks/fragmentation).
MAX_TASKS_PER_WORKER = 100
#: At most this many distinct unexplained lines are kept per VM (most frequent first).
MAX_UNEXPLAINED_PER_VM = 200
#: Unexplained lines are cut to this many characters (first line of the record only).
UNEXPLAINED_TEXT_MAX = 400
#: Templates listed in the summary.
SUMMARY_TEMPLATES = 30
#: VM names listed per summary row.
SUMMARY_EXAMPLES = 10
#: Levels whose lines count as problems when no signature explains them.
PROBLEM_LEVELS = ("ERROR", "WARNING", "CRITICAL")

STATUS_OK = "ok"
STATUS_FAILED = "failed"
STATUS_TIMED_OUT = "timed-out"

PARTS = ".parts"
OUTPUT_FILES = ("vms.parquet", "findings.parquet", "ingest_errors.parquet", "unexplained.parquet")

EVIDENCE_STRUCT = pl.Struct(
    {
        "file": pl.String,
        "line": pl.Int64,
        "time": pl.String,
        "text": pl.String,
        "source": pl.String,
        "signature": pl.String,
    }
)

VM_SCHEMA: dict[str, pl.DataType] = {
    "vm": pl.String(),  # the bundle's unique name in this fleet (folder/archive name)
    "bundle": pl.String(),
    "path": pl.String(),
    "status": pl.String(),  # ok | failed | timed-out
    "reason": pl.String(),  # why it failed / timed out
    "vm_name": pl.String(),  # the name the files give (vm_name or hostname)
    "hostname": pl.String(),
    "vm_id": pl.String(),
    "platform": pl.String(),
    "top_cause": pl.String(),  # the rank-1 cause with evidence, or null
    "top_score": pl.Float64(),
    "healthy": pl.Boolean(),
    "verdict": pl.String(),
    "agent_version": pl.String(),
    "agent_versions": pl.List(pl.String),
    "os": pl.String(),
    "os_version": pl.String(),
    "n_findings": pl.Int64(),
    "n_events": pl.Int64(),
    "n_errors": pl.Int64(),
    "n_warnings": pl.Int64(),
    "n_ingest_errors": pl.Int64(),
    "n_unexplained": pl.Int64(),
    "first_event": pl.String(),
    "last_event": pl.String(),
    "bytes": pl.Int64(),
    "seconds": pl.Float64(),  # timing: differs between runs
}

FINDING_SCHEMA: dict[str, pl.DataType] = {
    "vm": pl.String(),
    "rank": pl.Int64(),  # 1-based; findings set aside by --error-code continue the numbering
    "cause": pl.String(),
    "title": pl.String(),
    "score": pl.Float64(),
    "status": pl.String(),  # evidence | check-in-portal
    "other": pl.Boolean(),  # outside the --error-code's candidate causes
    "error_codes": pl.List(pl.String),
    "signatures": pl.List(pl.String),
    "sources": pl.List(pl.String),
    "hits": pl.Int64(),
    "evidence": pl.List(EVIDENCE_STRUCT),
    "remediation": pl.String(),
    "doc": pl.String(),
}

VM_INGEST_ERROR_SCHEMA: dict[str, pl.DataType] = {"vm": pl.String(), **INGEST_ERROR_SCHEMA}

UNEXPLAINED_SCHEMA: dict[str, pl.DataType] = {
    "vm": pl.String(),
    "level": pl.String(),
    "source": pl.String(),
    "message": pl.String(),
    "count": pl.Int64(),
}

TIMING_COLUMNS = ("seconds",)


# --------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Task:
    """One bundle to scan. Everything a worker needs, and nothing large (it is pickled)."""

    key: str  # unique, file-name-safe id of the bundle in this fleet: the ``vm`` column
    path: str  # local path or fsspec URL
    error_code: str | None = None
    at: datetime | None = None
    events_dir: str | None = None  # write the events here (``--events``), else drop them


@dataclass
class BundleResult:
    """What a worker sends back: small rows only, never the events."""

    key: str
    path: str
    status: str
    reason: str | None = None
    vm: dict[str, Any] = field(default_factory=dict)
    findings: list[dict[str, Any]] = field(default_factory=list)
    ingest_errors: list[dict[str, Any]] = field(default_factory=list)
    unexplained: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0


_MAGIC = re.compile(r"[*?\[]")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_BUNDLE_SUFFIX = re.compile(r"\.(zip|tar\.gz|tgz|tar)$", re.IGNORECASE)
#: Top-level names that make a folder a bundle itself rather than a folder of bundles.
_BUNDLE_MARKERS = {"var", "etc", "waagent.log", "WindowsAzure", "Packages", "Plugins", "Logs"}


def is_url(path: str) -> bool:
    return bool(_URL.match(path)) and not path.startswith("file://")


def _strip_file_url(p: str) -> str:
    return p[len("file://") :] if p.startswith("file://") else p


def _looks_like_bundle(folder: Path) -> bool:
    try:
        names = {c.name for c in folder.iterdir()}
    except OSError:
        return False
    return bool(names & _BUNDLE_MARKERS)


#: Files beside the bundles that are plainly the folder's own documentation or tooling.
_NOT_BUNDLES = {".toml", ".py", ".md", ".sh", ".ipynb"}


def _children(folder: Path) -> list[str]:
    """A folder of bundles: every visible entry is one VM (non-bundles are recorded as failed).

    Hidden and ``_``-prefixed entries (``_src/``, ``.parts``) and the folder's own docs and
    scripts (``EXPECTED.toml``, ``build.py``, ``README.md``) are not VMs and are skipped.
    """
    return [
        str(c)
        for c in sorted(folder.iterdir())
        if not c.name.startswith((".", "_")) and not (c.is_file() and c.suffix.lower() in _NOT_BUNDLES)
    ]


def expand_inputs(inputs: Sequence[str]) -> list[str]:
    """Bundle paths from INPUT...: folders of bundles, bundles, globs and fsspec URLs.

    A folder is a folder of bundles (each sub-folder, archive or other file is one VM) unless
    it looks like a bundle itself (it holds ``var/``, ``etc/``, ``WindowsAzure/`` ...). A glob's
    matches are bundles. The order is kept and duplicates are dropped.
    """
    out: list[str] = []
    for raw in inputs:
        item = _strip_file_url(str(raw))
        if is_url(item):
            out.extend(_expand_url(item))
            continue
        if _MAGIC.search(item):
            out.extend(sorted(globmod.glob(item)))
            continue
        p = Path(item)
        if p.is_dir() and not _looks_like_bundle(p):
            out.extend(_children(p))
        else:
            out.append(str(p))
    seen: set[str] = set()
    uniq = []
    for p in out:
        if p not in seen:
            seen.add(p)
            uniq.append(p)
    return uniq


def _expand_url(url: str) -> list[str]:
    import fsspec

    fs, path = fsspec.core.url_to_fs(url)
    join = fs.unstrip_protocol
    if _MAGIC.search(path):
        return [join(p) for p in sorted(fs.glob(path))]
    if fs.isdir(path):
        names = {p.rstrip("/").rsplit("/", 1)[-1] for p in fs.ls(path, detail=False)}
        if names & _BUNDLE_MARKERS:
            return [url]
        return [join(p) for p in sorted(fs.ls(path, detail=False)) if not p.rstrip("/").rsplit("/", 1)[-1].startswith(".")]
    return [url]


def bundle_name(path: str) -> str:
    base = path.rstrip("/").replace("\\", "/").rsplit("/", 1)[-1]
    return _BUNDLE_SUFFIX.sub("", base) or base


def make_tasks(
    paths: Sequence[str],
    *,
    error_code: str | None = None,
    at: datetime | None = None,
    events_dir: str | None = None,
) -> list[Task]:
    """One task per bundle with a unique, file-name-safe key (``name``, ``name~2``, ...)."""
    used: Counter[str] = Counter()
    tasks = []
    for p in paths:
        base = re.sub(r"[^A-Za-z0-9._=+@-]+", "_", bundle_name(p)).lstrip(".") or "bundle"
        used[base] += 1
        key = base if used[base] == 1 else f"{base}~{used[base]}"
        tasks.append(Task(key=key, path=p, error_code=error_code, at=at, events_dir=events_dir))
    return tasks


# --------------------------------------------------------------------------------------
# The per-bundle work (runs in a worker process, local or Dask)
# --------------------------------------------------------------------------------------


def scan_bundle(task: Task) -> BundleResult:
    """Load and diagnose one bundle; never raises (a failure is a result with a reason)."""
    t0 = time.perf_counter()
    tmp: str | None = None
    try:
        path = task.path
        if is_url(path):
            tmp = tempfile.mkdtemp(prefix="logscan-batch-")
            path = _fetch(path, tmp)
        res = _scan_local(task, path)
    except Exception as exc:  # a bad bundle is a row, never a crash of the batch
        res = failed_result(task, STATUS_FAILED, _reason(exc))
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    res.seconds = round(time.perf_counter() - t0, 3)
    res.vm["seconds"] = res.seconds
    return res


def _reason(exc: BaseException) -> str:
    from ..errors import LogscanError

    if isinstance(exc, LogscanError):
        return str(exc)
    tb = traceback.extract_tb(exc.__traceback__)
    where = f" (at {Path(tb[-1].filename).name}:{tb[-1].lineno})" if tb else ""
    return f"{type(exc).__name__}: {exc}{where}"


def _fetch(url: str, into: str) -> str:
    """Copy a remote bundle (file or folder) to local disk; bundles are read locally."""
    import fsspec

    fs, path = fsspec.core.url_to_fs(url)
    dest = os.path.join(into, path.rstrip("/").rsplit("/", 1)[-1])
    if fs.isdir(path):
        fs.get(path.rstrip("/") + "/", dest, recursive=True)
    else:
        fs.get(path, dest)
    return dest


def _size(path: str) -> int:
    p = Path(path)
    try:
        if p.is_dir():
            return sum(f.stat().st_size for f in p.rglob("*") if f.is_file() and not f.is_symlink())
        return p.stat().st_size
    except OSError:
        return 0


def _scan_local(task: Task, path: str) -> BundleResult:
    from ..diagnosis import diagnose
    from ..sources.ingest import load

    bundle = load(path)
    ev = bundle.events
    size = _size(path)
    if not ev.height and not bundle.facts.height:
        first = bundle.ingest_errors.head(1).to_dicts()
        why = f"{first[0]['kind']}: {first[0]['detail']}" if first else "no log files logscan can read"
        res = failed_result(task, STATUS_FAILED, f"empty: {why}" if not first else why)
        res.ingest_errors += _ingest_rows(task.key, bundle.ingest_errors)
        res.vm.update(bundle=bundle.name, n_ingest_errors=bundle.ingest_errors.height, bytes=size)
        return res

    report = diagnose(bundle, error_code=task.error_code, at=task.at)
    # Lines no signature or check explains: the hits diagnosis already computed.
    unexplained = unexplained_lines(ev, report.hits)
    if task.events_dir:
        _write_events(ev, Path(task.events_dir), task.key)
    d = report.as_dict()
    findings = _finding_rows(task.key, d)
    top = next((f for f in d["findings"] if f["status"] == "evidence"), None)
    facts = d.get("facts") or {}
    agent = facts.get("agent") or {}
    os_facts = facts.get("os") or {}
    ident = d.get("identity") or {}
    levels = ev.get_column("level")
    vm = {
        "vm": task.key,
        "bundle": bundle.name,
        "path": task.path,
        "status": STATUS_OK,
        "reason": None,
        "vm_name": report.vm,
        "hostname": ident.get("hostname"),
        "vm_id": ident.get("vm_id"),
        "platform": bundle.coverage.get("platform"),
        "top_cause": top["cause"] if top else None,
        "top_score": top["score"] if top else None,
        "healthy": d["healthy"],
        "verdict": d["verdict"],
        "agent_version": agent.get("goal_state_agent_version") or agent.get("version") or agent.get("daemon_version"),
        "agent_versions": agent.get("versions_seen") or [],
        "os": os_facts.get("name"),
        "os_version": os_facts.get("version"),
        "n_findings": sum(1 for f in d["findings"] if f["status"] == "evidence"),
        "n_events": ev.height,
        "n_errors": int((levels == "ERROR").sum() + (levels == "CRITICAL").sum()),
        "n_warnings": int((levels == "WARNING").sum()),
        "n_ingest_errors": bundle.ingest_errors.height,
        "n_unexplained": int(unexplained["count"].sum()) if unexplained.height else 0,
        "first_event": bundle.coverage.get("first_event"),
        "last_event": bundle.coverage.get("last_event"),
        "bytes": size,
    }
    return BundleResult(
        key=task.key,
        path=task.path,
        status=STATUS_OK,
        vm=vm,
        findings=findings,
        ingest_errors=_ingest_rows(task.key, bundle.ingest_errors),
        unexplained=unexplained.with_columns(vm=pl.lit(task.key)).to_dicts(),
    )


def failed_result(task: Task, status: str, reason: str) -> BundleResult:
    """The result of a bundle that could not be scanned (failed or timed out)."""
    vm = {k: None for k in VM_SCHEMA}
    vm.update(vm=task.key, bundle=bundle_name(task.path), path=task.path, status=status, reason=reason, agent_versions=[])
    err = {"vm": task.key, "file": None, "source": "batch", "kind": status, "detail": reason, "line": None}
    return BundleResult(key=task.key, path=task.path, status=status, reason=reason, vm=vm, ingest_errors=[err])


def _ingest_rows(key: str, errors: pl.DataFrame) -> list[dict]:
    return errors.with_columns(vm=pl.lit(key)).to_dicts() if errors.height else []


def _finding_rows(key: str, d: dict) -> list[dict]:
    rows = []
    for other, group in ((False, d["findings"]), (True, d.get("other_findings") or [])):
        for f in group:
            rows.append(
                {
                    "vm": key,
                    "rank": len(rows) + 1,
                    "cause": f["cause"],
                    "title": f["title"],
                    "score": f["score"],
                    "status": f["status"],
                    "other": other,
                    "error_codes": f["error_codes"],
                    "signatures": f["signatures"],
                    "sources": f["sources"],
                    "hits": f["hits"],
                    "evidence": f["evidence"],
                    "remediation": f["remediation"],
                    "doc": f["doc"],
                }
            )
    return rows


def unexplained_lines(events: pl.DataFrame, hits: pl.DataFrame | None = None) -> pl.DataFrame:
    """ERROR/WARNING records that no signature or check hit, one row per distinct first line.

    Hits point at the (file, line) where a record starts, the same key events have, so an
    anti-join finds the problem lines the signature set does not know yet. Only the record's
    first line is kept (tracebacks vary more than the error they belong to).
    """
    ev = events.filter(pl.col("level").is_in(PROBLEM_LEVELS))
    if not ev.height:
        return pl.DataFrame(schema={k: v for k, v in UNEXPLAINED_SCHEMA.items() if k != "vm"})
    if hits is not None and hits.height:
        keys = hits.filter(pl.col("file").is_not_null() & pl.col("line").is_not_null()).select("file", "line").unique()
        ev = ev.join(keys, on=["file", "line"], how="anti")
    msg = (
        pl.coalesce(pl.col("message"), pl.col("text"), pl.lit(""))
        .str.split("\n")
        .list.first()
        .str.strip_chars()
        .str.slice(0, UNEXPLAINED_TEXT_MAX)
    )
    return (
        ev.select("level", "source", message=msg)
        .filter(pl.col("message") != "")
        .group_by("level", "source", "message")
        .agg(count=pl.len().cast(pl.Int64))
        .sort(["count", "level", "source", "message"], descending=[True, False, False, False])
        .head(MAX_UNEXPLAINED_PER_VM)
    )


def _write_events(ev: pl.DataFrame, root: Path, key: str) -> None:
    """Hive-partitioned events (``vm=<key>/part.parquet``), written atomically."""
    d = root / f"vm={key}"
    d.mkdir(parents=True, exist_ok=True)
    tmp = d / f".part-{os.getpid()}.parquet"
    ev.write_parquet(tmp)
    os.replace(tmp, d / "part.parquet")


# --------------------------------------------------------------------------------------
# Executors
# --------------------------------------------------------------------------------------

ScanFn = Callable[[Task], BundleResult]


def _worker_main(conn, scan: ScanFn) -> None:
    """A local worker: scan the bundles the parent sends until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        try:
            res = scan(task)
        except BaseException as exc:  # scan_bundle never raises; a test or custom scan may
            res = failed_result(task, STATUS_FAILED, _reason(exc))
        try:
            conn.send(res)
        except (BrokenPipeError, OSError):
            return


class _Worker:
    def __init__(self, ctx, scan: ScanFn, threads: int | None):
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_main, args=(child, scan), daemon=True)
        _start_with_env(self.proc, {"POLARS_MAX_THREADS": str(threads)} if threads else {})
        child.close()
        self.task: Task | None = None
        self.deadline: float | None = None
        self.done = 0

    def assign(self, task: Task, timeout: float | None) -> None:
        self.task = task
        self.deadline = time.monotonic() + timeout if timeout else None
        self.conn.send(task)

    def stop(self, kill: bool = False) -> None:
        if self.proc.is_alive():
            if kill:
                self.proc.terminate()
                self.proc.join(2)
                if self.proc.is_alive():
                    self.proc.kill()
            else:
                with contextlib.suppress(OSError):
                    self.conn.send(None)
                self.proc.join(5)
                if self.proc.is_alive():
                    self.proc.kill()
        self.proc.join(2)
        self.conn.close()


_env_lock = threading.Lock()


def _start_with_env(proc, env: dict[str, str]) -> None:
    """Start a spawned process with extra environment (set before it imports polars)."""
    with _env_lock:
        old = {k: os.environ.get(k) for k in env}
        for k, v in env.items():
            if k not in os.environ:  # the user's own setting wins
                os.environ[k] = v
        try:
            proc.start()
        finally:
            for k, v in old.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


def _death_reason(proc) -> str:
    code = proc.exitcode
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"worker process died while scanning this bundle ({name})"
    return f"worker process exited while scanning this bundle (exit code {code})"


def run_local(tasks: Sequence[Task], *, jobs: int, timeout: float | None, scan: ScanFn = scan_bundle) -> Iterator[BundleResult]:
    """Scan ``tasks`` on ``jobs`` local worker processes, yielding results as they finish.

    A bundle past ``timeout`` seconds has its worker terminated (``timed-out``); a worker that
    dies takes only its own bundle with it (``failed``). Closing the generator (Ctrl-C) stops
    every worker.
    """
    import multiprocessing as mp
    from multiprocessing.connection import wait

    ctx = mp.get_context("spawn")
    jobs = max(1, min(jobs, len(tasks))) if tasks else 0
    threads = max(1, (os.cpu_count() or 1) // max(jobs, 1)) if jobs > 1 else None
    pending = deque(tasks)
    workers: list[_Worker] = []
    try:
        workers = [_Worker(ctx, scan, threads) for _ in range(jobs)]
        while True:
            for i, w in enumerate(workers):
                if w.task is None and pending:
                    if w.done >= MAX_TASKS_PER_WORKER or not w.proc.is_alive():
                        w.stop()
                        workers[i] = w = _Worker(ctx, scan, threads)
                    w.assign(pending.popleft(), timeout)
            busy = [w for w in workers if w.task is not None]
            if not busy:
                return
            now = time.monotonic()
            deadlines = [w.deadline for w in busy if w.deadline is not None]
            wait_for = min([1.0, *[max(0.0, d - now) for d in deadlines]])
            wait([w.conn for w in busy] + [w.proc.sentinel for w in busy], timeout=wait_for)
            for i, w in enumerate(workers):
                task = w.task
                if task is None:
                    continue
                res: BundleResult | None = None
                replace = False
                if w.conn.poll():
                    try:
                        res = w.conn.recv()
                        w.done += 1
                    except (EOFError, OSError):
                        w.proc.join(1)
                        res = failed_result(task, STATUS_FAILED, _death_reason(w.proc))
                        replace = True
                elif not w.proc.is_alive():
                    res = failed_result(task, STATUS_FAILED, _death_reason(w.proc))
                    replace = True
                elif w.deadline is not None and time.monotonic() > w.deadline:
                    res = failed_result(task, STATUS_TIMED_OUT, f"no result after {timeout:g} s; the worker was stopped")
                    res.seconds = float(timeout or 0)
                    res.vm["seconds"] = res.seconds
                    w.stop(kill=True)
                    replace = True
                if res is None:
                    continue
                w.task = None
                if replace:
                    w.stop(kill=True)
                    workers[i] = _Worker(ctx, scan, threads) if pending else w
                yield res
    finally:
        for w in workers:
            w.stop(kill=w.task is not None)


def _guarded(scan: ScanFn, task: Task, timeout: float | None) -> BundleResult:
    """Run ``scan`` in a thread with a deadline (a Dask task cannot be killed from outside).

    A bundle past the deadline is reported ``timed-out``; its thread is left to finish on the
    Dask worker (daemon thread), which the nanny restarts if it goes wrong.
    """
    box: list[BundleResult] = []

    def run() -> None:
        try:
            box.append(scan(task))
        except BaseException as exc:
            box.append(failed_result(task, STATUS_FAILED, _reason(exc)))

    t = threading.Thread(target=run, name=f"logscan-{task.key}", daemon=True)
    t.start()
    t.join(timeout)
    if box:
        return box[0]
    res = failed_result(task, STATUS_TIMED_OUT, f"no result after {timeout:g} s")
    res.seconds = float(timeout or 0)
    res.vm["seconds"] = res.seconds
    return res


def run_dask(
    tasks: Sequence[Task],
    *,
    scheduler: str | None,
    jobs: int,
    timeout: float | None,
    scan: ScanFn = scan_bundle,
) -> Iterator[BundleResult]:
    """The same per-bundle work on a Dask cluster (``scheduler`` address, else a local one)."""
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError as exc:  # pragma: no cover - depends on the install
        from ..errors import LogscanError

        raise LogscanError("--executor dask needs the dask extra: pip install 'logscan[dask]'") from exc
    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(n_workers=max(1, jobs), threads_per_worker=1, dashboard_address=None)
        client = Client(cluster)
    try:
        futures = {
            client.submit(_guarded, scan, t, timeout, key=f"logscan-batch-{t.key}-{os.getpid()}-{time.time_ns()}", pure=False): t
            for t in tasks
        }
        for fut in as_completed(futures):
            task = futures[fut]
            try:
                res = fut.result()
            except Exception as exc:  # KilledWorker, lost worker, cancelled
                res = failed_result(task, STATUS_FAILED, f"dask: {type(exc).__name__}: {exc}")
            fut.release()
            yield res
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


# --------------------------------------------------------------------------------------
# Writing: per-bundle parts, merged fleet files, summary
# --------------------------------------------------------------------------------------


def _frame(rows: list[dict], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    if not rows:
        return pl.DataFrame(schema=schema)
    return pl.DataFrame([{k: r.get(k) for k in schema} for r in rows], schema=schema, strict=False)


class Store:
    """The output folder: per-bundle parts (crash-safe) and the merged fleet files."""

    def __init__(self, out: str | os.PathLike):
        self.out = Path(out)
        self.parts = self.out / PARTS
        self.parts.mkdir(parents=True, exist_ok=True)
        for stale in self.parts.glob(".tmp-*"):  # a part being written when a run was killed
            shutil.rmtree(stale, ignore_errors=True)

    def done(self) -> set[str]:
        return {p.name for p in self.parts.iterdir() if p.is_dir() and not p.name.startswith(".")}

    def forget(self, key: str) -> None:
        shutil.rmtree(self.parts / key, ignore_errors=True)
        shutil.rmtree(self.out / "events" / f"vm={key}", ignore_errors=True)

    def write(self, res: BundleResult) -> None:
        """Write one bundle's rows and make them visible with one atomic rename."""
        tmp = self.parts / f".tmp-{res.key}-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        vm = {**{k: None for k in VM_SCHEMA}, **res.vm, "status": res.status, "reason": res.reason}
        _frame([vm], VM_SCHEMA).write_parquet(tmp / "vms.parquet")
        _frame(res.findings, FINDING_SCHEMA).write_parquet(tmp / "findings.parquet")
        _frame(res.ingest_errors, VM_INGEST_ERROR_SCHEMA).write_parquet(tmp / "ingest_errors.parquet")
        _frame(res.unexplained, UNEXPLAINED_SCHEMA).write_parquet(tmp / "unexplained.parquet")
        final = self.parts / res.key
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)

    def _read(self, keys: Iterable[str], name: str, schema: dict[str, pl.DataType]) -> pl.DataFrame:
        files = [str(self.parts / k / name) for k in keys if (self.parts / k / name).exists()]
        if not files:
            return pl.DataFrame(schema=schema)
        return pl.scan_parquet(files).collect()

    def merge(self, keys: Iterable[str], options: dict | None = None) -> dict:
        """Rebuild the fleet files from the parts of ``keys``; returns the summary."""
        keys = sorted(set(keys) & self.done())
        vms = self._read(keys, "vms.parquet", VM_SCHEMA).sort("vm")
        findings = self._read(keys, "findings.parquet", FINDING_SCHEMA).sort("vm", "rank")
        errors = self._read(keys, "ingest_errors.parquet", VM_INGEST_ERROR_SCHEMA).sort(
            "vm", "file", "line", "kind", "detail", nulls_last=True, maintain_order=True
        )
        unexpl = self._read(keys, "unexplained.parquet", UNEXPLAINED_SCHEMA).sort(
            "vm", "level", "source", "message", nulls_last=True, maintain_order=True
        )
        _atomic_parquet(vms, self.out / "vms.parquet")
        _atomic_parquet(findings, self.out / "findings.parquet")
        _atomic_parquet(errors, self.out / "ingest_errors.parquet")
        _atomic_parquet(unexpl, self.out / "unexplained.parquet")
        summary = build_summary(vms, findings, unexpl, options=options)
        _atomic_text(self.out / "summary.json", _json(summary))
        _atomic_text(self.out / "summary.md", render_markdown(summary))
        return summary


def _atomic_parquet(df: pl.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    df.write_parquet(tmp)
    os.replace(tmp, path)


def _atomic_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _json(obj: Any) -> str:
    import json

    return json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n"


# --------------------------------------------------------------------------------------
# Summary
# --------------------------------------------------------------------------------------

#: Drain3 masks: variable parts of agent/extension messages that must not split templates.
_MASKS = (
    (r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", "GUID"),
    (r"https?://[^\s\"',;\]]+", "URL"),
    (r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?Z?", "TIME"),
    (r"(?<=-)\d+(?:\.\d+){1,3}\b", "VER"),  # WALinuxAgent-2.11.1.4, Name-1.0.9224.0
    (r"(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?(?![\d.])", "IP"),
    (r"(?<=[=:\s])0x[0-9a-fA-F]+\b", "HEX"),
    (r"(?<![A-Za-z])\d+(?:\.\d+)*(?![A-Za-z])", "NUM"),
)


def mine_templates(unexplained: pl.DataFrame, limit: int = SUMMARY_TEMPLATES) -> list[dict]:
    """Group the fleet's unexplained lines into templates (Drain3), most widespread first.

    Lines are fed in a fixed order (sorted) so the same fleet always gives the same templates,
    whichever executor produced it. Drain3 is configured in code: no ini file, no persistence.
    """
    if not unexplained.height:
        return []
    from drain3 import TemplateMiner
    from drain3.masking import MaskingInstruction
    from drain3.template_miner_config import TemplateMinerConfig

    cfg = TemplateMinerConfig()
    cfg.masking_instructions = [MaskingInstruction(p, m) for p, m in _MASKS]
    cfg.drain_sim_th = 0.5
    cfg.drain_depth = 4
    cfg.parametrize_numeric_tokens = True
    cfg.profiling_enabled = False
    miner = TemplateMiner(persistence_handler=None, config=cfg)

    df = unexplained.sort("message", "level", "source", "vm")
    msgs = df.group_by("message", maintain_order=True).agg(
        pl.col("vm").unique().sort(), pl.col("count").sum(), pl.col("level").unique().sort()
    )
    per_cluster: dict[int, dict] = {}
    for message, vms, count, levels in msgs.iter_rows():
        cid = miner.add_log_message(message)["cluster_id"]
        c = per_cluster.setdefault(cid, {"vms": set(), "lines": 0, "levels": set(), "sample": message})
        c["vms"].update(vms)
        c["lines"] += int(count)
        c["levels"].update(levels)
    clusters = {c.cluster_id: c for c in miner.drain.clusters}
    out = []
    for cid, c in per_cluster.items():
        vms = sorted(c["vms"])
        out.append(
            {
                "template": clusters[cid].get_template() if cid in clusters else c["sample"],
                "vms": len(vms),
                "lines": c["lines"],
                "levels": sorted(c["levels"]),
                "sample": c["sample"],
                "vm_list": vms[:SUMMARY_EXAMPLES],
            }
        )
    out.sort(key=lambda r: (-r["vms"], -r["lines"], r["template"]))
    return out[:limit]


def _counts(df: pl.DataFrame, col: str, label: str) -> list[dict]:
    if not df.height:
        return []
    g = (
        df.filter(pl.col(col).is_not_null())
        .group_by(col)
        .agg(vms=pl.col("vm").n_unique(), vm_list=pl.col("vm").unique().sort().head(SUMMARY_EXAMPLES))
        .sort(["vms", col], descending=[True, False])
    )
    return [{label: r[col], "vms": r["vms"], "vm_list": r["vm_list"]} for r in g.iter_rows(named=True)]


def build_summary(
    vms: pl.DataFrame, findings: pl.DataFrame, unexplained: pl.DataFrame, *, options: dict | None = None
) -> dict:
    """The fleet summary: deterministic (no timings), so executors can be compared."""
    status = dict(vms.group_by("status").len().iter_rows()) if vms.height else {}
    ok = vms.filter(pl.col("status") == STATUS_OK)
    confirmed = findings.filter(pl.col("status") == "evidence") if findings.height else findings
    titles = dict(findings.select("cause", "title").unique("cause").iter_rows()) if findings.height else {}
    top = {r["cause"]: r for r in _counts(ok.rename({"top_cause": "cause"}), "cause", "cause")}
    anyc = {r["cause"]: r for r in _counts(confirmed, "cause", "cause")}
    causes = [
        {
            "cause": c,
            "title": titles.get(c),
            "vms_top": top.get(c, {}).get("vms", 0),
            "vms_any": anyc[c]["vms"],
            "vm_list": (top.get(c) or anyc[c])["vm_list"],
        }
        for c in anyc
    ]
    causes.sort(key=lambda r: (-r["vms_top"], -r["vms_any"], r["cause"]))
    codes = _counts(confirmed.explode("error_codes"), "error_codes", "error_code") if confirmed.height else []
    failed = vms.filter(pl.col("status") != STATUS_OK).sort("vm")
    return {
        "vms": vms.height,
        "status": {s: int(status.get(s, 0)) for s in (STATUS_OK, STATUS_FAILED, STATUS_TIMED_OUT)},
        "healthy": int(ok.filter(pl.col("top_cause").is_null()).height),
        "options": options or {},
        "causes": causes,
        "error_codes": codes,
        "agent_versions": _counts(ok, "agent_version", "version"),
        "os": _counts(ok.with_columns(os=pl.concat_str("os", "os_version", separator=" ", ignore_nulls=True)), "os", "os"),
        "failed": [
            {"vm": r["vm"], "status": r["status"], "reason": r["reason"], "path": r["path"]}
            for r in failed.select("vm", "status", "reason", "path").iter_rows(named=True)
        ],
        "unexplained": mine_templates(unexplained),
    }


def _md_cell(v: Any) -> str:
    s = ", ".join(map(str, v)) if isinstance(v, list) else ("" if v is None else str(v))
    return s.replace("|", "\\|").replace("\n", " ")


def render_markdown(s: dict) -> str:
    """``summary.md``: the fleet summary as tables an engineer can paste into a ticket."""
    st = s["status"]
    lines = [
        "# Fleet scan summary",
        "",
        f"{s['vms']} VMs: {st['ok']} scanned, {st['failed']} failed, {st['timed-out']} timed out; "
        f"{s['healthy']} with no known cause.",
        "",
        "## Causes by number of VMs",
        "",
        "| cause | title | VMs (top cause) | VMs (any evidence) | e.g. |",
        "|---|---|---:|---:|---|",
    ]
    lines += [f"| {_md_cell(c['cause'])} | {_md_cell(c['title'])} | {c['vms_top']} | {c['vms_any']} | {_md_cell(c['vm_list'])} |" for c in s["causes"]]
    lines += ["", "## Error codes", "", "| error code | VMs | e.g. |", "|---|---:|---|"]
    lines += [f"| {_md_cell(c['error_code'])} | {c['vms']} | {_md_cell(c['vm_list'])} |" for c in s["error_codes"]]
    lines += ["", "## Agent versions", "", "| version | VMs |", "|---|---:|"]
    lines += [f"| {_md_cell(c['version'])} | {c['vms']} |" for c in s["agent_versions"]]
    lines += ["", "## Operating systems", "", "| OS | VMs |", "|---|---:|"]
    lines += [f"| {_md_cell(c['os'])} | {c['vms']} |" for c in s["os"]]
    lines += ["", "## VMs that could not be scanned", ""]
    if s["failed"]:
        lines += ["| VM | status | reason |", "|---|---|---|"]
        lines += [f"| {_md_cell(f['vm'])} | {f['status']} | {_md_cell(f['reason'])} |" for f in s["failed"]]
    else:
        lines.append("None.")
    lines += [
        "",
        "## Most common unexplained error lines",
        "",
        "ERROR/WARNING lines no signature matched, grouped into templates (Drain3). "
        "Candidates for new signatures.",
        "",
    ]
    if s["unexplained"]:
        lines += ["| VMs | lines | template | e.g. |", "|---:|---:|---|---|"]
        lines += [
            f"| {t['vms']} | {t['lines']} | `{_md_cell(t['template'])[:300]}` | {_md_cell(t['vm_list'])} |" for t in s["unexplained"]
        ]
    else:
        lines.append("None.")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------
# Progress
# --------------------------------------------------------------------------------------


class _Progress:
    """A rich progress bar on a terminal, else a plain line every ``every`` seconds."""

    def __init__(self, total: int, done: int, *, stream=None, every: float = 10.0, enabled: bool = True):
        self.total, self.done, self.failed = total, done, 0
        self.start_done = done
        self.stream = stream or sys.stdout
        self.every = every
        self.enabled = enabled
        self.t0 = self.last = time.monotonic()
        self._rich = None
        if enabled and getattr(self.stream, "isatty", lambda: False)():
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._rich = Progress(
                TextColumn("[bold]bundles"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}"),
                TextColumn("[red]{task.fields[failed]} failed"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
            )
            self._rich.start()
            self._task = self._rich.add_task("scan", total=total, completed=done, rate="", failed=0)

    def _rate(self) -> float:
        el = time.monotonic() - self.t0
        return (self.done - self.start_done) / el if el > 0 else 0.0

    def advance(self, res: BundleResult) -> None:
        self.done += 1
        if res.status != STATUS_OK:
            self.failed += 1
        if self._rich is not None:
            self._rich.update(self._task, completed=self.done, rate=f"{self._rate():.1f}/s", failed=self.failed)
        elif self.enabled and time.monotonic() - self.last >= self.every:
            self.line()

    def line(self) -> None:
        self.last = time.monotonic()
        rate = self._rate()
        left = self.total - self.done
        eta = f"{left / rate:.0f}s" if rate > 0 else "?"
        print(
            f"logscan batch: {self.done}/{self.total} bundles, {rate:.2f}/s, ETA {eta}, {self.failed} failed",
            file=self.stream,
            flush=True,
        )

    def close(self) -> None:
        if self._rich is not None:
            self._rich.stop()
        elif self.enabled:
            self.line()


# --------------------------------------------------------------------------------------
# The batch run
# --------------------------------------------------------------------------------------


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

        _atomic_text(out / "summary.html", render_fleet(out))
    except Exception as exc:  # pragma: no cover - reported, not fatal
        print(f"logscan batch: summary.html not written: {type(exc).__name__}: {exc}", file=sys.stderr)


def _default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1
