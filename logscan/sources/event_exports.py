"""Windows event-log exports, recognised by content whatever the file is called.

Support staff export logs in many ways, and the files reach a bundle under any name
(``app.txt``, ``events.csv``, ``export.xml``). ``docs/formats/windows-events.md`` §5 lists
the formats read here:

``xml``
    Event Viewer "Save All Events As" XML (``<Events><Event xmlns='…'>…``, usually with a
    ``<RenderingInfo>`` holding the rendered ``<Message>``) and ``wevtutil qe /f:xml`` (one
    ``<Event>`` per line, no root). Each ``<Event>…</Event>`` is cut out and parsed on its own
    with defusedxml, so one damaged event costs only itself and no root wrapper is needed.
``wevtutil-text``
    ``wevtutil qe /f:text``: ``Event[N]:`` blocks of ``  Label: value`` lines and a
    ``Description:`` block; "Copy details as text" (``Log Name:`` blocks) is read the same way.
``ev-csv`` / ``ev-tsv``
    Event Viewer CSV / tab-delimited text: ``Level,Date and Time,Source,Event ID,Task
    Category`` (localized) plus an unnamed 6th field, the description (quoted, multi-line).
``get-winevent-csv``
    ``Get-WinEvent | Export-Csv``: an optional ``#TYPE …EventLogRecord`` line, then quoted
    ``EventLogRecord`` properties read by header name.

XML is read by :mod:`_event_xml`, levels and dates by :mod:`_event_fields` (shared with
:mod:`event_text`, so neither event module imports the other). Pasted forms (copy details in
any language, friendly-view XML, PowerShell tables, bare
descriptions) are read by :mod:`event_text`. Exports carry the *rendered* message (the .evtx does not), so ``message`` is the description
as exported. Text/CSV exports have no EventData, record id or channel; those stay null.
Dates: with ``Z`` or an offset they are UTC; the localized wall-clock dates of CSV/text
exports have no zone and are read as UTC, marked ``local-assumed-utc``. The date order
(M/D/Y, D/M/Y, D.M.Y, Y-M-D) is chosen per file as the one that parses the most rows.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence

import polars as pl

from ..errors import IngestError
from ..frames import EVENT_SCHEMA, conform, empty
from ..io.textio import decode
from . import event_text
from ._event_fields import NAME, event_level, event_times
from ._event_xml import EVENT_NS, parse_xml
from .base import Parsed, SourceFile, SourceSpec, build_records, finish_events, lines_frame

# Localized header first fields ("Level", "Date and Time") of Event Viewer CSV/TXT.
EV_HEADER = re.compile(
    r"^\ufeff?\"?(Level|Ebene|Niveau|Nivel|Livello|Nível)\"?[,\t]\"?(Date and Time|Datum und Uhrzeit|Date et heure|"
    r"Fecha y hora|Data e ora|Datum en tijd|Data e Hora)\"?[,\t]",
    re.IGNORECASE,
)
# A data row of Event Viewer CSV/TXT: level, a date, source, numeric id.
EV_ROW = r"^\"?[^\t,\"]+\"?(?P<sep>[,\t])\"?\d{1,4}[./-]\d{1,2}[./-]\d{1,4}[ T][\d:.]+(?: ?[AaPp]\.? ?[Mm]\.?)?\"?[,\t][^\t]*?[,\t]\"?\d+\"?[,\t]"
GET_WINEVENT = re.compile(r"^#TYPE System\.Diagnostics\.Eventing\.Reader\.EventLogRecord|^\"?Message\"?,\"?Id\"?,")


# ---------------------------------------------------------------------------------------
# Sniffing
# ---------------------------------------------------------------------------------------


def detect(text: str) -> str | None:
    """Which export ``text`` is (``xml``, ``wevtutil-text``, ``ev-csv``, ``ev-tsv``,
    ``get-winevent-csv``), or None. Works on the first few KiB after decoding."""
    head = text[:8192].lstrip("\ufeff \t\r\n")
    if head.startswith("<"):
        if re.search(r"<Event[\s>]", head) and (EVENT_NS in head or "<System>" in head):
            return "xml"
        return None
    if re.match(r"Event\[\d+\]:", head) or re.match(r"Log Name:[ \t]", head):
        return "wevtutil-text"
    form = event_text.detect(head)
    if form in ("copy-details", "friendly-xml", "table"):
        return form
    if GET_WINEVENT.match(head):
        return "get-winevent-csv"
    first, _, rest = head.partition("\n")
    first = first.rstrip("\r")
    if re.match(r"^\"?(LevelDisplayName|TimeCreated|ProviderName|Id)\"?,", first) and all(
        k in first for k in ("Id", "TimeCreated")
    ):
        return "get-winevent-csv"  # a projected Select-Object ... | Export-Csv -NoTypeInformation
    second = rest.split("\n", 1)[0]
    m = EV_HEADER.match(first)
    if m:
        return "ev-tsv" if "\t" in first else "ev-csv"
    row = re.match(EV_ROW, second)
    if row and len(re.split(r"[,\t]", first)) in (5, 6):  # localized header we do not know by name
        return "ev-tsv" if row.group("sep") == "\t" else "ev-csv"
    return form  # "description" (clues only) or None


def sniff(head: bytes) -> bool:
    """Claim a file whose first bytes (any encoding textio reads) look like an event export."""
    if head.startswith(b"ElfFile\0"):
        return False
    return detect(decode(head).text) not in (None, "description")


def _finish(df: pl.DataFrame, f: SourceFile) -> pl.DataFrame:
    return finish_events(df, NAME, f)


# ---------------------------------------------------------------------------------------
# CSV / TSV
# ---------------------------------------------------------------------------------------

EV_COLUMNS = ["_level", "_date", "provider", "_event_id", "_task", "message"]


def _read_csv(text: str, *, separator: str = ",", skip_lines: int = 0, columns: Sequence[str] | None = None) -> pl.DataFrame:
    """All-string frame of a CSV held in memory (quoted multi-line fields handled by polars)."""
    body = text.split("\n", skip_lines)[-1] if skip_lines else text
    kwargs: dict = {"new_columns": list(columns)} if columns else {}
    try:
        return pl.read_csv(
            io.BytesIO(body.encode("utf-8")),
            separator=separator,
            infer_schema=False,
            truncate_ragged_lines=True,
            has_header=True,
            **kwargs,
        )
    except Exception as exc:  # polars ComputeError etc. on badly broken quoting
        raise IngestError("parse", f"CSV could not be read: {exc}") from exc


def _row_lines(df: pl.DataFrame, first: int) -> pl.Expr:
    """1-based line of each row: rows holding multi-line quoted fields push the next ones down."""
    nl = pl.sum_horizontal([pl.col(c).str.count_matches("\n").fill_null(0) for c in df.columns]) + 1
    return (pl.lit(first, dtype=pl.Int64) + nl.cum_sum().shift(1, fill_value=0)).cast(pl.Int64)


def parse_ev_csv(text: str, f: SourceFile, separator: str) -> Parsed:
    """Event Viewer CSV/TXT: 5 named columns plus an unnamed description, localized."""
    text = text.lstrip("\ufeff")
    if separator == "\t":
        return _parse_ev_tsv(text, f)
    first = text.split("\n", 1)[0]
    n = max(len(first.split(separator)), 5)
    # The header names 5 columns; the description is a 6th field on the rows. Name them ourselves.
    names = EV_COLUMNS + [f"_extra{i}" for i in range(n - 6)] if n > 6 else EV_COLUMNS
    header = separator.join(names)
    df = _read_csv(header + "\n" + text.split("\n", 1)[1] if "\n" in text else header + "\n", separator=separator)
    return Parsed(events=_finish(_ev_columns(df, 2), f))


def _parse_ev_tsv(text: str, f: SourceFile) -> Parsed:
    """Tab-delimited: a record starts with ``level\\tdate\\tsource\\tid\\t``; the description may span
    lines (quoted or not), so records are folded the same way as log continuation lines."""
    df = lines_frame(text).slice(1)
    row = r"^(?P<_level>[^\t]+)\t(?P<_date>[^\t]+)\t(?P<provider>[^\t]*)\t(?P<_event_id>\d+)\t(?P<_task>[^\t]*)(?:\t(?P<_desc>.*))?$"
    df = df.with_columns(pl.col("raw").str.extract_groups(row).alias("_g")).unnest("_g")
    df = df.with_columns(is_header=pl.col("_event_id").is_not_null())
    keep = ["_level", "_date", "provider", "_event_id", "_task", "_desc"]
    rec = build_records(df, keep=keep).filter(pl.col("_event_id").is_not_null())
    cont = pl.col("text").str.split("\n").list.slice(1).list.join("\n")
    desc = pl.concat_str([pl.col("_desc").fill_null(""), pl.when(pl.col("text").str.contains("\n")).then(pl.lit("\n") + cont).otherwise(pl.lit(""))])
    desc = desc.str.strip_chars()
    desc = pl.when(desc.str.starts_with('"') & desc.str.ends_with('"')).then(desc.str.slice(1, desc.str.len_chars() - 2).str.replace_all('""', '"', literal=True)).otherwise(desc)
    rec = rec.with_columns(message=desc)
    return Parsed(events=_finish(_ev_columns(rec, None), f))


def _ev_columns(df: pl.DataFrame, first_line: int | None) -> pl.DataFrame:
    df = df.with_columns(
        event_id=pl.col("_event_id").str.strip_chars().cast(pl.Int64, strict=False) & 0xFFFF,
        level=event_level(pl.col("_level")),
        event_name=pl.col("_task").str.strip_chars(),
    ).with_columns(*event_times(pl.col("_date"), df, "_date"))
    if first_line is not None:
        df = df.with_columns(line=_row_lines(df.select("_level", "_date", "provider", "_event_id", "_task", "message"), first_line))
    sep = ","
    df = df.with_columns(
        text=pl.concat_str([pl.col(c).fill_null("") for c in ("_level", "_date", "provider", "_event_id", "_task", "message")], separator=sep),
        message=pl.col("message").str.strip_chars(),
    )
    return df


def parse_get_winevent(text: str, f: SourceFile) -> Parsed:
    """``Get-WinEvent | Export-Csv``: read by header name; projected column sets work too."""
    text = text.lstrip("\ufeff")
    skip = 1 if text.startswith("#TYPE") else 0
    df = _read_csv(text, skip_lines=skip)
    cols = set(df.columns)

    def col(*names: str) -> pl.Expr:
        have = [pl.col(n) for n in names if n in cols]
        return pl.coalesce(have) if have else pl.lit(None, dtype=pl.String)

    df = df.with_columns(
        provider=col("ProviderName"),
        _event_id=col("Id"),
        _level=col("Level", "LevelDisplayName"),
        record_id=col("RecordId").cast(pl.Int64, strict=False),
        channel=col("LogName"),
        computer=col("MachineName"),
        message=col("Message"),
        _date=col("TimeCreated"),
        event_name=col("TaskDisplayName"),
        _row=pl.concat_str([pl.col(c).fill_null("") for c in df.columns], separator=","),
    )
    df = df.with_columns(
        event_id=pl.col("_event_id").cast(pl.Int64, strict=False) & 0xFFFF,
        level=event_level(pl.col("_level")),
        line=_row_lines(df.select(list(cols)), 2 + skip),
        text=pl.col("_row"),
    ).with_columns(*event_times(pl.col("_date"), df, "_date"))
    return Parsed(events=_finish(df, f))


# ---------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------


def parse(f: SourceFile) -> Parsed:
    text = f.text.replace("\r\n", "\n")
    kind = detect(text)
    if kind == "xml":
        return parse_xml(text, f)
    if kind == "wevtutil-text":
        return event_text.parse("copy-details", text, f)
    if kind in ("copy-details", "friendly-xml", "table", "description"):
        return event_text.parse(kind, text, f)
    if kind in ("ev-csv", "ev-tsv"):
        return parse_ev_csv(text, f, "\t" if kind == "ev-tsv" else ",")
    if kind == "get-winevent-csv":
        return parse_get_winevent(text, f)
    raise IngestError("parse", "not a recognised Windows event export (XML, wevtutil text, Event Viewer CSV/TXT, Get-WinEvent CSV)")


def read_export(data: bytes, path: str = "export") -> tuple[pl.DataFrame, list[dict]]:
    """Convenience for tests and notebooks: bytes → (events, errors), never raising."""
    f = SourceFile(path, path, data)
    try:
        parsed = parse(f)
    except IngestError as exc:
        return empty(EVENT_SCHEMA), [{"kind": exc.kind, "detail": exc.detail, "line": None}]
    return conform(parsed.events, EVENT_SCHEMA), parsed.errors


SPEC = SourceSpec(
    name=NAME,
    patterns=(),  # never by name: .xml/.csv/.txt are claimed only when the content is an export
    parse=parse,
    description="Windows event exports: Event Viewer XML/CSV/TXT, wevtutil xml/text, Get-WinEvent CSV",
    platform="windows",
    priority=60,
    sniff=sniff,
    example_path="exports/Application.xml",
)
