"""What to scan: bundle paths from folders, globs and fsspec URLs, and one task per bundle."""

from __future__ import annotations

import glob as globmod
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path


@dataclass(frozen=True)
class Task:
    """One bundle to scan. Everything a worker needs, and nothing large (it is pickled)."""

    key: str  # unique, file-name-safe id of the bundle in this fleet: the ``vm`` column
    path: str  # local path or fsspec URL
    error_code: str | None = None
    at: datetime | None = None
    events_dir: str | None = None  # write the events here (``--events``), else drop them



_MAGIC = re.compile(r"[*?\[]")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_BUNDLE_SUFFIX = re.compile(r"\.(zip|tar\.gz|tgz|tar)$", re.IGNORECASE)
#: Top-level names that make a folder a bundle itself rather than a folder of bundles.
_BUNDLE_MARKERS = {"var", "etc", "waagent.log", "WindowsAzure", "Packages", "Plugins", "Logs"}


def is_url(path: str) -> bool:
    return bool(_URL.match(path)) and not path.startswith("file://")


def _strip_file_url(p: str) -> str:
    return p[len("file://") :] if p.startswith("file://") else p


def _looks_like_bundle(folder: Path) -> bool:
    try:
        names = {c.name for c in folder.iterdir()}
    except OSError:
        return False
    return bool(names & _BUNDLE_MARKERS)


#: Files beside the bundles that are plainly the folder's own documentation or tooling.
_NOT_BUNDLES = {".toml", ".py", ".md", ".sh", ".ipynb"}


def _children(folder: Path) -> list[str]:
    """A folder of bundles: every visible entry is one VM (non-bundles are recorded as failed).

    Hidden and ``_``-prefixed entries (``_src/``, ``.parts``) and the folder's own docs and
    scripts (``EXPECTED.toml``, ``build.py``, ``README.md``) are not VMs and are skipped.
    """
    return [
        str(c)
        for c in sorted(folder.iterdir())
        if not c.name.startswith((".", "_")) and not (c.is_file() and c.suffix.lower() in _NOT_BUNDLES)
    ]


def expand_inputs(inputs: Sequence[str]) -> list[str]:
    """Bundle paths from INPUT...: folders of bundles, bundles, globs and fsspec URLs.

    A folder is a folder of bundles (each sub-folder, archive or other file is one VM) unless
    it looks like a bundle itself (it holds ``var/``, ``etc/``, ``WindowsAzure/`` ...). A glob's
    matches are bundles. The order is kept and duplicates are dropped.
    """
    out: list[str] = []
    for raw in inputs:
        item = _strip_file_url(str(raw))
        if is_url(item):
            out.extend(_expand_url(item))
            continue
        if _MAGIC.search(item):
            out.extend(sorted(globmod.glob(item)))
            continue
        p = Path(item)
        if p.is_dir() and not _looks_like_bundle(p):
            out.extend(_children(p))
        else:
            out.append(str(p))
    seen: set[str] = set()
    uniq = []
    for p in out:
        if p not in seen:
            seen.add(p)
            uniq.append(p)
    return uniq


def _expand_url(url: str) -> list[str]:
    import fsspec

    fs, path = fsspec.core.url_to_fs(url)
    join = fs.unstrip_protocol
    if _MAGIC.search(path):
        return [join(p) for p in sorted(fs.glob(path))]
    if fs.isdir(path):
        names = {p.rstrip("/").rsplit("/", 1)[-1] for p in fs.ls(path, detail=False)}
        if names & _BUNDLE_MARKERS:
            return [url]
        return [join(p) for p in sorted(fs.ls(path, detail=False)) if not p.rstrip("/").rsplit("/", 1)[-1].startswith(".")]
    return [url]


def bundle_name(path: str) -> str:
    base = path.rstrip("/").replace("\\", "/").rsplit("/", 1)[-1]
    return _BUNDLE_SUFFIX.sub("", base) or base


def make_tasks(
    paths: Sequence[str],
    *,
    error_code: str | None = None,
    at: datetime | None = None,
    events_dir: str | None = None,
) -> list[Task]:
    """One task per bundle with a unique, file-name-safe key (``name``, ``name~2``, ...)."""
    used: Counter[str] = Counter()
    tasks = []
    for p in paths:
        base = re.sub(r"[^A-Za-z0-9._=+@-]+", "_", bundle_name(p)).lstrip(".") or "bundle"
        used[base] += 1
        key = base if used[base] == 1 else f"{base}~{used[base]}"
        tasks.append(Task(key=key, path=p, error_code=error_code, at=at, events_dir=events_dir))
    return tasks

