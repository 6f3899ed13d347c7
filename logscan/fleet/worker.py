"""The per-bundle work: load and diagnose one bundle into small rows (runs in a worker process,
local or Dask). The events frame never leaves the worker, so the parent's memory does not grow
with the fleet.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from ..diagnosis.unexplained import first_line, unexplained_events
from ..facts import decide
from .inputs import Task, bundle_name, is_url
from .schemas import (
    MAX_UNEXPLAINED_PER_VM,
    STATUS_FAILED,
    STATUS_OK,
    UNEXPLAINED_SCHEMA,
    UNEXPLAINED_TEXT_MAX,
    VM_SCHEMA,
)


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

ScanFn = Callable[[Task], BundleResult]


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
    from ..rules.grep import grep_plan
    from ..sources.ingest import load

    # Grep first (issue 13) unless every event is written out: the counts below are those
    # of the full parse (problem levels are always parsed; the rest is counted).
    bundle = load(path, grep=None if task.events_dir else grep_plan(_signatures(task)))
    ev = bundle.events
    size = _size(path)
    if not ev.height and not bundle.facts.height:
        first = bundle.ingest_errors.head(1).to_dicts()
        why = f"{first[0]['kind']}: {first[0]['detail']}" if first else "no log files logscan can read"
        res = failed_result(task, STATUS_FAILED, f"empty: {why}" if not first else why)
        res.ingest_errors += _ingest_rows(task.key, bundle.ingest_errors)
        res.vm.update(bundle=bundle.name, n_ingest_errors=bundle.ingest_errors.height, bytes=size)
        return res

    report = diagnose(bundle, error_code=task.error_code, at=task.at, signatures=_signatures(task))
    # Lines no signature or check explains: the hits diagnosis already computed.
    unexplained = unexplained_lines(ev, report.hits)
    if task.events_dir:
        _write_events(ev, Path(task.events_dir), task.key)
    d = report.as_dict()
    findings = _finding_rows(task.key, d)
    top = next((f for f in d["findings"] if f["status"] == "evidence"), None)
    # Identity and agent version are decided once, in the facts layer; never recomputed here.
    facts = decide(bundle)
    ident = facts.identity
    levels = ev.get_column("level")
    several = several_vms(bundle.facts, ident.platform)
    vm = {
        "vm": task.key,
        "bundle": bundle.name,
        "path": task.path,
        "status": STATUS_OK,
        "reason": None,
        "vm_name": report.vm,
        "hostname": ident.hostname,
        "vm_id": ident.vm_id,
        "computer": ident.computer,
        "platform": ident.platform,
        "top_cause": top["cause"] if top else None,
        "top_score": top["score"] if top else None,
        "top_confidence": top.get("confidence") if top else None,
        "healthy": d["healthy"],
        "verdict": d["verdict"],
        "agent_version": facts.agent.version,
        "agent_versions": list(facts.agent.seen),
        "os": ident.os_name,
        "os_version": ident.os_version,
        "error_code": task.error_code,
        "failed_at": _iso(task.at),
        "cause_time": _cause_time(task, top),
        "several_vms": several,
        "n_findings": sum(1 for f in d["findings"] if f["status"] == "evidence"),
        "n_events": ev.height + bundle.unparsed_events,
        "n_errors": int((levels == "ERROR").sum() + (levels == "CRITICAL").sum()),
        "n_warnings": int((levels == "WARNING").sum()),
        "n_ingest_errors": bundle.ingest_errors.height,
        "n_unexplained": int(unexplained["count"].sum()) if unexplained.height else 0,
        "first_event": bundle.coverage.get("first_event"),
        "last_event": bundle.coverage.get("last_event"),
        "bytes": size,
    }
    errors = _ingest_rows(task.key, bundle.ingest_errors)
    if several:
        errors.append(
            {"vm": task.key, "file": None, "source": "batch", "kind": "several-vms", "line": None,
             "detail": f"this bundle holds files of several VMs ({several}); it was diagnosed as one. "
             "Give each VM's files their own folder to diagnose them apart."}
        )
    return BundleResult(
        key=task.key,
        path=task.path,
        status=STATUS_OK,
        vm=vm,
        findings=findings,
        ingest_errors=errors,
        unexplained=unexplained.with_columns(vm=pl.lit(task.key)).to_dicts(),
    )


def _signatures(task: Task):
    """The shipped signatures plus the team's own (``--signatures DIR``), validated alike."""
    if not task.signature_dirs:
        return None
    from ..rules.signatures import PACKAGE_DIR, load_signatures

    return load_signatures([PACKAGE_DIR, *task.signature_dirs])


def _iso(when) -> str | None:
    return when.isoformat().replace("+00:00", "Z") if when is not None else None


def _cause_time(task: Task, top: dict | None) -> str | None:
    """When this VM failed: the time the jobs gave, else the top cause's latest evidence."""
    if task.at is not None:
        return _iso(task.at)
    times = [e.get("time") for e in (top or {}).get("evidence") or [] if e.get("time")]
    return max(times) if times else None


def several_vms(facts: pl.DataFrame, platform: str) -> str | None:
    """Why a bundle looks like several VMs' files (Linux and Windows ones, or two VM ids), else
    None. Such a folder cannot be split by file name reliably, so it is flagged, not merged
    silently."""
    why = []
    if platform == "mixed":
        why.append("Linux and Windows files")
    if facts.height:
        ids = facts.filter((pl.col("subject") == "vm") & (pl.col("key") == "vm_id"))["value"].drop_nulls()
        ids = ids.str.to_lowercase().unique()
        if ids.len() > 1:
            why.append(f"{ids.len()} VM ids")
    return "; ".join(why) or None


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
                    "confidence": f.get("confidence"),
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
    ev = unexplained_events(events, hits)  # the scan's own rule: not hit, not known-benign
    if not ev.height:
        return pl.DataFrame(schema={k: v for k, v in UNEXPLAINED_SCHEMA.items() if k != "vm"})
    msg = first_line(UNEXPLAINED_TEXT_MAX)
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

