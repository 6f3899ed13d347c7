"""``scan --live``: collect into memory and load the result, with no file written.

The collected tar is held in memory and read through the same :class:`~logscan.io.bundle.Bundle`
code as any other bundle (same limits, same safety), so a live scan sees exactly what
``scan`` would see in the ``collect`` output.
"""

from __future__ import annotations

import io
import socket
from pathlib import PurePosixPath

from ..io.bundle import Bundle, Limits
from ..sources.ingest import LoadedBundle, load
from .collector import Options, collect_to_bytes


class _NoFolder(PurePosixPath):
    """A bundle name that is never mistaken for a folder on disk."""

    def is_dir(self) -> bool:
        return False


class MemoryBundle(Bundle):
    """A tar bundle held in memory."""

    def __init__(self, data: bytes, name: str, limits: Limits | None = None):
        super().__init__(_NoFolder(f"{name}.tar"), limits)  # type: ignore[arg-type]
        self._data = data

    def _open_root(self) -> io.BytesIO:  # type: ignore[override]
        return io.BytesIO(self._data)


def load_live(options: Options | None = None, *, limits: Limits | None = None) -> LoadedBundle:
    """Collect this machine (or ``options.root``) and load it as a bundle."""
    data = collect_to_bytes(options)
    name = f"live-{socket.gethostname()}"
    return load(MemoryBundle(data, name, limits))
