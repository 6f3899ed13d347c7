"""Read a ``logscan batch`` output folder back as polars frames (for notebooks).

    >>> from logscan.fleet import read_batch
    >>> fleet = read_batch("out/")                               # doctest: +SKIP
    >>> fleet.vms.group_by("top_cause").len().sort("len")       # doctest: +SKIP
    >>> fleet.findings.filter(pl.col("rank") == 1)              # doctest: +SKIP
    >>> fleet.events().filter(pl.col("level") == "ERROR").collect()  # with --events  # doctest: +SKIP

Kept apart from :mod:`logscan.fleet.run` so reading results needs neither the executors nor
multiprocessing; the schemas come from :mod:`.schemas` so an empty or half-written folder still gives
frames of the right shape.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from ..errors import LogscanError
from .schemas import FINDING_SCHEMA, UNEXPLAINED_SCHEMA, VM_INGEST_ERROR_SCHEMA, VM_SCHEMA


@dataclass
class FleetResult:
    """The outputs of one batch run."""

    out: Path
    vms: pl.DataFrame  # one row per VM: status, reason, top cause, agent version, OS, counts
    findings: pl.DataFrame  # one row per VM x cause: rank (1-based), score, error_codes, evidence
    ingest_errors: pl.DataFrame  # per VM, files that could not be read (and failed bundles)
    summary: dict  # summary.json
    unexplained: pl.DataFrame  # per VM, ERROR/WARNING lines no signature matched

    def events(self) -> pl.LazyFrame:
        """Every VM's events (``--events``) as one lazy frame with a ``vm`` column."""
        root = self.out / "events"
        if not any(root.glob("vm=*/part.parquet")):
            raise LogscanError(f"{root}: no events (run `logscan batch` with --events)")
        return pl.scan_parquet(str(root / "vm=*" / "part.parquet"), hive_partitioning=True)


def _read(path: Path, schema: dict) -> pl.DataFrame:
    return pl.read_parquet(path) if path.exists() else pl.DataFrame(schema=schema)


def read_batch(out_dir: str | os.PathLike) -> FleetResult:
    """Read ``vms``, ``findings``, ``ingest_errors`` (and ``unexplained``) plus the summary."""
    out = Path(out_dir)
    if not out.is_dir():
        raise LogscanError(f"{out}: no such batch output folder")
    summary_path = out / "summary.json"
    summary = json.loads(summary_path.read_text(encoding="utf-8")) if summary_path.exists() else {}
    return FleetResult(
        out=out,
        vms=_read(out / "vms.parquet", VM_SCHEMA),
        findings=_read(out / "findings.parquet", FINDING_SCHEMA),
        ingest_errors=_read(out / "ingest_errors.parquet", VM_INGEST_ERROR_SCHEMA),
        summary=summary,
        unexplained=_read(out / "unexplained.parquet", UNEXPLAINED_SCHEMA),
    )


__all__ = ["FleetResult", "read_batch"]
