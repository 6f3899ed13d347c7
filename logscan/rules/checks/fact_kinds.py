"""Check kinds over *any* fact: a value that matches, or a fact that should be there and is not.

=================  ==========================================================================
kind               holds when
=================  ==========================================================================
fact_value         a fact whose subject and key match (``subject``/``key``: regexes matched
                   whole, case-insensitive) has a value that ``matches`` (or does not match
                   ``not_matches``); ``when`` adds conditions on other keys of the same
                   subject (their last value, "" when absent); ``unless_line`` skips a fact
                   whose written line (the event at its file:line) matches; ``all_rows``
                   gives one hit only when every such fact matches (at least ``min_rows``);
                   ``lists`` names note fields that list other keys of the same subject
                   (``{key: REGEX, matches: REGEX}``; the ``item`` group, else the key);
                   ``timeless`` drops the fact's time from the hit (see below)
fact_absent        no fact matches ``subject``/``key`` (and ``matches``) while a ``given``
                   fact shows the input that would have held it was read (a process list for
                   "no agent process", a live collection for "no DHCP lease")
=================  ==========================================================================

Command outputs and the collector's manifest describe state with ordinary facts
(``service:waagent``/``active``, ``vss_writer:<name>``/``state``, ``collect``/``agent_installed``),
so one generic kind reads them all and each new check stays data. A collector's facts carry
the time of the collection, not of the failure: ``timeless: true`` keeps that time off the hit,
so live state neither becomes the reference time of the diagnosis (ageing the log evidence
against the day the bundle was taken) nor ages itself; it counts like any untimed fact. Named groups of the
``subject`` and ``key`` regexes become note fields, beside ``subject``, ``key`` and ``value``.
"""

from __future__ import annotations

import re
from functools import lru_cache

import polars as pl

from .model import Check


@lru_cache(maxsize=512)
def rx(pattern: str) -> re.Pattern[str]:
    """A check's regex, matched case-insensitively (validated when the check is loaded)."""
    return re.compile(pattern, re.I)


def value_ok(value: str | None, matches: str | None = None, not_matches: str | None = None) -> bool:
    """Does a fact's value (stripped; None as "") satisfy ``matches`` / ``not_matches``?"""
    v = (value or "").strip()
    if matches is not None and not rx(matches).fullmatch(v):
        return False
    return not (not_matches is not None and rx(not_matches).fullmatch(v))


def select(rows: pl.DataFrame, subject: str, key: str) -> list[tuple[dict, dict[str, str]]]:
    """Fact rows whose subject and key match, in bundle order, with their note fields."""
    if not rows.height:
        return []
    # Polars narrows the frame first (vm_health and process lists have hundreds of rows);
    # Python's re then reads the named groups of the few that are left.
    narrowed = rows.filter(
        pl.col("subject").str.contains(f"(?i)^(?:{subject})$") & pl.col("key").str.contains(f"(?i)^(?:{key})$")
    )
    out = []
    for r in narrowed.to_dicts():
        ms, mk = rx(subject).fullmatch(r["subject"] or ""), rx(key).fullmatch(r["key"] or "")
        if ms and mk:
            fields = {k: v or "" for k, v in {**ms.groupdict(), **mk.groupdict()}.items()}
            out.append((r, {"subject": r["subject"], "key": r["key"], "value": r["value"] or "", **fields}))
    return out


def _platform_ok(check: Check, ctx) -> bool:
    want = check.params.get("platform")
    return not want or ctx.facts.identity.platform == want


def _last_values(rows: pl.DataFrame, subject: str) -> dict[str, str]:
    """Every key of one subject → its last value (the state the output ended with)."""
    same = rows.filter(pl.col("subject") == subject).select("key", "value").rows()
    return {k: v or "" for k, v in same}


def _written(events: pl.DataFrame, rows: list[dict]) -> dict[tuple[str, int], str]:
    """(file, line) → the line as written, for the facts' own lines."""
    files = {r["file"] for r in rows if r.get("file")}
    if not events.height or not files:
        return {}
    ev = events.filter(pl.col("file").is_in(list(files))).select("file", "line", pl.coalesce("text", "message").alias("t"))
    return {(f, n): t or "" for f, n, t in ev.rows() if n is not None}


def _hit(row: dict, check: Check, note: str) -> dict:
    return {"cause": check.cause, "weight": check.weight, "file": row.get("file"), "line": row.get("line"),
            "time": None if check.params.get("timeless") else row.get("time"), "source": row.get("source"), "text": f"{row.get('key')}={row.get('value')}", "note": note}


def fact_value(check: Check, ctx) -> list[dict]:
    p = check.params
    if not _platform_ok(check, ctx):
        return []
    found = select(ctx.rows, p["subject"], p["key"])
    if p.get("all_rows"):
        if len(found) < p.get("min_rows", 1) or not all(value_ok(r["value"], p.get("matches"), p.get("not_matches")) for r, _ in found):
            return []
        found = found[:1]
    written = _written(ctx.events, [r for r, _ in found]) if p.get("unless_line") else {}
    out = []
    for r, fields in found:
        if not value_ok(r["value"], p.get("matches"), p.get("not_matches")):
            continue
        if p.get("when"):
            others = _last_values(ctx.rows, r["subject"])
            if not all(value_ok(others.get(c["key"], ""), c.get("matches"), c.get("not_matches")) for c in p["when"]):
                continue
        if written and rx(p["unless_line"]).search(written.get((r["file"], r["line"]), "")):
            continue
        lists = {name: _listed(ctx.rows, r["subject"], spec) for name, spec in (p.get("lists") or {}).items()}
        out.append(_hit(r, check, p["note"].format(**fields, **lists)))
    return out


def _listed(rows: pl.DataFrame, subject: str, spec: dict) -> str:
    """Keys of one subject matching ``spec`` (their ``item`` group when named), comma-joined."""
    items = []
    for key, value in rows.filter(pl.col("subject") == subject).select("key", "value").rows():
        m = rx(spec["key"]).fullmatch(key or "")
        if m and value_ok(value, spec.get("matches")):
            items.append(m.groupdict().get("item") or key)
    return ", ".join(dict.fromkeys(items)) or "none"


def fact_absent(check: Check, ctx) -> list[dict]:
    p = check.params
    if not _platform_ok(check, ctx):
        return []
    if any(value_ok(r["value"], p.get("matches")) for r, _ in select(ctx.rows, p["subject"], p["key"])):
        return []
    g = p["given"]
    given = [r for r, _ in select(ctx.rows, g["subject"], g["key"]) if value_ok(r["value"], g.get("matches"))]
    if not given:
        return []
    first = given[0]
    return [{"cause": check.cause, "weight": check.weight, "file": first.get("file"), "line": None,
             "time": None if p.get("timeless") else first.get("time"), "source": first.get("source"), "text": None, "note": p["note"]}]


FACT_KINDS = {"fact_value": fact_value, "fact_absent": fact_absent}
