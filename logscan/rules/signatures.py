"""Signatures: YAML data files naming a condition over events and the causes it supports.

A signature file (``logscan/signatures/**/*.yaml``) holds one signature, a YAML list of them
(a family), or several ``---`` documents of either. Keys follow Sigma where Sigma has one::

    title: VMSnapshot could not freeze the file systems
    id: vmsnapshot-fsfreeze-failed          # unique, kebab-case
    status: stable                          # stable | test | experimental (default)
    level: high                             # informational | low | medium | high | critical
    description: ...
    references: [https://learn.microsoft.com/...]
    falsepositives: [A retry that later succeeded]
    tags: [linux, vmsnapshot]
    logsource: {sources: [vmsnapshot_log]}  # names from logscan.sources.registry(); omitted = all
    causes: [fsfreeze-failed]               # required
    error_codes: [UserErrorFsFreezeFailed]  # optional
    condition: message contains "FsFreezeFailed" and level == "ERROR"
    evidence: 5                             # max evidence lines in reports (default 5)
    tests:                                  # required, at least one of each
      match:
        - "2024-05-30 13:15:00 ERROR ... FsFreezeFailed ..."    # text, parsed as the first source
        - {source: waagent_log, text: "..."}                   # text for another source
        - {events: [{provider: VSS, event_id: 12289, time: "2024-05-30T13:15:00Z"}]}
      nomatch:
        - "..."

The condition language is in :mod:`logscan.signatures.language` (grammar:
``grammars/signature.lark``). :func:`evaluate` computes every signature's row predicate in a
single polars pass over the event frame, then finishes the temporal ones (count / followed_by
/ absent) on the few rows that pass.

Besides Sigma's keys, ``author``, ``date``, ``modified``, ``license``, ``related`` and
``fields`` are accepted and kept in :attr:`Signature.extra`; any other key is an error, so a
typo (``conditon:``) never silently disables a signature.
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from collections.abc import Iterable
from collections.abc import Sequence as Seq
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from ..errors import SignatureError
from ..frames import EVENT_SCHEMA, conform, empty
from .language import (
    ConditionError,
    Count,
    Sequence,
    _rx_escape,
    compile_expr,
    count_hits,
    is_temporal,
    parse_condition,
    sequence_hits,
)
from .prefilter import required_literals

#: Diagnosis weight of a hit, from the signature's Sigma level.
LEVEL_WEIGHTS: dict[str, float] = {"informational": 0.1, "low": 0.3, "medium": 0.5, "high": 0.8, "critical": 1.0}
STATUSES = ("stable", "test", "experimental")
DEFAULT_EVIDENCE = 5

REQUIRED_KEYS = ("title", "id", "level", "causes", "condition", "tests")
OPTIONAL_KEYS = (
    "status", "description", "references", "falsepositives", "tags", "logsource", "error_codes", "evidence",
)
SIGMA_EXTRA_KEYS = ("author", "date", "modified", "license", "related", "fields")
ALLOWED_KEYS = REQUIRED_KEYS + OPTIONAL_KEYS + SIGMA_EXTRA_KEYS
LOGSOURCE_KEYS = ("sources", "product", "service", "category")  # Sigma's three are accepted and ignored

ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

#: The hits frame :func:`evaluate` returns. ``level`` is the *signature's* level (what
#: diagnosis weighs), ``event_level`` the event's own; ``row`` indexes the evaluated frame.
#: ``role``: ``match`` (plain and count), ``first``/``then`` (followed_by pairs), ``start``
#: (absent). ``group`` numbers the occurrences, pairs or windows of a signature from 1.
HIT_SCHEMA: dict[str, pl.DataType] = {
    "signature": pl.String(),
    "level": pl.String(),
    "role": pl.String(),
    "group": pl.Int64(),
    "file": pl.String(),
    "line": pl.Int64(),
    "time": EVENT_SCHEMA["time"],
    "source": pl.String(),
    "event_level": pl.String(),
    "text": pl.String(),
    "row": pl.Int64(),
}


@dataclass(frozen=True)
class Example:
    """One ``tests:`` item: text for a source's parser, or event rows given directly."""

    expect: str  # "match" | "nomatch"
    line: int  # where the item starts in the signature file
    source: str | None = None
    text: str | None = None
    events: tuple = field(default=(), hash=False)  # tuple of dicts (rows)


@dataclass(frozen=True)
class Signature:
    id: str
    title: str
    level: str
    condition: str
    tree: Any  # the parsed condition (language AST)
    causes: tuple[str, ...]
    sources: tuple[str, ...] | None = None  # None: every source
    status: str = "experimental"
    description: str = ""
    references: tuple[str, ...] = ()
    falsepositives: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    error_codes: tuple[str, ...] = ()
    evidence: int = DEFAULT_EVIDENCE
    tests: tuple[Example, ...] = ()
    path: str = "<string>"
    line: int = 1
    extra: tuple[tuple[str, Any], ...] = field(default=(), hash=False, compare=False)

    @property
    def weight(self) -> float:
        """How much one hit of this signature counts in diagnosis (from ``level``)."""
        return LEVEL_WEIGHTS[self.level]

    @property
    def temporal(self) -> bool:
        return is_temporal(self.tree)

    @cached_property
    def exprs(self) -> tuple[pl.Expr, ...]:
        """The compiled row predicates, scoped to the signature's sources.

        One for a plain condition (or the inner expression of ``count``), two for
        ``followed_by``/``not followed_by`` (A, B). Compiled once per signature object.
        """
        t = self.tree
        parts = [t.expr] if isinstance(t, Count) else [t.first, t.then] if isinstance(t, Sequence) else [t]
        out = []
        for p in parts:
            e = compile_expr(p)
            if self.sources:
                e = pl.col("source").is_in(list(self.sources)).fill_null(False) & e
            out.append(e)
        return tuple(out)


# ---------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------

PACKAGE_DIR = Path(__file__).resolve().parent.parent / "content" / "signatures"


def _files(paths: Iterable[str | Path] | None) -> list[Path]:
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

    Validates each file (see :func:`parse_signatures`) and that ids are unique across files.
    Results are cached per set of files (keyed by path, size and mtime).
    """
    files = _files(paths)
    key = tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in files)
    return list(_load(key))


@lru_cache(maxsize=16)
def _load(key: tuple[tuple[str, int, int], ...]) -> tuple[Signature, ...]:
    sigs: list[Signature] = []
    seen: dict[str, Signature] = {}
    for path, _, _ in key:
        try:
            text = Path(path).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise SignatureError(f"cannot read: {exc}", file=path) from None
        for s in parse_signatures(text, path):
            if s.id in seen:
                prev = seen[s.id]
                raise SignatureError(f"duplicate id {s.id!r} (first at {prev.path}:{prev.line})", file=path, line=s.line)
            seen[s.id] = s
            sigs.append(s)
    return tuple(sigs)


def parse_signatures(text: str, file: str = "<string>") -> list[Signature]:
    """The signatures of one file's text; :class:`SignatureError` (file:line:col) if invalid."""
    return _FileReader(text, file).read()


def _source_names() -> tuple[str, ...]:
    from ..sources import registry

    return tuple(s.name for s in registry())


class _FileReader:
    """Reads one YAML file keeping its nodes, so every error can point to file:line:col."""

    def __init__(self, text: str, file: str):
        self.text, self.file = text, file

    # --- positions --------------------------------------------------------------------
    def error(self, message: str, node: yaml.Node | None = None, index: int | None = None) -> SignatureError:
        if index is None and node is not None:
            index = node.start_mark.index
        if index is None:
            return SignatureError(message, file=self.file)
        line = self.text.count("\n", 0, index) + 1
        col = index - (self.text.rfind("\n", 0, index) + 1) + 1
        return SignatureError(message, file=self.file, line=line, col=col)

    def scalar_index(self, node: yaml.ScalarNode, offset: int) -> int:
        """Index in the file of character ``offset`` of a scalar's value.

        The value is aligned with the raw text between the node's marks: every non-blank
        character of the value appears there in order (quotes, escapes, block indentation
        and folded line breaks are what is skipped), which handles plain, quoted, literal
        (``|``) and folded (``>``) scalars alike.
        """
        value, raw = node.value, self.text
        start, end = node.start_mark.index, node.end_mark.index
        p = start
        if node.style in ("|", ">"):
            nl = raw.find("\n", start, end)
            p = nl + 1 if nl >= 0 else end
        elif node.style in ("'", '"'):
            p = start + 1
        pos = p
        for c in value[: max(0, offset) + 1]:
            if c.isspace():
                pos = p
                if p < end and raw[p].isspace():
                    p += 1
            else:
                q = raw.find(c, p, end)
                if q >= 0:
                    pos, p = q, q + 1
                else:
                    pos = p
        if offset >= len(value):  # the end of the condition: just after its last character
            pos = max(start, min(p, end))
        return pos

    # --- reading ----------------------------------------------------------------------
    def read(self) -> list[Signature]:
        out: list[Signature] = []
        loader = None
        try:
            loader = yaml.SafeLoader(self.text)  # raises on characters YAML does not allow
            while loader.check_node():
                node = loader.get_node()
                data = loader.construct_document(node)
                if data is None:
                    continue
                if isinstance(data, list):
                    for item, item_node in zip(data, node.value, strict=True):
                        out.append(self.signature(item, item_node))
                else:
                    out.append(self.signature(data, node))
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            idx = mark.index if mark is not None else None
            raise self.error(f"YAML: {exc.problem or exc.context}", index=idx) from None
        except yaml.YAMLError as exc:
            raise self.error(f"YAML: {exc}") from None
        finally:
            if loader is not None:
                loader.dispose()
        return out

    @staticmethod
    def _keys(node: yaml.MappingNode) -> dict[Any, tuple[yaml.Node, yaml.Node]]:
        # Keys with no node of their own (a null key ``?``, keys merged in by ``<<``) point at
        # the mapping itself, so an error about them still has a position.
        keys: dict[Any, tuple[yaml.Node, yaml.Node]] = defaultdict(lambda: (node, node))
        keys.update({k.value: (k, v) for k, v in node.value})
        return keys

    def _str(self, data: dict, keys: dict, name: str, default: str | None = None) -> str:
        if name not in data:
            return default or ""
        v = data[name]
        if not isinstance(v, str) or not v.strip():
            raise self.error(f"{name} must be a non-empty string", keys[name][1])
        return v

    def _str_list(self, data: dict, keys: dict, name: str, allow_scalar: bool = False) -> tuple[str, ...]:
        if name not in data or data[name] is None:
            return ()
        v, node = data[name], keys[name][1]
        if allow_scalar and isinstance(v, (str, int)):
            return (str(v),)
        if not isinstance(v, list):
            raise self.error(f"{name} must be a list", node)
        out = []
        for item, item_node in zip(v, node.value, strict=True):
            if isinstance(item, bool) or not isinstance(item, (str, int)) or str(item).strip() == "":
                raise self.error(f"{name} items must be non-empty strings", item_node)
            out.append(str(item))
        return tuple(out)

    def signature(self, data: Any, node: yaml.Node) -> Signature:
        if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode):
            raise self.error("a signature must be a mapping (title, id, level, causes, condition, tests, ...)", node)
        keys = self._keys(node)
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
        title = self._str(data, keys, "title")
        level = data["level"]
        if level not in LEVEL_WEIGHTS:
            raise self.error(f"level must be one of {', '.join(LEVEL_WEIGHTS)}, not {level!r}", keys["level"][1])
        status = data.get("status", "experimental")
        if status not in STATUSES:
            raise self.error(f"status must be one of {', '.join(STATUSES)}, not {status!r}", keys["status"][1])
        causes = self._str_list(data, keys, "causes", allow_scalar=True)
        if not causes:
            raise self.error("causes must name at least one cause id", keys["causes"][1])
        evidence = data.get("evidence", DEFAULT_EVIDENCE)
        if isinstance(evidence, bool) or not isinstance(evidence, int) or evidence < 1:
            raise self.error("evidence must be a whole number >= 1", keys["evidence"][1])

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
            description=self._str(data, keys, "description") if data.get("description") is not None else "",
            references=self._str_list(data, keys, "references"),
            falsepositives=self._str_list(data, keys, "falsepositives"),
            tags=self._str_list(data, keys, "tags"),
            error_codes=self._str_list(data, keys, "error_codes", allow_scalar=True),
            evidence=evidence,
            tests=self.tests(data["tests"], keys["tests"][1], sources),
            path=self.file,
            line=node.start_mark.line + 1,
            extra=tuple((k, data[k]) for k in SIGMA_EXTRA_KEYS if k in data),
        )

    def sources(self, data: dict, keys: dict) -> tuple[str, ...] | None:
        if data.get("logsource") is None:
            return None
        ls, ls_node = data["logsource"], keys["logsource"][1]
        if not isinstance(ls, dict):
            raise self.error("logsource must be a mapping like {sources: [waagent_log]}", ls_node)
        lkeys = self._keys(ls_node)
        for k in ls:
            if k not in LOGSOURCE_KEYS:
                raise self.error(f"unknown logsource key {k!r} (use sources)", lkeys[k][0])
        if ls.get("sources") is None:
            return None
        names = self._str_list(ls, lkeys, "sources", allow_scalar=True)
        known = _source_names()
        s_node = lkeys["sources"][1]
        item_nodes = s_node.value if isinstance(s_node, yaml.SequenceNode) else [s_node]
        for name, n in zip(names, item_nodes, strict=True):
            if name not in known:
                close = difflib.get_close_matches(name, known, n=1)
                hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(known)}"
                raise self.error(f"unknown source {name!r} ({hint})", n)
        return names or None

    def tests(self, tests: Any, node: yaml.Node, sources: tuple[str, ...] | None) -> tuple[Example, ...]:
        if not isinstance(tests, dict):
            raise self.error("tests must be a mapping with match: and nomatch: lists", node)
        tkeys = self._keys(node)
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
        ikeys = self._keys(node)
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
            known = _source_names()
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
            rkeys = self._keys(row_node)
            clean: dict[str, Any] = {}
            for k, v in row.items():
                if k not in EVENT_SCHEMA:
                    raise self.error(f"unknown event field {k!r}", rkeys[k][0])
                try:
                    clean[k] = _row_value(k, v)
                except (TypeError, ValueError) as exc:
                    raise self.error(f"bad value for {k}: {exc}", rkeys[k][1]) from None
            out.append(clean)
        return tuple(out)


def _row_value(name: str, v: Any) -> Any:
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


# ---------------------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------------------


def _empty_hits() -> pl.DataFrame:
    return empty(HIT_SCHEMA)


def evaluate(signatures: Iterable[Signature], events: pl.DataFrame) -> pl.DataFrame:
    """The hits of every signature over ``events`` (see :data:`HIT_SCHEMA`).

    All row predicates (one boolean column per plain signature, one or two per temporal
    one) are computed in one lazy ``with_columns`` + ``filter`` over the frame — a single
    scan however many signatures there are; hits are gathered from the few flagged rows, and
    temporal signatures are finished on those rows only. Each event appears at most once per
    signature (a ``then`` row that closes two pairs is listed with the first).
    """
    sigs = list(signatures)
    if not sigs or events is None or not events.height:
        return _empty_hits()
    if any(c not in events.columns for c in EVENT_SCHEMA):
        events = conform(events, EVENT_SCHEMA)

    flags: list[pl.Expr] = []
    plans: list[tuple[int, Signature, list[str]]] = []
    by_cols: set[str] = set()
    for i, s in enumerate(sigs):
        names = [f"_s{i}_{k}" for k in range(len(s.exprs))]
        flags.extend(e.alias(n) for e, n in zip(s.exprs, names, strict=True))
        plans.append((i, s, names))
        if s.temporal:
            by_cols.update(s.tree.by)
    flag_names = [n for _, _, names in plans for n in names]
    keep = list(dict.fromkeys(["_row", "file", "line", "time", "source", "level", "text", "message", *by_cols]))
    small = _flagged_rows(events, sigs, plans, flags, flag_names, keep)
    if not small.height:
        return _empty_hits()

    parts: list[pl.DataFrame] = []
    simple = {names[0]: i for i, s, names in plans if not s.temporal}
    if simple:
        long = (
            small.select("_row", *simple)
            .unpivot(index="_row", variable_name="_flag", value_name="_hit")
            .filter(pl.col("_hit"))
        )
        parts.append(
            long.select(
                pl.col("_flag").replace_strict(simple, return_dtype=pl.Int64).alias("_sig"),
                "_row",
                pl.lit("match").alias("role"),
                pl.lit(None, pl.Int64).alias("group"),
            )
        )
    for i, s, names in plans:
        if isinstance(s.tree, Count):
            got = count_hits(small, names[0], s.tree)
        elif isinstance(s.tree, Sequence):
            got = sequence_hits(small, names[0], names[1], s.tree)
        else:
            continue
        if got.height:
            parts.append(got.select(pl.lit(i, pl.Int64).alias("_sig"), "_row", "role", "group"))
    parts = [p for p in parts if p.height]
    if not parts:
        return _empty_hits()

    hits = pl.concat(parts, how="vertical").unique(["_sig", "_row"], keep="first", maintain_order=True)
    meta = pl.DataFrame(
        {"_sig": list(range(len(sigs))), "signature": [s.id for s in sigs], "_level": [s.level for s in sigs]},
        schema={"_sig": pl.Int64, "signature": pl.String, "_level": pl.String},
    )
    hits = (
        hits.join(small.select(*keep), on="_row", how="left")
        .join(meta, on="_sig", how="left")
        .sort(["_sig", "time", "_row"], nulls_last=True)
        .with_columns(group=pl.coalesce("group", pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over("_sig")))
        .sort(["_sig", "group", "time", "_row"], nulls_last=True)
    )
    return hits.select(
        "signature",
        pl.col("_level").alias("level"),
        "role",
        "group",
        "file",
        "line",
        "time",
        "source",
        pl.col("level").alias("event_level"),
        pl.coalesce("text", "message").alias("text"),
        pl.col("_row").cast(pl.Int64).alias("row"),
    ).cast(HIT_SCHEMA)  # type: ignore[arg-type]


def _parts_of(s: Signature) -> list:
    t = s.tree
    return [t.expr] if isinstance(t, Count) else [t.first, t.then] if isinstance(t, Sequence) else [t]


#: Rows sampled to measure how common each prefilter word is.
PREFILTER_SAMPLE = 20_000
#: A flag whose words occur in more than this share of rows is not worth prefiltering.
PREFILTER_MAX_SHARE = 0.05


def _word_costs(events: pl.DataFrame, words: list[str]) -> dict[str, float]:
    """Share of (sampled) rows containing each word, lower-cased."""
    sample = events if events.height <= PREFILTER_SAMPLE else events.sample(PREFILTER_SAMPLE, seed=0)
    alternation = "(?i)" + "|".join(_rx_escape(w) for w in words)
    found = (
        sample.select(pl.col("text").fill_null("").str.extract_all(alternation).alias("w"))
        .with_row_index("_r")
        .explode("w")
        .drop_nulls("w")
        .select("_r", pl.col("w").str.to_lowercase())
        .unique()
        .group_by("w")
        .len()
    )
    n = max(sample.height, 1)
    costs = dict.fromkeys(words, 0.0)
    for w, c in found.iter_rows():
        costs[w] = c / n
    return costs


def _flagged_rows(
    events: pl.DataFrame,
    sigs: list[Signature],
    plans: list[tuple[int, Signature, list[str]]],
    flags: list[pl.Expr],
    flag_names: list[str],
    keep: list[str],
) -> pl.DataFrame:
    """The rows where any flag holds, with every flag column, in frame order.

    Most conditions require one of a few words (see :mod:`.prefilter`). Their flags are
    computed only on the rows where one regex alternation of all those words matches (the
    Rust regex engine runs literal sets with SIMD/Aho-Corasick, one pass); which words a
    condition is keyed on (``a and b``: either side's) is chosen by how rare they are in a
    sample of the frame. Flags that need no word, or only common words, run on every row.
    The result equals computing every flag on every row.
    """
    parts_by_name = {name: part for _i, s, names in plans for part, name in zip(_parts_of(s), names, strict=True)}
    static = {n: required_literals(p) for n, p in parts_by_name.items()}
    all_words = sorted(set().union(*[r for r in static.values() if r]))
    lf = events.lazy().with_row_index("_row")
    if not all_words:
        return lf.with_columns(flags).filter(pl.any_horizontal(flag_names)).select(*keep, *flag_names).collect()
    share = _word_costs(events, all_words)
    cost = lambda ws: sum(share.get(w, 0.0) for w in ws)  # noqa: E731
    reqs = {n: required_literals(p, cost) for n, p in parts_by_name.items()}
    reqs = {n: (r if r and cost(r) <= PREFILTER_MAX_SHARE else None) for n, r in reqs.items()}
    words = sorted(set().union(*[r for r in reqs.values() if r]))
    if not words:
        return lf.with_columns(flags).filter(pl.any_horizontal(flag_names)).select(*keep, *flag_names).collect()
    by_name = dict(zip(flag_names, flags, strict=True))
    open_flags = [by_name[n] for n in flag_names if not reqs[n]]
    alternation = "(?i)" + "|".join(_rx_escape(w) for w in words)
    cand = pl.col("message").str.contains(alternation).fill_null(False) | pl.col("text").str.contains(
        alternation
    ).fill_null(False)
    base = lf.with_columns(_cand=cand)
    inside = base.filter(pl.col("_cand")).with_columns(flags)
    outside = base.filter(~pl.col("_cand")).with_columns(
        *open_flags, *[pl.lit(False).alias(n) for n in flag_names if reqs[n]]
    )
    parts = [p.filter(pl.any_horizontal(flag_names)).select(*keep, *flag_names) for p in (inside, outside)]
    return pl.concat(parts, how="vertical").sort("_row").collect()


def limit_evidence(hits: pl.DataFrame, signatures: Iterable[Signature]) -> pl.DataFrame:
    """At most ``evidence`` rows per signature (whole groups first, in hit order)."""
    limits = {s.id: s.evidence for s in signatures}
    if not hits.height:
        return hits
    lim = pl.col("signature").replace_strict(limits, default=DEFAULT_EVIDENCE, return_dtype=pl.Int64)
    return hits.filter(pl.int_range(pl.len()).over("signature") < lim)


# ---------------------------------------------------------------------------------------
# Self-tests
# ---------------------------------------------------------------------------------------


def example_events(sig: Signature, ex: Example) -> pl.DataFrame:
    """The events of one test item, read the way a bundle's file would be."""
    from ..frames import events_from_records
    from ..io import redact
    from ..sources import SourceFile, registry

    if ex.text is not None:
        spec = next((s for s in registry() if s.name == ex.source), None)
        if spec is None:
            raise SignatureError(f"unknown source {ex.source!r}", file=sig.path, line=ex.line)
        path = spec.example_path or f"example/{spec.name}"
        parsed = spec.parse(SourceFile(path, path, ex.text.encode("utf-8")))
        ev = parsed.events if parsed.events is not None else empty(EVENT_SCHEMA)
        ev = conform(ev, EVENT_SCHEMA)
    else:
        rows = []
        for k, r in enumerate(ex.events):
            rows.append({"source": ex.source, "file": "example", "line": k + 1, **r})
        ev = events_from_records(rows)
    ev = redact.events(ev)
    return ev.sort("time", nulls_last=True, maintain_order=True)


def run_tests(signature: Signature) -> list[str]:
    """Run a signature's own examples; the failures as ``file:line: id: what`` (empty = pass).

    A ``match`` item must give at least one hit, a ``nomatch`` item none.
    """
    failures: list[str] = []
    for ex in signature.tests:
        where = f"{signature.path}:{ex.line}: {signature.id}: {ex.expect} example"
        try:
            hits = evaluate([signature], example_events(signature, ex))
        except Exception as exc:  # a parser bug or bad example must show up as a failure, not a crash
            failures.append(f"{where} could not be evaluated: {type(exc).__name__}: {exc}")
            continue
        if ex.expect == "match" and not hits.height:
            failures.append(f"{where} gave no hit")
        elif ex.expect == "nomatch" and hits.height:
            first = hits.row(0, named=True)
            text = (first["text"] or "").splitlines()[0][:160] if first["text"] else ""
            failures.append(f"{where} hit line {first['line']}: {text!r}")
    return failures


def run_all_tests(signatures: Seq[Signature]) -> dict[str, list[str]]:
    """Failures per signature id, for every signature that has any."""
    out = {}
    for s in signatures:
        f = run_tests(s)
        if f:
            out[s.id] = f
    return out


__all__ = [
    "HIT_SCHEMA",
    "LEVEL_WEIGHTS",
    "Example",
    "Signature",
    "SignatureError",
    "evaluate",
    "example_events",
    "limit_evidence",
    "load_signatures",
    "parse_signatures",
    "run_all_tests",
    "run_tests",
]
