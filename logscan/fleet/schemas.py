"""The fleet tables' shapes and the words they use, in one module every fleet stage imports.

Kept apart so the writer (:mod:`.store`), the reader (:mod:`.read`) and the report agree on
columns without importing one another: an empty or half-written output folder still reads
back as frames of the right shape.
"""

from __future__ import annotations

import polars as pl

from ..frames import INGEST_ERROR_SCHEMA

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
#: Statuses a re-run scans again (unless --skip-failed).
RETRY_STATUSES = (STATUS_FAILED, STATUS_TIMED_OUT)

PARTS = ".parts"
#: File in each part holding the bundle's status (read on re-runs to retry failures).
STATUS_MARKER = "STATUS"

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
    "computer": pl.String(),  # the Windows computer name
    "platform": pl.String(),
    "top_cause": pl.String(),  # the rank-1 cause with evidence, or null
    "top_score": pl.Float64(),
    "top_confidence": pl.String(),  # confirmed | likely | possible, when diagnosis states it
    "healthy": pl.Boolean(),
    "verdict": pl.String(),
    "agent_version": pl.String(),
    "agent_versions": pl.List(pl.String),
    "os": pl.String(),
    "os_version": pl.String(),
    "error_code": pl.String(),  # given: what the backup job said (jobs file or --error-code)
    "failed_at": pl.String(),  # given: when the job failed (ISO 8601 UTC)
    "cause_time": pl.String(),  # failed_at, else the top cause's latest evidence time
    "several_vms": pl.String(),  # why the bundle looks like several VMs' files, else null
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
    "confidence": pl.String(),  # confirmed | likely | possible (null before diagnosis states it)
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
