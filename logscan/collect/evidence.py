"""Checks and report notes over the ``collect`` facts of a collected bundle.

The facts come from ``sos_commands/logscan/manifest.json`` (parsed by
:mod:`logscan.sources.collect_manifest`). The functions here have the shape of the checks in
:mod:`logscan.rules.checks` (they take anything with a ``facts`` frame and return hit dicts)
but are not registered: ``rules`` sits below ``collect`` in the layering, so the rules owner
moves or re-expresses them (see the report for the wiring); the tests call them directly.
"""

from __future__ import annotations

import polars as pl

from ..sources.collect_manifest import SUBJECT, WIRESERVER


def _collect_facts(facts: pl.DataFrame) -> dict[str, dict]:
    rows = facts.filter(pl.col("subject") == SUBJECT).to_dicts()
    return {r["key"]: r for r in rows}


def _hit(row: dict, cause: str, weight: float, note: str, text: str | None = None) -> dict:
    return {
        "cause": cause,
        "weight": weight,
        "file": row.get("file"),
        "line": row.get("line"),
        "time": row.get("time"),
        "source": row.get("source"),
        "text": text or f"{row.get('key')}={row.get('value')}",
        "note": note,
    }


def agent_not_installed(ctx: object) -> list[dict]:
    """agent-not-running, "not installed": no agent program, service unit or state folder."""
    f = _collect_facts(ctx.facts)  # type: ignore[attr-defined]
    row = f.get("agent_installed")
    if row is None or row["value"] != "no":
        return []
    looked = [k.removeprefix("probe:") for k in f if k.startswith("probe:") and f[k]["value"] == "no"]
    agent = [p for p in looked if "waagent" in p]
    missing = [k.removeprefix("command:") for k, r in f.items() if k.startswith("command:") and r["value"] == "missing"]
    note = "the guest agent is not installed: none of /" + ", /".join(agent) + " exists"
    if missing:
        note += "; commands not found: " + ", ".join(missing)
    return [_hit(row, "agent-not-running", 0.95, note)]


def agent_disabled(ctx: object) -> list[dict]:
    """agent-not-running: ``/var/lib/waagent/disable_agent`` makes the agent sleep forever."""
    row = _collect_facts(ctx.facts).get("agent_disabled")  # type: ignore[attr-defined]
    if row is None or row["value"] != "yes":
        return []
    return [_hit(row, "agent-not-running", 0.85, "/var/lib/waagent/disable_agent exists: the agent was disabled on purpose")]


def wireserver_unreachable(ctx: object) -> list[dict]:
    """wireserver-blocked: the live TCP test to 168.63.129.16 (80 or 32526) did not connect."""
    hits = []
    for key, row in _collect_facts(ctx.facts).items():  # type: ignore[attr-defined]
        if not key.startswith(f"connect:{WIRESERVER}:") or key.endswith(":detail") or row["value"] == "ok":
            continue
        port = key.rsplit(":", 1)[1]
        how = {"refused": "was refused", "timed-out": "timed out (dropped)"}.get(row["value"], "failed")
        hits.append(_hit(row, "wireserver-blocked", 0.8, f"a TCP connection from the VM to {WIRESERVER}:{port} {how}"))
    return hits


CHECKS = {
    "collect-agent-not-installed": (agent_not_installed, ("agent-not-running",)),
    "collect-agent-disabled": (agent_disabled, ("agent-not-running",)),
    "collect-wireserver-unreachable": (wireserver_unreachable, ("wireserver-blocked",)),
}


def notes(facts: pl.DataFrame) -> list[str]:
    """Report notes from a collected bundle (next to ``conf_notes``): what it could not hold."""
    f = _collect_facts(facts)
    out = []
    if f.get("agent_installed", {}).get("value") == "no":
        out.append("logscan collect found no guest agent on this VM (no waagent program, service unit or /var/lib/waagent).")
    missing = [k.removeprefix("command:") for k, r in f.items() if k.startswith("command:") and r["value"] == "missing"]
    if missing:
        out.append("Commands not installed on the VM, so their state is unknown: " + ", ".join(missing) + ".")
    unread = [k.removeprefix("not_collected:") for k in f if k.startswith("not_collected:")]
    if unread:
        more = f" and {len(unread) - 5} more" if len(unread) > 5 else ""
        out.append(f"{len(unread)} file(s) could not be collected (e.g. {', '.join(unread[:5])}{more}); collect as root to read them.")
    if f.get("commands_run", {}).get("value") == "no":
        out.append("Collected with --no-commands: no live state (services, processes, network, mounts) in this bundle.")
    return out
