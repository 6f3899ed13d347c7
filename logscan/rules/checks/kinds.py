"""The generic check kinds: each reads the decided facts and frames, never a file.

=================  ==========================================================================
kind               holds when
=================  ==========================================================================
version_floor      a version (``of: agent``, the facts layer's decided agent version, or
                   ``of: SUBJECT/KEY``, every such fact) is below ``floor``; ``bands`` give a
                   different weight below a lower version; ``platform`` limits it to one OS
config_value       the last ``key`` in the agent conf, lower-cased, is one of ``is`` / none of
                   ``is_not``
extension_value    an extension's latest ``key`` is one of ``is`` (``extensions`` filters by
                   name; ``detail`` appends another key's value to the note)
status_code        a numeric code (``keys``) of an extension is in code ``table`` with a cause
                   (or ``cause``/``default_cause``); ``when`` gates it on another key, whose
                   row is then the evidence; ``umbrella`` adds the generic cause beside a
                   specific one
silence            the last line of ``log`` (minus ``ignore`` rows) is ``threshold`` or more
                   before ``--at`` or the newest other event
source_presence    ``log`` has events (``present: true``) or has none (``present: false``)
fact_value,        any fact's value, and the absence of a fact: see :mod:`.fact_kinds`
fact_absent
=================  ==========================================================================

Each returns hit dicts (cause, weight, file, line, time, source, text, note) in a stable order.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import polars as pl

from ...facts import Facts
from .fact_kinds import FACT_KINDS
from .model import Check


@dataclass
class Context:
    facts: Facts
    rows: pl.DataFrame  # the raw facts frame (every row, bundle order)
    events: pl.DataFrame
    at: datetime | None
    codes: dict[str, dict[int, dict]]


def version_tuple(v: str | None) -> tuple[int, ...] | None:
    """``"2.2.53.1"`` → ``(2, 2, 53, 1)``; the leading numeric part only; None if there is none."""
    if not v:
        return None
    m = re.match(r"^\s*(\d+(?:\.\d+)*)", v)
    return tuple(int(x) for x in m.group(1).split(".")) if m else None


def duration(text: str) -> timedelta:
    """``6h``, ``90m``, ``2d``, ``30s``."""
    m = re.fullmatch(r"(\d+)(s|m|h|d)", text.strip())
    if not m:
        raise ValueError(f"not a duration like 6h, 90m, 2d: {text!r}")
    return timedelta(seconds=int(m.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)])


def hit(row: dict, cause: str, weight: float, note: str | None) -> dict:
    """Evidence from a fact: the text is the fact as written (``key=value``)."""
    return {
        "cause": cause,
        "weight": weight,
        "file": row.get("file"),
        "line": row.get("line"),
        "time": row.get("time"),
        "source": row.get("source"),
        "text": f"{row.get('key')}={row.get('value')}",
        "note": note,
    }


def _norm(value: str | None) -> str:
    return (value or "").strip().lower()


def _conf_rows(ctx: Context, key: str) -> list[dict]:
    return ctx.rows.filter((pl.col("subject") == "conf") & (pl.col("key") == key)).to_dicts()


def _also(ctx: Context, check: Check) -> list[dict]:
    out = []
    for a in check.also:
        for r in _conf_rows(ctx, a.key):
            if a.values is None or _norm(r["value"]) in a.values:
                out.append(hit(r, check.cause or "", a.weight, a.note.format(key=r["key"], value=r["value"])))
    return out


def _weight(check: Check, below: Callable[[str], bool]) -> float:
    for band in check.params.get("bands", ()):
        if below(band["below"]):
            return band["weight"]
    return check.weight


def version_floor(check: Check, ctx: Context) -> list[dict]:
    p = check.params
    if p.get("platform") and ctx.facts.identity.platform != p["platform"]:
        return []
    floor = version_tuple(p["floor"])
    if p["of"] == "agent":
        rows = [ctx.facts.agent.row] if ctx.facts.agent.row else []
    else:
        subject, key = p["of"].split("/", 1)
        rows = ctx.rows.filter((pl.col("subject") == subject) & (pl.col("key") == key)).to_dicts()
    out = []
    for r in rows:
        v = version_tuple(r["value"])
        if v is None or v >= floor:
            continue
        w = _weight(check, lambda b, v=v: v < version_tuple(b))
        out.append(hit(r, check.cause, w, p["note"].format(value=r["value"], floor=p["floor"])))
    if out:
        out.extend(_also(ctx, check))
    return out


def config_value(check: Check, ctx: Context) -> list[dict]:
    p = check.params
    rows = _conf_rows(ctx, p["key"])
    if not rows:
        return []
    last = rows[-1]  # the agent keeps the last assignment
    value = _norm(last["value"])
    if ("is" in p and value not in p["is"]) or ("is_not" in p and value in p["is_not"]):
        return []
    return [hit(last, check.cause, check.weight, p["note"]), *_also(ctx, check)]


def _extensions(ctx: Context, check: Check) -> list[tuple[int, str, dict[str, dict]]]:
    """(position, name, {key: latest row}) of every extension the ``extensions`` filter keeps.

    The position (among all extensions) lets the engine list hits extension by extension."""
    latest = ctx.facts.latest
    if not latest.height:
        return []
    ext = latest.filter(pl.col("subject").str.starts_with("extension:"))
    by_ext: dict[str, dict[str, dict]] = {}
    for r in ext.to_dicts():
        by_ext.setdefault(r["subject"][len("extension:") :], {})[r["key"]] = r
    f = check.params.get("extensions") or {}
    keep = []
    for i, (name, kv) in enumerate(by_ext.items()):
        low = name.lower()
        if "name_contains" in f and f["name_contains"] not in low:
            continue
        if "name_not_contains" in f and f["name_not_contains"] in low:
            continue
        keep.append((i, name, kv))
    return keep


def extension_value(check: Check, ctx: Context) -> list[dict]:
    p = check.params
    out = []
    for i, name, kv in _extensions(ctx, check):
        r = kv.get(p["key"])
        if not r or _norm(r["value"]) not in p["is"]:
            continue
        note = p["note"].format(name=name, value=r["value"])
        extra = kv.get(p["detail"], {}).get("value") if p.get("detail") else None
        out.append({**hit(r, check.cause, check.weight, note + (f": {extra}" if extra else "")), "_ext": i})
    return out


def status_code(check: Check, ctx: Context) -> list[dict]:
    p = check.params
    table = ctx.codes[p["table"]]
    out = []
    for i, name, kv in _extensions(ctx, check):
        gate = None
        if p.get("when"):
            gate = kv.get(p["when"]["key"])
            if not gate or _norm(gate["value"]) not in p["when"]["is"]:
                continue
        for key in p["keys"]:
            r = kv.get(key)
            v = version_tuple(str(r["value"])) if r else None
            entry = table.get(v[0]) if v else None
            if gate is None and r is None:
                continue
            fields = {"name": name, "code": v[0] if v else None, "code_value": r["value"] if r else None,
                      "code_name": entry["name"] if entry else None}
            note = p["note"].format(**fields) + (p.get("code_note", "").format(**fields) if entry else "")
            cause = check.cause or (entry or {}).get("cause") or p.get("default_cause")
            if not cause:
                continue
            evidence = gate or r
            weight = p.get("weight_for", {}).get(cause, check.weight)
            out.append({**hit(evidence, cause, weight, note), "_ext": i})
            umbrella = p.get("umbrella")
            if umbrella and cause != umbrella["cause"]:
                out.append({**hit(evidence, umbrella["cause"], umbrella["weight"], note), "_ext": i})
    return out


def silence(check: Check, ctx: Context) -> list[dict]:
    p, ev = check.params, ctx.events
    if not ev.height:
        return []
    ignored = pl.lit(False)
    for column, value in (p.get("ignore") or {}).items():
        ignored = ignored | (pl.col(column) == value).fill_null(False)
    own = (pl.col("source") == p["log"]) & ~ignored
    log = ev.filter(own & pl.col("time").is_not_null())
    if not log.height:
        return []
    last = log.sort("time").tail(1).row(0, named=True)
    ref = ctx.at
    if ref is None:
        others = ev.filter(~own & pl.col("time").is_not_null())
        if not others.height:
            return []
        ref = others["time"].max()
    slack = duration(p["local_time_slack"]) if p.get("local_time_slack") else timedelta(0)
    if not (last.get("time_basis") == "local-assumed-utc" and ctx.at is None):
        slack = timedelta(0)
    gap = ref - last["time"]
    if gap < duration(p["threshold"]) + slack:
        return []
    hours = gap.total_seconds() / 3600
    weight = _weight(check, lambda b: gap < duration(b))
    where = "the failure time given with --at" if ctx.at else "the newest event in other logs"
    return [
        {"cause": check.cause, "weight": weight, "file": last["file"], "line": last["line"], "time": last["time"],
         "source": last["source"], "text": last["text"] or last["message"], "note": p["note"]},
        {"cause": check.cause, "weight": 0.0, "file": None, "line": None, "time": ref, "source": "check",
         "text": None, "note": f"{p['note']} is {hours:.1f} h before {where}"},
    ]


def source_presence(check: Check, ctx: Context) -> list[dict]:
    p, ev = check.params, ctx.events
    mine = ev.filter(pl.col("source") == p["log"]) if ev.height else ev
    if bool(mine.height) != p["present"]:
        return []
    first = mine.sort("time", nulls_last=True).row(0, named=True) if mine.height else {}
    return [{"cause": check.cause, "weight": check.weight, "file": first.get("file"), "line": first.get("line"),
             "time": first.get("time"), "source": first.get("source") or "check",
             "text": first.get("text"), "note": p["note"]}]


KINDS: dict[str, Callable[[Check, Context], list[dict]]] = {
    "version_floor": version_floor,
    "config_value": config_value,
    "extension_value": extension_value,
    "status_code": status_code,
    "silence": silence,
    "source_presence": source_presence,
    **FACT_KINDS,
}
