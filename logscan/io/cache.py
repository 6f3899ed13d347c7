"""A startup cache for content parsed from YAML: JSON only, keyed by what it was built from.

Parsing and validating the shipped signatures, checks and knowledge base costs most of a
scan's startup (pure-Python YAML composing, lark). The validated result is written as JSON
in the user's cache folder (``$LOGSCAN_CACHE_DIR``, else the platform's user cache dir,
``$XDG_CACHE_HOME/logscan`` on Linux) under a name that is the SHA-256 of every input byte:
the data files (paths and contents), the Python files that define the result's shape, and
:data:`FORMAT`. Any change to any of them is a different key, so a stale entry is never read.

Nothing is pickled: :func:`decode` builds only the dataclasses its caller lists, from plain
JSON values, so a tampered cache file can at worst give wrong content, never run code. Any
problem (unwritable folder, corrupt file, a value JSON cannot hold) means "no cache": the
content is built the slow way. ``LOGSCAN_NO_CACHE=1`` turns the cache off.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

#: Bump when the encoding below changes.
FORMAT = 1

T = TypeVar("T")


def cache_dir() -> Path | None:
    """Where cache files go, or None when the cache is off."""
    if os.environ.get("LOGSCAN_NO_CACHE", "").strip() not in ("", "0"):
        return None
    explicit = os.environ.get("LOGSCAN_CACHE_DIR")
    if explicit:
        return Path(explicit)
    try:
        import platformdirs

        return Path(platformdirs.user_cache_dir("logscan", appauthor=False))
    except ImportError:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        return Path(base) / "logscan"


def content_key(kind: str, inputs: Iterable[Path | str | bytes]) -> str:
    """SHA-256 over :data:`FORMAT`, ``kind`` and every input (a file: its path and bytes)."""
    h = hashlib.sha256(f"logscan-cache/{FORMAT}/{kind}".encode())
    for item in inputs:
        if isinstance(item, Path):
            h.update(b"\0file\0" + str(item).encode("utf-8", "surrogateescape") + b"\0")
            h.update(item.read_bytes())
        else:
            h.update(b"\0data\0" + (item if isinstance(item, bytes) else item.encode("utf-8", "surrogateescape")))
    return h.hexdigest()


def cached(kind: str, key: str, build: Callable[[], T], encode: Callable[[T], Any], decode: Callable[[Any], T]) -> T:
    """``decode`` of the cache entry ``kind-key``, else ``build()`` (and store its ``encode``)."""
    folder = cache_dir()
    if folder is None:
        return build()
    path = folder / f"{kind}-{key}.json"
    with contextlib.suppress(OSError, ValueError, TypeError, KeyError, AttributeError):
        doc = json.loads(path.read_text(encoding="utf-8"))
        if doc.get("format") == FORMAT and doc.get("key") == key:
            return decode(doc["value"])
    value = build()
    with contextlib.suppress(OSError, ValueError, TypeError):
        payload = json.dumps({"format": FORMAT, "key": key, "value": encode(value)}, separators=(",", ":"))
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{kind}-", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(payload)
            os.replace(tmp, path)  # atomic: a parallel reader sees the old file or the new one
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    return value


def encode(obj: Any) -> Any:
    """A JSON value for ``obj`` (dataclasses, tuples, dicts, lists, dates and scalars)."""
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, tuple):
        return {"$tuple": [encode(x) for x in obj]}
    if isinstance(obj, list):
        return [encode(x) for x in obj]
    if isinstance(obj, dict):
        return {"$dict": [[encode(k), encode(v)] for k, v in obj.items()]}
    if isinstance(obj, datetime):
        return {"$datetime": obj.isoformat()}
    if isinstance(obj, date):
        return {"$date": obj.isoformat()}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        fields = {f.name: encode(getattr(obj, f.name)) for f in dataclasses.fields(obj) if f.init}
        return {"$": type(obj).__name__, "fields": fields}
    raise TypeError(f"cannot cache a {type(obj).__name__}")


def decode(obj: Any, classes: dict[str, type]) -> Any:
    """The inverse of :func:`encode`; only dataclasses named in ``classes`` are built."""
    if isinstance(obj, list):
        return [decode(x, classes) for x in obj]
    if not isinstance(obj, dict):
        return obj
    if "$tuple" in obj:
        return tuple(decode(x, classes) for x in obj["$tuple"])
    if "$dict" in obj:
        return {_hashable(decode(k, classes)): decode(v, classes) for k, v in obj["$dict"]}
    if "$datetime" in obj:
        return datetime.fromisoformat(obj["$datetime"])
    if "$date" in obj:
        return date.fromisoformat(obj["$date"])
    cls = classes[obj["$"]]  # KeyError: not a class the caller allows
    return cls(**{k: decode(v, classes) for k, v in obj["fields"].items()})


def _hashable(k: Any) -> Any:
    if isinstance(k, list):
        raise TypeError("a list cannot be a key")
    return k
