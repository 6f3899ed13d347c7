"""Scan a fleet of bundles: ``logscan batch INPUT... --out DIR``.

The work is split by job (see each module's docstring):

* :mod:`.inputs`: bundle paths from folders, globs, fsspec URLs and jobs files; one task each;
* :mod:`.worker`: one bundle → a small picklable :class:`BundleResult` (never the events);
* :mod:`.local` / :mod:`.dask`: executors (a killable process pool, or a Dask cluster);
* :mod:`.store`: crash-safe Parquet parts and the merged fleet files;
* :mod:`.summary` / :mod:`.templates`: ``summary.json``/``summary.md``, Drain3 templates;
* :mod:`.run`: the orchestration (:func:`run_batch`) and :mod:`.progress`.

This module only re-exports the public names, so ``from logscan.fleet.batch import run_batch``
keeps working.
"""

from __future__ import annotations

from .inputs import Task, bundle_name, expand_inputs, is_url, make_tasks
from .local import run_local
from .run import BatchRun, run_batch
from .schemas import (
    FINDING_SCHEMA,
    STATUS_FAILED,
    STATUS_OK,
    STATUS_TIMED_OUT,
    UNEXPLAINED_SCHEMA,
    VM_INGEST_ERROR_SCHEMA,
    VM_SCHEMA,
)
from .store import Store
from .summary import build_summary, render_markdown
from .templates import mine_templates
from .worker import BundleResult, failed_result, scan_bundle, unexplained_lines

__all__ = [
    "FINDING_SCHEMA",
    "STATUS_FAILED",
    "STATUS_OK",
    "STATUS_TIMED_OUT",
    "UNEXPLAINED_SCHEMA",
    "VM_INGEST_ERROR_SCHEMA",
    "VM_SCHEMA",
    "BatchRun",
    "BundleResult",
    "Store",
    "Task",
    "build_summary",
    "bundle_name",
    "expand_inputs",
    "failed_result",
    "is_url",
    "make_tasks",
    "mine_templates",
    "render_markdown",
    "run_batch",
    "run_local",
    "scan_bundle",
    "unexplained_lines",
]
