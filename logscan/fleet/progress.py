"""Progress of a batch run: a rich bar on a terminal, else a plain line every few seconds."""

from __future__ import annotations

import sys
import time

from .schemas import STATUS_OK, STATUS_TIMED_OUT
from .worker import BundleResult


class _Progress:
    """A rich progress bar on a terminal, else a plain line every ``every`` seconds."""

    def __init__(self, total: int, done: int, *, stream=None, every: float = 10.0, enabled: bool = True):
        self.total, self.done, self.failed, self.timed_out = total, done, 0, 0
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
                TextColumn("[yellow]{task.fields[timed_out]} timed out"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
            )
            self._rich.start()
            self._task = self._rich.add_task("scan", total=total, completed=done, rate="", failed=0, timed_out=0)

    def _rate(self) -> float:
        el = time.monotonic() - self.t0
        return (self.done - self.start_done) / el if el > 0 else 0.0

    def advance(self, res: BundleResult) -> None:
        self.done += 1
        if res.status == STATUS_TIMED_OUT:
            self.timed_out += 1
        elif res.status != STATUS_OK:
            self.failed += 1
        if self._rich is not None:
            self._rich.update(self._task, completed=self.done, rate=f"{self._rate():.1f}/s", failed=self.failed, timed_out=self.timed_out)
        elif self.enabled and time.monotonic() - self.last >= self.every:
            self.line()

    def line(self) -> None:
        self.last = time.monotonic()
        rate = self._rate()
        left = self.total - self.done
        eta = f"{left / rate:.0f}s" if rate > 0 else "?"
        print(
            f"logscan batch: {self.done}/{self.total} bundles, {rate:.2f}/s, ETA {eta}, {self.failed} failed, {self.timed_out} timed out",
            file=self.stream,
            flush=True,
        )

    def close(self) -> None:
        if self._rich is not None:
            self._rich.stop()
        elif self.enabled:
            self.line()
