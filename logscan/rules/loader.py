"""Signature files → validated :class:`~logscan.rules.model.Signature` objects.

Every problem is a :class:`~logscan.errors.SignatureError` at file:line:col: unknown keys
(with "did you mean"), bad levels, unknown sources, unknown cause ids (when the set is loaded
with the knowledge base), condition syntax (mapped from the offset in the condition string),
malformed examples. :func:`load_signatures` goes through :mod:`.cache`, so unchanged files
are not parsed again.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from ..errors import SignatureError
from ..frames import EVENT_SCHEMA
from ..io import cache
from . import tree, validate
from .model import (
    ALLOWED_KEYS,
    ID_RE,
    LEVEL_WEIGHTS,
    LOGSOURCE_KEYS,
    REQUIRED_KEYS,
    SIGMA_EXTRA_KEYS,
    STATUSES,
    Example,
    Signature,
)
from .parse import ConditionError, grammar_text, parse_condition
from .yamlpos import KeyNodes, PositionedYaml

PACKAGE_DIR = Path(__file__).resolve().parent.parent / "content" / "signatures"


def signature_files(paths: Iterable[str | Path] | None) -> list[Path]:
    """The YAML files of ``paths`` (files or folders; default: the package's own set)."""
    roots = [PACKAGE_DIR] if paths is None else [Path(p) for p in paths]
    out: list[Path] = []
    for r in roots:
        if r.is_dir():
            out.extend(sorted(p for p in r.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file()))
        elif r.exists():
            out.append(r)
        else:
            raise SignatureError("no such signature file or folder", file=str(r))
    return out


def load_signatures(paths: Iterable[str | Path] | None = None) -> list[Signature]:
    """Every signature in ``paths`` (files or folders; default: the package's own set).

    Validates each file (see :func:`parse_signatures`), cause ids against the knowledge base
    and that ids are unique across files. The result is kept per process and in the startup
    cache (:mod:`logscan.io.cache`), both keyed by the content of every file it depends on.
    """
    files = signature_files(paths)
    return list(_load(content_key(files), tuple(files)))


def content_key(files: list[Path]) -> str:
    """The cache key of a signature set: its files, the knowledge base, the source names and
    the code that defines a loaded signature (a change to any gives a new key)."""
    from .. import content

    code = sorted(Path(__file__).parent.glob("*.py"))
    kb = [Path(str(content.path("knowledge", "causes.yaml")))]
    return cache.content_key("signatures", [*files, *kb, *code, grammar_text(), "\0".join(validate.source_names())])


_CLASSES: dict[str, type] = {
    c.__name__: c
    for c in (Signature, Example, tree.Predicate, tree.And, tree.Or, tree.Not, tree.Regex, tree.Duration, tree.Count, tree.Sequence)
}


@lru_cache(maxsize=16)
def _load(key: str, files: tuple[Path, ...]) -> tuple[Signature, ...]:
    return tuple(
        cache.cached(
            "signatures",
            key,
            lambda: read_signature_files(list(files)),
            cache.encode,
            lambda v: cache.decode(v, _CLASSES),
        )
    )


def read_signature_files(files: list[Path]) -> list[Signature]:
    """Parse and validate ``files`` as one set: cause ids against the knowledge base, ids unique."""
    causes = validate.cause_ids()
    sigs: list[Signature] = []
    seen: dict[str, Signature] = {}
    for f in files:
        path = str(f)
        try:
            text = f.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise SignatureError(f"cannot read: {exc}", file=path) from None
        for s in parse_signatures(text, path, known_causes=causes):
            if s.id in seen:
                prev = seen[s.id]
                raise SignatureError(f"duplicate id {s.id!r} (first at {prev.path}:{prev.line})", file=path, line=s.line)
            seen[s.id] = s
            sigs.append(s)
    return sigs


def parse_signatures(text: str, file: str = "<string>", known_causes: Iterable[str] | None = None) -> list[Signature]:
    """The signatures of one file's text; :class:`SignatureError` (file:line:col) if invalid.

    ``known_causes``: the cause ids allowed (None: any, for a file read on its own).
    """
    reader = _SignatureReader(text, file, None if known_causes is None else frozenset(known_causes))
    return [reader.signature(data, node) for data, node in reader.items()]


class _SignatureReader(PositionedYaml):
    def __init__(self, text: str, file: str, known_causes: frozenset[str] | None):
        super().__init__(text, file)
        self.known_causes = known_causes

    def signature(self, data: Any, node: yaml.Node) -> Signature:
        if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode):
            raise self.error("a signature must be a mapping (title, id, level, causes, condition, tests, ...)", node)
        keys = self.keys(node)
        for k in data:
            if k not in ALLOWED_KEYS:
                close = difflib.get_close_matches(str(k), ALLOWED_KEYS, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise self.error(f"unknown key {k!r}{hint}", keys[k][0])
        for k in REQUIRED_KEYS:
            if k not in data:
                raise self.error(f"missing required key {k!r}", node)

        sid = data["id"]
        if not isinstance(sid, str) or not ID_RE.match(sid):
            raise self.error(f"id must be kebab-case (a-z, 0-9, '-'), not {sid!r}", keys["id"][1])
        title = self.string(data, keys, "title")
        level = data["level"]
        if level not in LEVEL_WEIGHTS:
            raise self.error(f"level must be one of {', '.join(LEVEL_WEIGHTS)}, not {level!r}", keys["level"][1])
        status = data.get("status", "experimental")
        if status not in STATUSES:
            raise self.error(f"status must be one of {', '.join(STATUSES)}, not {status!r}", keys["status"][1])
        causes = self.strings(data, keys, "causes", allow_scalar=True)
        if not causes:
            raise self.error("causes must name at least one cause id", keys["causes"][1])
        if self.known_causes is not None:
            validate.known_all(self, "cause id", causes, self.item_nodes(keys, "causes"), self.known_causes)

        sources = self.sources(data, keys)
        cond_node = keys["condition"][1]
        condition = data["condition"]
        if not isinstance(condition, str) or not isinstance(cond_node, yaml.ScalarNode):
            raise self.error("condition must be a string", cond_node)
        try:
            tree = parse_condition(condition)
        except ConditionError as exc:
            raise self.error(exc.message, index=self.scalar_index(cond_node, exc.offset)) from None

        return Signature(
            id=sid,
            title=title,
            level=level,
            condition=condition,
            tree=tree,
            causes=causes,
            sources=sources,
            status=status,
            description=self.string(data, keys, "description") if data.get("description") is not None else "",
            references=self.strings(data, keys, "references"),
            falsepositives=self.strings(data, keys, "falsepositives"),
            tags=self.strings(data, keys, "tags"),
            error_codes=self.strings(data, keys, "error_codes", allow_scalar=True),
            tests=self.tests(data["tests"], keys["tests"][1], sources),
            path=self.file,
            line=node.start_mark.line + 1,
            extra=tuple((k, data[k]) for k in SIGMA_EXTRA_KEYS if k in data),
        )

    def sources(self, data: dict, keys: KeyNodes) -> tuple[str, ...] | None:
        if data.get("logsource") is None:
            return None
        ls, ls_node = data["logsource"], keys["logsource"][1]
        if not isinstance(ls, dict):
            raise self.error("logsource must be a mapping like {sources: [waagent_log]}", ls_node)
        lkeys = self.keys(ls_node)
        for k in ls:
            if k not in LOGSOURCE_KEYS:
                raise self.error(f"unknown logsource key {k!r} (use sources)", lkeys[k][0])
        if ls.get("sources") is None:
            return None
        names = self.strings(ls, lkeys, "sources", allow_scalar=True)
        validate.known_all(self, "source", names, self.item_nodes(lkeys, "sources"), validate.source_names())
        return names or None

    def tests(self, tests: Any, node: yaml.Node, sources: tuple[str, ...] | None) -> tuple[Example, ...]:
        if not isinstance(tests, dict):
            raise self.error("tests must be a mapping with match: and nomatch: lists", node)
        tkeys = self.keys(node)
        for k in tests:
            if k not in ("match", "nomatch"):
                raise self.error(f"unknown tests key {k!r} (use match, nomatch)", tkeys[k][0])
        out: list[Example] = []
        for kind in ("match", "nomatch"):
            items = tests.get(kind)
            if not isinstance(items, list) or not items:
                raise self.error(f"tests.{kind} must be a non-empty list", tkeys[kind][1] if kind in tkeys else node)
            for item, item_node in zip(items, tkeys[kind][1].value, strict=True):
                out.append(self.example(kind, item, item_node, sources))
        return tuple(out)

    def example(self, kind: str, item: Any, node: yaml.Node, sources: tuple[str, ...] | None) -> Example:
        line = node.start_mark.line + 1
        if isinstance(item, str):
            if not sources:
                raise self.error("a text example needs logsource.sources (or write {source: NAME, text: ...})", node)
            return Example(kind, line, source=sources[0], text=item)
        if not isinstance(item, dict):
            raise self.error("a test item is a string, {source:, text:} or {events: [...]}", node)
        ikeys = self.keys(node)
        if "events" in item:
            extra = set(item) - {"events"}
            if extra:
                raise self.error(f"unexpected key {sorted(extra)[0]!r} beside events", ikeys[sorted(extra)[0]][0])
            return Example(kind, line, source=sources[0] if sources else None, events=self.rows(item["events"], ikeys["events"][1]))
        if "text" in item:
            extra = set(item) - {"text", "source"}
            if extra:
                raise self.error(f"unexpected key {sorted(extra)[0]!r} in a text example", ikeys[sorted(extra)[0]][0])
            src = item.get("source") or (sources[0] if sources else None)
            if src is None:
                raise self.error("a text example needs a source", node)
            known = validate.source_names()
            if src not in known:
                raise self.error(f"unknown source {src!r} (known: {', '.join(known)})", ikeys["source"][1] if "source" in ikeys else node)
            if not isinstance(item["text"], str):
                raise self.error("text must be a string", ikeys["text"][1])
            return Example(kind, line, source=src, text=item["text"])
        raise self.error("a test item is a string, {source:, text:} or {events: [...]}", node)

    def rows(self, rows: Any, node: yaml.Node) -> tuple[dict, ...]:
        if not isinstance(rows, list) or not rows:
            raise self.error("events must be a non-empty list of rows", node)
        out = []
        for row, row_node in zip(rows, node.value, strict=True):
            if not isinstance(row, dict):
                raise self.error("an event row is a mapping of field: value", row_node)
            rkeys = self.keys(row_node)
            clean: dict[str, Any] = {}
            for k, v in row.items():
                if k not in EVENT_SCHEMA:
                    raise self.error(f"unknown event field {k!r}", rkeys[k][0])
                try:
                    clean[k] = row_value(k, v)
                except (TypeError, ValueError) as exc:
                    raise self.error(f"bad value for {k}: {exc}", rkeys[k][1]) from None
            out.append(clean)
        return tuple(out)


def row_value(name: str, v: Any) -> Any:
    """A YAML value as the event column ``name`` holds it."""
    if v is None:
        return None
    if name == "time":
        if isinstance(v, datetime):
            return v if v.tzinfo else v.replace(tzinfo=timezone.utc)
        s = str(v).strip().replace(" ", "T", 1)
        s = s[:-1] + "+00:00" if s.endswith(("Z", "z")) else s
        dt = datetime.fromisoformat(s)
        return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)
    if name == "data":
        if isinstance(v, dict):
            return [{"name": str(k), "value": None if x is None else str(x)} for k, x in v.items()]
        if isinstance(v, list):
            items = []
            for i, x in enumerate(v):
                if isinstance(x, dict) and set(x) <= {"name", "value"}:
                    items.append({"name": None if x.get("name") is None else str(x["name"]), "value": None if x.get("value") is None else str(x["value"])})
                else:  # positional
                    items.append({"name": str(i), "value": None if x is None else str(x)})
            return items
        raise TypeError("data is a mapping name: value or a list")
    dtype = EVENT_SCHEMA[name]
    if dtype.is_integer():
        if isinstance(v, bool):
            raise TypeError("expected a whole number")
        return int(v)
    return v if isinstance(v, str) else str(v)
