"""The Windows agent's and extensions' state files → facts (and one event per status).

Paths from docs/formats/vmsnapshot-extension.md §2.1/§2.5 (disk-inspect manifests; the layout
of CollectGuestLogs zips is unverified, so paths are matched on their tail, any case):

``WindowsAzure/Logs/AggregateStatus/aggregatestatus*.json`` (``win_aggregate_status``)
    Snapshots of the status the agent reports for itself and every handler; the same family as
    the Linux ``waagent_status.json`` (``guestAgentStatus``, ``handlerAggregateStatus``). Read
    with or without the outer ``aggregateStatus`` wrapper.
``Packages/Plugins/<ext>/<ver>/Status/<N>.status``, ``Status/HeartBeat.Json``, ``SeqNumber.txt`` (``win_ext_status``)
    The generic handler status schema. For VMSnapshot ``status.status`` is not the outcome
    (the Linux code forces "success" for ARM VMs, and the Windows plugin shares its codes), so
    the fact ``status`` and the level come from ``status.code`` (§1.5): 0/1/3 fine, 4 interim
    (``transitioning``), anything else ``error`` (codes from ``knowledge/extension_codes.yaml``);
    what the file said is kept as ``status_in_file``.
``Packages/Plugins/<ext>/<ver>/RuntimeSettings/<N>.settings`` (``win_runtime_settings``)
    Only ``publicSettings`` keys become facts (``settings.<key>``, secret-named keys masked);
    ``protectedSettings`` is never read out, only whether it is there and its cert thumbprint.

The status JSON (``.status`` files and the aggregate status) is read by the reader the Linux
parser uses (:mod:`._status`, platform differences in ``_status.WINDOWS``); the goal-state and
extensions-config XML is in :mod:`.win_agent_config`. Secret-named public settings follow
``io.redact.secret_setting``.

All of these are small, so they are read with ``json``/``defusedxml`` rather than polars.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from ..errors import IngestError
from ..io import redact
from ._status import WINDOWS, StatusView, ci, compact, message_of, read_aggregate, read_status
from ._structured import RedactedRows as Rows
from ._structured import as_text, line_of, load_json, maybe_json, parse_utc
from ._structured import plugin_from_path as plugin_dir
from ._structured import ticks_to_datetime as ticks_time
from .base import Parsed, SourceFile, SourceSpec

# Anchored on the tail so a doubled "Plugins/Plugins/..." still names the right folders.
PLUGIN_DIR = re.compile(r"(?:^|/)Plugins/(?P<ext>[^/]+)/(?P<ver>[^/]+)/(?:Status/|RuntimeSettings/)?[^/]+$", re.IGNORECASE)
SEQ_FILE = re.compile(r"(?:^|/)(?:[^/]*\.)?(?P<n>\d+)\.(?:status|settings)$", re.IGNORECASE)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


# ---------------------------------------------------------------------------------------
# Small helpers (times, paths)
# ---------------------------------------------------------------------------------------


def parse_time(value: Any) -> datetime | None:
    """ISO ``...Z``/offset, ``\\/Date(ms)\\/`` or .NET ticks → UTC datetime; None otherwise."""
    if value is None or isinstance(value, bool):
        return None
    s = str(value).strip()
    m = re.fullmatch(r"\\?/Date\((-?\d+)\)\\?/", s)
    if m:
        return datetime.fromtimestamp(int(m.group(1)) / 1000, tz=timezone.utc)
    if re.fullmatch(r"\d{17,19}", s):
        return ticks_time(s)
    # ISO only when it starts with a dashed date, and never with a lower-case "z": as before.
    if not _ISO_DATE.match(s) or s.endswith("z"):
        return None
    return parse_utc(s)


def plugin_from_path(path: str) -> tuple[str | None, str | None]:
    """(extension, version) of a state file; any version folder name, unlike the logs'."""
    return plugin_dir(path, PLUGIN_DIR)


# ---------------------------------------------------------------------------------------
# Handler status objects (shared by .status files and the aggregate status)
# ---------------------------------------------------------------------------------------


def status_facts(rows: Rows, ext: str, status: Mapping, *, line: int | None, time: datetime | None,
                 time_raw: object = None) -> StatusView:
    """Facts of one status object, read by the shared reader; returns it for the event."""
    subject = f"extension:{ext}"
    view = read_status(status, ext, time_raw, WINDOWS)
    rows.fact(subject, "status", view.effective, line, time)
    if view.differs:
        rows.fact(subject, "status_in_file", view.reported or "missing", line, time)
    rows.fact(subject, "status_code", view.code, line, time)
    rows.fact(subject, "status_message", view.message, line, time)
    rows.fact(subject, "operation", view.operation, line, time)
    rows.fact(subject, "ext_error_code", view.ext_error_code, line, time)
    rows.fact(subject, "vm_health_status_code", view.vm_health_status_code, line, time)
    return view


def _status_sentence(ext: str, version: str | None, v: StatusView) -> str:
    code = v.code if v.code is not None else "?"
    if v.code_name:
        code = f"{code} {v.code_name}"
    op = f"{v.operation} " if v.operation else ""
    ver = f" {version}" if version else ""
    msg = f": {v.message}" if v.message else ""
    said = f", file says {v.reported or 'nothing'}" if v.differs else ""
    return f"{ext}{ver} {op}status {v.effective} (code {code}{said}){msg}"


# ---------------------------------------------------------------------------------------
# Parsers
# ---------------------------------------------------------------------------------------


def _status_file(f: SourceFile, rows: Rows) -> None:
    ext, ver = plugin_from_path(f.path)
    ext = ext or "unknown"
    doc = load_json(f)
    items = doc if isinstance(doc, list) else [doc]
    if not items or not isinstance(items[0], Mapping):
        raise IngestError("parse", "status file is not a list of status objects")
    item = items[0]  # the agent reads element [0] only
    status = ci(item, "status")
    if not isinstance(status, Mapping):
        raise IngestError("parse", "status file has no 'status' object")
    time = parse_time(ci(item, "timestampUTC"))
    subject = f"extension:{ext}"
    rows.fact(subject, "version", ver, 1, time)
    m = SEQ_FILE.search(f.path)
    rows.fact(subject, "sequence", m.group("n") if m else None, 1, time)
    rows.fact(subject, "status_time", time.isoformat() if time else ci(item, "timestampUTC"), 1, time)
    v = status_facts(rows, ext, status, line=1, time=time)
    rows.event(
        line=1, time=time, time_raw=as_text(ci(item, "timestampUTC")), level=v.level, extension=ext, ext_version=ver,
        event_name="status", event_op=v.operation, process=ext, message=_status_sentence(ext, ver, v), text=compact(item),
    )


def _heartbeat(f: SourceFile, rows: Rows) -> None:
    ext, ver = plugin_from_path(f.path)
    ext = ext or "unknown"
    doc = load_json(f)
    item = doc[0] if isinstance(doc, list) and doc else doc
    hb = ci(item, "heartbeat") if isinstance(item, Mapping) else None
    if not isinstance(hb, Mapping):
        raise IngestError("parse", "heartbeat file has no 'heartbeat' object")
    subject = f"extension:{ext}"
    st, code, msg = as_text(ci(hb, "status")), as_text(ci(hb, "code")), message_of(hb)
    rows.fact(subject, "heartbeat_status", st, 1)
    rows.fact(subject, "heartbeat_code", code, 1)
    rows.fact(subject, "heartbeat_message", msg, 1)
    level = "INFO" if (st or "").lower() in ("ready", "success") else "WARNING"
    rows.event(
        line=1, level=level, extension=ext, ext_version=ver, event_name="heartbeat", process=ext,
        message=f"{ext} heartbeat {st or '?'} (code {code or '?'})" + (f": {msg}" if msg else ""), text=compact(item),
    )


def _seq_number(f: SourceFile, rows: Rows) -> None:
    ext, _ = plugin_from_path(f.path)
    value = f.text.strip()
    if not re.fullmatch(r"-?\d+", value):
        raise IngestError("parse", f"a sequence number expected, found {value[:40]!r}")
    rows.fact(f"extension:{ext or 'unknown'}", "last_sequence", value, 1)


def parse_ext_status(f: SourceFile) -> Parsed:
    """``Status/<N>.status``, ``Status/HeartBeat.Json`` or ``SeqNumber.txt`` of one plugin."""
    rows = Rows(EXT_STATUS.name, f.display)
    name = posixpath.basename(f.path).lower()
    if name == "heartbeat.json":
        _heartbeat(f, rows)
    elif name == "seqnumber.txt":
        _seq_number(f, rows)
    else:
        _status_file(f, rows)
    return rows.parsed()


def parse_aggregate_status(f: SourceFile) -> Parsed:
    """``aggregatestatus*.json``: agent status, then one event and fact set per handler."""
    rows = Rows(AGGREGATE_STATUS.name, f.display)
    doc = load_json(f)
    if not isinstance(doc, Mapping):
        raise IngestError("parse", "aggregate status is not a JSON object")
    agg = read_aggregate(doc)
    if not agg.found:
        raise IngestError("parse", "no guestAgentStatus or handlerAggregateStatus in the file")
    file_time = parse_time(agg.time_raw)
    text = f.text
    ga = agg.guest_agent
    if ga is not None:
        line, _ = line_of(text, '"guestAgentStatus"', after=True)
        ver, st, msg = as_text(ci(ga, "version")), as_text(ci(ga, "status")), message_of(ga)
        rows.fact("agent", "version", ver, line, file_time)
        rows.fact("agent", "status", st, line, file_time)
        rows.fact("agent", "status_message", msg, line, file_time)
        rows.event(
            line=line, time=file_time, level="INFO" if (st or "").lower() == "ready" else "ERROR", process="WindowsAzureGuestAgent",
            event_name="agent_status", message=f"Guest agent {ver or '?'} status {st or '?'}" + (f": {msg}" if msg else ""),
            text=compact(ga),
        )
    os_info = agg.os_info
    if os_info is not None:
        rows.fact("vm", "computer", ci(os_info, "computerName"), None, file_time)
        rows.fact("os", "name", ci(os_info, "osName"), None, file_time)
        rows.fact("os", "version", ci(os_info, "osVersion"), None, file_time)
    pos = 0
    for h in agg.handlers:
        name = h.name or "unknown"
        line, pos = line_of(text, f'"{name}"', pos, after=True)
        _handler(rows, h, line, file_time)
    return rows.parsed()


def _handler(rows: Rows, h, line: int | None, file_time: datetime | None) -> None:
    name = h.extension or "unknown"
    subject = f"extension:{name}"
    ver, hst, hcode, hmsg = h.version, h.status, h.code, h.message
    rows.fact(subject, "version", ver, line, file_time)
    rows.fact(subject, "handler_status", hst, line, file_time)
    rows.fact(subject, "handler_code", hcode, line, file_time)
    rows.fact(subject, "handler_message", hmsg, line, file_time)
    rows.fact(subject, "sequence", h.sequence, line, file_time)
    settings_time_raw = ci(h.settings, "timestampUTC") if h.settings is not None else None
    time = parse_time(settings_time_raw) or file_time
    parts = [f"{name} {ver or ''}".rstrip() + f" handler {hst or '?'} (code {hcode if hcode is not None else '?'})" + (f": {hmsg}" if hmsg else "")]
    hlevel = "ERROR" if (hst or "").lower() == "notready" else "WARNING" if (hst or "").lower() == "unresponsive" else "INFO"
    level, op = hlevel, None
    if h.settings_status is not None:
        rows.fact(subject, "status_time", time.isoformat() if time else None, line, time)
        v = status_facts(rows, name, h.settings_status, line=line, time=time)
        parts.append(_status_sentence("settings", None, v))
        order = ["INFO", "WARNING", "ERROR"]
        level, op = max(hlevel, v.level, key=order.index), v.operation
    rows.event(
        line=line, time=time, time_raw=as_text(settings_time_raw), level=level, extension=name, ext_version=ver,
        event_name="handler_status", event_op=op, process="WindowsAzureGuestAgent", message="; ".join(parts), text=compact(h.raw),
    )


def public_settings(rows: Rows, ext: str, settings_json: Any, line: int | None, time: datetime | None = None) -> None:
    """Facts from ``runtimeSettings[*].handlerSettings.publicSettings``; protected settings never read."""
    subject = f"extension:{ext}"
    for rs in ci(settings_json, "runtimeSettings") or []:
        hs = ci(rs, "handlerSettings")
        if not isinstance(hs, Mapping):
            continue
        rows.fact(subject, "protected_settings_present", bool(ci(hs, "protectedSettings")), line, time)
        rows.fact(subject, "protected_settings_thumbprint", ci(hs, "protectedSettingsCertThumbprint"), line, time)
        public = ci(hs, "publicSettings")
        if isinstance(public, str):  # some agents store the object as a JSON string
            public = maybe_json(public)
        if not isinstance(public, Mapping):
            continue
        for key, value in public.items():
            secret = redact.secret_setting(str(key), ext)
            rows.fact(subject, f"settings.{key}", redact.MASK if secret else value, line, time)
            if str(key).lower() == "commandstarttimeutcticks":
                start = ticks_time(value)
                rows.fact(subject, "command_start_time", start.isoformat() if start else None, line, time)


def parse_runtime_settings(f: SourceFile) -> Parsed:
    """``RuntimeSettings/<N>.settings``: sequence, thumbprint and public settings as facts."""
    rows = Rows(RUNTIME_SETTINGS.name, f.display)
    ext, ver = plugin_from_path(f.path)
    ext = ext or "unknown"
    doc = load_json(f)
    if not isinstance(doc, Mapping) or not isinstance(ci(doc, "runtimeSettings"), list):
        raise IngestError("parse", "settings file has no runtimeSettings list")
    subject = f"extension:{ext}"
    rows.fact(subject, "version", ver, 1)
    m = SEQ_FILE.search(f.path)
    rows.fact(subject, "sequence", m.group("n") if m else None, 1)
    public_settings(rows, ext, doc, 1)
    return rows.parsed()


_PLUGIN = r"(^|/)Plugins/[^/]+/[^/]+/"

AGGREGATE_STATUS = SourceSpec(
    name="win_aggregate_status",
    patterns=(r"(^|/)aggregatestatus[^/]*\.json$",),
    parse=parse_aggregate_status,
    description="Windows agent aggregate status snapshots (agent and every handler)",
    platform="windows",
    priority=15,
    example_path="WindowsAzure/Logs/AggregateStatus/aggregatestatus.json",
)

EXT_STATUS = SourceSpec(
    name="win_ext_status",
    patterns=(_PLUGIN + r"Status/[^/]+\.status$", _PLUGIN + r"Status/HeartBeat\.Json$", _PLUGIN + r"SeqNumber\.txt$"),
    parse=parse_ext_status,
    description="Windows plugin status files (Status/<N>.status, HeartBeat.Json, SeqNumber.txt)",
    platform="windows",
    priority=15,
    example_path="Packages/Plugins/Microsoft.Azure.RecoveryServices.VMSnapshot/1.0.75.0/Status/5.status",
)

RUNTIME_SETTINGS = SourceSpec(
    name="win_runtime_settings",
    patterns=(_PLUGIN + r"RuntimeSettings/[^/]+\.settings$",),
    parse=parse_runtime_settings,
    description="Windows plugin runtime settings (public settings only; protected settings never read)",
    platform="windows",
    priority=15,
    example_path="Packages/Plugins/Microsoft.Azure.RecoveryServices.VMSnapshot/1.0.75.0/RuntimeSettings/5.settings",
)

SPECS = [AGGREGATE_STATUS, EXT_STATUS, RUNTIME_SETTINGS]
