"""A binary ``.evtx`` re-exported as Event Viewer XML with every value masked.

Binary EVTX cannot be edited safely (records, chunks and string tables point into each
other), so a redacted bundle carries the events as ``<Events>`` XML instead: the form
:mod:`logscan.sources.event_exports` reads. Each event keeps provider, id, level, time,
record id, channel, computer and its data items; the message logscan built from the record
goes in ``RenderingInfo/Message``, so the clean copy yields the same messages (and causes).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from xml.sax.saxutils import escape, quoteattr

import polars as pl

from ..io import redact

EVENT_NS = "http://schemas.microsoft.com/win/2004/08/events/event"
LEVEL_NUMBERS = {"CRITICAL": "1", "ERROR": "2", "WARNING": "3", "INFO": "4", "VERBOSE": "5", "DEBUG": "5"}
LEVEL_WORDS = {"CRITICAL": "Critical", "ERROR": "Error", "WARNING": "Warning", "INFO": "Information", "VERBOSE": "Verbose"}
_BAD_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _x(value: object) -> str:
    return escape(_BAD_XML.sub("", str(value)))


def _attr(value: object) -> str:
    return quoteattr(_BAD_XML.sub("", str(value)))


def read_events(data: bytes) -> tuple[pl.DataFrame, list[dict]]:
    """The records of an EVTX file as an events frame, secrets masked (damaged files keep what
    survives, as in a scan)."""
    from ..sources.evtx import default_engine, read_evtx

    events, errors = read_evtx(data, default_engine())
    return redact.events(events), errors


def to_xml(events: pl.DataFrame, pseudonymise: Callable[[pl.DataFrame], pl.DataFrame] | None = None) -> str:
    """``<Events>`` XML for an (already masked) events frame."""
    if pseudonymise is not None:
        events = pseudonymise(events)
    out = ['<?xml version="1.0" encoding="utf-8"?>', "<Events>"]
    cols = ("provider", "event_id", "level", "time", "record_id", "channel", "computer", "data", "message")
    for provider, event_id, level, time, record_id, channel, computer, data, message in events.select(cols).iter_rows():
        sys = [f"<Provider Name={_attr(provider or '')}/>"]
        if event_id is not None:
            sys.append(f"<EventID>{event_id}</EventID>")
        if level in LEVEL_NUMBERS:
            sys.append(f"<Level>{LEVEL_NUMBERS[level]}</Level>")
        if time is not None:
            sys.append(f"<TimeCreated SystemTime={_attr(time.strftime('%Y-%m-%dT%H:%M:%S.%fZ'))}/>")
        if record_id is not None:
            sys.append(f"<EventRecordID>{record_id}</EventRecordID>")
        if channel:
            sys.append(f"<Channel>{_x(channel)}</Channel>")
        if computer:
            sys.append(f"<Computer>{_x(computer)}</Computer>")
        items = []
        for item in data or []:
            name, value = item.get("name"), item.get("value") or ""
            if name == "Binary":
                items.append(f"<Binary>{_x(value)}</Binary>")
            elif name is None:
                items.append(f"<Data>{_x(value)}</Data>")
            else:
                items.append(f"<Data Name={_attr(name)}>{_x(value)}</Data>")
        rendering = f"<Message>{_x(message)}</Message>" if message else ""
        if level in LEVEL_WORDS:
            rendering += f"<Level>{LEVEL_WORDS[level]}</Level>"
        out.append(
            f"<Event xmlns='{EVENT_NS}'><System>{''.join(sys)}</System><EventData>{''.join(items)}</EventData>"
            f"<RenderingInfo Culture='en-US'>{rendering}</RenderingInfo></Event>"
        )
    out.append("</Events>")
    return "\n".join(out) + "\n"
