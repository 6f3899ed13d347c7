"""Windows events as people paste them: every text form short of a clean export.

Read here, for :mod:`event_exports <logscan.sources.event_exports>` (events keep its source
name, ``event_export``, so signatures scoped to it see them):

``copy-details``
    Event Viewer "Copy details as text" and ``wevtutil qe /f:text`` blocks (``Log Name:`` …
    ``Description:``, optionally ``Event Xml:``), often cut short, with labels in English,
    German, French, Japanese or Chinese. ``Event Xml:`` supplies the UTC time, but the record's
    text stops before it: evidence shows the header and message, never raw XML.
``friendly-xml``
    The Event Viewer "friendly view" XML: ``- `` before element lines, stray spaces in
    ``xmlns``, cut off mid-element. The markers are removed, open elements closed, and the
    result read like any XML export (defusedxml).
``table``
    ``Get-EventLog`` / ``Get-WinEvent`` fixed-width tables, columns cut at ``...``.
``description``
    The description alone, no header. Provider and event id come from language-independent
    clues (API names, HRESULTs, writer and service names, AppLocker path variables) and are
    marked inferred in ``data`` (``logscan.inferred``).
"""

from __future__ import annotations

import re

import polars as pl

from ..frames import EVENT_SCHEMA, TimeBasis, conform, empty
from ._event_fields import NAME, event_level, event_times
from ._event_xml import parse_xml
from .base import Parsed, SourceFile, build_records, lines_frame, utc

# Labels of the "Copy details" / wevtutil text block, by language.
LABELS: dict[str, tuple[str, ...]] = {
    "channel": ("Log Name", "ログの名前", "Protokollname", "Nom du journal", "日志名称", "記錄檔名稱", "Nombre de registro"),
    "provider": ("Source", "ソース", "Quelle", "来源", "來源", "Origen"),
    "_date": ("Date", "日付", "Datum", "日期", "Fecha"),
    "_event_id": ("Event ID", "イベント ID", "Ereignis-ID", "ID de l’événement", "ID de l'événement", "事件 ID", "事件识别码", "Id. del evento"),
    "event_name": ("Task Category", "タスクのカテゴリ", "Aufgabenkategorie", "Catégorie de la tâche", "任务类别", "Categoría de la tarea"),
    "_level": ("Level", "レベル", "Ebene", "Niveau", "级别", "層級", "Nivel"),
    "computer": ("Computer", "コンピューター", "Ordinateur", "计算机", "電腦", "Equipo"),
    "_desc": ("Description", "説明", "Beschreibung", "描述", "描述", "Descripción"),
}
_FIRST = "|".join(re.escape(x) for x in LABELS["channel"])
COPY_START = rf"^(?:Event\[\d+\]:|(?:{_FIRST})\s*[:：])"
LEVEL_WORDS = {
    "エラー": "ERROR", "警告": "WARNING", "情報": "INFO", "重大": "CRITICAL", "错误": "ERROR", "信息": "INFO",
    "錯誤": "ERROR", "資訊": "INFO", "严重": "CRITICAL", "詳細": "VERBOSE",
}
TABLE_HEADER = r"(?m)^\s*(?:Index\s+Time\s+EntryType\s+Source|TimeCreated\s+Id\s+LevelDisplayName\s+Message|ProviderName:\s+\S)"
FRIENDLY = r"(?m)^\s*- <Event[\s>]"

#: Language-independent clues in a bare description: (regex, provider, event id or None).
CLUES: tuple[tuple[str, str, int | None], ...] = (
    (r"IVssWriterCallback", "VSS", 8194),
    (r"\b(?:CreateFileW|DeviceIoControl)\(.*hr = 0x[0-9A-Fa-f]{8}", "VSS", 12289),
    (r"\bhr = 0x[0-9A-Fa-f]{8}", "VSS", None),
    (r"(?i:Writer (?:Class )?Id\s*:|\bVSS\b|Volume Shadow Copy|cliché instantané|Volumeschattenkopie|ボリューム シャドウ|卷影)", "VSS", None),
    (r"(?i:%(?:OSDRIVE|PROGRAMFILES|WINDIR|SYSTEM32|REMOVABLE|HOT)%[^\n]*\.(?:vbs|ps1|js|bat|cmd|msi|wsf)\b)", "Microsoft-Windows-AppLocker", 8007),
    (r"(?i:%(?:OSDRIVE|PROGRAMFILES|WINDIR|SYSTEM32|REMOVABLE|HOT)%[^\n]*\.(?:exe|dll|com)\b)", "Microsoft-Windows-AppLocker", 8004),
    (r"(?i:\.exe, [^\n]*\d+\.\d+\.\d+\.\d+[^\n]*0x[0-9a-f]{8})", "Application Error", 1000),
    (r"(?i:\b(?:SChannel|TLS 1\.\d|SSL 3\.0)\b)", "Schannel", None),
    (r"\b(?:RdAgent|WindowsAzureGuestAgent|WindowsAzureTelemetryService|COMSysApp|MSDTC)\b", "Service Control Manager", None),
)
DESCRIPTION_CLUE = "|".join(f"(?:{rx})" for rx, _p, _i in CLUES)
ERRORISH = r"(?i)hr = 0x|error|erreur|fehler|エラー|错误|錯誤|failed|échec|prevented|fatal|unexpected|inattendu"


def detect(head: str) -> str | None:
    """Which text form ``head`` holds (``copy-details``, ``friendly-xml``, ``table``,
    ``description``), or None."""
    if re.search(COPY_START, head, re.M):
        return "copy-details"
    if re.search(FRIENDLY, head):
        return "friendly-xml"
    if re.search(TABLE_HEADER, head):
        return "table"
    if re.search(r"(?m)^\s*(?:Event ID|EventID|Source|Level)\s*=\s*\S", head) or re.search(DESCRIPTION_CLUE, head):
        return "description"
    return None


def _label_rx(key: str) -> str:
    names = "|".join(re.escape(x) for x in LABELS[key])
    return rf"(?m)^[ \t]*(?:{names})[ \t]*[:：][ \t]*(.*?)[ \t]*$"


def _level(expr: pl.Expr) -> pl.Expr:
    """Export level names, plus the Japanese and Chinese words pastes carry."""
    return event_level(expr.str.strip_chars().replace(LEVEL_WORDS))


def parse_copy_details(text: str, f: SourceFile) -> pl.DataFrame:
    """One record per ``Log Name:``/``Event[N]:`` block; fields by (localised) label."""
    df = lines_frame(text).with_columns(is_header=pl.col("raw").str.contains(COPY_START))
    rec = build_records(df).filter(pl.col("text").str.contains(COPY_START))
    desc_names = "|".join(re.escape(x) for x in LABELS["_desc"])
    xml = pl.col("text").str.extract(r"(?s)\n[ \t]*Event Xml:[ \t]*\n(.*)$", 1)
    body = pl.col("text").str.replace(r"(?s)\n[ \t]*Event Xml:.*$", "").str.strip_chars_end()
    rec = rec.with_columns(
        *[pl.col("text").str.replace(r"(?s)\n[ \t]*Event Xml:.*$", "").str.extract(_label_rx(k), 1).alias(k) for k in LABELS if k != "_desc"],
        _desc=body.str.extract(rf"(?s)\n[ \t]*(?:{desc_names})[ \t]*[:：][ \t]*\n?(.*)$", 1).str.strip_chars(),
        _xml_time=xml.str.extract(r"SystemTime=[\"']([^\"']+)[\"']", 1),
        _xml_id=xml.str.extract(r"<EventID[^>]*>\s*(\d+)", 1),
        _xml_provider=xml.str.extract(r"<Provider Name=[\"']([^\"']+)[\"']", 1),
        text=body,
    )
    rec = rec.with_columns(
        provider=pl.coalesce(pl.col("provider").replace("", None), "_xml_provider"),
        event_id=pl.coalesce(pl.col("_event_id").str.extract(r"(\d+)", 1), "_xml_id").cast(pl.Int64, strict=False) & 0xFFFF,
        level=_level(pl.col("_level")),
        channel=pl.col("channel").replace("", None),
        message=pl.col("_desc"),
    )
    # The XML's SystemTime is UTC; the header's date is local wall time (or a placeholder).
    rec = rec.with_columns(*event_times(pl.coalesce("_xml_time", "_date"), rec, "_date"))
    return rec


def _close_open_elements(xml: str) -> str:
    """Close the elements a cut-off paste left open, so the part that arrived can be read."""
    xml = xml[: xml.rfind(">") + 1] if ">" in xml else ""
    stack: list[str] = []
    for m in re.finditer(r"<(/?)([A-Za-z][\w:.-]*)[^<>]*?(/?)>", xml):
        closing, name, selfclose = m.groups()
        if selfclose:
            continue
        if closing:
            if name in stack:
                while stack and stack.pop() != name:
                    pass
        else:
            stack.append(name)
    return xml + "".join(f"</{n}>" for n in reversed(stack))


def parse_friendly_xml(text: str, f: SourceFile) -> Parsed:
    """The friendly view's XML, made well-formed where the paste broke it, then read as XML."""
    fixed = re.sub(r"(?m)^([ \t]*)- (?=<)", r"\1", text)
    fixed = re.sub(r"""xmlns=(["'])\s*(\S+?)\s*\1""", r"xmlns=\1\2\1", fixed)
    errors: list[dict] = []
    opens = [m.start() for m in re.finditer(r"<Event[\s>]", fixed)]
    if len(opens) > fixed.count("</Event>"):
        errors.append({"kind": "truncated", "detail": "the pasted event XML stops mid-element; closed where it ends", "line": None})
        start = opens[-1]
        fixed = fixed[:start] + _close_open_elements(fixed[start:])
    parsed = parse_xml(fixed, f)
    parsed.errors[:0] = errors
    return parsed


def parse_table(text: str, f: SourceFile) -> pl.DataFrame:
    """``Get-EventLog`` (Index, Time, EntryType, Source, InstanceID, Message) and
    ``Get-WinEvent`` (TimeCreated, Id, LevelDisplayName, Message, under ``ProviderName:``)
    tables, cut by the header's column positions. ``...`` marks a column cut by PowerShell."""
    lines = lines_frame(text)
    header = lines.filter(pl.col("raw").str.contains(r"^\s*(?:Index\s+Time\s+EntryType|TimeCreated\s+Id\s+LevelDisplayName)"))
    if not header.height:
        return empty(EVENT_SCHEMA)
    head = header.row(0, named=True)["raw"]
    starts = [m.start() for m in re.finditer(r"\S+", head)]
    names = head.split()
    if names[0] == "Index":  # right-aligned Index; Time starts one column after it ends
        rows = lines.filter(pl.col("raw").str.contains(r"^\s*\d+ \S"))
    else:
        rows = lines.filter(pl.col("raw").str.contains(r"^\s*\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}"))
    provider_line = lines.filter(pl.col("raw").str.contains(r"^\s*ProviderName:")).select(
        "idx", pl.col("raw").str.extract(r"ProviderName:\s*(.+?)\s*$", 1).alias("_pn")
    )
    cols = []
    for i, name in enumerate(names):
        a = 0 if i == 0 else starts[i]
        width = (starts[i + 1] - a) if i + 1 < len(names) else None
        expr = pl.col("raw").str.slice(a, width) if width else pl.col("raw").str.slice(a)
        cols.append(expr.str.strip_chars().alias(f"c_{name}"))
    rows = rows.with_columns(cols)
    if provider_line.height:
        rows = rows.join_asof(provider_line, on="idx", strategy="backward")
    else:
        rows = rows.with_columns(_pn=pl.lit(None, pl.String))

    def c(name: str) -> pl.Expr:
        return pl.col(f"c_{name}") if f"c_{name}" in rows.columns else pl.lit(None, pl.String)

    rid = c("InstanceID").cast(pl.Int64, strict=False)
    rows = rows.with_columns(
        provider=pl.coalesce(c("Source"), "_pn").str.replace(r"\.\.\.$", ""),
        event_id=pl.coalesce(rid & 0xFFFF, c("Id").cast(pl.Int64, strict=False)),
        record_id=c("Index").cast(pl.Int64, strict=False),
        level=_level(pl.coalesce(c("EntryType"), c("LevelDisplayName"))),
        message=c("Message"),
        time_raw=pl.coalesce(c("Time"), c("TimeCreated")),
        time_basis=pl.lit(TimeBasis.NONE),
        line=pl.col("idx") + 1,
        text=pl.col("raw"),
    )
    rows = rows.with_columns(*event_times(pl.col("time_raw"), rows, "time_raw"))
    return rows


def infer(text: str) -> tuple[str | None, int | None, str]:
    """Provider, event id and the clue they were inferred from, for a bare description."""
    provider, event_id, why = None, None, []
    for rx, prov, eid in CLUES:
        m = re.search(rx, text)
        if not m:
            continue
        if provider is None:
            provider = prov
            why.append(m.group(0)[:60])
        if provider == prov and event_id is None and eid is not None:
            event_id = eid
    return provider, event_id, "; ".join(why)


def parse_description(text: str, f: SourceFile) -> pl.DataFrame:
    """The whole text as one event (a description and its Operation/Context blocks), with
    the reporter's own ``Source = …``/``Event ID = …`` lines taken as the header."""
    body = text.strip("\n")
    if not body.strip():
        return empty(EVENT_SCHEMA)
    own = {k: re.search(rf"(?mi)^\s*{k}\s*=\s*(.+?)\s*$", body) for k in ("Source", "Event ?ID", "Level")}
    provider, event_id, why = infer(body)
    inferred = []
    if own["Source"]:
        provider = own["Source"].group(1)
    elif provider:
        inferred.append(f"provider={provider}")
    if own["Event ?ID"] and own["Event ?ID"].group(1).isdigit():
        event_id = int(own["Event ?ID"].group(1))
    elif event_id is not None:
        inferred.append(f"event_id={event_id}")
    level = own["Level"].group(1) if own["Level"] else ("ERROR" if re.search(ERRORISH, body) else None)
    data = [{"name": "logscan.inferred", "value": f"{', '.join(inferred)} (from: {why})"}] if inferred else []
    first = len(text) - len(text.lstrip("\n"))
    row = {
        "provider": provider, "event_id": event_id, "message": body.strip(), "text": body, "line": text.count("\n", 0, first) + 1,
        "time_basis": TimeBasis.NONE, "data": data, "_level": level,
    }
    df = pl.DataFrame([row], schema_overrides={"data": pl.List(pl.Struct({"name": pl.String, "value": pl.String})), "_level": pl.String})
    return df.with_columns(level=_level(pl.col("_level")), time=utc(pl.lit(None, pl.Datetime("us"))))


def parse(form: str, text: str, f: SourceFile) -> Parsed:
    """Events of one text form (see :func:`detect`)."""
    if form == "friendly-xml":
        return parse_friendly_xml(text, f)
    if form == "copy-details":
        df = parse_copy_details(text, f)
    elif form == "table":
        df = parse_table(text, f)
    else:
        df = parse_description(text, f)
    return Parsed(events=conform(df.with_columns(source=pl.lit(NAME), file=pl.lit(f.display)), EVENT_SCHEMA))
