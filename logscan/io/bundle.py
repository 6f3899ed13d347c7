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
"""

from __future__ import annotations

import contextlib
import io
import os
import posixpath
import re
import stat
import sys
import tarfile
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from ..errors import BundleError, IngestError

ARCHIVE_RE = re.compile(r"\.(zip|tar\.gz|tgz|tar|tar\.xz|txz|tar\.bz2|tbz2?)$", re.IGNORECASE)
#: The name a standard-input bundle goes by.
STDIN_NAME = "stdin"


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
    mtime: float | None = None

    def read(self) -> bytes:
        return self._read()

    @property
    def name(self) -> str:
        return posixpath.basename(self.path)


def _clean_name(name: str) -> str | None:
    """Normalise an archive member name; None when it would escape the bundle."""
    name = name.replace("\\", "/")
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return None
    norm = posixpath.normpath(name)
    if norm in (".", "") or norm.startswith("../") or norm == "..":
        return None
    return norm


def _printable(name: str) -> str:
    """Member names may hold undecodable bytes (surrogate escapes): show them as \\xNN."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


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
        if p.is_dir() or ARCHIVE_RE.search(p.name) or zipfile.is_zipfile(p) or _is_tar(p):
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
        if _bytes_are_archive(data):
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
            top = self._archive_members(self.root.name, "", "", self._open_root, depth=0, top=True)
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
                inner = self._archive_members(
                    m.name, logical, m.display + "!", lambda d=data: io.BytesIO(d), depth + 1, top=False
                )
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

    def _archive_members(
        self, name: str, logical: str, display_prefix: str, opener: Callable[[], io.IOBase], depth: int, top: bool
    ) -> Iterator[Member]:
        lower = name.lower()
        try:
            fh = opener()
        except OSError as exc:
            self.error(display_prefix.rstrip("!") or name, "unreadable", str(exc))
            return
        self._closers.append(fh.close)
        try:
            if lower.endswith(".zip") or ((top or not _tar_name(lower)) and zipfile.is_zipfile(fh)):
                fh.seek(0)
                yield from self._zip_members(fh, logical, display_prefix)
            else:
                fh.seek(0)
                yield from self._tar_members(fh, logical, display_prefix)
        except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError, ValueError) as exc:
            self.error(display_prefix.rstrip("!") or name, "corrupt", f"cannot open archive: {exc}")

    def _join(self, logical: str, name: str) -> str:
        return f"{logical}/{name}" if logical else name

    def _zip_members(self, fh, logical: str, prefix: str) -> Iterator[Member]:
        zf = zipfile.ZipFile(fh)
        self._closers.append(zf.close)
        for info in zf.infolist():
            if info.is_dir():
                continue
            raw = _printable(info.filename)
            clean = _clean_name(info.filename)
            display = prefix + raw
            if clean is None:
                self.error(display, "unsafe", "member name is absolute or leaves the archive (zip-slip); not read")
                continue
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                self.error(display, "unsafe", "member is a symbolic link; not followed")
                continue
            if info.flag_bits & 0x1:
                self.error(display, "encrypted", "member is encrypted; cannot be read")
                continue
            if self._is_bomb(info.file_size, info.compress_size):
                self.error(display, "bomb", f"declares {info.file_size:,} bytes from {info.compress_size:,} compressed; not read")
                continue
            yield Member(
                _printable(self._join(logical, clean)),
                prefix + _printable(clean),
                info.file_size,
                lambda info=info, zf=zf, d=display: self._read_zip(zf, info, d),
            )

    def _read_zip(self, zf: zipfile.ZipFile, info: zipfile.ZipInfo, display: str) -> bytes:
        limit = self.limits.max_member_bytes
        try:
            with zf.open(info) as f:
                data = f.read(limit + 1)
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, RuntimeError, NotImplementedError) as exc:
            raise IngestError("corrupt", f"cannot read archive member: {exc}", file=display) from exc
        if len(data) > limit:
            raise IngestError("too-large", f"inflates past the {limit:,}-byte limit (possible zip bomb)", file=display)
        return data

    def _tar_members(self, fh, logical: str, prefix: str) -> Iterator[Member]:
        tf = tarfile.open(fileobj=fh, mode="r:*")  # noqa: SIM115 - closed by close()
        self._closers.append(tf.close)
        for ti in tf:
            raw = _printable(ti.name)
            display = prefix + raw
            if ti.isdir():
                continue
            clean = _clean_name(ti.name)
            if clean is None:
                self.error(display, "unsafe", "member name is absolute or leaves the archive; not read")
                continue
            if ti.issym() or ti.islnk():
                self.error(display, "unsafe", f"member is a {'symbolic' if ti.issym() else 'hard'} link to {ti.linkname!r}; not followed")
                continue
            if not ti.isfile():
                self.error(display, "unsafe", "member is a device, fifo or other special file; not read")
                continue
            yield Member(
                _printable(self._join(logical, clean)),
                prefix + _printable(clean),
                ti.size,
                lambda ti=ti, tf=tf, d=display: self._read_tar(tf, ti, d),
                float(ti.mtime),
            )

    def _read_tar(self, tf: tarfile.TarFile, ti: tarfile.TarInfo, display: str) -> bytes:
        limit = self.limits.max_member_bytes
        if ti.size > limit:
            raise IngestError("too-large", f"{ti.size:,} bytes is past the {limit:,}-byte limit per file", file=display)
        try:
            f = tf.extractfile(ti)
            data = f.read() if f else b""
        except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
            raise IngestError("corrupt", f"cannot read archive member: {exc}", file=display) from exc
        if len(data) < ti.size:
            raise IngestError("truncated", f"archive ends after {len(data):,} of {ti.size:,} bytes", file=display)
        return data

    def _is_bomb(self, size: int, compressed: int) -> bool:
        if size <= self.limits.ratio_min_bytes:
            return False
        return size > self.limits.max_member_bytes or size / max(compressed, 1) > self.limits.max_ratio

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


def _tar_name(lower: str) -> bool:
    return bool(re.search(r"\.(tar|tgz|txz|tbz2?)(\.\w+)?$", lower))


def _starts_with(p: Path, magic: bytes) -> bool:
    try:
        with open(p, "rb") as fh:
            return fh.read(len(magic)) == magic
    except OSError:
        return False


def _bytes_are_archive(data: bytes) -> bool:
    """Zip, or tar (plain, gzip, xz or bzip2 compressed), told by content."""
    if zipfile.is_zipfile(io.BytesIO(data)):
        return True
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tf:
            return tf.next() is not None
    except (tarfile.TarError, EOFError, OSError, ValueError, zlib.error):
        return False


def _is_tar(p: Path) -> bool:
    try:
        return p.is_file() and tarfile.is_tarfile(p)
    except OSError:
        return False
