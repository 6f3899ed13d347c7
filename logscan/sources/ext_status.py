"""Extension and agent status files under ``/var/lib/waagent`` → facts, plus one event per status.

With 2.8+ agents the collected bundle holds neither the current goal state nor the current
``waagent_status.json`` (``linux-agent.md`` §7), so the per-extension files are what tells
whether VMSnapshotLinux ran and how it ended:

* ``<Name>-<Version>/status/<N>.status``: written by the extension; the agent reads ``[0]``.
  VMSnapshotLinux (``vmsnapshot-extension.md`` §1.4–1.5) bends the format: ``code`` is its
  private code as a string (1 = success, 76 = no network, 121 = freeze failed, 402 = too late,
  4 = still transitioning), ``formattedMessage.message`` is itself JSON with ``messageStr``,
  ``substatus[0].name`` is a JSON string with ``telemetryData`` (``extErrorCode``) and
  ``vmHealthInfo.vmHealthStatusCode``, and for ARM VMs the file-level ``status`` says
  ``success`` even when the run failed. The effective status follows the code.
* ``config/HandlerState`` (text), ``config/HandlerStatus`` (JSON, where the agent writes its
  own failure message), ``config/<N>.settings`` (only ``publicSettings``: ``protectedSettings``
  is never read, and URL/key-like public values are omitted).
* ``waagent_status.json`` (Lib.Dir ≤ 2.4, ``history/<dir>/`` 2.8+, ``waagent_status.N.json``
  2.5–2.7): the status blob the agent uploads — agent, per-handler and OS summary.
* ``WALinuxAgent-<ver>/error.json``: the agent's crash record for that version.

Name and version come from the ``<Name>-<Version>`` folder, split at the last ``-`` that is
followed by a version, as the agent does. Every status document also becomes one event
(``extension`` set, time = its ``timestampUTC``) so signatures can match status files and the
timeline shows them; invalid JSON is an ``IngestError("parse")``.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any

from ..errors import IngestError
from ..io import redact
from ._status import LINUX, StatusView, message_of, read_aggregate, read_status
from ._structured import (
    Rows,
    as_int,
    json_key_line,
    kind_of,
    load_json,
    maybe_json,
    parse_utc,
    ticks_to_datetime,
)
from .agent_state import history_info
from .base import Parsed, SourceFile, SourceSpec

NAME = "ext_status"

_DIR = r"(?:^|/)[^/]+-\d+(?:\.\d+)*/"
_KINDS: tuple[tuple[str, str], ...] = (
    ("status", _DIR + r"status/(?:[^/]+\.)?\d+\.status$"),
    ("handler_state", _DIR + r"config/(?:[^/]+\.)?HandlerState$"),
    ("handler_status", _DIR + r"config/(?:[^/]+\.)?HandlerStatus$"),
    ("settings", _DIR + r"config/(?:[^/]+\.)?\d+\.settings$"),
    ("waagent_status", r"(?:^|/)waagent_status(?:\.\d+)?\.json$"),
    ("agent_error", r"(?:^|/)(?:WALinuxAgent-\d+(?:\.\d+)*|waagent)/error\.json$"),
)
_KIND_RE = [(k, re.compile(p, re.IGNORECASE)) for k, p in _KINDS]

# <Name>-<Version>/<status|config>/[<extName>.]<N|HandlerState|...>
_EXT_PATH = re.compile(
    r"(?:^|/)(?P<name>[^/]+)-(?P<version>\d+(?:\.\d+)*)/(?:status|config)/(?:(?P<cfg>[^/]+?)\.)?(?P<leaf>\d+|HandlerState|HandlerStatus)(?:\.status|\.settings)?$",
    re.IGNORECASE,
)
_AGENT_DIR = re.compile(r"(?:^|/)WALinuxAgent-(?P<version>\d+(?:\.\d+)*)/error\.json$", re.IGNORECASE)

#: What a withheld public-setting value reads as (the one mask of ``io/redact``).
OMITTED = redact.MASK
_MAX_MSG = 2000


def split_name_version(dirname: str) -> tuple[str, str | None]:
    """``Microsoft.CPlat.Core.RunCommand-Linux-1.0.5`` → (``...RunCommand-Linux``, ``1.0.5``)."""
    m = re.fullmatch(r"(?P<name>.+)-(?P<version>\d+(?:\.\d+)*)", dirname)
    return (m["name"], m["version"]) if m else (dirname, None)


def _one_line(s: object, limit: int = _MAX_MSG) -> str:
    out = re.sub(r"\s+", " ", str(s)).strip()
    return out if len(out) <= limit else out[:limit] + " ..."


def _load_json(f: SourceFile) -> Any:
    return load_json(f, empty_kind="parse", empty_detail="no JSON content (only whitespace)")


def _short(extension: str) -> str:
    return extension.rsplit(".", 1)[-1] or extension


# ---------------------------------------------------------------------------------------
# One status object, VMSnapshot quirks included
# ---------------------------------------------------------------------------------------


def _summary(view: StatusView) -> str:
    head = f"{_short(view.extension)} status {view.effective}"
    if view.code is not None:
        head += f" code {view.code}"
    if view.reported != view.effective:
        head += f" (file says {view.reported})" if view.reported else f" ({view.malformed})"
    return f"{head}: {_one_line(view.message)}" if view.message else head


def _excerpt(view: StatusView) -> str:
    """The status as evidence: the fields read, secrets masked, on one line."""
    doc: dict[str, Any] = {
        "timestampUTC": view.time_raw,
        "status": {"operation": view.operation, "status": view.reported, "code": view.code,
                   "formattedMessage": {"message": view.raw_message}},
    }
    extra = {k: v for k, v in (("extErrorCode", view.ext_error_code), ("vmHealthStatusCode", view.vm_health_status_code)) if v}
    if extra:
        doc["substatus"] = extra
    return redact.text(json.dumps(doc, ensure_ascii=False)) or ""


def _status_facts(rows: Rows, view: StatusView, subject: str, line: int | None) -> None:
    t = view.time
    rows.fact(subject, "status", view.effective, line, t)
    if view.reported != view.effective:
        rows.fact(subject, "status_in_file", view.reported or "missing", line, t)
    rows.fact(subject, "status_code", view.code, line, t)
    rows.fact(subject, "status_message", _one_line(view.message) if view.message else None, line, t)
    rows.fact(subject, "operation", view.operation, line, t)
    rows.fact(subject, "status_time", t.isoformat() if t else view.time_raw, line, t)
    rows.fact(subject, "ext_error_code", view.ext_error_code, line, t)
    rows.fact(subject, "vm_health_status_code", view.vm_health_status_code, line, t)


def _status_event(rows: Rows, view: StatusView, version: str | None, line: int | None) -> None:
    rows.event(
        line=line, time=view.time or rows.time, time_raw=view.time_raw, level=view.level,
        extension=view.extension, ext_version=version, message=_summary(view), text=_excerpt(view),
    )


def _handler_level(status: object, code: object) -> str:
    if status == "Ready":
        return "INFO"
    n = as_int(code)
    return "WARNING" if status == "NotReady" and (n is None or n == 0) else "ERROR"


def _handler(rows: Rows, h: dict, subject: str, extension: str, version: str | None, line: int | None,
             time_raw: object, always_event: bool) -> None:
    fm = h.get("formattedMessage")
    message = h.get("message") if "message" in h else (fm.get("message") if isinstance(fm, dict) else None)
    status, code = h.get("status"), h.get("code")
    rows.fact(subject, "handler_status", status, line)
    rows.fact(subject, "handler_code", code, line)
    rows.fact(subject, "handler_message", _one_line(message) if message else None, line)
    if always_event or status != "Ready":
        head = f"{_short(extension)} {version or ''} handler {status} code {code}".replace("  ", " ")
        t = parse_utc(time_raw)
        rows.event(
            line=line, time=t or rows.time, time_raw=time_raw if isinstance(time_raw, str) else None,
            level=_handler_level(status, code), extension=extension, ext_version=version,
            message=f"{head}: {_one_line(message)}" if message else head,
            text=redact.text(json.dumps({"status": status, "code": code, "message": message}, ensure_ascii=False)),
        )


# ---------------------------------------------------------------------------------------
# Per-file readers
# ---------------------------------------------------------------------------------------


def _ext_identity(path: str) -> tuple[str, str | None, str | None, str]:
    """(extension name, version, multi-config extension name, the N / leaf) from the path."""
    m = _EXT_PATH.search(path)
    if not m:
        raise IngestError("parse", "cannot tell the extension from the path (expected <Name>-<Version>/...)")
    return m["name"], m["version"], m["cfg"], m["leaf"]


def _status_file(f: SourceFile, rows: Rows) -> None:
    name, version, cfg, seq = _ext_identity(f.path)
    extension = f"{name}.{cfg}" if cfg else name
    doc = _load_json(f)
    item = doc[0] if isinstance(doc, list) and doc else doc
    if isinstance(doc, list) and not doc:
        raise IngestError("parse", "status file holds an empty array")
    if not isinstance(item, dict) or not isinstance(item.get("status"), dict):
        raise IngestError("parse", "status file has no 'status' object in its first element")
    view = read_status(item["status"], extension, item.get("timestampUTC"), LINUX)
    if view.malformed:
        rows.errors.append({"kind": "parse", "detail": f"{view.malformed}; the agent reports this status as an error", "line": None})
    subject = f"extension:{extension}"
    rows.fact(subject, "version", version, None, view.time)
    rows.fact(subject, "sequence", seq, None, view.time)
    _status_facts(rows, view, subject, json_key_line(f.text, "status")[0])
    _status_event(rows, view, version, 1)


def _handler_state(f: SourceFile, rows: Rows) -> None:
    name, version, cfg, _ = _ext_identity(f.path)
    state = f.text.strip().splitlines()[0].strip() if f.text.strip() else None
    subject = f"extension:{name}.{cfg}" if cfg else f"extension:{name}"
    rows.fact(subject, "version", version)
    rows.fact(subject, "handler_state", state, 1)


def _handler_status(f: SourceFile, rows: Rows) -> None:
    name, version, cfg, _ = _ext_identity(f.path)
    doc = _load_json(f)
    if not isinstance(doc, dict):
        raise IngestError("parse", "HandlerStatus is not a JSON object")
    extension = f"{name}.{cfg}" if cfg else name
    rows.fact(f"extension:{extension}", "version", doc.get("version") or version, 1)
    _handler(rows, doc, f"extension:{extension}", extension, version, 1, None, always_event=True)


def _public_value(key: str, value: object, extension: str) -> str | None:
    if redact.secret_setting(key, extension):
        return OMITTED
    if value is None:
        return None
    s = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return redact.text(_one_line(s, 4000))


def _settings(f: SourceFile, rows: Rows) -> None:
    name, version, cfg, seq = _ext_identity(f.path)
    doc = _load_json(f)
    subject = f"extension:{name}.{cfg}" if cfg else f"extension:{name}"
    runtime = doc.get("runtimeSettings") if isinstance(doc, dict) else None
    if not isinstance(runtime, list):
        raise IngestError("parse", "settings file has no runtimeSettings array")
    handler = runtime[0].get("handlerSettings") if runtime and isinstance(runtime[0], dict) else None
    # Only publicSettings is looked at; protectedSettings is never read, not even to mask it.
    public = handler.get("publicSettings") if isinstance(handler, dict) else None
    if isinstance(public, str):
        public = maybe_json(public) if public.strip() else {}
    if public is not None and not isinstance(public, dict):
        rows.errors.append({"kind": "parse", "detail": "publicSettings is not a JSON object", "line": None})
        public = None
    public = public or {}
    t = ticks_to_datetime(public.get("commandStartTimeUTCTicks")) if "commandStartTimeUTCTicks" in public else None
    rows.fact(subject, "version", version, None, t)
    rows.fact(subject, "sequence", seq, None, t)
    start = max(f.text.find('"publicSettings"'), 0)
    for key, value in public.items():
        line, _ = json_key_line(f.text, str(key), None, start)
        rows.fact(subject, f"settings.{key}", _public_value(str(key), value, name), line, t)


def _waagent_status(f: SourceFile, rows: Rows) -> None:
    doc = _load_json(f)
    if not isinstance(doc, dict):
        raise IngestError("parse", "waagent_status is not a JSON object")
    text = f.text
    agg = read_aggregate(doc)
    ts = agg.time_raw
    t = parse_utc(ts)
    if t is not None and t.year > 1970:
        rows.time = t
    ga = agg.guest_agent
    if ga is not None:
        line = json_key_line(text, "guestAgentStatus")[0]
        msg = message_of(ga)
        rows.fact("agent", "version", ga.get("version"), line)
        rows.fact("agent", "status", ga.get("status"), line)
        rows.fact("agent", "status_message", _one_line(msg) if msg else None, line)
        head = f"Guest agent {ga.get('version')} status {ga.get('status')}"
        rows.event(
            line=line, time_raw=ts if isinstance(ts, str) else None, level="INFO" if ga.get("status") == "Ready" else "ERROR",
            process="ExtHandler", message=f"{head}: {_one_line(msg)}" if msg else head,
            text=json.dumps({"version": ga.get("version"), "status": ga.get("status"), "message": msg}, ensure_ascii=False),
        )
    pos = 0
    for h in agg.handlers:
        line, pos = json_key_line(text, "handlerName", h.name, pos)
        subject = f"extension:{h.extension}"
        rows.fact(subject, "version", h.version, line)
        _handler(rows, h.raw, subject, h.extension, h.version, line, ts, always_event=False)
        rows.fact(subject, "sequence", h.sequence, line)
        if h.settings_status is not None:
            time_raw = h.settings.get("timestampUTC") if h.settings is not None else None
            view = read_status(h.settings_status, h.extension, time_raw, LINUX)
            _status_facts(rows, view, subject, line)
            _status_event(rows, view, h.version, line)
    os_info = agg.os_info
    if os_info is not None:
        line = json_key_line(text, "guestOSInfo")[0]
        rows.fact("vm", "computer", os_info.get("computerName"), line)
        rows.fact("os", "name", os_info.get("osName"), line)
        rows.fact("os", "version", os_info.get("osVersion"), line)


def _agent_error(f: SourceFile, rows: Rows) -> None:
    doc = _load_json(f)
    if not isinstance(doc, dict):
        raise IngestError("parse", "error.json is not a JSON object")
    m = _AGENT_DIR.search(f.path)
    version = m["version"] if m else None
    subject = f"agent:WALinuxAgent-{version}" if version else "agent:WALinuxAgent"
    last = doc.get("last_failure")
    t = None
    if isinstance(last, (int, float)) and not isinstance(last, bool) and 0 < last < 1e11:
        t = datetime.fromtimestamp(last, tz=timezone.utc)
    count, fatal, reason = doc.get("failure_count"), doc.get("was_fatal"), doc.get("reason")
    rows.fact(subject, "version", version, None, t)
    rows.fact(subject, "last_failure", t.isoformat() if t else last, None, t)
    rows.fact(subject, "failure_count", count, None, t)
    rows.fact(subject, "was_fatal", fatal, None, t)
    rows.fact(subject, "reason", _one_line(reason) if reason else None, None, t)
    n = as_int(count) or 0
    if n > 0 or fatal is True or reason:
        msg = f"WALinuxAgent-{version or '?'} failure record: failure_count {count}, was_fatal {str(fatal).lower()}"
        rows.event(
            line=1, time=t, time_raw=None if last is None else str(last), level="ERROR" if fatal is True or n >= 3 else "WARNING",
            message=f"{msg}: {_one_line(reason)}" if reason else msg, text=_one_line(json.dumps(doc, ensure_ascii=False), 4000),
        )


_READERS = {
    "status": _status_file,
    "handler_state": _handler_state,
    "handler_status": _handler_status,
    "settings": _settings,
    "waagent_status": _waagent_status,
    "agent_error": _agent_error,
}


def parse(f: SourceFile) -> Parsed:
    """Read one extension/agent status file into facts and status events."""
    kind = kind_of(f.path, _KIND_RE)
    if kind is None:
        raise IngestError("unsupported", "not an extension status file this parser knows")
    hist = history_info(f.path)
    rows = Rows(NAME, f.display, hist.time if hist else None)
    _READERS[kind](f, rows)
    return rows.parsed()


SPEC = SourceSpec(
    name=NAME,
    patterns=tuple(p for _, p in _KINDS),
    parse=parse,
    description="Extension status/<N>.status, config/HandlerState|HandlerStatus|<N>.settings (public part), "
    "waagent_status.json, WALinuxAgent-*/error.json",
    platform="linux",
    priority=30,
    example_path="var/lib/waagent/Microsoft.Azure.RecoveryServices.VMSnapshotLinux-1.0.9220.0/status/5.status",
)
