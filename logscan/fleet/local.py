"""The local executor: a pool of spawned worker processes we can kill.

``concurrent.futures.ProcessPoolExecutor`` cannot stop one hung task, so each worker talks over
its own pipe. A worker past the timeout is terminated and replaced (the bundle is recorded
``timed-out``); a worker that dies (OOM killer, a crash in native code, ``kill -9``) is
replaced and its bundle recorded ``failed`` with the signal; workers are recycled every
:data:`MAX_TASKS_PER_WORKER` bundles so a slow leak cannot accumulate. Workers are *spawned*
(never forked from a parent holding polars threads).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence

from .inputs import Task
from .schemas import MAX_TASKS_PER_WORKER, STATUS_FAILED, STATUS_TIMED_OUT
from .worker import BundleResult, ScanFn, _reason, failed_result, scan_bundle


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
