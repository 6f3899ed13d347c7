"""The one reader of the extension status JSON family, for Linux and Windows.

The same documents are written on both platforms: an extension's ``status/<N>.status``
(``[{"timestampUTC", "status": {...}}]``), the agent's ``HandlerStatus``, and the aggregate
status the agent uploads (Linux ``waagent_status.json``, Windows
``AggregateStatus/aggregatestatus*.json``: ``guestAgentStatus`` + ``handlerAggregateStatus``).
``ext_status`` (Linux) and ``win_agent_state`` (Windows) used to unpack them separately and
disagreed; here they are read once, into :class:`StatusView` / :class:`AggregateView`, and the
two parsers only decide how the rows they write look. What differs between the platforms is
data (:class:`Dialect`), not code.

The VMSnapshot status code (``vmsnapshot-extension.md`` §1.4–1.5) decides what a VMSnapshot
run meant, because for ARM VMs the file-level ``status`` is forced to ``success``; its meaning
comes only from ``content/knowledge/extension_codes.yaml``.

Why ``"01"`` is success (issue #10; Linux said success, Windows error): the code is "the
numeric extension code **as a string**" (§1.4), and VMSnapshotLinux writes it with
``str(status_code)`` of an int (``handle.py``, ``get_status_to_report``), so the string only
ever carries a number. The readers downstream (the agent passes it through; the Backup service
reads a number) see its value, and the value of ``"01"`` is 1. Reading the text instead would
call a run a failure because of how a number was spelt, and a diagnosis tool must not invent a
failure. A code that is not a whole number (``"+1"``, ``"abc"``, ``true``) says nothing, so the
file-level status stands (it was the Linux reading; Windows called those errors).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

import yaml

from ..content import path as content_path
from ._structured import as_int, as_text, maybe_json, parse_utc

VALID_STATUS = ("success", "error", "transitioning", "warning")


@dataclass(frozen=True)
class Dialect:
    """How one platform's writer differs, as data.

    ``status_ignore_case``: the .NET agent accepts ``"Success"``; the Python agent only the
    lower-case words (``ExtensionStatusValue.STRINGS``), anything else is an error.
    ``one_line_messages``: Linux facts hold messages on one line; Windows keeps them as written.
    """

    name: str
    status_ignore_case: bool
    one_line_messages: bool


LINUX = Dialect("linux", status_ignore_case=False, one_line_messages=True)
WINDOWS = Dialect("windows", status_ignore_case=True, one_line_messages=False)


# ---------------------------------------------------------------------------------------
# Lookups
# ---------------------------------------------------------------------------------------


def ci(d: Any, *path: str) -> Any:
    """``d[path[0]][path[1]]...``, exact key first, else any case; None when absent.

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


def message_of(obj: Any) -> str | None:
    """``formattedMessage.message`` (or a string ``formattedMessage``, or a bare ``message``)."""
    fm = ci(obj, "formattedMessage")
    msg = ci(fm, "message") if isinstance(fm, Mapping) else fm if isinstance(fm, str) else None
    msg = msg if msg is not None else ci(obj, "message")
    return None if msg is None else as_text(msg)


def is_vmsnapshot(*names: object) -> bool:
    return any(isinstance(n, str) and "vmsnapshot" in n.lower() for n in names)


# ---------------------------------------------------------------------------------------
# VMSnapshot codes (content/knowledge/extension_codes.yaml)
# ---------------------------------------------------------------------------------------


@cache
def vmsnapshot_codes() -> dict[int, dict]:
    """The backup extension's code table, by code (single codes; ranges are for the checks)."""
    data = yaml.safe_load(content_path("knowledge", "extension_codes.yaml").read_text(encoding="utf-8"))
    return {int(e["code"]): e for e in data.get("codes") or [] if "code" in e}


def code_name(code: int | None) -> str | None:
    entry = vmsnapshot_codes().get(code) if code is not None else None
    return entry.get("name") if entry else None


def vmsnapshot_effective(effective: str, code: int | None) -> str:
    """What a VMSnapshot status means: its code decides (``success: true`` codes keep the
    status as read, ``transitioning: true`` is interim, any other number is an error). A
    missing or non-numeric code says nothing; an already-``error`` status stays one."""
    if code is None or effective == "error":
        return effective
    entry = vmsnapshot_codes().get(code, {})
    if entry.get("transitioning"):
        return "transitioning"
    return effective if entry.get("success") else "error"


def status_level(effective: str) -> str:
    """ERROR for error, WARNING for warning/transitioning (an interim status left behind), else INFO."""
    return {"error": "ERROR", "warning": "WARNING", "transitioning": "WARNING"}.get(effective, "INFO")


# ---------------------------------------------------------------------------------------
# One status object
# ---------------------------------------------------------------------------------------


@dataclass
class StatusView:
    """A status object read the way the agent (and, for VMSnapshot, the Backup service) reads it."""

    extension: str
    reported: str | None  # status.status as written
    effective: str  # what it means (VMSnapshot: by code; missing/unknown → error)
    code: str | None  # as written
    code_name: str | None  # VMSnapshot code's name from the table
    operation: str | None
    message: str | None  # messageStr for VMSnapshot, else formattedMessage.message
    raw_message: str | None
    ext_error_code: str | None
    vm_health_status_code: str | None
    time: datetime | None
    time_raw: str | None
    malformed: str | None = None

    @property
    def level(self) -> str:
        return status_level(self.effective)

    @property
    def differs(self) -> bool:
        """The file's own status word is not what the run meant (or is missing)."""
        return (self.reported or "").lower() != self.effective if self.reported else True


def _inner_statuses(status: Mapping) -> list[Mapping]:
    """The status objects VMSnapshot hides as JSON *strings* in ``substatus[*].name`` (§1.4)."""
    out: list[Mapping] = []
    for sub in ci(status, "substatus") or []:
        inner = maybe_json(ci(sub, "name"))
        for item in inner if isinstance(inner, list) else [inner] if inner is not None else []:
            st = ci(item, "status")
            if isinstance(st, Mapping):
                out.append(st)
            elif isinstance(item, Mapping):
                out.append(item)
    return out


def _telemetry(candidates: list[Mapping]) -> tuple[str | None, str | None]:
    """``extErrorCode`` and ``vmHealthStatusCode``: the first found, the status itself first."""
    ext_err = health = None
    for c in candidates:
        for kv in ci(c, "telemetryData") or []:
            if ext_err is None and isinstance(kv, Mapping) and str(ci(kv, "Key")) == "extErrorCode":
                ext_err = as_text(ci(kv, "Value"))
        vh = ci(c, "vmHealthInfo")
        if health is None and isinstance(vh, Mapping) and ci(vh, "vmHealthStatusCode") is not None:
            health = as_text(ci(vh, "vmHealthStatusCode"))
    return ext_err, health


def read_status(status: Mapping, extension: str, time_raw: object, dialect: Dialect) -> StatusView:
    """Interpret one ``status`` object (a ``.status`` file's, or a handler's settingsStatus)."""
    reported = ci(status, "status")
    reported = reported if isinstance(reported, str) else None
    code_raw = ci(status, "code")
    code = as_text(code_raw)
    raw_message = message_of(status)
    inner_msg = maybe_json(raw_message)
    message = raw_message
    if isinstance(inner_msg, Mapping) and ci(inner_msg, "messageStr") is not None:
        message = str(ci(inner_msg, "messageStr")).strip()
    inner = _inner_statuses(status)
    if not message:
        message = next((m for m in map(message_of, inner) if m), None)
    ext_err, health = _telemetry([status, *inner])
    inner_names = [ci(i, "name") for i in inner]
    vmsnapshot = is_vmsnapshot(extension, ci(status, "name"), *inner_names)

    word = (reported or "").lower() if dialect.status_ignore_case else reported
    malformed = None
    if word in VALID_STATUS:
        effective = str(word)
    else:
        effective = "error"  # as the agents treat a missing or unknown status
        malformed = "malformed: no status.status" if reported is None else f"malformed: status {reported!r}"
    number = as_int(code_raw)
    if vmsnapshot:
        effective = vmsnapshot_effective(effective, number)
    return StatusView(
        extension=extension,
        reported=reported,
        effective=effective,
        code=code,
        code_name=code_name(number) if vmsnapshot else None,
        operation=as_text(ci(status, "operation")) if isinstance(ci(status, "operation"), str) else None,
        message=message,
        raw_message=raw_message,
        ext_error_code=ext_err,
        vm_health_status_code=health,
        time=parse_utc(time_raw),
        time_raw=time_raw if isinstance(time_raw, str) else None,
        malformed=malformed,
    )


# ---------------------------------------------------------------------------------------
# The aggregate status (waagent_status.json / aggregatestatus*.json)
# ---------------------------------------------------------------------------------------


@dataclass
class HandlerView:
    """One ``handlerAggregateStatus`` entry."""

    name: str  # handlerName as written ("" when missing)
    extension: str  # name, or name.extensionName for a multi-config extension
    version: str | None
    status: str | None
    code: str | None
    message: str | None
    sequence: str | None
    settings: Mapping | None  # runtimeSettingsStatus.settingsStatus (or its bare status)
    settings_status: Mapping | None
    raw: Mapping


@dataclass
class AggregateView:
    time_raw: Any
    guest_agent: Mapping | None
    handlers: list[HandlerView] = field(default_factory=list)
    os_info: Mapping | None = None
    found: bool = False  # the document has guestAgentStatus or handlerAggregateStatus


def read_handler(h: Mapping) -> HandlerView:
    name = as_text(ci(h, "handlerName")) or ""
    rss = ci(h, "runtimeSettingsStatus")
    rss = rss if isinstance(rss, Mapping) else {}
    ext_name = ci(rss, "extensionName")
    settings = ci(rss, "settingsStatus")
    settings = settings if isinstance(settings, Mapping) else None
    status = ci(settings, "status") if settings is not None else None
    if status is None and isinstance(ci(rss, "status"), Mapping):
        status = ci(rss, "status")
    return HandlerView(
        name=name,
        extension=f"{name}.{ext_name}" if ext_name else name,
        version=as_text(ci(h, "handlerVersion")),
        status=as_text(ci(h, "status")),
        code=as_text(ci(h, "code")),
        message=message_of(h),
        sequence=as_text(ci(rss, "sequenceNumber")),
        settings=settings,
        settings_status=status if isinstance(status, Mapping) else None,
        raw=h,
    )


def read_aggregate(doc: Mapping) -> AggregateView:
    """Agent, handlers and OS of an aggregate status, with or without the ``aggregateStatus`` wrapper."""
    agg = ci(doc, "aggregateStatus")
    agg = agg if isinstance(agg, Mapping) else doc
    ga = ci(agg, "guestAgentStatus")
    handlers = ci(agg, "handlerAggregateStatus")
    os_info = ci(doc, "guestOSInfo")
    return AggregateView(
        time_raw=ci(doc, "timestampUTC"),
        guest_agent=ga if isinstance(ga, Mapping) else None,
        handlers=[read_handler(h) for h in handlers or [] if isinstance(h, Mapping)] if isinstance(handlers, list) else [],
        os_info=os_info if isinstance(os_info, Mapping) else None,
        found=isinstance(ga, Mapping) or isinstance(handlers, list),
    )


def compact(obj: Any, limit: int = 20000) -> str:
    """A JSON value on one line, cut at ``limit`` characters (event text of a status)."""
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + " ... [TRUNCATED]"
