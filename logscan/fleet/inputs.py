"""What to scan: bundle paths from folders, globs and fsspec URLs, and one task per bundle."""

from __future__ import annotations

import glob as globmod
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from ..errors import LogscanError


@dataclass(frozen=True)
class Task:
    """One bundle to scan. Everything a worker needs, and nothing large (it is pickled)."""

    key: str  # unique, file-name-safe id of the bundle in this fleet: the ``vm`` column
    path: str  # local path or fsspec URL
    error_code: str | None = None
    at: datetime | None = None
    events_dir: str | None = None  # write the events here (``--events``), else drop them
    signature_dirs: tuple[str, ...] = ()  # the team's own signatures (``--signatures DIR``)



class InputError(LogscanError):
    """A user's input names nothing to scan (no such path, an empty glob, a bad jobs file)."""


@dataclass(frozen=True)
class Job:
    """What the Backup jobs said about one bundle's VM: its error code and failure time."""

    bundle: str
    error_code: str | None = None
    at: datetime | None = None


def read_jobs(path: str) -> list[Job]:
    """The rows of a jobs export (CSV or Parquet with ``bundle``, ``error_code``, ``at``).

    ``error_code`` and ``at`` may be empty; ``at`` is ISO 8601 (no zone means UTC). When a
    bundle has several rows (several failed jobs), the latest failure wins: the logs are
    collected after it, so it is the one they can explain.
    """
    import polars as pl

    p = Path(path)
    if not p.is_file():
        raise InputError(f"{path}: no such jobs file")
    try:
        df = pl.read_parquet(p) if p.suffix.lower() == ".parquet" else pl.read_csv(p, infer_schema=False)
    except Exception as exc:
        raise InputError(f"{path}: cannot read the jobs file ({type(exc).__name__}: {exc})") from None
    if "bundle" not in df.columns:
        raise InputError(f"{path}: a jobs file needs a 'bundle' column (and optionally 'error_code', 'at'); it has {df.columns}")
    rows = []
    for r in df.iter_rows(named=True):
        bundle = str(r["bundle"] or "").strip()
        if not bundle:
            continue
        if not (is_url(bundle) or Path(bundle).is_absolute()):
            bundle = str(p.parent / bundle)
        code = (str(r.get("error_code") or "").strip()) or None
        rows.append(Job(bundle=bundle, error_code=code, at=_when(r.get("at"), path)))
    latest: dict[str, Job] = {}
    for j in rows:
        cur = latest.get(j.bundle)
        if cur is None or (j.at is not None and (cur.at is None or j.at > cur.at)):
            latest[j.bundle] = j
    return list(latest.values())


def _when(value, path: str) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    v = str(value).strip().replace(" ", "T", 1)
    try:
        dt = datetime.fromisoformat(v[:-1] + "+00:00" if v.endswith("Z") else v)
    except ValueError:
        raise InputError(f"{path}: {value!r} in column 'at' is not an ISO 8601 time") from None
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)


_MAGIC = re.compile(r"[*?\[]")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_BUNDLE_SUFFIX = re.compile(r"\.(zip|tar\.gz|tgz|tar\.xz|txz|tar)$", re.IGNORECASE)
#: An INPUT with this suffix is a jobs file (``bundle,error_code,at``), not a bundle.
JOBS_SUFFIXES = (".csv", ".parquet")
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
    matches are bundles. The order is kept and duplicates are dropped. A local path that does
    not exist, or a glob that matches nothing, is an input error (:class:`InputError`): a
    typo must not pass as an empty fleet.
    """
    out: list[str] = []
    for raw in inputs:
        item = _strip_file_url(str(raw))
        if is_url(item):
            out.extend(_expand_url(item))
            continue
        if _MAGIC.search(item):
            matched = sorted(globmod.glob(item))
            if not matched:
                raise InputError(f"{item}: the pattern matches nothing (quote it so the shell does not expand it)")
            out.extend(matched)
            continue
        p = Path(item)
        if not p.exists():
            raise InputError(f"{item}: no such bundle, folder or jobs file")
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
    jobs: dict[str, Job] | None = None,
    signature_dirs: Sequence[str] = (),
) -> list[Task]:
    """One task per bundle with a unique, file-name-safe key (``name``, ``name~2``, ...).

    ``jobs`` (from a jobs file) gives a bundle its own error code and failure time; the
    command-line ``error_code``/``at`` apply to the rest.
    """
    used: Counter[str] = Counter()
    tasks = []
    jobs = jobs or {}
    for p in paths:
        base = re.sub(r"[^A-Za-z0-9._=+@-]+", "_", bundle_name(p)).lstrip(".") or "bundle"
        used[base] += 1
        key = base if used[base] == 1 else f"{base}~{used[base]}"
        job = jobs.get(p)
        tasks.append(
            Task(
                key=key,
                path=p,
                error_code=job.error_code if job else error_code,
                at=job.at if job else at,
                events_dir=events_dir,
                signature_dirs=tuple(signature_dirs),
            )
        )
    return tasks


def is_jobs_file(item: str) -> bool:
    return item.lower().endswith(JOBS_SUFFIXES) and not _MAGIC.search(item)


def collect(inputs: Sequence[str]) -> tuple[list[str], dict[str, Job]]:
    """Bundle paths from INPUT... plus, for bundles a jobs file names, their own job.

    Jobs files are read first; their bundles (paths, folders or globs, relative to the file's
    folder) are expanded like any INPUT. The other inputs follow in order.
    """
    jobs: dict[str, Job] = {}
    paths: list[str] = []
    for item in inputs:
        if is_jobs_file(str(item)):
            for job in read_jobs(str(item)):
                for p in expand_inputs([job.bundle]):
                    jobs[p] = job
                    paths.append(p)
        else:
            paths.extend(expand_inputs([item]))
    uniq = list(dict.fromkeys(paths))
    if not uniq:
        raise InputError("no bundle to scan: the inputs hold no bundle")
    return uniq, jobs

