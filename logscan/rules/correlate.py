"""Correlations as data: add the event linked to a hit's event by a shared key.

``logscan/content/correlations/*.yaml`` declares each link (e.g. Application Error 1000 ↔
WER 1001 by report id): which events are on each side (``where``: event columns and values),
how to read the key on each side (EventData names, then a position, then a message regex) and
what the added evidence rows say. Everything is validated at load with file:line:col; the
linking itself is two joins per correlation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from .. import content
from ..frames import EVENT_SCHEMA
from . import validate
from .yamlpos import PositionedYaml

KEYS = ("id", "title", "from", "to", "value", "suffix", "weight", "note", "why", "source")
SIDE_KEYS = ("where", "key")
KEY_KEYS = ("data", "position", "message")


@dataclass(frozen=True)
class KeyRule:
    names: tuple[str, ...] = ()
    position: int | None = None
    message: str | None = None  # regex, group 1 is the key, {value} already substituted


@dataclass(frozen=True)
class Side:
    where: tuple[tuple[str, Any], ...]
    key: KeyRule


@dataclass(frozen=True)
class Correlation:
    id: str
    title: str
    first: Side  # the event a hit quotes
    then: Side  # the event added as evidence
    value: str
    suffix: str
    weight: float
    note: str
    path: str = "<string>"
    line: int = 1


def parse_correlations(text: str, file: str) -> list[Correlation]:
    r = PositionedYaml(text, file)
    return [_correlation(r, data, node) for data, node in r.items()]


def _correlation(r: PositionedYaml, data: Any, node: yaml.Node) -> Correlation:
    if not isinstance(data, dict):
        raise r.error("a correlation is a mapping (id, from, to, value, suffix, weight, note, ...)", node)
    keys = r.keys(node)
    for k in data:
        validate.known(r, "correlation key", str(k), keys[k][0], KEYS)
    for k in ("id", "title", "from", "to", "value", "suffix", "weight", "note"):
        if k not in data:
            raise r.error(f"missing required key {k!r}", node)
    if not data.get("source"):
        raise r.error("a correlation needs a source: (URL or file@section)", node)
    value = r.string(data, keys, "value")
    try:
        re.compile(value)
    except re.error as exc:
        raise r.error(f"bad value regex: {exc}", keys["value"][1]) from None
    w = data["weight"]
    if isinstance(w, bool) or not isinstance(w, (int, float)) or not 0 <= w <= 1:
        raise r.error("weight is a number from 0 to 1", keys["weight"][1])
    return Correlation(
        id=r.string(data, keys, "id"),
        title=r.string(data, keys, "title"),
        first=_side(r, data["from"], keys["from"][1], value),
        then=_side(r, data["to"], keys["to"][1], value),
        value=value,
        suffix=r.string(data, keys, "suffix"),
        weight=float(w),
        note=r.string(data, keys, "note"),
        path=r.file,
        line=node.start_mark.line + 1,
    )


def _side(r: PositionedYaml, data: Any, node: yaml.Node, value: str) -> Side:
    if not isinstance(data, dict) or set(data) != set(SIDE_KEYS):
        raise r.error("a side is {where: {column: value}, key: {data, position, message}}", node)
    keys = r.keys(node)
    where, wnode = data["where"], keys["where"][1]
    if not isinstance(where, dict) or not where:
        raise r.error("where: is a mapping of event column: value", wnode)
    wkeys = r.keys(wnode)
    for col, v in where.items():
        validate.known(r, "event field", str(col), wkeys[col][0], EVENT_SCHEMA)
        if EVENT_SCHEMA[col].is_integer() and (isinstance(v, bool) or not isinstance(v, int)):
            raise r.error(f"{col} is a whole number", wkeys[col][1])
    key, knode = data["key"], keys["key"][1]
    if not isinstance(key, dict) or not key:
        raise r.error("key: is a mapping of data, position, message", knode)
    kkeys = r.keys(knode)
    for k in key:
        validate.known(r, "key rule", str(k), kkeys[k][0], KEY_KEYS)
    pos = key.get("position")
    if pos is not None and (isinstance(pos, bool) or not isinstance(pos, int) or pos < 0):
        raise r.error("position is a 0-based item number", kkeys["position"][1])
    message = key.get("message")
    if message is not None:
        message = str(message).replace("{value}", value)
        try:
            if re.compile(message).groups < 1:
                raise r.error("message needs a group ( ) around the key", kkeys["message"][1])
        except re.error as exc:
            raise r.error(f"bad message regex: {exc}", kkeys["message"][1]) from None
    return Side(tuple(where.items()), KeyRule(r.strings(key, kkeys, "data", allow_scalar=True), pos, message))


@cache
def load_correlations(folder: Path | None = None) -> tuple[Correlation, ...]:
    """The shipped correlations (or those of ``folder``), validated."""
    root = folder or Path(str(content.path("correlations")))
    out: list[Correlation] = []
    for f in sorted(root.glob("*.yaml")):
        out.extend(parse_correlations(f.read_text(encoding="utf-8"), str(f)))
    return tuple(out)


def _key(rule: KeyRule, value: str) -> pl.Expr:
    """The key of an event, lower-cased: the first named item, else the positional one, else
    the message regex; a data item counts only when it is a whole ``value``."""
    whole = rf"^\s*(?:{value})\s*$"
    parts: list[pl.Expr] = []
    if rule.names:
        item = pl.element()
        named = pl.col("data").list.eval(
            item.struct.field("value").filter(item.struct.field("name").is_in(list(rule.names)))
        ).list.first()
        parts.append(named)
    if rule.position is not None:
        parts.append(pl.col("data").list.get(rule.position, null_on_oob=True).struct.field("value"))
    exprs = [pl.when(e.str.contains(whole)).then(e.str.strip_chars()) for e in parts]
    if rule.message:
        exprs.append(pl.col("message").str.extract(rule.message, 1))
    return pl.coalesce(exprs).str.to_lowercase()


def _where(side: Side) -> pl.Expr:
    e = pl.lit(True)
    for col, v in side.where:
        e = e & (pl.col(col) == v).fill_null(False)
    return e


def correlate(hits: pl.DataFrame, events: pl.DataFrame, correlations: tuple[Correlation, ...] | None = None) -> pl.DataFrame:
    """``hits`` plus, for every hit on a ``from`` event, the linked ``to`` events as evidence
    of the same cause (diagnosis hits shape; see the module docstring)."""
    corrs = load_correlations() if correlations is None else correlations
    if not hits.height or not events.height:
        return hits
    added: list[pl.DataFrame] = []
    for c in corrs:
        needed = {col for side in (c.first, c.then) for col, _ in side.where} | {"data", "message"}
        if not needed <= set(events.columns):
            continue
        firsts = events.filter(_where(c.first)).select("file", "line", _key(c.first.key, c.value).alias("_key")).drop_nulls().unique()
        if not firsts.height:
            continue
        thens = events.filter(_where(c.then)).select(
            pl.col("file").alias("_file"),
            pl.col("line").alias("_line"),
            pl.col("time").alias("_time"),
            pl.col("source").alias("_source"),
            pl.coalesce("text", "message").alias("_text"),
            _key(c.then.key, c.value).alias("_key"),
        ).drop_nulls("_key")
        if not thens.height:
            continue
        linked = hits.join(firsts, on=["file", "line"], how="inner").join(thens, on="_key", how="inner")
        if not linked.height:
            continue
        added.append(linked.select(
            (pl.col("signature") + c.suffix).alias("signature"),
            "cause",
            pl.lit(c.weight).alias("weight"),
            pl.col("_file").alias("file"),
            pl.col("_line").alias("line"),
            pl.col("_time").alias("time"),
            pl.col("_source").alias("source"),
            pl.col("_text").alias("text"),
            pl.lit(c.note).alias("note"),
        ).unique(["signature", "cause", "file", "line"], maintain_order=True).cast(hits.schema))  # type: ignore[arg-type]
    return pl.concat([hits, *added], how="vertical") if added else hits
