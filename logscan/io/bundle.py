"""Open a collected bundle (folder, archive, single file or standard input) safely.

A bundle is a folder, an archive (zip, tar, tar.gz/tgz, tar.xz, tar.bz2, recognised by content
when the name does not tell), or one file on its own (plain, ``.gz`` or ``.evtx``) or standard
input: those are one-file bundles whose member keeps its own name, and :mod:`ingest
<logscan.sources.ingest>` decides by content what the file is.

Nothing is ever extracted to disk: members are read into memory one at a time, with limits
on size, compression ratio, member count and archive nesting. Archives found *inside* a
bundle (the agent's ``history/*.zip``, a ``logs.zip`` dropped into a folder) are opened in
place and their members appear under a logical path as if the archive had been unpacked
into a folder named after it, so ``history/2024-05-30T13-15-40__3.zip`` yields
``history/2024-05-30T13-15-40__3/GoalState.xml``. Evidence quotes the real location,
``history/2024-05-30T13-15-40__3.zip!GoalState.xml``.

Anything unsafe (absolute or ``..`` member names, links that leave the bundle, encrypted
members, bombs) is skipped and reported as an ingest error; the rest is still read.

This module walks folders and single files and ties the parts together; zip and tar members
are listed and read by :mod:`archives <logscan.io.archives>`, and :class:`Member` /
:class:`Limits` live in :mod:`members <logscan.io.members>` (re-exported here).
"""

from __future__ import annotations

import contextlib
import io
import os
import stat
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from ..errors import BundleError, IngestError
from .archives import ARCHIVE_RE, ArchiveReader, bytes_are_archive, is_tar
from .members import Limits, Member
from .members import printable as _printable

#: The name a standard-input bundle goes by.
STDIN_NAME = "stdin"


def _bundle_name(path: Path) -> str:
    name = path.name
    return ARCHIVE_RE.sub("", name) or name


class Bundle:
    """A bundle's files, plus the ingest errors met while listing them.

    Use as a context manager (archives stay open while members are read)::

        with Bundle.open("vm1.zip") as b:
            for m in b.members():
                data = b.read(m)
    """

    def __init__(self, root: Path, limits: Limits | None = None):
        self.root = root
        self.name = _bundle_name(root)
        self.limits = limits or Limits()
        self.errors: list[dict] = []
        self._closers: list[Callable[[], None]] = []
        self._total_read = 0
        self._seen: dict[str, int] = {}
        self._archives = ArchiveReader(self.limits, self.error, self._closers)

    # -- opening ---------------------------------------------------------------------------
    #: True when the bundle is one file (a file given on its own, or standard input).
    single = False
    _single_data: bytes | None = None

    @classmethod
    def open(cls, path: str | os.PathLike, limits: Limits | None = None) -> Bundle:
        """A folder, an archive (by name or content) or a single file; ``-`` is standard input."""
        if str(path) == "-":
            return cls.from_stream(sys.stdin.buffer, limits)
        p = Path(path)
        if not p.exists():
            raise BundleError(f"{p}: no such file or folder")
        if p.is_dir() or ARCHIVE_RE.search(p.name) or zipfile.is_zipfile(p) or is_tar(p):
            return cls(p, limits)
        if not p.is_file():
            raise BundleError(f"{p}: not a folder, archive or regular file")
        b = cls(p, limits)
        b.single = True
        return b

    @classmethod
    def from_stream(cls, stream: BinaryIO, limits: Limits | None = None, name: str = STDIN_NAME) -> Bundle:
        """Standard input (or any stream) as a bundle: an archive when its bytes are one, else
        one file. At most ``max_member_bytes`` are read; an empty stream is an error."""
        lim = limits or Limits()
        data = stream.read(lim.max_member_bytes + 1)
        if not data:
            raise BundleError(f"{name}: standard input is empty (pipe a log, a paste or an archive into `-`)")
        return cls.from_bytes(data, lim, name)

    @classmethod
    def from_bytes(cls, data: bytes, limits: Limits | None = None, name: str = STDIN_NAME) -> Bundle:
        """Bytes held in memory as a bundle (see :meth:`from_stream`)."""
        b = cls(Path(name), limits)
        b._single_data = data
        if bytes_are_archive(data):
            b.single = False
        else:
            b.single = True
        return b

    def __enter__(self) -> Bundle:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        for c in reversed(self._closers):
            with contextlib.suppress(Exception):
                c()
        self._closers.clear()

    def _open_root(self) -> io.IOBase:
        # Closed by close() through _closers (the archive stays open while members are read).
        if self._single_data is not None:
            return io.BytesIO(self._single_data)
        return open(self.root, "rb")

    def error(self, file: str | None, kind: str, detail: str) -> None:
        self.errors.append({"file": file, "source": "bundle", "kind": kind, "detail": detail, "line": None})

    # -- listing ---------------------------------------------------------------------------
    def members(self) -> Iterator[Member]:
        """Every readable file, archives inside the bundle opened in place."""
        if self.single:
            top = iter([self._single_member()])
        elif self._single_data is None and self.root.is_dir():
            top = self._folder_members(self.root)
        else:
            # The top-level archive is streamed from disk, never loaded whole.
            top = self._archives.members(self.root.name, "", "", self._open_root, top=True)
        for count, m in enumerate(self._expand(top, depth=0), 1):
            if count > self.limits.max_members:
                self.error(None, "too-many-files", f"more than {self.limits.max_members:,} files; the rest were skipped")
                return
            key = m.display
            if key in self._seen:
                self._seen[key] += 1
                self.error(m.display, "duplicate", "the archive holds this name more than once; each copy is read")
                m.display = f"{m.display}#{self._seen[key]}"
            else:
                self._seen[key] = 1
            yield m

    def _single_member(self) -> Member:
        """The one file of a one-file bundle, under its own name (``.gz`` kept for gunzip)."""
        name = _printable(self.root.name) or STDIN_NAME
        data = self._single_data
        if data is not None:
            if data.startswith(b"\x1f\x8b") and not name.lower().endswith(".gz"):
                name += ".gz"
            # Text piped in now was saved now: its time is the anchor for year-less stamps
            # (syslog), as a file's mtime is.
            return Member(name, name, len(data), lambda: self._held(data, name), time.time())
        st = self.root.stat()
        if data is None and not name.lower().endswith(".gz") and _starts_with(self.root, b"\x1f\x8b"):
            name += ".gz"
        return Member(name, name, st.st_size, lambda: self._read_file(self.root, name, st), st.st_mtime)

    def _held(self, data: bytes, name: str) -> bytes:
        """Bytes of a stream, held in memory: past the per-file limit they are not read."""
        limit = self.limits.max_member_bytes
        if len(data) > limit:
            raise IngestError("too-large", f"larger than the {limit:,}-byte limit per file", file=name)
        return data

    def _expand(self, members: Iterator[Member], depth: int) -> Iterator[Member]:
        for m in members:
            if ARCHIVE_RE.search(m.name):
                if depth + 1 > self.limits.max_depth:
                    self.error(m.display, "nested-too-deep", f"archive nesting deeper than {self.limits.max_depth}; not opened")
                    continue
                try:
                    data = self.read(m)
                except IngestError as exc:
                    self.errors.append(exc.as_row(m.display, "bundle"))
                    continue
                logical = ARCHIVE_RE.sub("", m.path)
                inner = self._archives.members(m.name, logical, m.display + "!", lambda d=data: io.BytesIO(d), top=False)
                yield from self._expand(inner, depth + 1)
            else:
                yield m

    def _folder_members(self, root: Path) -> Iterator[Member]:
        real_root = root.resolve()
        for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
            dirnames.sort()
            d = Path(dirpath)
            for dn in list(dirnames):
                if (d / dn).is_symlink():
                    target = _resolve(d / dn)
                    rel = _printable((d / dn).relative_to(root).as_posix())
                    if target is None or not _inside(target, real_root):
                        self.error(rel, "unsafe", "folder link points outside the bundle; not followed")
                    dirnames.remove(dn)  # never follow folder links (loops, escapes)
            for fn in sorted(filenames):
                p = d / fn
                rel = _printable(p.relative_to(root).as_posix())
                try:
                    if p.is_symlink():
                        target = _resolve(p)
                        if target is None:
                            self.error(rel, "unsafe", "link loops or cannot be resolved; not read")
                            continue
                        if not _inside(target, real_root):
                            self.error(rel, "unsafe", "link points outside the bundle; not read")
                            continue
                    st = p.stat()
                except OSError as exc:
                    self.error(rel, "unreadable", str(exc.strerror or exc))
                    continue
                if not stat.S_ISREG(st.st_mode):
                    self.error(rel, "unsafe", "not a regular file (device, fifo or socket); not read")
                    continue
                if st.st_nlink > 1:
                    # A hard link shares its content with another name that may lie outside
                    # the bundle (a link to /etc/shadow looks like any other file).
                    self.error(rel, "unsafe", f"hard link ({st.st_nlink} names for one file); not read")
                    continue
                yield Member(rel, rel, st.st_size, lambda p=p, rel=rel, st=st: self._read_file(p, rel, st), st.st_mtime)

    def _read_file(self, p: Path, rel: str, listed: os.stat_result | None = None) -> bytes:
        limit = self.limits.max_member_bytes
        try:
            # Read-only and non-blocking: a file swapped for a FIFO after listing must not hang
            # the scan; the open file is checked to be the regular file that was listed.
            fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0))
            with os.fdopen(fd, "rb") as fh:
                st = os.fstat(fh.fileno())
                if not stat.S_ISREG(st.st_mode) or (listed is not None and (st.st_ino, st.st_dev) != (listed.st_ino, listed.st_dev)):
                    raise IngestError("unreadable", "file changed while the bundle was read (no longer the file listed)", file=rel)
                data = fh.read(limit + 1)
        except OSError as exc:
            raise IngestError("unreadable", str(exc.strerror or exc), file=rel) from exc
        if len(data) > limit:
            raise IngestError("too-large", f"larger than the {limit:,}-byte limit per file", file=rel)
        return data

    # -- reading ---------------------------------------------------------------------------
    def read(self, m: Member) -> bytes:
        """Read one member, counting it against the bundle's total budget."""
        budget = self.limits.max_total_bytes - self._total_read
        if budget <= 0 or m.size > budget:
            raise IngestError("too-large", "the bundle's total read budget is used up; file skipped", file=m.display)
        data = m.read()
        self._total_read += len(data)
        return data


def _resolve(p: Path) -> Path | None:
    """Where a link leads, or None for a loop or a path that cannot be resolved."""
    try:
        return p.resolve()
    except (OSError, RuntimeError):  # RuntimeError: symlink loop (Python < 3.13)
        return None


def _inside(target: Path, root: Path) -> bool:
    try:
        target.relative_to(root)
        return True
    except ValueError:
        return False


def _starts_with(p: Path, magic: bytes) -> bool:
    try:
        with open(p, "rb") as fh:
            return fh.read(len(magic)) == magic
    except OSError:
        return False


__all__ = ["ARCHIVE_RE", "STDIN_NAME", "Bundle", "Limits", "Member"]
