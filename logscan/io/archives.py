"""Zip and tar archives: telling them by name or content, listing and reading their members.

Nothing is extracted to disk. Members are listed with their logical path (under the folder
the archive stands for) and read into memory on demand, within :class:`~.members.Limits`.
Unsafe members (absolute or ``..`` names, links, devices, encrypted members, bombs) are
reported through the bundle's error sink and skipped; the rest of the archive is still read.
"""

from __future__ import annotations

import calendar
import io
import re
import stat
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

from ..errors import IngestError
from .members import ErrorSink, Limits, Member, clean_name, join, printable

ARCHIVE_RE = re.compile(r"\.(zip|tar\.gz|tgz|tar|tar\.xz|txz|tar\.bz2|tbz2?)$", re.IGNORECASE)
#: Zip "extended timestamp" extra field (Info-ZIP ``UT``): the member's mtime in UTC seconds.
ZIP_EXTENDED_TIME = 0x5455


class ArchiveReader:
    """Lists and reads the members of zip and tar archives for one bundle.

    It shares the bundle's limits, its error sink and its list of closers (archives stay open
    while their members are read, and the bundle closes them all at the end).
    """

    def __init__(self, limits: Limits, error: ErrorSink, closers: list[Callable[[], None]]) -> None:
        self.limits = limits
        self.error = error
        self.closers = closers

    def members(
        self, name: str, logical: str, display_prefix: str, opener: Callable[[], io.IOBase], *, top: bool
    ) -> Iterator[Member]:
        """Members of the archive ``opener`` opens. ``top``: the bundle itself, whose type is
        told by content first; an inner archive's name says what it is."""
        lower = name.lower()
        try:
            fh = opener()
        except OSError as exc:
            self.error(display_prefix.rstrip("!") or name, "unreadable", str(exc))
            return
        self.closers.append(fh.close)
        try:
            if lower.endswith(".zip") or ((top or not tar_name(lower)) and zipfile.is_zipfile(fh)):
                fh.seek(0)
                yield from self._zip_members(fh, logical, display_prefix)
            else:
                fh.seek(0)
                yield from self._tar_members(fh, logical, display_prefix)
        except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError, ValueError) as exc:
            self.error(display_prefix.rstrip("!") or name, "corrupt", f"cannot open archive: {exc}")

    # -- zip -------------------------------------------------------------------------------
    def _zip_members(self, fh, logical: str, prefix: str) -> Iterator[Member]:
        zf = zipfile.ZipFile(fh)
        self.closers.append(zf.close)
        for info in zf.infolist():
            if info.is_dir():
                continue
            raw = printable(info.filename)
            clean = clean_name(info.filename)
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
                printable(join(logical, clean)),
                prefix + printable(clean),
                info.file_size,
                lambda info=info, zf=zf, d=display: self._read_zip(zf, info, d),
                zip_mtime(info),
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

    # -- tar -------------------------------------------------------------------------------
    def _tar_members(self, fh, logical: str, prefix: str) -> Iterator[Member]:
        tf = tarfile.open(fileobj=fh, mode="r:*")  # noqa: SIM115 - closed by the bundle
        self.closers.append(tf.close)
        for ti in tf:
            raw = printable(ti.name)
            display = prefix + raw
            if ti.isdir():
                continue
            clean = clean_name(ti.name)
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
                printable(join(logical, clean)),
                prefix + printable(clean),
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


def zip_mtime(info: zipfile.ZipInfo) -> float | None:
    """When a zip member was last written, in UTC seconds, as a folder's file would say.

    The Info-ZIP extended timestamp (``UT`` extra field, written by ``zip`` on Unix) is UTC
    and exact. Otherwise the DOS date and time, which carry no zone, are read as UTC: the
    zipping machine's zone is unknown, and reading them in the *scanning* machine's zone
    would make a scan's result depend on where it runs. None when the date is not a date.
    """
    extra = info.extra
    pos = 0
    while pos + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, pos)
        body = extra[pos + 4 : pos + 4 + size]
        if tag == ZIP_EXTENDED_TIME and len(body) >= 5 and body[0] & 1:
            return float(struct.unpack_from("<i", body, 1)[0])
        pos += 4 + size
    try:
        return float(calendar.timegm((*info.date_time, 0, 0, 0)))
    except (ValueError, OverflowError):
        return None


def tar_name(lower: str) -> bool:
    """Whether a (lower-case) name says tar, compressed or not."""
    return bool(re.search(r"\.(tar|tgz|txz|tbz2?)(\.\w+)?$", lower))


def bytes_are_archive(data: bytes) -> bool:
    """Zip, or tar (plain, gzip, xz or bzip2 compressed), told by content."""
    if zipfile.is_zipfile(io.BytesIO(data)):
        return True
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tf:
            return tf.next() is not None
    except (tarfile.TarError, EOFError, OSError, ValueError, zlib.error):
        return False


def is_tar(p: Path) -> bool:
    """Whether the file at ``p`` is a tar (any compression tarfile reads), by content."""
    try:
        return p.is_file() and tarfile.is_tarfile(p)
    except OSError:
        return False
