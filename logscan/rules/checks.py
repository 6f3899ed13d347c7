"""Facts-based checks: what a line signature cannot say.

Signatures match events; some causes are only visible as a *value* (an agent version below
the supported floor, ``Extensions.Enabled=n`` in the conf, a numeric status code) or as an
*absence* (the agent log stops long before everything else). Each check is a small function
over the facts/events frames returning evidence rows in the same shape as signature hits, so
diagnosis treats both alike. Thresholds and code maps are data in ``knowledge/``.

A check never opens a file: it reads frames only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from importlib import resources

import polars as pl
import yaml

#: Agent versions below this are "out of date" (heuristic from linux-agent.md §3.2: the
#: maintainers call 2.0/2.1 unsupported; extension fixes landed through 2.2.5x).
LINUX_AGENT_FLOOR = (2, 2, 53)
#: The agent itself needs Python 2.6 or later.
PYTHON_FLOOR = (2, 6)
#: The agent log is "silent" when it ends this long before the failure / the bundle's end.
AGENT_SILENCE = timedelta(hours=6)

HIT_SCHEMA = {
    "signature": pl.String,
    "cause": pl.String,
    "weight": pl.Float64,
    "file": pl.String,
    "line": pl.Int64,
    "time": pl.Datetime("us", "UTC"),
    "source": pl.String,
    "text": pl.String,
    "note": pl.String,  # what a check concluded from the line (signature hits: null)
}


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    causes: tuple[str, ...]
    fn: Callable[[Context], list[dict]]


@dataclass
class Context:
    facts: pl.DataFrame
    events: pl.DataFrame
    at: datetime | None = None


CHECKS: list[Check] = []


def check(id: str, title: str, causes: tuple[str, ...] = ()) -> Callable:
    def deco(fn: Callable[[Context], list[dict]]) -> Callable[[Context], list[dict]]:
        CHECKS.append(Check(id, title, causes, fn))
        return fn

    return deco


def version_tuple(v: str | None) -> tuple[int, ...] | None:
    if not v:
        return None
    m = re.match(r"^\s*(\d+(?:\.\d+)*)", v)
    return tuple(int(x) for x in m.group(1).split(".")) if m else None


@cache
def extension_codes() -> dict:
    """Numeric status code → {name, cause, success, transitioning} for the backup extension
    (``codes``) and for the agent's handler codes (``agent_codes``)."""
    data = yaml.safe_load((resources.files("logscan.content") / "knowledge" / "extension_codes.yaml").read_text())
    out: dict[str, dict[int, dict]] = {}
    for table in ("codes", "agent_codes"):
        m: dict[int, dict] = {}
        for e in data[table]:
            lo, hi = e["range"] if "range" in e else (e["code"], e["code"])
            for c in range(lo, hi + 1):
                m[c] = e
        out[table] = m
    return out


def _fact_rows(ctx: Context, subject: str | pl.Expr, key: str | list[str]) -> pl.DataFrame:
    f = ctx.facts
    subj = pl.col("subject") == subject if isinstance(subject, str) else subject
    keys = [key] if isinstance(key, str) else key
    return f.filter(subj & pl.col("key").is_in(keys))


def _hit(row: dict, cause: str, weight: float, note: str | None = None) -> dict:
    """Evidence from a fact: the text is the fact as written (``key=value``), the note says
    what the check concluded from it."""
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


# --------------------------------------------------------------------------------------
# Linux agent configuration
# --------------------------------------------------------------------------------------


@check("conf-extensions-disabled", "Extensions.Enabled=n in waagent.conf", ("linux-agent-config",))
def extensions_disabled(ctx: Context) -> list[dict]:
    rows = _fact_rows(ctx, "conf", ["Extensions.Enabled", "Extensions.Enable"]).to_dicts()
    hits = []
    enabled = [r for r in rows if r["key"] == "Extensions.Enabled"]
    misspelt = [r for r in rows if r["key"] == "Extensions.Enable"]
    effective = enabled[-1] if enabled else None  # the agent keeps the last assignment
    if effective and (effective["value"] or "").strip().lower() == "n":
        hits.append(_hit(effective, "linux-agent-config", 0.9, "extension processing is off"))
        for r in misspelt:
            hits.append(
                _hit(
                    r,
                    "linux-agent-config",
                    0.3,
                    f"{r['key']}={r['value']} has no effect: the agent reads Extensions.Enabled (with a d), which says n",
                )
            )
    return hits


@check("conf-provisioning-agent", "Provisioning.Agent is not auto", ("linux-agent-config",))
def provisioning_agent(ctx: Context) -> list[dict]:
    rows = _fact_rows(ctx, "conf", "Provisioning.Agent").to_dicts()
    if rows and (rows[-1]["value"] or "auto").strip().lower() not in ("auto", ""):
        r = rows[-1]
        return [_hit(r, "linux-agent-config", 0.35, "Azure Backup expects Provisioning.Agent=auto")]
    return []


def conf_notes(facts: pl.DataFrame) -> list[str]:
    """Things worth telling the engineer about the conf that are not a cause by themselves."""
    notes = []
    rows = facts.filter(pl.col("subject") == "conf").select("key", "value", "file", "line").to_dicts()
    keys = {r["key"]: r for r in rows}
    if "Extensions.Enable" in keys:
        r = keys["Extensions.Enable"]
        notes.append(
            f"{r['file']}:{r['line']}: `Extensions.Enable={r['value']}` is ignored by the agent, which reads "
            "`Extensions.Enabled` (with a d); setting the misspelt key changes nothing."
        )
    if "Extensions.Enabled" in keys:
        v = (keys["Extensions.Enabled"]["value"] or "").strip().lower()
        if v not in ("y", "n"):
            r = keys["Extensions.Enabled"]
            notes.append(
                f"{r['file']}:{r['line']}: `Extensions.Enabled={r['value']}` is not y or n, so the agent uses its default (y)."
            )
    return notes


# --------------------------------------------------------------------------------------
# Agent version and Python
# --------------------------------------------------------------------------------------


def _latest_agent_version(ctx: Context) -> dict | None:
    """The goal-state agent version the VM ran last (fall back to the daemon's)."""
    rows = _fact_rows(ctx, "agent", ["goal_state_agent_version", "version", "daemon_version"])
    if not rows.height:
        return None
    pref = {"goal_state_agent_version": 0, "version": 1, "daemon_version": 2}
    rows = rows.with_columns(_p=pl.col("key").replace_strict(pref, default=3, return_dtype=pl.Int64))
    best = rows.sort(["_p", "time"], descending=[False, True], nulls_last=True).row(0, named=True)
    return best


@check("agent-version-floor", "Linux agent older than the supported floor", ("linux-agent-outdated",))
def agent_outdated(ctx: Context) -> list[dict]:
    best = _latest_agent_version(ctx)
    if best is None or (best.get("source") or "").startswith("win"):
        return []
    v = version_tuple(best["value"])
    if v is None or v >= LINUX_AGENT_FLOOR:
        return []
    floor = ".".join(map(str, LINUX_AGENT_FLOOR))
    # 2.0/2.1 are unsupported by the maintainers' own word; the 2.2.53 floor itself is a
    # heuristic (linux-agent.md §3.2), so a 2.2.x agent below it is weaker evidence than a
    # failure line that names the problem.
    weight = 0.85 if v < (2, 2) else 0.45
    hits = [_hit(best, "linux-agent-outdated", weight, f"agent version {best['value']} is below the supported floor {floor}")]
    for r in _fact_rows(ctx, "conf", ["AutoUpdate.Enabled", "AutoUpdate.UpdateToLatestVersion"]).to_dicts():
        if (r["value"] or "").strip().lower() == "n":
            hits.append(_hit(r, "linux-agent-outdated", 0.4, "the agent will not update itself"))
    return hits


@check("python-floor", "Python older than the agent supports", ("linux-python-unsupported",))
def python_too_old(ctx: Context) -> list[dict]:
    hits = []
    for r in _fact_rows(ctx, "agent", "python").to_dicts():
        v = version_tuple(r["value"])
        if v is not None and v[:2] < PYTHON_FLOOR:
            hits.append(_hit(r, "linux-python-unsupported", 0.8, f"Python {r['value']} is older than 2.6"))
    return hits


# --------------------------------------------------------------------------------------
# Extension status
# --------------------------------------------------------------------------------------


def _is_backup_ext(name: str) -> bool:
    return "recoveryservices.vmsnapshot" in name.lower()


@check(
    "extension-status",
    "An extension's last status is an error, or the backup extension reports a failure code",
    ("extension-failed-provisioning", "vmsnapshot-extension-failed"),
)
def extension_status(ctx: Context) -> list[dict]:
    ext = ctx.facts.filter(pl.col("subject").str.starts_with("extension:"))
    if not ext.height:
        return []
    codes = extension_codes()
    hits: list[dict] = []
    # Newest value per (extension, key): facts from several goal states / status files.
    latest = ext.sort("time", nulls_last=False).group_by(["subject", "key"], maintain_order=True).last()
    by_ext: dict[str, dict[str, dict]] = {}
    for r in latest.to_dicts():
        by_ext.setdefault(r["subject"][len("extension:") :], {})[r["key"]] = r
    for name, kv in by_ext.items():
        backup = _is_backup_ext(name)
        for key in ("status_code", "ext_error_code", "vm_health_status_code"):
            r = kv.get(key)
            if not r or not backup:
                continue
            try:
                code = int(str(r["value"]).strip())
            except ValueError:
                continue
            entry = codes["codes"].get(code)
            if entry and entry.get("cause"):
                text = f"{name} status code {code} ({entry['name']})"
                if entry["cause"] == "vmsnapshot-extension-failed":
                    # A generic failure code says the extension failed, not why: let the
                    # specific evidence beside it (VSS, COM+, freeze...) rank first.
                    hits.append(_hit(r, entry["cause"], 0.55, text))
                else:
                    hits.append(_hit(r, entry["cause"], 0.9, text))
                    hits.append(_hit(r, "vmsnapshot-extension-failed", 0.4, text))
        st = kv.get("status")
        if st and (st["value"] or "").lower() == "error" and not backup:
            msg = kv.get("status_message", {}).get("value") if kv.get("status_message") else None
            hits.append(_hit(st, "extension-failed-provisioning", 0.8, f"{name} last status: error" + (f": {msg}" if msg else "")))
        hs = kv.get("handler_status")
        hc = kv.get("handler_code")
        if hs and (hs["value"] or "").lower() == "notready":
            code = version_tuple(hc["value"]) if hc else None
            entry = codes["agent_codes"].get(code[0]) if code else None
            cause = entry["cause"] if entry else "extension-failed-provisioning"
            text = f"{name} handler NotReady" + (f", code {hc['value']} ({entry['name']})" if entry and hc else "")
            hits.append(_hit(hs, cause, 0.75, text))
            if backup:
                hits.append(_hit(hs, "vmsnapshot-extension-failed", 0.6, text))
        state = kv.get("handler_state")
        if state and (state["value"] or "").lower() == "failedupgrade":
            hits.append(_hit(state, "extension-failed-provisioning", 0.7, f"{name} HandlerState FailedUpgrade"))
    return hits


# --------------------------------------------------------------------------------------
# Absence: the agent went quiet
# --------------------------------------------------------------------------------------


@check("agent-log-silent", "The agent log ends long before the failure", ("agent-not-running",))
def agent_silent(ctx: Context) -> list[dict]:
    ev = ctx.events
    # `waagent -collect-logs` runs as its own process (prefix LogCollector): its lines show when
    # the bundle was taken, not that the agent was alive.
    collector = (pl.col("source") == "waagent_log") & (pl.col("process") == "LogCollector").fill_null(False)
    agent = ev.filter((pl.col("source") == "waagent_log") & ~collector)
    if not agent.height or agent["time"].null_count() == agent.height:
        return []
    last = agent.filter(pl.col("time").is_not_null()).sort("time").tail(1).row(0, named=True)
    ref = ctx.at
    if ref is None:
        others = ev.filter(((pl.col("source") != "waagent_log") | collector) & pl.col("time").is_not_null())
        if not others.height:
            return []
        ref = others["time"].max()
    # Agents before 2.2.46 log local time with no zone (read as UTC): against UTC logs the
    # gap can be the VM's zone offset, up to 14 h, rather than silence.
    slack = timedelta(hours=14) if last.get("time_basis") == "local-assumed-utc" and ctx.at is None else timedelta(0)
    if ref - last["time"] < AGENT_SILENCE + slack:
        return []
    gap = ref - last["time"]
    hours = gap.total_seconds() / 3600
    return [
        {
            "cause": "agent-not-running",
            "weight": 0.6 if hours < 48 else 0.75,
            "file": last["file"],
            "line": last["line"],
            "time": last["time"],
            "source": last["source"],
            "text": last["text"] or last["message"],
            "note": "the agent log's last line",
        },
        {
            "cause": "agent-not-running",
            "weight": 0.0,
            "file": None,
            "line": None,
            "time": ref,
            "source": "check",
            "text": None,
            "note": f"the agent log's last line is {hours:.1f} h before "
            + ("the failure time given with --at" if ctx.at else "the newest event in other logs"),
        },
    ]


def run_checks(facts: pl.DataFrame, events: pl.DataFrame, at: datetime | None = None) -> pl.DataFrame:
    """Every check's evidence as hit rows (``signature`` = the check id)."""
    ctx = Context(facts, events, at)
    rows: list[dict] = []
    for c in CHECKS:
        for h in c.fn(ctx):
            rows.append({"signature": c.id, **h})
    if not rows:
        return pl.DataFrame(schema=HIT_SCHEMA)
    hits = pl.DataFrame(rows, schema=HIT_SCHEMA)
    # A fact read from a log line (the agent's version banner) is quoted as that line.
    if events.height:
        written = events.select("file", "line", pl.coalesce("text", "message").alias("_written")).unique(["file", "line"])
        hits = hits.join(written, on=["file", "line"], how="left").with_columns(
            text=pl.coalesce("_written", "text")
        ).drop("_written")
    return hits
