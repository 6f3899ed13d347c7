"""Windows binary event logs (``.evtx``) into the event frame.

Two engines sit behind one interface, :func:`read_evtx`:

``evtx`` (default)
    The Rust-backed ``evtx`` package (pyevtx-rs). It is ~1,000× faster than python-evtx and
    reads chunks past a stale header (dirty copies of a live log). A damaged record or chunk is
    raised from ``next()`` and iteration goes on past it; it is asked *not* to skip errors with
    a ``RuntimeWarning`` (``skip_errors=True``), because files are parsed on a thread pool and
    Python's warning capture (``catch_warnings``) is process-wide before 3.14: one thread's
    capture ending let another thread's warnings reach stderr, or land in the wrong file.
``python-evtx``
    The pure-Python reference parser (optional extra ``logscan[python-evtx]``; it cannot share a
    Windows environment with ``evtx`` because ``Evtx/`` and ``evtx/`` clash on a
    case-insensitive disk). Used when asked for, or when ``import evtx`` fails. Known limits,
    kept rather than papered over: it dies on NullType substitutions (0 records from some
    files), and its string-array splitting swaps a leading empty insertion string with the next
    one (WER 1001 ``Bucket``/``BucketType``), so positional data may be mis-ordered.

``auto`` picks ``evtx`` and falls back to python-evtx. The ingest path reads the engine from the
environment variable ``LOGSCAN_EVTX_ENGINE`` (``evtx`` | ``python-evtx`` | ``auto``).

Why XML and not ``records_json()``: both engines render XML, so one vectorised polars pipeline
(anchored ``str.extract`` per System field, ``extract_all`` for ``<Data>``) serves both, and
the XML is what ``text`` quotes as evidence anyway. Per-record Python work is limited to
collecting the engine's strings into batches of :data:`BATCH` records; a ``json.loads`` per
record alone would cost more than the Rust parser itself. Values are read from the XML as text,
so string-typed System values (forwarded or re-rendered logs: ``"EventID":"1151"``) need no
special case, and ``EventID`` with ``Qualifiers`` is just the element text, masked to 16 bits.

``message`` is a readable one-liner built from the event data
(``Application Error 1000: rundll32.exe; 6.1.7600.16385; ...`` or ``Name=value; ...``): the
Windows message templates live in provider DLLs on the machine that wrote the log and are not
available offline, so the rendered sentence Event Viewer shows cannot be reproduced here.

Damage never aborts the file: records and chunks the engine skips become error rows, declared
chunks that are zeroed or a file cut short are found from the header and reported, and the
record ids missing around damage are reported as a range. Only bytes that are not EVTX at all
raise :class:`~logscan.errors.IngestError`.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator

import polars as pl

from ..errors import IngestError
from ..frames import DATA_STRUCT, EVENT_SCHEMA, TimeBasis, conform, empty
from ._evtx_layout import (
    CHUNK_MAGIC,
    CHUNK_SIZE,
    HEADER_SIZE,
    MAGIC,
    bad_chunks,
    check_layout,
    missing_ranges,
)
from ._formats import format_facts
from .base import Parsed, SourceFile, SourceSpec, finish_events, utc

ENGINE_ENV = "LOGSCAN_EVTX_ENGINE"
ENGINES = ("auto", "evtx", "python-evtx")
BATCH = 10_000  # records per polars batch: bounded memory on multi-GB logs
CHUNK_MAGIC_WARNING = re.compile(r"chunk number (\d+): Failed to parse chunk header: Invalid EVTX chunk header magic")
# A parser that keeps failing on next() is not making progress. Each damaged record or chunk
# is one error, so this is far above what a damaged log gives (a 1 GiB file has 16,384 chunks).
MAX_CONSECUTIVE_ERRORS = 100_000
#: How a skipped record or chunk is described (the words pyevtx-rs uses for its warnings).
SKIPPED = "Skipping EVTX data"

# System/Level numbers → levels: content/formats/windows-events.yaml (shared with event_exports).
LEVEL_FORMAT = "windows_events"

# One pattern per System field, each with a literal prefix the regex engine jumps to: several
# small patterns are much faster in polars than one pattern with lazy gaps. Both engines write
# double-quoted attributes with Name first on <Provider>.
SYSTEM_FIELDS: dict[str, str] = {
    "_name": r'<Provider Name="([^"]*)"',
    "_esn": r'<Provider [^>]*EventSourceName="([^"]*)"',
    "_event_id": r"<EventID[^>]*>([^<]*)</EventID>",
    "_level": r"<Level>([^<]*)</Level>",
    "time_raw": r'<TimeCreated SystemTime="([^"]*)"',
    "_record_id": r"<EventRecordID>([^<]*)</EventRecordID>",
    "channel": r"<Channel>([^<]*)</Channel>",
    "computer": r"<Computer>([^<]*)</Computer>",
}
# <Data Name="x">v</Data>, <Data>v</Data>, <Data Name="x"/>: the whole item, then name and value.
DATA_ITEM = r'<Data(?: Name="[^"]*")?(?:/>|>[^<]*</Data>)'
DATA_NAME = r'^<Data Name="([^"]*)"'
# Leaf elements of UserData (no child elements): <param1>v</param1>, <x/>.
LEAF = r"<[A-Za-z_][A-Za-z0-9_.:-]*(?:[ \t\r\n][^>]*)?(?:/>|>[^<]*</[^>]+>)"
LEAF_NAME = r"^<([A-Za-z_][A-Za-z0-9_.:-]*)"
# evtx pretty-prints an empty element as "<X>\n    </X>"; these are the empty-able leaves under
# System and EventData (depth 2). Collapsing them keeps ``text`` short and empty values empty.
PADDED = ("Data", "Provider", "TimeCreated", "Correlation", "Execution", "Security", "Binary")
PAD = ([f"\n    </{t}>" for t in PADDED], [f"</{t}>" for t in PADDED])
DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'
ENTITIES = (["&lt;", "&gt;", "&quot;", "&apos;", "&#39;", "&amp;"], ["<", ">", '"', "'", "'", "&"])


def default_engine() -> str:
    """The engine the ingest path uses: ``$LOGSCAN_EVTX_ENGINE`` or ``auto``."""
    value = os.environ.get(ENGINE_ENV, "auto").strip().lower() or "auto"
    return value if value in ENGINES else "auto"


def _resolve(engine: str) -> str:
    """Turn ``auto`` into a concrete engine; raise IngestError when the one asked for is missing."""
    if engine not in ENGINES:
        raise IngestError("config", f"unknown EVTX engine {engine!r}; use one of {', '.join(ENGINES)}")
    if engine in ("auto", "evtx"):
        try:
            import evtx  # noqa: F401
        except ImportError as exc:
            if engine == "evtx":
                raise IngestError("config", f"the evtx package is not importable: {exc}") from exc
        else:
            return "evtx"
    try:
        import Evtx.Evtx  # noqa: F401
    except ImportError as exc:
        raise IngestError(
            "config", "no EVTX engine: install evtx (core) or python-evtx (extra logscan[python-evtx])"
        ) from exc
    return "python-evtx"


# ---------------------------------------------------------------------------------------
# Engines: (record number, XML) pairs plus error rows
# ---------------------------------------------------------------------------------------


def _iter_evtx(data: bytes, errors: list[dict]) -> Iterator[tuple[int, str]]:
    from evtx import PyEvtxParser

    try:
        parser = PyEvtxParser(io.BytesIO(data), skip_errors=False)  # errors raised, not warned
        it = iter(parser.records())
    except Exception as exc:  # the package raises OSError/RuntimeError for non-EVTX input
        raise IngestError("parse", f"not a readable EVTX file: {exc}") from exc
    failures = 0
    while True:
        try:
            rec = next(it)
        except StopIteration:
            return
        except Exception as exc:  # a damaged record or chunk: note it, the iterator moves past it
            errors.append({"kind": "record", "detail": f"{SKIPPED}: {type(exc).__name__}: {exc}", "line": None})
            failures += 1
            if failures >= MAX_CONSECUTIVE_ERRORS:
                errors.append({"kind": "parse", "detail": "gave up after repeated record errors", "line": None})
                return
            continue
        failures = 0
        yield rec["event_record_id"], rec["data"]


def _iter_python_evtx(data: bytes, errors: list[dict]) -> Iterator[tuple[int, str]]:
    import Evtx.Evtx as pyevtx

    try:
        header = pyevtx.FileHeader(data, 0)
        if not header.check_magic():
            raise ValueError("bad file header magic")
        chunks = header.chunks(include_inactive=True)  # past a stale header (python-evtx #85)
    except Exception as exc:
        raise IngestError("parse", f"not a readable EVTX file: {exc}") from exc
    for index, chunk in enumerate(chunks):
        try:
            if not chunk.check_magic():
                continue  # zeroed or garbage chunk; check_layout reports those inside the header
            records = chunk.records()
            for rec in records:
                try:
                    yield rec.record_num(), rec.xml()
                except Exception as exc:  # NullType, UnicodeDecodeError, ...: this record only
                    errors.append({"kind": "record", "detail": f"record {rec.record_num()}: {type(exc).__name__}: {exc}", "line": None})
        except Exception as exc:  # OverrunBuffer etc.: the rest of this chunk
            errors.append({"kind": "chunk", "detail": f"chunk {index}: {type(exc).__name__}: {exc}", "line": None})


# ---------------------------------------------------------------------------------------
# XML records → event frame (vectorised)
# ---------------------------------------------------------------------------------------


def _python_evtx_arrays(items: pl.LazyFrame) -> pl.LazyFrame:
    """Split python-evtx's string-array ``<Data>`` (``&lt;string&gt;a&lt;/string&gt;``...) into items."""
    arr = pl.col("value").str.starts_with("&lt;string&gt;")
    split = (
        items.filter(arr)
        .with_columns(value=pl.col("value").str.extract_all(r"&lt;string&gt;[^<]*?&lt;/string&gt;"))
        .explode("value")
        .with_columns(value=pl.col("value").str.strip_prefix("&lt;string&gt;").str.strip_suffix("&lt;/string&gt;"))
    )
    return pl.concat([items.filter(~arr), split]).sort("_r", "_i", maintain_order=True)


def _items(df: pl.LazyFrame, column: str, whole: str, name: str, close: str | None) -> pl.LazyFrame:
    """Explode the ``whole`` matches of ``column`` into ``_r``, ``name``, ``value`` rows (in order).

    The value is the text between the first ``>`` and the closing tag (``close``, or any
    ``</...>`` when None): slicing is cheaper per item than a second regex.
    """
    m = df.select("_r", pl.col(column).str.extract_all(whole).alias("_m")).explode("_m").drop_nulls("_m")
    body = pl.col("_m").str.slice(pl.col("_m").str.find(">", literal=True) + 1)
    value = body.str.strip_suffix(close) if close else body.str.replace(r"</[^>]*>$", "")
    return m.select("_r", pl.col("_m").str.extract(name, 1).alias("name"), value.alias("value"))


def _unescape(expr: pl.Expr) -> pl.Expr:
    """XML entities replaced, only where there is an ``&`` (few values have one)."""
    return pl.when(expr.str.contains("&", literal=True)).then(expr.str.replace_many(*ENTITIES)).otherwise(expr)


def _data_items(xml: pl.LazyFrame, engine: str) -> pl.LazyFrame:
    """Long frame ``_r`` (record row), ``name``, ``value`` of every data item, in record order.

    Order within a record: EventData ``<Data>`` items (named or positional, empty ones kept in
    place), then UserData leaf elements (flattened, element name as ``name``), then a non-empty
    ``<Binary>`` as ``name="Binary"`` (hex; VSS writes readable ASCII there). A value of only
    whitespace is an empty element pretty-printed by the engine and reads as "".
    """
    data = _items(xml, "_x", DATA_ITEM, DATA_NAME, "</Data>")
    start = pl.col("_x").str.find("<UserData>", literal=True) + len("<UserData>")
    end = pl.col("_x").str.find("</UserData>", literal=True)
    user = xml.filter(pl.col("_x").str.contains("<UserData>", literal=True)).select(
        "_r", pl.col("_x").str.slice(start, end - start).alias("_u")
    )
    binary = xml.filter(pl.col("_x").str.contains("<Binary>", literal=True)).select(
        "_r", pl.lit("Binary").alias("name"), pl.col("_x").str.extract(r"<Binary>([^<]+)</Binary>", 1).alias("value")
    )
    if engine == "python-evtx":  # base64 there, hex (as Windows shows it) from evtx
        binary = binary.with_columns(pl.col("value").str.decode("base64", strict=False).bin.encode("hex").str.to_uppercase())
    out = (
        pl.concat([data, _items(user, "_u", LEAF, LEAF_NAME, None), binary.drop_nulls("value")])
        .with_columns(_i=pl.int_range(pl.len(), dtype=pl.Int64))
        .sort("_r", maintain_order=True)
    )
    if engine == "python-evtx":
        out = _python_evtx_arrays(out)
    value = pl.when(pl.col("value").str.strip_chars(" \n") == "").then(pl.lit("")).otherwise(pl.col("value"))
    return out.select("_r", _unescape(pl.col("name")).alias("name"), _unescape(value).alias("value"))


def _part(name: pl.Expr, value: pl.Expr) -> pl.Expr:
    """One data item as it reads in ``message``: ``value`` or ``Name=value``.

    Empty values and ``Binary`` are left out of the message (they stay in ``data``).
    """
    return (
        pl.when((value == "") | (name == "Binary"))
        .then(None)
        .when(name.is_null())
        .then(value)
        .otherwise(name + "=" + value)
    )


def xml_frame(numbers: list[int], xmls: list[str], engine: str = "evtx") -> pl.DataFrame:
    """One batch of records (header record number, rendered XML) as event-frame columns."""
    if not xmls:
        return empty(EVENT_SCHEMA)
    # One lazy plan per batch: polars runs the branches in parallel and pays its per-query
    # overhead once, which matters for the many small logs of a bundle.
    df = pl.LazyFrame({"line": pl.Series(numbers, dtype=pl.Int64), "_x": pl.Series(xmls, dtype=pl.String)})
    # The XML declaration is noise in evidence. Empty elements stay as the engine wrote them
    # (evtx: "<Data>\n    </Data>"); rewriting every record to collapse them costs more than
    # the rest of the System fields together, and the data values are cleaned per item instead.
    df = df.with_row_index("_r").with_columns(pl.col("_x").str.strip_prefix(DECLARATION).str.strip_chars_end())
    items = _data_items(df.select("_r", "_x"), engine)
    data = items.group_by("_r").agg(
        pl.struct("name", "value").alias("data"),
        _part(pl.col("name"), pl.col("value")).drop_nulls().str.join("; ").alias("_body"),
    )
    # Damaged records render missing System values as empty, padded elements: read them as null.
    df = df.with_columns(
        [
            pl.col("_x").str.extract(p, 1).str.strip_chars().replace("", None).alias(n)
            for n, p in SYSTEM_FIELDS.items()
            if n != "_esn"
        ]
    )
    # EventSourceName is only needed where Name is missing (rare): look it up for those rows only.
    nameless = df.filter(pl.col("_name").is_null()).select(
        "_r", pl.col("_x").str.extract(SYSTEM_FIELDS["_esn"], 1).str.strip_chars().replace("", None).alias("_esn")
    )
    df = df.join(data, on="_r", how="left", maintain_order="left").join(nameless, on="_r", how="left", maintain_order="left")
    # evtx: 2016-08-18T20:11:24.000000Z (6, 7 or 9 digits); python-evtx: 2016-08-18 20:11:24+00:00.
    raw = pl.col("time_raw")
    if engine == "python-evtx":
        raw = raw.str.replace(r"^(\d{4}-\d\d-\d\d) ", "${1}T").str.replace(r"(?:Z|[+-]00:?00)$", "Z")
    ts = raw.str.strptime(pl.Datetime("us"), "%Y-%m-%dT%H:%M:%S%.fZ", strict=False)
    df = df.with_columns(
        provider=_unescape(pl.coalesce("_name", "_esn")),
        event_id=pl.col("_event_id").cast(pl.Int64, strict=False) & 0xFFFF,
        level=pl.col("_level").replace_strict(format_facts(LEVEL_FORMAT).level_numbers, default=None, return_dtype=pl.String),
        record_id=pl.col("_record_id").cast(pl.Int64, strict=False),
        time=utc(ts),
        time_basis=pl.when(ts.is_not_null()).then(pl.lit(TimeBasis.UTC)).otherwise(pl.lit(TimeBasis.NONE)),
        channel=_unescape(pl.col("channel")),
        computer=_unescape(pl.col("computer")),
        data=pl.col("data").fill_null(pl.lit([], dtype=DATA_STRUCT)).cast(DATA_STRUCT),
        text=pl.col("_x"),
    )
    head = pl.concat_str(
        [pl.col("provider").fill_null("?"), pl.col("event_id").cast(pl.String).fill_null("?")], separator=" "
    )
    body = pl.col("_body").str.replace_all(r"\s+", " ").str.strip_chars()
    df = df.with_columns(message=pl.when(body.fill_null("") == "").then(head).otherwise(head + ": " + body))
    # The in-memory engine: polars 2's default streaming engine costs half as much again on
    # this many-branch plan over a few thousand rows (27 ms against 18 ms per 2,200 records).
    df = df.collect(engine="in-memory")
    return conform(df, EVENT_SCHEMA)


# ---------------------------------------------------------------------------------------
# The one interface
# ---------------------------------------------------------------------------------------


def read_evtx(data: bytes, engine: str = "auto") -> tuple[pl.DataFrame, list[dict]]:
    """Parse EVTX bytes into ``(events, errors)``; never raises.

    ``events`` has the event-frame columns except ``source``/``file`` (null; stamped by
    :func:`parse`). ``errors`` are ingest-error rows (``kind``, ``detail``, ``line``) for
    skipped records and chunks, a cut-short file, zeroed chunks, the record ids lost around
    damage, and a file that is not EVTX at all.
    """
    errors: list[dict] = []
    try:
        name = _resolve(engine)
    except IngestError as exc:
        return empty(EVENT_SCHEMA), [{"kind": exc.kind, "detail": exc.detail, "line": None}]
    if not data.startswith(MAGIC):
        head = data[:8]
        return empty(EVENT_SCHEMA), [{"kind": "parse", "detail": f"not an EVTX file (starts {head!r}, expected {MAGIC!r})", "line": None}]
    engine_errors: list[dict] = []
    frames: list[pl.DataFrame] = []
    numbers: list[int] = []
    xmls: list[str] = []
    # Errors arrive as exceptions in this thread (see the module docstring): no warnings
    # filter or capture is touched here, so parallel parses cannot disturb one another.
    records = _iter_evtx(data, engine_errors) if name == "evtx" else _iter_python_evtx(data, engine_errors)
    try:
        for number, xml in records:
            numbers.append(number)
            xmls.append(xml)
            if len(xmls) >= BATCH:
                frames.append(xml_frame(numbers, xmls, name))
                numbers, xmls = [], []
        if xmls:
            frames.append(xml_frame(numbers, xmls, name))
    except IngestError as exc:
        engine_errors.append({"kind": exc.kind, "detail": exc.detail, "line": None})
    except Exception as exc:  # an engine failing half-way keeps what it gave
        engine_errors.append({"kind": "parse", "detail": f"{name}: {type(exc).__name__}: {exc}", "line": None})
    events = pl.concat(frames) if frames else empty(EVENT_SCHEMA)
    layout = check_layout(data)
    errors.extend(layout)
    known = bad_chunks(layout)
    for e in engine_errors:
        m = CHUNK_MAGIC_WARNING.search(e["detail"])
        if not (m and int(m.group(1)) in known):
            errors.append(e)
    if events.height and (layout or engine_errors):
        errors.extend(missing_ranges(events))
    return events, errors


def parse(f: SourceFile) -> Parsed:
    """Ingest entry point: the engine comes from ``$LOGSCAN_EVTX_ENGINE`` (default ``auto``)."""
    events, errors = read_evtx(f.data, default_engine())
    if not events.height and errors and errors[0]["kind"] in ("parse", "config"):
        raise IngestError(errors[0]["kind"], errors[0]["detail"])
    return Parsed(events=finish_events(events, SPEC.name, f), errors=errors)


def sniff(head: bytes) -> bool:
    """EVTX files start with the ``ElfFile\\0`` magic whatever they are named."""
    return head.startswith(MAGIC)


__all__ = ["CHUNK_MAGIC", "CHUNK_SIZE", "HEADER_SIZE", "MAGIC", "SPEC", "check_layout", "default_engine", "read_evtx", "xml_frame"]

SPEC = SourceSpec(
    name="evtx",
    patterns=(r"\.evtx$",),
    parse=parse,
    description="Windows event log (.evtx), dirty and damaged files included",
    platform="windows",
    priority=20,
    sniff=sniff,
    example_path="Windows/System32/winevt/Logs/Application.evtx",
)
