"""Helpers shared by the parsers of small structured state files (XML and JSON).

``agent_state`` (Linux goal-state cache), ``ext_status`` (Linux extension status files),
``win_agent_state`` (the Windows agent's and plugins' state files) and ``win_plugin_log``
were written side by side and each grew its own copy of these. They live here so that a fix
to how untrusted XML is refused, how a JSON error is located or how VMSnapshot's status code
is read lands in every parser at once. The leading underscore keeps the source registry from
taking this module for a parser.

These files are small (a few KB), so they are read with ``json``/``defusedxml`` and plain
Python rather than polars; nothing here runs per log line.

Where the parsers still differ on purpose (the wording of an error, case-insensitive keys
and values in files written by the .NET agent), the difference is a parameter or a subclass
here, so that one parser's output never changes because of the other.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import defusedxml
import defusedxml.ElementTree as DET

from ..errors import IngestError
from ..frames import TimeBasis, events_from_records, facts_from_records
from ..io import redact
from .base import Parsed, SourceFile

# ---------------------------------------------------------------------------------------
# Safe XML
# ---------------------------------------------------------------------------------------

_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")


def parse_xml(
    text: str,
    *,
    refused: str = "refused: {exc} (DTDs and entities are not read)",
    malformed: str = "malformed XML: {exc}",
) -> ET.Element:
    """Parse untrusted XML: no DTD, no entities, no external references.

    A bundle is untrusted input: an entity bomb or an external entity (which would read files
    of the machine running logscan) becomes an ``unsafe-xml`` ingest error, broken XML a
    ``parse`` one. The declaration is dropped first because the text is already decoded (a
    declared ``encoding="utf-16"`` would otherwise be re-applied to a str). ``refused`` and
    ``malformed`` are the details' wording (``{exc}``: the refusal's class name / the parse
    error), kept per parser so existing ingest-error details do not change.
    """
    body = _XML_DECL.sub("", text.lstrip("\ufeff"), count=1)
    try:
        return DET.fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except defusedxml.DefusedXmlException as exc:
        raise IngestError("unsafe-xml", refused.format(exc=type(exc).__name__)) from exc
    except ET.ParseError as exc:
        raise IngestError("parse", malformed.format(exc=exc)) from exc


def local(tag: object) -> str:
    """Element (or attribute) name without its ``{namespace}``: the agents' files mix namespaces."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def children(root: ET.Element, *path: str, ignore_case: bool = False) -> list[ET.Element]:
    """Every element reached by following local names (namespaces ignored) below ``root``.

    ``ignore_case`` for files the .NET agent writes, whose casing is not guaranteed.
    """
    level = [root]
    for name in path:
        want = name.lower() if ignore_case else name
        level = [c for n in level for c in n if (local(c.tag).lower() if ignore_case else local(c.tag)) == want]
        if not level:
            break
    return level


def first(root: ET.Element, *path: str, ignore_case: bool = False) -> ET.Element | None:
    """First element reached by ``path`` (see :func:`children`), else None."""
    found = children(root, *path, ignore_case=ignore_case)
    return found[0] if found else None


def find_all(root: ET.Element, name: str) -> Iterator[ET.Element]:
    """Every element named ``name`` anywhere below (and including) ``root``."""
    return (e for e in root.iter() if local(e.tag) == name)


def text_of(e: ET.Element | None) -> str | None:
    """An element's stripped text; None when it has none (so no empty fact is written)."""
    if e is None or e.text is None:
        return None
    return e.text.strip() or None


def attr(el: ET.Element, name: str) -> str | None:
    """Attribute by local name, any case (.NET writers vary the casing)."""
    low = name.lower()
    return next((v for k, v in el.attrib.items() if local(k).lower() == low), None)


# ---------------------------------------------------------------------------------------
# JSON
# ---------------------------------------------------------------------------------------


def load_json(
    f: SourceFile,
    *,
    empty_kind: str = "empty",
    empty_detail: str = "file holds no JSON (only whitespace)",
) -> Any:
    """The file's JSON, or an IngestError that says where it broke.

    The detail never quotes the document (settings files carry secrets), only the line and
    column, and the line goes to the error row. ``empty_kind``/``empty_detail`` keep each
    parser's wording for a file of only whitespace.
    """
    text = f.text.strip().lstrip("\ufeff")
    if not text:
        raise IngestError(empty_kind, empty_detail)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise IngestError("parse", f"invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})", line=exc.lineno) from exc


def maybe_json(v: object) -> Any:
    """JSON nested in a string (VMSnapshot's messages and substatus names, string-encoded
    publicSettings): parsed when it looks like an object or array, else None."""
    if isinstance(v, str) and v.lstrip()[:1] in ("{", "["):
        try:
            return json.loads(v)
        except json.JSONDecodeError:
            return None
    return None


def as_int(v: object) -> int | None:
    """An int, or a string of one (status codes come both ways); bools and others → None."""
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, str) and re.fullmatch(r"-?\d+", v.strip()):
        return int(v.strip())
    return None


def line_of(text: str, needle: str, start: int = 0, *, after: bool = False) -> tuple[int | None, int]:
    """1-based line of ``needle`` in ``text`` (searching from ``start``) and its offset.

    Facts point at the line they came from. The offset is where the needle starts, or just
    past it with ``after``, so a caller walking repeated elements continues from there; when
    the needle is absent the line is None and ``start`` comes back unchanged.
    """
    pos = text.find(needle, start)
    if pos < 0:
        return None, start
    return text.count("\n", 0, pos) + 1, pos + len(needle) if after else pos


def json_key_line(text: str, key: str, value: str | None = None, start: int = 0) -> tuple[int | None, int]:
    """1-based line of ``"key":`` (or ``"key": "value"``), any spacing, in a JSON text, and the
    offset past it: stricter than :func:`line_of`, as a key's name may also occur as a value."""
    pat = rf'"{re.escape(key)}"\s*:' + (rf'\s*"{re.escape(value)}"' if value is not None else "")
    m = re.compile(pat).search(text, start)
    if not m:
        return None, start
    return text.count("\n", 0, m.start()) + 1, m.end()


# ---------------------------------------------------------------------------------------
# Times
# ---------------------------------------------------------------------------------------

_TICKS_EPOCH = datetime(1, 1, 1, tzinfo=timezone.utc)


def ticks_to_datetime(ticks: object) -> datetime | None:
    """.NET ticks (100 ns since 0001-01-01 UTC), as CRP writes ``createdOnTicks`` and the
    agents ``commandStartTimeUTCTicks``, to UTC; None when not a positive number."""
    try:
        n = int(str(ticks).strip())
        if n <= 0:
            return None
        return _TICKS_EPOCH + timedelta(microseconds=n // 10)
    except (ValueError, OverflowError):
        return None


def parse_utc(value: object) -> datetime | None:
    """``2019-06-06T23:52:59Z`` (optionally with fractions or an offset) to a UTC datetime."""
    if not isinstance(value, str) or not value.strip():
        return None
    s = value.strip()
    if s.endswith(("Z", "z")):
        s = s[:-1] + "+00:00"
    # Python 3.10's fromisoformat wants 0, 3 or 6 fraction digits (.NET writes 7).
    s = re.sub(r"\.(\d+)", lambda m: "." + m.group(1)[:6].ljust(6, "0"), s, count=1)
    try:
        t = datetime.fromisoformat(s)
    except ValueError:
        return None
    return t.replace(tzinfo=timezone.utc) if t.tzinfo is None else t.astimezone(timezone.utc)


# ---------------------------------------------------------------------------------------
# Collecting rows
# ---------------------------------------------------------------------------------------


@dataclass
class Rows:
    """Facts and events of one file, stamped with its source, file and default time.

    A parser of a small structured file emits rows one by one while it walks the document;
    this turns them into the shared frames at the end. Empty values are not facts.
    """

    source: str
    file: str
    time: datetime | None = None
    facts: list[dict] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)

    def value(self, value: object) -> str | None:
        """A fact value as stored (None: no fact): stripped text, bools as true/false."""
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, bool):
            value = "true" if value else "false"
        return str(value).strip()

    def fact(self, subject: str, key: str, value: object, line: int | None = None, time: datetime | None = None) -> None:
        text = self.value(value)
        if text is None:
            return
        self.facts.append(
            {"source": self.source, "file": self.file, "line": line, "time": time or self.time,
             "subject": subject, "key": key, "value": text}
        )

    def event(self, **row: Any) -> None:
        t = row.get("time", self.time)
        row.setdefault("time_basis", TimeBasis.UTC if t is not None else TimeBasis.NONE)
        self.events.append({"source": self.source, "file": self.file, **row, "time": t})

    def parsed(self) -> Parsed:
        return Parsed(events=events_from_records(self.events), facts=facts_from_records(self.facts), errors=self.errors)


def as_text(value: Any) -> str | None:
    """A JSON value as a fact string (objects/lists as compact JSON, bools as true/false)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), sort_keys=True)
    return str(value)


class RedactedRows(Rows):
    """:class:`Rows` that masks secrets in every fact value and event text/message.

    The Windows parsers store whole JSON values (objects as compact JSON, text unstripped)
    and redact them on the way in rather than field by field.
    """

    def value(self, value: object) -> str | None:
        text = as_text(value)
        return None if text is None or text == "" else redact.text(text)

    def event(self, **row: Any) -> None:
        for k in ("text", "message"):
            row[k] = redact.text(row.get(k))
        super().event(**row)


# ---------------------------------------------------------------------------------------
# Paths
# ---------------------------------------------------------------------------------------


def kind_of(path: str, kinds: list[tuple[str, re.Pattern[str]]]) -> str | None:
    """The first kind whose pattern is found in ``path``: one parser reads several file kinds
    (one SourceSpec each would mean one registry entry per file name)."""
    for kind, rx in kinds:
        if rx.search(path):
            return kind
    return None

# Windows plugin folders: .../Plugins/<ext>/<version>/..., the version starting with a digit.
PLUGIN_DIR = re.compile(r"(?:^|/)Plugins/(?P<ext>[^/]+)/(?P<ver>\d[^/]*)/", re.IGNORECASE)


def plugin_from_path(path: str, pattern: re.Pattern[str] = PLUGIN_DIR) -> tuple[str | None, str | None]:
    """(extension, version) from ``.../Plugins/<ext>/<version>/...``, else (None, None).

    ``pattern`` (with ``ext``/``ver`` groups) for a caller that anchors the folders differently.
    """
    m = pattern.search(path)
    return (m.group("ext"), m.group("ver")) if m else (None, None)
