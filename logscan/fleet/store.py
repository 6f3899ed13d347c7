"""The output folder: per-bundle Parquet parts (crash-safe) and the merged fleet files.

Each finished bundle is written at once as a small directory of Parquet parts under
``DIR/.parts/<vm>/``, made visible by an atomic rename, so a crash or Ctrl-C keeps everything
finished. The fleet files are rebuilt from the parts periodically, at the end and on
interruption.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import polars as pl

from .schemas import (
    FINDING_SCHEMA,
    PARTS,
    STATUS_MARKER,
    UNEXPLAINED_SCHEMA,
    VM_INGEST_ERROR_SCHEMA,
    VM_SCHEMA,
)
from .summary import build_summary, render_markdown
from .worker import BundleResult


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

    def statuses(self) -> dict[str, str]:
        """Each finished bundle's status, from its ``STATUS`` marker (parts written before the
        marker existed are read from their ``vms.parquet``)."""
        out = {}
        for key in self.done():
            marker = self.parts / key / STATUS_MARKER
            if marker.exists():
                out[key] = marker.read_text(encoding="utf-8").strip()
            else:
                out[key] = pl.read_parquet(self.parts / key / "vms.parquet", columns=["status"])["status"][0]
        return out

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
        (tmp / STATUS_MARKER).write_text(res.status, encoding="utf-8")
        final = self.parts / res.key
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)

    def _read(self, keys: Iterable[str], name: str, schema: dict[str, pl.DataType]) -> pl.DataFrame:
        files = [str(self.parts / k / name) for k in keys if (self.parts / k / name).exists()]
        if not files:
            return pl.DataFrame(schema=schema)
        # Parts from an older logscan lack newer columns: they read as nulls.
        return pl.scan_parquet(files, missing_columns="insert", extra_columns="ignore").select(list(schema)).cast(schema).collect()

    def merge(self, keys: Iterable[str], options: dict | None = None, *, fmt: str = "parquet") -> dict:
        """Rebuild the fleet files from the parts of ``keys``; returns the summary.

        ``fmt="csv"`` also writes each table as CSV (lists joined with ``; ``, evidence as
        JSON) for spreadsheets. The summary counts the ``keys`` not finished yet as not done.
        """
        keys = list(keys)
        total = len(set(keys))
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
        if fmt == "csv":
            for name, df in (("vms", vms), ("findings", findings), ("ingest_errors", errors), ("unexplained", unexpl)):
                _atomic_csv(df, self.out / f"{name}.csv")
        summary = build_summary(vms, findings, unexpl, options=options, not_done=total - vms.height)
        _atomic_text(self.out / "summary.json", _json(summary))
        _atomic_text(self.out / "summary.md", render_markdown(summary))
        return summary


def _atomic_parquet(df: pl.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    df.write_parquet(tmp)
    os.replace(tmp, path)


def _atomic_csv(df: pl.DataFrame, path: Path) -> None:
    """CSV cannot hold lists or structs: lists of strings are joined, anything nested is JSON."""
    cols = []
    for name, dtype in df.schema.items():
        if dtype == pl.List(pl.String):
            cols.append(pl.col(name).list.join("; "))
        elif isinstance(dtype, (pl.List, pl.Struct)):
            cols.append(pl.col(name).map_elements(_json_compact, return_dtype=pl.String))
        else:
            cols.append(pl.col(name))
    tmp = path.with_name(f".{path.name}.tmp")
    df.select(cols).write_csv(tmp)
    os.replace(tmp, path)


def _json_compact(v: Any) -> str:
    import json

    return json.dumps(v.to_list() if isinstance(v, pl.Series) else v, ensure_ascii=False, default=str)


def _atomic_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _json(obj: Any) -> str:
    import json

    return json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n"
