"""Per-format facts as data: ``logscan/content/formats/*.yaml``, loaded once and checked at load.

What a parser needs to know about a format that is not its line grammar lives in these files,
not in Python: keyword → level maps for lines that state no level, localised level names,
numeric level tables, relevance filters, failure phrases. Like lnav's format files, each file
also carries **sample lines with the fields they must give**; loading runs every sample through
the parser of its source (the registry's ``SourceSpec``, parsing the spec's ``example_path``)
and compares the first event. A file that is not valid, a regex that polars cannot compile or
a sample that does not give its fields is a :class:`FormatError` naming ``file:line:col``.

Parsers call :func:`format_facts` (``format_facts("windows_agent_logs").keyword_level("text")``);
the load happens on first use and is cached for the process.

File shape (every key but ``format`` optional)::

    format: windows_agent_logs          # the name parsers ask for
    keyword_levels:                     # first match wins; rows with a level keep it
      - {level: ERROR, pattern: '(?i)exception|failed'}
    level_numbers: {"2": ERROR}         # e.g. EVTX System/Level
    level_names: {FEHLER: ERROR}        # localised names, upper case
    patterns: {relevant: 'waagent|...'} # named regexes a parser uses
    samples:
      - source: waappagent_log          # a registered source name
        line: "[00000006] ... [INFO]  text"
        fields: {level: INFO, thread: "00000006"}
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from ..content import path as content_path
from ..frames import LEVELS

_KEYS = {"format", "description", "keyword_levels", "level_numbers", "level_names", "patterns", "samples"}


class FormatError(ValueError):
    """An invalid format file, with the place of the fault (``file:line:col: message``)."""

    def __init__(self, file: str, line: int, col: int, message: str) -> None:
        super().__init__(f"{file}:{line}:{col}: {message}")
        self.file, self.line, self.col, self.message = file, line, col, message


@dataclass(frozen=True)
class Sample:
    source: str
    line: str
    fields: dict[str, Any]
    file: str
    at: tuple[int, int]  # 1-based line and column of the sample in the format file


@dataclass(frozen=True)
class Format:
    """The facts of one format, as parsers use them."""

    name: str
    file: str
    keyword_levels: tuple[tuple[str, str], ...] = ()
    level_numbers: dict[str, str] = field(default_factory=dict)
    level_names: dict[str, str] = field(default_factory=dict)
    patterns: dict[str, str] = field(default_factory=dict)
    samples: tuple[Sample, ...] = ()

    def keyword_level(self, column: str) -> pl.Expr:
        """Level from the first keyword pattern found in ``column`` (null when none matches)."""
        expr: Any = pl
        for level, pattern in self.keyword_levels:
            expr = expr.when(pl.col(column).str.contains(pattern)).then(pl.lit(level))
        return pl.lit(None, pl.String) if expr is pl else expr

    def pattern(self, name: str) -> str:
        return self.patterns[name]


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _items(node: yaml.Node) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    return {k.value: (k, v) for k, v in node.value} if isinstance(node, yaml.MappingNode) else {}


def _seq(file: str, items: dict, data: dict, key: str) -> list[tuple[yaml.Node, Any]]:
    """(node, value) of each item of the list under ``key`` ([] when absent)."""
    if key not in items:
        return []
    k_node, v_node = items[key]
    if not isinstance(v_node, yaml.SequenceNode) or not isinstance(data[key], list):
        raise FormatError(file, *_mark(k_node), f"{key} is a list")
    return list(zip(v_node.value, data[key], strict=True))


def _check_regex(file: str, node: yaml.Node, pattern: object) -> str:
    if not isinstance(pattern, str) or not pattern:
        raise FormatError(file, *_mark(node), "a pattern must be a non-empty string")
    try:
        re.compile(pattern)
        pl.select(pl.lit("").str.contains(pattern))
    except (re.error, pl.exceptions.PolarsError) as exc:
        raise FormatError(file, *_mark(node), f"invalid regex: {exc}") from exc
    return pattern


def _level(file: str, node: yaml.Node, value: object) -> str:
    if value not in LEVELS:
        raise FormatError(file, *_mark(node), f"level {value!r} is not one of {', '.join(LEVELS)}")
    return str(value)


def parse_format(file: str, text: str) -> Format:
    """One format file → :class:`Format` (structure and regexes checked; samples not run)."""
    try:
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        m = exc.problem_mark or exc.context_mark
        raise FormatError(file, m.line + 1 if m else 1, m.column + 1 if m else 1, str(exc.problem or exc)) from exc
    if not isinstance(data, dict) or node is None:
        raise FormatError(file, 1, 1, "a format file is a mapping with at least 'format'")
    items = _items(node)
    for key, (k, _) in items.items():
        if key not in _KEYS:
            raise FormatError(file, *_mark(k), f"unknown key {key!r} (known: {', '.join(sorted(_KEYS))})")
    if not isinstance(data.get("format"), str):
        raise FormatError(file, 1, 1, "'format' (the name parsers ask for) is required")

    keyword_levels = []
    for item_node, item in _seq(file, items, data, "keyword_levels"):
        if not isinstance(item, dict) or set(item) != {"level", "pattern"}:
            raise FormatError(file, *_mark(item_node), "a keyword level is {level: ..., pattern: ...}")
        keyword_levels.append((_level(file, item_node, item["level"]), _check_regex(file, item_node, item["pattern"])))
    maps = {}
    for key in ("level_numbers", "level_names"):
        value = data.get(key) or {}
        node_ = items.get(key, (node, node))[1]
        if not isinstance(value, dict):
            raise FormatError(file, *_mark(node_), f"{key} is a mapping")
        for (_, v_node), v in zip(node_.value if isinstance(node_, yaml.MappingNode) else [], value.values(), strict=False):
            _level(file, v_node, v)
        maps[key] = {str(k): str(v) for k, v in value.items()}
    patterns = {}
    for name, (_, p_node) in _items(items["patterns"][1]).items() if "patterns" in items else ():
        patterns[name] = _check_regex(file, p_node, data["patterns"][name])
    samples = []
    for s_node, s in _seq(file, items, data, "samples"):
        if not isinstance(s, dict) or not isinstance(s.get("source"), str) or not isinstance(s.get("line"), str) \
                or not isinstance(s.get("fields"), dict) or not s["fields"]:
            raise FormatError(file, *_mark(s_node), "a sample is {source: <source name>, line: <text>, fields: {column: value}}")
        samples.append(Sample(s["source"], s["line"], s["fields"], file, _mark(s_node)))
    return Format(data["format"], file, tuple(keyword_levels), maps["level_numbers"], maps["level_names"], patterns, tuple(samples))


def check_sample(sample: Sample) -> None:
    """Run one sample through its source's parser; :class:`FormatError` when a field differs."""
    from . import registry  # parsers import this module: resolve the registry only when run
    from .base import SourceFile

    spec = next((s for s in registry() if s.name == sample.source), None)
    if spec is None:
        raise FormatError(sample.file, *sample.at, f"sample source {sample.source!r} is not a registered source")
    path = spec.example_path
    events = spec.parse(SourceFile(path, path, sample.line.encode("utf-8"))).events
    if events is None or not events.height:
        raise FormatError(sample.file, *sample.at, f"sample gives no event through {sample.source}")
    row = events.row(0, named=True)
    for name, want in sample.fields.items():
        if name not in row:
            raise FormatError(sample.file, *sample.at, f"sample field {name!r} is not an event column")
        got = row[name]
        got = got.isoformat() if hasattr(got, "isoformat") else got
        if got != want:
            raise FormatError(sample.file, *sample.at, f"sample {name} is {got!r}, the format says {want!r}")


_LOCK = threading.RLock()
_FORMATS: dict[str, Format] | None = None


def formats() -> dict[str, Format]:
    """Every format file, loaded and checked once (samples included)."""
    global _FORMATS
    with _LOCK:
        if _FORMATS is not None:
            return _FORMATS
        loaded: dict[str, Format] = {}
        folder = content_path("formats")
        for entry in sorted(folder.iterdir(), key=lambda e: e.name):
            if not entry.name.endswith((".yaml", ".yml")):
                continue
            fmt = parse_format(f"content/formats/{entry.name}", entry.read_text(encoding="utf-8"))
            if fmt.name in loaded:
                raise FormatError(fmt.file, 1, 1, f"format {fmt.name!r} is also defined in {loaded[fmt.name].file}")
            loaded[fmt.name] = fmt
        _FORMATS = loaded  # visible to the parsers the samples run through
        try:
            _check_samples_once(loaded)
        except BaseException:
            _FORMATS = None
            raise
        return loaded


def _check_samples_once(loaded: dict[str, Format]) -> None:
    """Run every format's sample lines through its parser, once per content: the outcome
    depends only on the format files and the parsers' code, so a pass is remembered in the
    startup cache (:mod:`logscan.io.cache`) under a hash of both and not re-run per process."""
    from ..io import cache as disk

    def run() -> bool:
        for fmt in loaded.values():
            for sample in fmt.samples:
                check_sample(sample)
        return True

    here = Path(__file__).resolve().parent
    inputs: list[Path | str] = sorted(here.rglob("*.py"))
    inputs += [fmt.file + "\0" + repr(fmt) for fmt in loaded.values()]
    disk.cached("format-samples", disk.content_key("format-samples", inputs), run, lambda v: v, lambda v: v)


def format_facts(name: str) -> Format:
    """The facts of format ``name`` (KeyError names the missing format)."""
    found = formats()
    if name not in found:
        raise KeyError(f"no format {name!r} in content/formats (have: {', '.join(sorted(found))})")
    return found[name]
