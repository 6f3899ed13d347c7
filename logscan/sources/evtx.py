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

Why XML and not ``records_json()``: both engines render XML, and the XML is what ``text``
quotes as evidence anyway; a ``json.loads`` per record alone would cost more than the Rust
parser itself. Reading the XML into columns is :mod:`._evtx_xml`; per-record Python work here
is limited to collecting the engine's strings into batches of :data:`BATCH` records.

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
from ..frames import EVENT_SCHEMA, empty
from ._evtx_layout import (
    CHUNK_MAGIC,
    CHUNK_SIZE,
    HEADER_SIZE,
    MAGIC,
    bad_chunks,
    check_layout,
    missing_ranges,
)
from ._evtx_xml import SYSTEM_FIELDS, xml_frame
from .base import Parsed, SourceFile, SourceSpec, finish_events

ENGINE_ENV = "LOGSCAN_EVTX_ENGINE"
ENGINES = ("auto", "evtx", "python-evtx")
# Records per polars batch: bounded memory on multi-GB logs. Smaller batches parsed on polars'
# threads while the engine is still being read (collect(background=True)) cost more than they
# overlap: each batch pays ~4 ms of fixed cost (regex compilation, plan execution).
BATCH = 10_000
CHUNK_MAGIC_WARNING = re.compile(r"chunk number (\d+): Failed to parse chunk header: Invalid EVTX chunk header magic")
# A parser that keeps failing on next() is not making progress. Each damaged record or chunk
# is one error, so this is far above what a damaged log gives (a 1 GiB file has 16,384 chunks).
MAX_CONSECUTIVE_ERRORS = 100_000
#: How a skipped record or chunk is described (the words pyevtx-rs uses for its warnings).
SKIPPED = "Skipping EVTX data"


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


def _evtx_batches(data: bytes, errors: list[dict]) -> Iterator[tuple[list[int], list[str]]]:
    """(record numbers, XML) in batches of :data:`BATCH`; damaged records become error rows.

    A plain ``for`` over the engine's iterator, resumed after each damaged record (the engine
    moves past it), is the cheapest way to collect its strings: no generator step or tuple per
    record, no ``try`` entered per record.
    """
    from evtx import PyEvtxParser

    try:
        parser = PyEvtxParser(io.BytesIO(data), skip_errors=False)  # errors raised, not warned
        it = iter(parser.records())
    except Exception as exc:  # the package raises OSError/RuntimeError for non-EVTX input
        raise IngestError("parse", f"not a readable EVTX file: {exc}") from exc
    numbers: list[int] = []
    xmls: list[str] = []
    read = failures = 0  # records read; damaged records since the last good one
    read_at_failure = -1
    while True:
        try:
            for rec in it:
                numbers.append(rec["event_record_id"])
                xmls.append(rec["data"])
                if len(xmls) >= BATCH:
                    read += len(xmls)
                    yield numbers, xmls
                    numbers, xmls = [], []
            break
        except Exception as exc:  # a damaged record or chunk: note it, the iterator moves past it
            errors.append({"kind": "record", "detail": f"{SKIPPED}: {type(exc).__name__}: {exc}", "line": None})
            failures = failures + 1 if read + len(xmls) == read_at_failure else 1
            read_at_failure = read + len(xmls)
            if failures >= MAX_CONSECUTIVE_ERRORS:
                errors.append({"kind": "parse", "detail": "gave up after repeated record errors", "line": None})
                break
    if xmls:
        yield numbers, xmls


def _batched(records: Iterator[tuple[int, str]]) -> Iterator[tuple[list[int], list[str]]]:
    """python-evtx's records in batches of :data:`BATCH`."""
    numbers: list[int] = []
    xmls: list[str] = []
    for number, xml in records:
        numbers.append(number)
        xmls.append(xml)
        if len(xmls) >= BATCH:
            yield numbers, xmls
            numbers, xmls = [], []
    if xmls:
        yield numbers, xmls


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
    # Errors arrive as exceptions in this thread (see the module docstring): no warnings
    # filter or capture is touched here, so parallel parses cannot disturb one another.
    batches = _evtx_batches(data, engine_errors) if name == "evtx" else _batched(_iter_python_evtx(data, engine_errors))
    try:
        for numbers, xmls in batches:
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


__all__ = [
    "CHUNK_MAGIC", "CHUNK_SIZE", "HEADER_SIZE", "MAGIC", "SPEC", "SYSTEM_FIELDS",
    "check_layout", "default_engine", "read_evtx", "xml_frame",
]

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
