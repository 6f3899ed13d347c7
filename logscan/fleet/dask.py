"""The Dask executor: the very same :func:`~.worker.scan_bundle` on a distributed cluster.

Results come back to this process and go through the same writer, so the outputs are
identical to the local executor's.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator, Sequence

from .inputs import Task
from .schemas import STATUS_FAILED, STATUS_TIMED_OUT
from .worker import BundleResult, ScanFn, _reason, failed_result, scan_bundle

#: Seconds to wait for a ``--scheduler`` before saying it cannot be reached.
CONNECT_TIMEOUT = 10


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
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError) as exc:
            from ..errors import LogscanError

            raise LogscanError(
                f"cannot reach the Dask scheduler at {scheduler} within {CONNECT_TIMEOUT} s "
                f"({type(exc).__name__}); check the address, or drop --scheduler to start a local cluster"
            ) from None
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
