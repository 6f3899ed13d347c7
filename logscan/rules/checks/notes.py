"""Report notes: what a bundle says that is worth telling the engineer but is not a cause.

``notes.yaml`` holds two shapes. ``note: config`` remarks on a waagent.conf key (a misspelt
key, a value that is not y/n). ``note: facts`` remarks on any fact, the state a collector or a
command output recorded: a full ``/var`` (no documented cause names it, yet the agent cannot
write its state), commands missing on the VM, a collection made with ``--no-commands``.
"""

from __future__ import annotations

import re
from typing import Any

import polars as pl

from ..yamlpos import PositionedYaml
from .fact_kinds import select, value_ok
from .loader import regex
from .model import FactNote, Note


def parse_notes(text: str, file: str) -> list[Note | FactNote]:
    """Every note of ``notes.yaml``'s text, validated (errors at file:line:col)."""
    r = PositionedYaml(text, file)
    out: list[Note | FactNote] = []
    for data, node in r.items():
        kind = data.get("note") if isinstance(data, dict) else None
        if kind == "config" and not set(data) - {"note", "key", "text", "is_not"}:
            keys = r.keys(node)
            is_not = tuple(str(x).strip().lower() for x in data["is_not"]) if "is_not" in data else None
            out.append(Note(r.string(data, keys, "key"), r.string(data, keys, "text").strip(), is_not))
        elif kind == "facts" and {"subject", "key", "text"} <= set(data) and not set(data) - {"note", "subject", "key", "matches", "text", "item", "max_items"}:
            try:
                out.append(_fact_note(data))
            except (KeyError, IndexError) as exc:
                raise r.error(f"a note's text uses an unknown field {exc}", node) from None
            except ValueError as exc:
                raise r.error(f"{exc}", node) from None
        else:
            raise r.error("a note is {note: config, key, text, is_not} or {note: facts, subject, key, matches, text, item, max_items}", node)
    return out


def _fact_note(data: dict[str, Any]) -> FactNote:
    n = FactNote(regex(data["subject"]), regex(data["key"]), " ".join(str(data["text"]).split()),
                 regex(data["matches"]) if "matches" in data else None, data.get("item"), int(data.get("max_items", 5)))
    groups = dict.fromkeys([*re.compile(n.subject).groupindex, *re.compile(n.key).groupindex, "subject", "key", "value", "file", "line"], "")
    if n.item is None:
        n.text.format(**groups)
    else:
        n.item.format(**groups)
        n.text.format(items="", count=0)
    return n


def conf_notes(facts: pl.DataFrame, notes: tuple[Note | FactNote, ...]) -> list[str]:
    """Notes about the conf's last value of each key."""
    rows = facts.filter(pl.col("subject") == "conf").select("key", "value", "file", "line").to_dicts()
    last = {r["key"]: r for r in rows}
    out = []
    for n in notes:
        r = last.get(n.key) if isinstance(n, Note) else None
        if r is None or (n.values_not is not None and (r["value"] or "").strip().lower() in n.values_not):
            continue
        out.append(f"{r['file']}:{r['line']}: " + n.text.format(key=r["key"], value=r["value"]))
    return out


def fact_notes(facts: pl.DataFrame, notes: tuple[Note | FactNote, ...]) -> list[str]:
    """Notes about any fact (collected state), in notes.yaml order."""
    out = []
    for n in notes:
        if not isinstance(n, FactNote):
            continue
        found = [(r, {**f, "file": r["file"] or "", "line": r["line"] or ""}) for r, f in select(facts, n.subject, n.key)
                 if value_ok(r["value"], n.matches)]
        if not found:
            continue
        if n.item is None:
            for r, f in found:
                where = f"{r['file']}:{r['line']}: " if r["file"] and r["line"] else (f"{r['file']}: " if r["file"] else "")
                out.append(where + n.text.format(**f))
            continue
        items = list(dict.fromkeys(n.item.format(**f) for _, f in found))
        shown = ", ".join(items[: n.max_items]) + (f" and {len(items) - n.max_items} more" if len(items) > n.max_items else "")
        out.append(n.text.format(items=shown, count=len(items)))
    return out
