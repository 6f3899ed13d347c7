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
    (``transitioning``), anything else ``error``; what the file said is kept as ``status_in_file``
    (the same reading as the Linux ``ext_status`` parser).
``Packages/Plugins/<ext>/<ver>/RuntimeSettings/<N>.settings`` (``win_runtime_settings``)
    Only ``publicSettings`` keys become facts (``settings.<key>``, secret-named keys masked);
    ``protectedSettings`` is never read out, only whether it is there and its cert thumbprint.
``WindowsAzure/config/*.xml``, ``Config/WireServerRoleExtensionsConfig_*.xml`` (``win_agent_config``)
    Goal state / extensions config: plugin names, versions, states, settings seqNo. These
    carry protected settings and SAS URLs, which are never stored. XML only via defusedxml.

All of these are small, so they are read with ``json``/``defusedxml`` rather than polars.
"""

from __future__ import annotations

import json
import posixpath
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from ..errors import IngestError
from ..io import redact
from ._structured import (
    VALID_STATUS,
    as_text,
    attr,
    children,
    first,
    line_of,
    load_json,
    local,
    maybe_json,
    parse_utc,
    status_level,
    text_of,
    vmsnapshot_effective,
)
from ._structured import RedactedRows as Rows
from ._structured import parse_xml as safe_xml
from ._structured import plugin_from_path as plugin_dir
from ._structured import ticks_to_datetime as ticks_time
from .base import Parsed, SourceFile, SourceSpec

# Anchored on the tail so a doubled "Plugins/Plugins/..." still names the right folders.
PLUGIN_DIR = re.compile(r"(?:^|/)Plugins/(?P<ext>[^/]+)/(?P<ver>[^/]+)/(?:Status/|RuntimeSettings/)?[^/]+$", re.IGNORECASE)
SEQ_FILE = re.compile(r"(?:^|/)(?:[^/]*\.)?(?P<n>\d+)\.(?:status|settings)$", re.IGNORECASE)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

#: VMSnapshot status codes (§1.5; shared by the Windows plugin's StatusCodes enum).
VMSNAPSHOT_CODES: dict[str, str] = {
    "0": "success_appconsistent",
    "1": "success",
    "2": "error",
    "3": "SuccessAlreadyProcessedInput",
    "4": "ExtensionTempTerminalState",
    "11": "error_parameter",
    "12": "error_12",
    "15": "error_http_failure",
    "16": "FailedHandlerGuestAgentCertificateNotFound",
    "17": "FailedInvalidDataDiskLunList",
    "76": "FailedRetryableSnapshotFailedNoNetwork",
    "85": "FailedSnapshotLimitReached",
    "121": "FailedRetryableFsFreezeFailed",
    "122": "FailedRetryableFsFreezeTimeout",
    "123": "FailedRetryableUnableToOpenMount",
    "124": "FailedSafeFreezeBinaryNotFound",
    "173": "FailedRetryableSnapshotRateExceeded",
    "402": "FailedGuestAgentInvokedCommandTooLate",
    "556": "FailedHostSnapshotRemoteServerError",
    "761": "FailedRetryableSnapshotFailedRestrictedNetwork",
}

#: Public-setting names whose values are secrets for some extensions (CustomScript's
#: commandToExecute may hold passwords); VMSnapshot's commandToExecute ("snapshot") is kept.
SECRET_KEY = re.compile(r"(?i)pass(word|wd)?|pwd|secret|token|sas|credential|connectionstring|(^|_|\b)key$|accountkey|commandtoexecute")


# ---------------------------------------------------------------------------------------
# Small helpers (JSON, times, rows)
# ---------------------------------------------------------------------------------------


def ci(d: Any, *path: str) -> Any:
    """``d[path[0]][path[1]]...`` with keys matched case-insensitively; None when absent.

    The Windows agent is .NET: key casing is not guaranteed to match the Linux files.
    """
    cur = d
    for key in path:
        if not isinstance(cur, Mapping):
            return None
        if key in cur:
            cur = cur[key]
            continue
        low = key.lower()
        cur = next((v for k, v in cur.items() if isinstance(k, str) and k.lower() == low), None)
    return cur


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


def message_of(obj: Any) -> str | None:
    """``formattedMessage.message`` (or a bare ``message``/``Message``) of a status object."""
    fm = ci(obj, "formattedMessage")
    msg = ci(fm, "message") if isinstance(fm, Mapping) else fm if isinstance(fm, str) else None
    return msg if msg is not None else ci(obj, "message")


def is_vmsnapshot(ext: str | None) -> bool:
    return bool(ext) and "vmsnapshot" in ext.lower()


def plugin_from_path(path: str) -> tuple[str | None, str | None]:
    """(extension, version) of a state file; any version folder name, unlike the logs'."""
    return plugin_dir(path, PLUGIN_DIR)


# ---------------------------------------------------------------------------------------
# Handler status objects (shared by .status files and the aggregate status)
# ---------------------------------------------------------------------------------------


def _inner_vmsnapshot(status: Mapping) -> tuple[str | None, str | None]:
    """``extErrorCode`` and ``vmHealthStatusCode`` of a VMSnapshot status (§1.4).

    They sit in the status itself (telemetryData / vmHealthInfo) or in the JSON *string*
    that ``substatus[0].name`` holds (the status uploaded to the Backup service).
    """
    candidates: list[Any] = [status]
    for sub in ci(status, "substatus") or []:
        inner = maybe_json(ci(sub, "name"))
        if inner is None:
            continue
        for item in inner if isinstance(inner, list) else [inner]:
            candidates.append(ci(item, "status") or item)
    ext_err = health = None
    for c in candidates:
        for kv in ci(c, "telemetryData") or []:
            if isinstance(kv, Mapping) and str(ci(kv, "Key")) == "extErrorCode" and ext_err is None:
                ext_err = as_text(ci(kv, "Value"))
        vh = ci(c, "vmHealthInfo")
        if isinstance(vh, Mapping) and health is None and ci(vh, "vmHealthStatusCode") is not None:
            health = as_text(ci(vh, "vmHealthStatusCode"))
    return ext_err, health


def _vmsnapshot_message(msg: str | None) -> str | None:
    """VMSnapshot's ``formattedMessage.message`` is itself JSON: its ``messageStr`` is the text."""
    inner = maybe_json(msg)
    if isinstance(inner, Mapping) and ci(inner, "messageStr") is not None:
        return str(ci(inner, "messageStr")).strip()
    return msg


def effective_status(ext: str | None, status: str | None, code: str | None) -> str:
    """What a run status means: VMSnapshot by its code (§1.4: the file-level status lies for ARM
    VMs), others as written; a missing or unknown status is an error, as the agent treats it."""
    low = (status or "").lower()
    eff = low if low in VALID_STATUS else "error"
    if is_vmsnapshot(ext) and code:
        # Only the code exactly as VMSnapshot writes it counts ("01" or "+1" is no OK code).
        eff = vmsnapshot_effective(eff, int(code) if code.isdecimal() and str(int(code)) == code else -1)
    return eff


def status_facts(rows: Rows, ext: str, status: Mapping, *, line: int | None, time: datetime | None) -> dict[str, Any]:
    """Facts of one generic status object (``status``/``code``/``operation``/message...).

    Returns the summary used for the event: status, code, code name, message, operation, level.
    """
    subject = f"extension:{ext}"
    st = as_text(ci(status, "status"))
    code = as_text(ci(status, "code"))
    op = as_text(ci(status, "operation"))
    msg = message_of(status)
    msg = _vmsnapshot_message(msg) if is_vmsnapshot(ext) else msg
    eff = effective_status(ext, st, code)
    rows.fact(subject, "status", eff, line, time)
    if (st or "").lower() != eff:
        rows.fact(subject, "status_in_file", st or "missing", line, time)
    rows.fact(subject, "status_code", code, line, time)
    rows.fact(subject, "status_message", msg, line, time)
    rows.fact(subject, "operation", op, line, time)
    code_name = VMSNAPSHOT_CODES.get(code or "") if is_vmsnapshot(ext) else None
    if is_vmsnapshot(ext):
        ext_err, health = _inner_vmsnapshot(status)
        rows.fact(subject, "ext_error_code", ext_err, line, time)
        rows.fact(subject, "vm_health_status_code", health, line, time)
    return {"status": eff, "reported": st, "code": code, "code_name": code_name, "message": msg, "operation": op, "level": status_level(eff)}


def _status_sentence(ext: str, version: str | None, s: Mapping[str, Any]) -> str:
    code = s["code"] if s["code"] is not None else "?"
    if s["code_name"]:
        code = f"{code} {s['code_name']}"
    op = f"{s['operation']} " if s["operation"] else ""
    ver = f" {version}" if version else ""
    msg = f": {s['message']}" if s["message"] else ""
    said = f", file says {s['reported'] or 'nothing'}" if (s["reported"] or "").lower() != s["status"] else ""
    return f"{ext}{ver} {op}status {s['status']} (code {code}{said}){msg}"


def _compact(obj: Any, limit: int = 20000) -> str:
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + " ... [TRUNCATED]"


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
    s = status_facts(rows, ext, status, line=1, time=time)
    rows.event(
        line=1, time=time, time_raw=as_text(ci(item, "timestampUTC")), level=s["level"], extension=ext, ext_version=ver,
        event_name="status", event_op=s["operation"], process=ext, message=_status_sentence(ext, ver, s), text=_compact(item),
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
        message=f"{ext} heartbeat {st or '?'} (code {code or '?'})" + (f": {msg}" if msg else ""), text=_compact(item),
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
    agg = ci(doc, "aggregateStatus")
    agg = agg if isinstance(agg, Mapping) else doc
    file_time = parse_time(ci(doc, "timestampUTC"))
    text = f.text
    ga = ci(agg, "guestAgentStatus")
    if not isinstance(ga, Mapping) and not isinstance(ci(agg, "handlerAggregateStatus"), list):
        raise IngestError("parse", "no guestAgentStatus or handlerAggregateStatus in the file")
    if isinstance(ga, Mapping):
        line, _ = line_of(text, '"guestAgentStatus"', after=True)
        ver, st, msg = as_text(ci(ga, "version")), as_text(ci(ga, "status")), message_of(ga)
        rows.fact("agent", "version", ver, line, file_time)
        rows.fact("agent", "status", st, line, file_time)
        rows.fact("agent", "status_message", msg, line, file_time)
        rows.event(
            line=line, time=file_time, level="INFO" if (st or "").lower() == "ready" else "ERROR", process="WindowsAzureGuestAgent",
            event_name="agent_status", message=f"Guest agent {ver or '?'} status {st or '?'}" + (f": {msg}" if msg else ""),
            text=_compact(ga),
        )
    os_info = ci(doc, "guestOSInfo")
    if isinstance(os_info, Mapping):
        rows.fact("vm", "computer", ci(os_info, "computerName"), None, file_time)
        rows.fact("os", "name", ci(os_info, "osName"), None, file_time)
        rows.fact("os", "version", ci(os_info, "osVersion"), None, file_time)
    pos = 0
    for h in ci(agg, "handlerAggregateStatus") or []:
        if not isinstance(h, Mapping):
            continue
        name = as_text(ci(h, "handlerName")) or "unknown"
        line, pos = line_of(text, f'"{name}"', pos, after=True)
        _handler(rows, name, h, line, file_time)
    return rows.parsed()


def _handler(rows: Rows, name: str, h: Mapping, line: int | None, file_time: datetime | None) -> None:
    subject = f"extension:{name}"
    ver = as_text(ci(h, "handlerVersion"))
    hst, hcode, hmsg = as_text(ci(h, "status")), as_text(ci(h, "code")), message_of(h)
    rows.fact(subject, "version", ver, line, file_time)
    rows.fact(subject, "handler_status", hst, line, file_time)
    rows.fact(subject, "handler_code", hcode, line, file_time)
    rows.fact(subject, "handler_message", hmsg, line, file_time)
    rss = ci(h, "runtimeSettingsStatus")
    rows.fact(subject, "sequence", ci(rss, "sequenceNumber"), line, file_time)
    settings = ci(rss, "settingsStatus")
    status = ci(settings, "status") if isinstance(settings, Mapping) else None
    if status is None and isinstance(ci(rss, "status"), Mapping):
        status = ci(rss, "status")
    time = parse_time(ci(settings, "timestampUTC")) or file_time
    parts = [f"{name} {ver or ''}".rstrip() + f" handler {hst or '?'} (code {hcode if hcode is not None else '?'})" + (f": {hmsg}" if hmsg else "")]
    hlevel = "ERROR" if (hst or "").lower() == "notready" else "WARNING" if (hst or "").lower() == "unresponsive" else "INFO"
    level = hlevel
    if isinstance(status, Mapping):
        rows.fact(subject, "status_time", time.isoformat() if time else None, line, time)
        s = status_facts(rows, name, status, line=line, time=time)
        parts.append(_status_sentence("settings", None, s))
        order = ["INFO", "WARNING", "ERROR"]
        level = max(hlevel, s["level"], key=order.index)
        op = s["operation"]
    else:
        op = None
    rows.event(
        line=line, time=time, time_raw=as_text(ci(settings, "timestampUTC")), level=level, extension=name, ext_version=ver,
        event_name="handler_status", event_op=op, process="WindowsAzureGuestAgent", message="; ".join(parts), text=_compact(h),
    )


def _public_settings(rows: Rows, ext: str, settings_json: Any, line: int | None, time: datetime | None = None) -> None:
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
            secret = SECRET_KEY.search(str(key)) and not (is_vmsnapshot(ext) and str(key).lower() == "commandtoexecute")
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
    _public_settings(rows, ext, doc, 1)
    return rows.parsed()


# -- XML ----------------------------------------------------------------------------------


def parse_xml(text: str) -> ET.Element:
    """Untrusted XML via defusedxml (DTDs/entities → ``unsafe-xml``), in this parser's wording."""
    return safe_xml(
        text, refused="XML refused: {exc} (DTDs and entities are not allowed)", malformed="invalid XML: {exc}"
    )


def child_text(el: ET.Element, *names: str) -> str | None:
    """Text of the first element down the path of local names, any case."""
    return text_of(first(el, *names, ignore_case=True))


def _extensions_config(root: ET.Element, text: str, rows: Rows) -> None:
    inc = attr(root, "goalStateIncarnation")
    rows.fact("goal_state", "incarnation", inc, 1)
    meta = next(iter(children(root, "InVMGoalStateMetaData", ignore_case=True)), None)
    created = ticks_time(attr(meta, "createdOnTicks")) if meta is not None else None
    if created is not None:
        rows.fact("goal_state", "created", created.isoformat(), None, created)
    rows.fact("vm", "location", child_text(root, "GuestAgentExtension", "Location"), None, created)
    pos = 0
    for p in children(root, "Plugins", "Plugin", ignore_case=True):
        name = attr(p, "name") or "unknown"
        line, pos = line_of(text, f'"{name}"', pos, after=True)
        subject = f"extension:{name}"
        ver, state = attr(p, "version"), attr(p, "state")
        rows.fact(subject, "version", ver, line, created)
        rows.fact(subject, "state", state, line, created)
        rows.fact(subject, "auto_upgrade", attr(p, "autoUpgrade"), line, created)
    pos = max(text.find("<PluginSettings"), 0)
    for p in children(root, "PluginSettings", "Plugin", ignore_case=True):
        name = attr(p, "name") or "unknown"
        line, pos = line_of(text, f'"{name}"', pos, after=True)
        for rs in children(p, "RuntimeSettings", ignore_case=True):
            rows.fact(f"extension:{name}", "sequence", attr(rs, "seqNo"), line, created)
            if rs.text and rs.text.strip():
                try:
                    _public_settings(rows, name, json.loads(rs.text), line, created)
                except ValueError:
                    rows.fact(f"extension:{name}", "settings_error", "RuntimeSettings is not valid JSON", line, created)


def _goal_state(root: ET.Element, rows: Rows) -> None:
    rows.fact("goal_state", "incarnation", child_text(root, "Incarnation"), None)
    rows.fact("goal_state", "container_id", child_text(root, "Container", "ContainerId"), None)
    rows.fact("goal_state", "role_instance", child_text(root, "Container", "RoleInstanceList", "RoleInstance", "InstanceId"), None)


def _hosting_env(root: ET.Element, rows: Rows) -> None:
    inc = next(iter(children(root, "Incarnation", ignore_case=True)), None)
    rows.fact("vm", "vm_name", attr(inc, "instance") if inc is not None else None, None)


def parse_agent_config(f: SourceFile) -> Parsed:
    """``WindowsAzure/config/*.xml``: extensions config, goal state, hosting environment."""
    rows = Rows(AGENT_CONFIG.name, f.display)
    text = f.text
    if not text.strip():
        raise IngestError("empty", "file holds no XML (only whitespace)")
    root = parse_xml(text)
    kind = local(root.tag).lower()
    if kind == "extensions":
        _extensions_config(root, text, rows)
    elif kind == "goalstate":
        _goal_state(root, rows)
    elif kind == "hostingenvironmentconfig":
        _hosting_env(root, rows)
    # Other config documents (RDConfig, SharedConfig...) carry nothing logscan uses yet.
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

AGENT_CONFIG = SourceSpec(
    name="win_agent_config",
    patterns=(r"(^|/)WindowsAzure/config/[^/]+\.xml$", r"(^|/)config/WireServerRole[^/]*\.xml$"),
    parse=parse_agent_config,
    description="Windows agent goal state / extensions config XML (plugin names, versions, states)",
    platform="windows",
    priority=15,
    example_path="WindowsAzure/config/WireServerRoleExtensionsConfig_00000000-0000-0000-0000-000000000000._vm1.xml",
)

SPECS = [AGGREGATE_STATUS, EXT_STATUS, RUNTIME_SETTINGS, AGENT_CONFIG]
