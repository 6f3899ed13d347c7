"""Windows events as XML: Event Viewer "Save All Events As", ``wevtutil qe /f:xml``, and the
friendly-view XML :mod:`event_text <logscan.sources.event_text>` repairs first.

Each ``<Event>…</Event>`` is cut out and parsed on its own with defusedxml, so one damaged
event costs only itself and no root wrapper is needed.
"""

from __future__ import annotations

import re

import polars as pl
from defusedxml import ElementTree as SafeET

from ..errors import IngestError
from ..frames import EVENT_SCHEMA, empty
from ._event_fields import NAME, event_level, event_times
from .base import Parsed, SourceFile, finish_events

EVENT_NS = "/win/2004/08/events/event"
EVENT_RE = re.compile(r"<Event[\s>].*?</Event>", re.DOTALL)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(el, name: str):
    for c in el:
        if _local(c.tag) == name:
            return c
    return None


def _flatten(el, out: list[dict]) -> None:
    """UserData: leaf elements as name/value, in document order."""
    for c in el:
        if len(c):
            _flatten(c, out)
        else:
            out.append({"name": _local(c.tag), "value": c.text or ""})


def _event_row(el) -> dict:
    system = _child(el, "System")
    row: dict = {}
    if system is not None:
        prov = _child(system, "Provider")
        if prov is not None:
            row["provider"] = prov.get("Name") or prov.get("EventSourceName")
        for tag, key in (("EventID", "_event_id"), ("Level", "_level"), ("EventRecordID", "_record_id"), ("Channel", "channel"), ("Computer", "computer")):
            c = _child(system, tag)
            if c is not None and (c.text or "").strip():
                row[key] = c.text.strip()
        tc = _child(system, "TimeCreated")
        if tc is not None:
            row["time_raw"] = tc.get("SystemTime")
    data: list[dict] = []
    ed = _child(el, "EventData")
    if ed is not None:
        for c in ed:
            tag = _local(c.tag)
            if tag == "Data":
                data.append({"name": c.get("Name"), "value": c.text or ""})
            elif tag == "Binary" and (c.text or "").strip():
                data.append({"name": "Binary", "value": c.text.strip()})
            elif len(c) == 0:
                data.append({"name": tag, "value": c.text or ""})
    ud = _child(el, "UserData")
    if ud is not None:
        _flatten(ud, data)
    row["data"] = data
    ri = _child(el, "RenderingInfo")
    if ri is not None:
        msg = _child(ri, "Message")
        if msg is not None and (msg.text or "").strip():
            row["_rendered"] = msg.text
        lvl = _child(ri, "Level")
        if lvl is not None and lvl.text and "_level" not in row:
            row["_level"] = lvl.text
    return row


def parse_xml(text: str, f: SourceFile) -> Parsed:
    """Each ``<Event>…</Event>`` parsed on its own (defusedxml), so a root is not needed and a
    damaged event is an error row rather than the end of the file."""
    rows: list[dict] = []
    errors: list[dict] = []
    pos, line = 0, 1
    for m in EVENT_RE.finditer(text):
        chunk = m.group(0)
        line += text.count("\n", pos, m.start())
        pos = m.start()
        try:
            el = SafeET.fromstring(chunk)
        except Exception as exc:  # ParseError, DTD/entity refusal from defusedxml
            errors.append({"kind": "parse", "detail": f"event XML: {type(exc).__name__}: {exc}"[:300], "line": line})
            continue
        rows.append({**_event_row(el), "line": line, "text": chunk})
    if not rows:
        if errors:
            return Parsed(events=empty(EVENT_SCHEMA), errors=errors)
        raise IngestError("parse", "no <Event> elements found in the XML export")
    tail = text[text.rfind("</Event>") + len("</Event>") :] if "</Event>" in text else text
    if re.search(r"<Event[\s>]", tail):
        errors.append({"kind": "truncated", "detail": "the last <Event> is not closed (export cut short)", "line": None})
    schema = {
        "provider": pl.String, "_event_id": pl.String, "_level": pl.String, "_record_id": pl.String,
        "channel": pl.String, "computer": pl.String, "time_raw": pl.String, "_rendered": pl.String,
        "line": pl.Int64, "text": pl.String, "data": pl.List(pl.Struct({"name": pl.String, "value": pl.String})),
    }
    df = pl.DataFrame([{k: r.get(k) for k in schema} for r in rows], schema=schema)
    df = df.with_columns(
        event_id=pl.col("_event_id").cast(pl.Int64, strict=False) & 0xFFFF,
        record_id=pl.col("_record_id").cast(pl.Int64, strict=False),
        level=event_level(pl.col("_level")),
    ).with_columns(*event_times(pl.col("time_raw"), df, "time_raw"))
    # Without a rendered message, the same one-liner as the .evtx parser builds (evtx.xml_frame).
    head = pl.concat_str([pl.col("provider").fill_null("?"), pl.col("event_id").cast(pl.String).fill_null("?")], separator=" ")
    parts = pl.col("data").list.eval(
        pl.when((pl.element().struct.field("value").str.strip_chars() == "") | (pl.element().struct.field("name") == "Binary"))
        .then(None)
        .when(pl.element().struct.field("name").is_null())
        .then(pl.element().struct.field("value"))
        .otherwise(pl.element().struct.field("name") + "=" + pl.element().struct.field("value"))
    ).list.drop_nulls().list.join("; ").str.replace_all(r"\s+", " ").str.strip_chars()
    built = pl.when(parts.fill_null("") == "").then(head).otherwise(head + ": " + parts)
    df = df.with_columns(message=pl.coalesce(pl.col("_rendered").str.strip_chars(), built))
    # Evidence quotes provider, id, level and message: never the raw XML or <Binary> hex.
    df = df.with_columns(text=pl.concat_str([head, pl.col("level").fill_null("-"), pl.col("message")], separator=" | "))
    return Parsed(events=finish_events(df, NAME, f), errors=errors)
