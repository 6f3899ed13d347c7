"""Find and read the plan's files under a root, read-only, without leaving the root.

The root is ``/`` on the VM, or a mounted OS disk or test tree (``--root``). Three rules keep
a hostile or odd tree from turning collection into something else:

* **Links.** Folder links are never descended. A file link is resolved *inside the root* (an
  absolute target is taken relative to the root, as a chroot would) and read only when it
  lands on a file the plan collects anyway or lists under ``follow`` (``/etc/os-release`` →
  ``/usr/lib/os-release``); a link to ``/etc/shadow`` or out of the root is listed, not read.
* **Only regular files**, opened with ``O_NOFOLLOW | O_NONBLOCK`` and checked with ``fstat``
  after opening, so a FIFO or a file swapped for a link after listing never hangs or leaks.
* **Sizes.** Past the per-file limit a plain log keeps its *tail* (the newest lines, like the
  agent's own collector); compressed files past it are skipped. Past the total budget, the
  remaining files are skipped. Everything skipped is returned with its reason.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

MAX_LINK_HOPS = 40


@dataclass(frozen=True)
class FileLimits:
    max_file_bytes: int = 64 * 1024**2
    max_total_bytes: int = 512 * 1024**2
    max_files: int = 20_000


@dataclass
class Found:
    """A file to read: ``rel`` is where it goes in the bundle, ``real`` the file read."""

    rel: str
    real: str


@dataclass
class Skipped:
    path: str
    kind: str  # unreadable | unsafe | too-large | not-regular | too-many-files
    reason: str

    def as_dict(self) -> dict:
        return {"path": self.path, "kind": self.kind, "reason": self.reason}


def glob_regex(pattern: str) -> re.Pattern[str]:
    """``**`` → any path (also empty), ``*`` → within one name, ``?`` → one character."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def _base_and_depth(pattern: str) -> tuple[str, int | None]:
    """The fixed folder a glob starts in, and how deep below it to look (None: unbounded)."""
    parts = pattern.split("/")
    fixed = []
    for p in parts:
        if any(ch in p for ch in "*?["):
            break
        fixed.append(p)
    if len(fixed) == len(parts):  # no wildcard: the file's own folder, one level
        fixed = fixed[:-1]
    rest = parts[len(fixed) :]
    return "/".join(fixed), (None if "**" in rest else len(rest))


def could_contain(pattern: str, folder: str) -> bool:
    """Could ``pattern`` match something inside ``folder``? (its leading names match)."""
    parts, have = pattern.split("/"), folder.split("/")
    if "**" in "/".join(parts[: len(have)]):
        head = pattern.split("**", 1)[0]
        return (folder + "/").startswith(head) or head.startswith(folder + "/")
    if len(parts) <= len(have):
        return False
    return bool(glob_regex("/".join(parts[: len(have)])).match(folder))


def resolve_within(root: Path, rel: str) -> str | None:
    """Resolve ``rel`` as if ``root`` were ``/``; None when it loops or climbs out of the root."""
    todo = deque(p for p in rel.split("/") if p)
    done: list[str] = []
    hops = 0
    while todo:
        part = todo.popleft()
        if part == ".":
            continue
        if part == "..":
            if not done:
                return None
            done.pop()
            continue
        here = root.joinpath(*done, part)
        if here.is_symlink():
            hops += 1
            if hops > MAX_LINK_HOPS:
                return None
            target = os.readlink(here)
            if target.startswith("/"):
                done = []
            todo.extendleft(reversed([p for p in target.split("/") if p]))
        else:
            done.append(part)
    return "/".join(done)


class Finder:
    """Lists the files a plan names under ``root``, and what it could not or would not read."""

    def __init__(self, root: Path, patterns: tuple[str, ...], follow: tuple[str, ...] = ()):
        self.root = root
        self.patterns = patterns
        self._collect_rx = [glob_regex(p) for p in patterns]
        self._follow_rx = [glob_regex(p) for p in follow]
        self.skipped: list[Skipped] = []
        self.matched: set[str] = set()  # patterns that matched at least one file

    def wanted(self, rel: str) -> bool:
        return any(r.match(rel) for r in self._collect_rx)

    def find(self) -> Iterator[Found]:
        """Every matching file once, in plan order (the budget drops the last ones first)."""
        seen: set[str] = set()
        for pattern, rx in zip(self.patterns, self._collect_rx, strict=True):
            base, depth = _base_and_depth(pattern)
            for rel, entry in self._walk(base, depth):
                if entry is None:  # a folder link: worth a line only where the glob could look
                    if could_contain(pattern, rel) and rel not in seen:
                        seen.add(rel)
                        self.skipped.append(Skipped(rel, "unsafe", "link to a folder; not followed"))
                    continue
                if not rx.match(rel):
                    continue
                self.matched.add(pattern)
                if rel in seen:
                    continue
                seen.add(rel)
                found = self._check(rel, entry)
                if found is not None:
                    yield found

    def _walk(self, base: str, depth: int | None) -> Iterator[tuple[str, os.DirEntry | None]]:
        """Files below ``base`` (folder links come back as ``(rel, None)``, never entered)."""
        start = self.root / base if base else self.root
        if resolve_within(self.root, base) != base:  # a linked folder on the way: not followed
            if start.exists() or start.is_symlink():
                self.skipped.append(Skipped(base, "unsafe", "the folder is (or lies under) a link; not followed"))
            return
        stack: list[tuple[Path, str, int]] = [(start, base, 0)]
        while stack:
            folder, rel_folder, level = stack.pop()
            try:
                with os.scandir(folder) as it:
                    entries = sorted(it, key=lambda e: e.name)
            except FileNotFoundError:
                continue
            except OSError as exc:
                self.skipped.append(Skipped(rel_folder or ".", "unreadable", _why(exc)))
                continue
            subdirs = []
            for e in entries:
                rel = f"{rel_folder}/{e.name}" if rel_folder else e.name
                if e.is_dir(follow_symlinks=False):
                    if depth is None or level + 1 < depth:
                        subdirs.append((Path(e.path), rel, level + 1))
                elif e.is_symlink() and _is_dir_link(e):
                    if depth is None or level + 1 < depth:
                        yield rel, None
                else:
                    yield rel, e
            stack.extend(reversed(subdirs))

    def _check(self, rel: str, entry: os.DirEntry) -> Found | None:
        if entry.is_symlink():
            target = resolve_within(self.root, rel)
            if target is None:
                self.skipped.append(Skipped(rel, "unsafe", "link loops or leads out of the collected root; not followed"))
                return None
            if not (self.wanted(target) or any(r.match(target) for r in self._follow_rx)):
                self.skipped.append(Skipped(rel, "unsafe", f"link to /{target}, which is not collected; not followed"))
                return None
            return Found(rel, target)
        try:
            mode = entry.stat(follow_symlinks=False).st_mode
        except OSError as exc:
            self.skipped.append(Skipped(rel, "unreadable", _why(exc)))
            return None
        if not stat.S_ISREG(mode):
            self.skipped.append(Skipped(rel, "not-regular", "not a regular file (fifo, socket or device); not read"))
            return None
        return Found(rel, rel)

    def read(self, found: Found, limit: int) -> tuple[bytes, int]:
        """The file's bytes (its last ``limit`` bytes when larger) and its full size.

        Raises ``OSError`` when it cannot be read; the caller records why.
        """
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(self.root / found.real, flags)
        with os.fdopen(fd, "rb") as fh:
            st = os.fstat(fh.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise OSError(errno.EINVAL, "not a regular file when opened")
            if st.st_size > limit:
                fh.seek(st.st_size - limit)
            return fh.read(limit), st.st_size


def _is_dir_link(e: os.DirEntry) -> bool:
    try:
        return e.is_dir(follow_symlinks=True)
    except OSError:
        return False


def _why(exc: OSError) -> str:
    return exc.strerror or str(exc)
