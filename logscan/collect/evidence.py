"""What a collected bundle's manifest says, as facts; and the checks those facts allow.

``sos_commands/logscan/manifest.json`` (written by ``logscan collect``, or by the Windows
script) is parsed here into facts of subject ``collect``, independently of the parsers of the
command outputs themselves. They carry what only the collector knows:

* ``agent_installed`` yes/no: did the agent's program, service unit or state folder exist
  (``probe:<path>`` yes/no for each)? Without this, an empty bundle reads as "no evidence"
  when the truth is "there is no agent";
* ``agent_disabled``, ``reboot_pending`` yes/no (marker files);
* ``connect:<host>:<port>`` ok/refused/timed-out/failed (``connect:<host>:<port>:detail``
  the one-line result), the live WireServer test;
* ``command:<plugin>/<name>`` ok/failed/missing and ``exit_code:<plugin>/<name>``;
* ``not_collected:<path>`` ``<kind>: <reason>`` and ``absent:<glob>``, so a report can list
  what the bundle lacks; the unreadable files and missing commands are also ingest errors
  (kind ``not-collected``), so every report shows them.

The functions at the end are facts-based checks in the shape of :mod:`logscan.rules.checks`
(they take anything with a ``facts`` frame and return hit dicts); they are not registered
here: the rules owner wires them (see the collect README section).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import polars as pl

from ..errors import IngestError
from ..frames import FACT_SCHEMA, UTC_DT, conform
from ..sources.base import Parsed, SourceFile, SourceSpec

NAME = "collect_manifest"
SUBJECT = "collect"
WIRESERVER = "168.63.129.16"


def parse(f: SourceFile) -> Parsed:
    try:
        m = json.loads(f.text)
    except ValueError as exc:
        raise IngestError("parse", f"manifest is not JSON: {exc}") from exc
    if not isinstance(m, dict):
        raise IngestError("parse", "manifest is not a JSON object")
    rows: list[tuple[str, str]] = []
    errors: list[dict] = []

    def add(key: str, value: object) -> None:
        if value is not None:
            rows.append((key, _s(value)))

    for k in ("platform", "root", "host", "tool", "started", "finished"):
        add(k, m.get(k))
    add("live", m.get("live"))
    add("commands_run", m.get("commands_run"))
    if isinstance(m.get("euid"), int):
        add("as_root", m["euid"] == 0)
    probes = m.get("probes") if isinstance(m.get("probes"), dict) else {}
    for group, paths in probes.items():
        if not isinstance(paths, dict):
            continue
        for p, there in paths.items():
            add(f"probe:{p}", bool(there))
        if group == "agent":
            add("agent_installed", any(bool(v) for v in paths.values()))
        elif group in ("agent_disabled", "reboot_pending"):
            add(group, any(bool(v) for v in paths.values()))
    for c in _dicts(m.get("commands")):
        name = str(c.get("path", "")).removeprefix("sos_commands/")
        status = str(c.get("status", ""))
        if c.get("kind") == "connect":
            where = f"{c.get('host')}:{c.get('port')}"
            add(f"connect:{where}", _connect_state(status, str(c.get("detail", ""))))
            add(f"connect:{where}:detail", c.get("result"))
            continue
        add(f"command:{name}", status)
        add(f"exit_code:{name}", c.get("exit_code"))
        if status == "missing":
            argv = " ".join(map(str, c.get("argv") or [])) or name
            errors.append({"kind": "not-collected", "detail": f"command `{argv}`: not found on the VM", "line": None})
    for nc in _dicts(m.get("not_collected")):
        add(f"not_collected:{nc.get('path')}", f"{nc.get('kind')}: {nc.get('reason')}")
        errors.append({"kind": "not-collected", "detail": f"{nc.get('path')}: {nc.get('kind')}: {nc.get('reason')}", "line": None})
    for glob in m.get("absent") or []:
        add(f"absent:{glob}", "no such file")
    add("files_collected", len(_dicts(m.get("files"))))
    when = _time(m.get("started"))
    facts = pl.DataFrame(
        {
            "source": [NAME] * len(rows),
            "file": [f.display] * len(rows),
            "time": pl.Series([when] * len(rows), dtype=UTC_DT),
            "subject": [SUBJECT] * len(rows),
            "key": [k for k, _ in rows],
            "value": [v for _, v in rows],
        }
    )
    return Parsed(facts=conform(facts, FACT_SCHEMA), errors=errors)


def _s(v: object) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    return str(v)


def _dicts(v: object) -> list[dict]:
    return [x for x in v if isinstance(x, dict)] if isinstance(v, list) else []


def _connect_state(status: str, detail: str) -> str:
    if status == "ok":
        return "ok"
    if "refused" in detail:
        return "refused"
    if "timed out" in detail:
        return "timed-out"
    return "failed"


def _time(v: object) -> datetime | None:
    if not isinstance(v, str):
        return None
    try:
        return datetime.fromisoformat(v.replace("Z", "+00:00")).astimezone(timezone.utc)
    except ValueError:
        return None


SPEC = SourceSpec(
    name=NAME,
    patterns=(r"(^|/)sos_commands/logscan/manifest\.json$",),
    parse=parse,
    description="logscan collect's manifest: probes, command outcomes, connect tests, files not collected",
    platform="any",
    priority=20,
    example_path="sos_commands/logscan/manifest.json",
)


# ---------------------------------------------------------------------------------------
# Checks over these facts (hit dicts as in logscan.rules.checks; registered by the rules owner)
# ---------------------------------------------------------------------------------------


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
