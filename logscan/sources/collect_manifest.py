"""``sos_commands/logscan/manifest.json`` (``logscan collect``, the Windows script) → ``collect`` facts.

The manifest records what only the collector knows, read here independently of the parsers
of the command outputs themselves:

* ``agent_installed`` yes/no: did the agent's program, service unit or state folder exist
  (``probe:<path>`` yes/no for each)? Without it an empty bundle reads as "no evidence" when
  the truth is "there is no agent";
* ``agent_disabled``, ``reboot_pending`` yes/no (marker files);
* ``connect:<host>:<port>`` ok/refused/timed-out/failed (``connect:<host>:<port>:detail`` the
  one-line result): the live WireServer test;
* ``command:<plugin>/<name>`` ok/failed/missing and ``exit_code:<plugin>/<name>``;
* ``not_collected:<path>`` ``<kind>: <reason>`` and ``absent:<glob>``, so a report can list
  what the bundle lacks; unreadable files and missing commands are also ingest errors (kind
  ``not-collected``), so every report shows them.

Checks over these facts: ``logscan/content/checks/live-state.yaml``; report notes: ``notes.yaml``.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import polars as pl

from ..errors import IngestError
from ..frames import FACT_SCHEMA, UTC_DT, conform
from .base import Parsed, SourceFile, SourceSpec

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
