"""What a bundle is made of: its files (:class:`Member`), the limits they are read under, and
the member-name rules every container (folder, zip, tar) applies.

Kept apart from :mod:`bundle <logscan.io.bundle>` so the archive reader
(:mod:`archives <logscan.io.archives>`) and the bundle can both use them without importing
each other. ``logscan.io.bundle`` re-exports :class:`Limits` and :class:`Member`.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field

#: Where a lister reports a member it skips: ``error(display, kind, detail)``.
ErrorSink = Callable[[str | None, str, str], None]


@dataclass(frozen=True)
class Limits:
    """Resource limits for reading untrusted bundles (all configurable)."""

    max_member_bytes: int = 1024**3  # one file, after decompression
    max_total_bytes: int = 8 * 1024**3  # everything read from one bundle
    max_ratio: float = 200.0  # uncompressed/compressed, above this a big member is a bomb
    ratio_min_bytes: int = 10 * 1024**2  # ratios only matter past this size
    max_depth: int = 3  # archives within archives
    max_members: int = 200_000


@dataclass
class Member:
    """One file of the bundle, readable once into memory."""

    path: str  # logical posix path used to pick a parser (no leading "/")
    display: str  # where it really is, for evidence: "a.zip!b/c.log"
    size: int  # declared uncompressed size (-1 when unknown)
    _read: Callable[[], bytes] = field(repr=False)
    # Last written (seconds since the epoch, UTC): anchors year-less stamps (syslog), so it
    # must be the same whether the file comes from a folder, a tar or a zip.
    mtime: float | None = None

    def read(self) -> bytes:
        return self._read()

    @property
    def name(self) -> str:
        return posixpath.basename(self.path)


def clean_name(name: str) -> str | None:
    """Normalise an archive member name; None when it would escape the bundle."""
    name = name.replace("\\", "/")
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return None
    norm = posixpath.normpath(name)
    if norm in (".", "") or norm.startswith("../") or norm == "..":
        return None
    return norm


def printable(name: str) -> str:
    """Member names may hold undecodable bytes (surrogate escapes): show them as \\xNN."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def join(logical: str, name: str) -> str:
    """A member's logical path under the folder its archive stands for (``""``: the root)."""
    return f"{logical}/{name}" if logical else name
