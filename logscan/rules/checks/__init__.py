"""Facts-based checks: what a line signature cannot say, declared as data.

Some causes show only as a *value* (an agent version below the supported floor,
``Extensions.Enabled=n``, a numeric status code) or an *absence* (the agent log stops long
before everything else). Each check in ``logscan/content/checks/*.yaml`` is one generic kind
(:mod:`.kinds`) with its thresholds, weights, cause and source as data, validated when loaded
(:mod:`.loader`). Hits come out in the diagnosis hits shape (:data:`HIT_SCHEMA`) so diagnosis
treats them like signature hits. A check never opens a bundle file: it reads the facts layer's
decisions (:func:`logscan.facts.decide`) and the frames.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache, lru_cache
from pathlib import Path

import polars as pl
import yaml

from ... import content
from ...errors import SignatureError
from ...facts import decide
from ...io import cache as disk
from .. import validate
from ..yamlpos import PositionedYaml
from .kinds import KINDS, Context, version_tuple
from .loader import check_files, parse_checks
from .model import HIT_SCHEMA, Also, Check, FactNote, Note
from .notes import conf_notes as _conf_notes
from .notes import fact_notes as _fact_notes
from .notes import parse_notes


def checks_dir() -> Path:
    return Path(str(content.path("checks")))


def load_checks(folder: Path | None = None) -> list[Check]:
    """Every check of ``folder`` (default: the shipped ones), validated; cached by content."""
    files = check_files(folder or checks_dir())
    code = sorted(Path(__file__).parent.glob("*.py"))
    kb = Path(str(content.path("knowledge", "causes.yaml")))
    key = disk.content_key("checks", [*files, kb, *code, "\0".join(validate.source_names())])
    return list(_load(key, tuple(files)))


@lru_cache(maxsize=8)
def _load(key: str, files: tuple[Path, ...]) -> tuple[Check, ...]:
    def build() -> tuple[Check, ...]:
        causes, sources = validate.cause_ids(), validate.source_names()
        out: list[Check] = []
        seen: dict[str, Check] = {}
        for f in files:
            for c in parse_checks(f.read_text(encoding="utf-8"), str(f), causes, sources):
                if c.id in seen:
                    raise SignatureError(f"duplicate check id {c.id!r} (first at {seen[c.id].path}:{seen[c.id].line})", file=str(f), line=c.line)
                seen[c.id] = c
                out.append(c)
        return tuple(out)

    classes = {c.__name__: c for c in (Check, Also)}
    return disk.cached("checks", key, build, disk.encode, lambda v: disk.decode(v, classes))


@cache
def notes() -> tuple[Note | FactNote, ...]:
    f = checks_dir() / "notes.yaml"
    return tuple(parse_notes(f.read_text(encoding="utf-8"), str(f)))


@cache
def extension_codes() -> dict[str, dict[int, dict]]:
    """Numeric status code → {name, cause, success, transitioning} for the backup extension
    (``codes``) and the agent's handler codes (``agent_codes``); causes checked at load."""
    path = content.path("knowledge", "extension_codes.yaml")
    reader = PositionedYaml(path.read_text(encoding="utf-8"), "logscan/content/knowledge/extension_codes.yaml")
    causes = validate.cause_ids()
    data = yaml.compose(reader.text, Loader=yaml.SafeLoader)
    tables = {k.value: v for k, v in data.value}
    raw = yaml.safe_load(reader.text)
    out: dict[str, dict[int, dict]] = {}
    for table in ("codes", "agent_codes"):
        m: dict[int, dict] = {}
        for e, node in zip(raw[table], tables[table].value, strict=True):
            if e.get("cause") is not None:
                validate.known(reader, "cause id", e["cause"], node, causes)
            lo, hi = e["range"] if "range" in e else (e["code"], e["code"])
            for c in range(lo, hi + 1):
                m[c] = e
        out[table] = m
    return out


def run_checks(bundle, at: datetime | None = None, checks: list[Check] | None = None) -> pl.DataFrame:
    """Every check's evidence over one loaded bundle as hit rows (``signature`` = the check's
    id, or its group), listed check by check and, within a group, extension by extension."""
    facts, events = decide(bundle), bundle.events
    ctx = Context(facts, bundle.facts, events, at, extension_codes())
    groups: dict[str, int] = {}
    rows: list[tuple[tuple, dict]] = []
    for i, c in enumerate(checks if checks is not None else load_checks()):
        g = groups.setdefault(c.reports_as, len(groups))
        for n, h in enumerate(KINDS[c.kind](c, ctx)):
            rows.append(((g, h.pop("_ext", 0), i, n), {"signature": c.reports_as, **h}))
    if not rows:
        return pl.DataFrame(schema=HIT_SCHEMA)
    hits = pl.DataFrame([r for _, r in sorted(rows, key=lambda x: x[0])], schema=HIT_SCHEMA)
    # A fact read from a log line (the agent's version banner) is quoted as that line.
    if events.height:
        written = events.select("file", "line", pl.coalesce("text", "message").alias("_written")).unique(["file", "line"])
        hits = hits.join(written, on=["file", "line"], how="left").with_columns(
            text=pl.coalesce("_written", "text")
        ).drop("_written")
    return hits


def conf_notes(facts: pl.DataFrame) -> list[str]:
    """Things worth telling the engineer about the conf that are not a cause by themselves."""
    return _conf_notes(facts, notes())


def report_notes(facts: pl.DataFrame) -> list[str]:
    """Every report note: the conf's, then the collected state's (full disks, missing
    commands, ``--no-commands``), as ``notes.yaml`` lists them."""
    return _conf_notes(facts, notes()) + _fact_notes(facts, notes())


__all__ = ["HIT_SCHEMA", "Check", "conf_notes", "extension_codes", "load_checks", "report_notes", "run_checks", "version_tuple"]
