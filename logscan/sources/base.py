"""What a source parser is, and the vectorised helpers they share.

A parser is a function ``parse(f: SourceFile) -> Parsed``. It is registered by a module-level
``SPEC = SourceSpec(...)`` (or ``SPECS = [...]``) in its own module under
``logscan/sources/``; the registry finds it, nothing else needs editing. A parser raises
:class:`~logscan.errors.IngestError` for input it cannot use; it never opens files itself.

Text parsers follow one recipe, all in polars: split the file into a frame of lines,
``extract_groups`` the header regexes, mark header lines, and fold continuation lines into
the record their header opened (:func:`join_continuation_lines`, the one continuation rule).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import polars as pl

from ..frames import EVENT_SCHEMA, FACT_SCHEMA, UTC_DT, conform, empty
from ..io.textio import MAX_LINE_CHARS, Decoded, decode


@dataclass
class SourceFile:
    """One member of a bundle as a parser sees it: where it is and its bytes/text."""

    path: str  # logical path (used for matching; no leading "/")
    display: str  # path for evidence ("a.zip!b")
    data: bytes
    mtime: float | None = None
    bundle_name: str = ""

    @cached_property
    def decoded(self) -> Decoded:
        return decode(self.data)

    @property
    def text(self) -> str:
        return self.decoded.text


@dataclass
class Parsed:
    """What a parser returns: events and/or facts, plus errors about parts of the file."""

    events: pl.DataFrame | None = None
    facts: pl.DataFrame | None = None
    errors: list[dict] = field(default_factory=list)
    #: Set by grep-first parsers (:mod:`.grep`): the events the whole file holds, of which
    #: ``events`` is the part a scan needs. Coverage counts these.
    total_events: int | None = None


@dataclass(frozen=True)
class SourceSpec:
    """A source kind: which bundle paths it reads, and the parser for them.

    ``patterns`` are regexes searched (case-insensitively) in the logical path, with ``.gz``
    already removed. ``sniff`` (optional) recognises a file by its first bytes when no path
    pattern claims it (Windows event exports come with any name). Lower ``priority`` wins when
    several specs match one path.
    """

    name: str
    patterns: tuple[str, ...]
    parse: Callable[[SourceFile], Parsed]
    description: str = ""
    platform: str = "linux"  # linux | windows | any
    priority: int = 50
    sniff: Callable[[bytes], bool] | None = None
    expected: bool = False  # reported as "missing" in coverage when absent on its platform
    example_path: str = ""  # a path this spec claims; signature examples are parsed as this file
    #: Grep-first parser of a big log (:mod:`.grep`): only the records a plan selects.
    parse_grep: Callable[[SourceFile, Any], Parsed] | None = None

    @cached_property
    def _compiled(self) -> tuple[re.Pattern[str], ...]:
        return tuple(re.compile(p, re.IGNORECASE) for p in self.patterns)

    def matches(self, path: str) -> bool:
        return any(r.search(path) for r in self._compiled)


# ---------------------------------------------------------------------------------------
# Vectorised text helpers
# ---------------------------------------------------------------------------------------


def lines_frame(text: str) -> pl.DataFrame:
    """The file as a frame of lines: ``idx`` (0-based) and ``raw`` (no line terminator).

    Splitting happens in polars (Rust); a final empty line after the last ``\\n`` is dropped
    and ``\\r`` of CRLF files removed.
    """
    if not text:
        return pl.DataFrame(schema={"idx": pl.Int64, "raw": pl.String})
    s = pl.Series("raw", [text]).str.split("\n").explode()
    if text.endswith("\n"):
        s = s.slice(0, len(s) - 1)
    df = pl.DataFrame({"raw": s}).with_row_index("idx").with_columns(pl.col("idx").cast(pl.Int64))
    if "\r" in text[:65536] or "\r" in text[-65536:]:
        df = df.with_columns(pl.col("raw").str.strip_suffix("\r"))
    return df


#: Byte-order marks: a file that starts with one is decoded by :func:`decode`, never split raw.
_BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_BE)


def lines_of(f: SourceFile) -> pl.DataFrame:
    """:func:`lines_frame` of the file's text, split by polars straight from its bytes when
    they are plain UTF-8 (:func:`plain_lines`), about 4x cheaper than splitting the decoded
    ``str``. Any other file, or one already decoded with notes, goes through ``f.text``, so
    the decoder records its notes (the "decoded" ingest row) exactly as before. Lines the
    reader already split (it checks them for paste wrapping) are used as they are.
    """
    cached = f.__dict__.get("lines")
    if cached is not None:
        return cached
    data, decoded = f.data, f.__dict__.get("decoded")
    if decoded is not None and (decoded.encoding != "utf-8" or decoded.notes):
        return lines_frame(f.text)
    df = plain_lines(data)
    return lines_frame(f.text) if df is None else df


def plain_lines(data: bytes) -> pl.DataFrame | None:
    """The lines frame (``idx``, ``raw``) of ``data`` split by ``pl.read_lines``, or None
    unless the bytes are what :func:`~logscan.io.textio.decode` would return unchanged: valid
    UTF-8 (else polars raises), no byte-order mark, no NUL, no line past ``MAX_LINE_CHARS``;
    files with a ``\r`` keep the ``str`` path too (its CRLF rule differs from polars')."""
    if not data or data.startswith(_BOMS) or b"\0" in data or b"\r" in data:
        return None
    try:
        df = pl.read_lines(data, name="raw")
    except pl.exceptions.ComputeError:  # invalid UTF-8
        return None
    if df.height and (df["raw"].str.len_bytes().max() or 0) > MAX_LINE_CHARS:
        return None  # cut by the decoder, with its note
    return df.with_row_index("idx").with_columns(pl.col("idx").cast(pl.Int64))


def extract(df: pl.DataFrame, column: str, pattern: str, mask: pl.Expr | None = None) -> pl.DataFrame:
    """Add the named groups of ``pattern`` matched against ``column`` as columns.

    When ``mask`` is given, only rows where it holds are matched (the rest get nulls), so a
    second format is only tried on lines the first did not claim. Group columns that already
    exist are filled where they are null (coalesce), so formats can share group names.
    """
    names = re.compile(pattern).groupindex.keys()
    target = pl.col(column)
    if mask is not None:
        target = pl.when(mask).then(target).otherwise(None)
    # Materialise the match once: with a mask, polars does not share the regex between the
    # per-field expressions and would run it once per group (3x slower on big logs).
    df = df.with_columns(target.str.extract_groups(pattern).alias("_groups"))
    cols = []
    for n in names:
        new = pl.col("_groups").struct.field(n)
        cols.append(pl.coalesce(pl.col(n), new).alias(n) if n in df.columns else new.alias(n))
    return df.with_columns(cols).drop("_groups")


def parse_times(expr: pl.Expr, formats: Sequence[str]) -> pl.Expr:
    """Parse a timestamp column trying several formats; result is naive (caller sets zone)."""
    parsed = [expr.str.strptime(pl.Datetime("us"), f, strict=False, exact=True) for f in formats]
    return pl.coalesce(parsed) if len(parsed) > 1 else parsed[0]


def build_records(df: pl.DataFrame, header: str = "is_header", keep: Sequence[str] = ()) -> pl.DataFrame:
    """Fold continuation lines into the record opened by the last header line.

    ``df`` has ``idx``, ``raw``, a boolean ``header`` column and the header fields in
    ``keep``. Returns one row per record with ``line`` (1-based start), ``text`` (all lines
    joined with ``\\n``, trailing blank lines dropped) and the header fields. Lines before the
    first header form a record of their own with null header fields.

    Single-line records (the vast majority) are taken as they are; only multi-line ones go
    through a group-by, which keeps big logs fast.
    """
    rec = pl.col(header).fill_null(False).cum_sum().alias("_rec")
    df = df.with_columns(rec)
    # A record is multi-line when the next line is not a header.
    nxt = pl.col(header).shift(-1).fill_null(True)
    df = df.with_columns(_single=(pl.col(header).fill_null(False) & nxt))
    single = df.filter(pl.col("_single")).select(
        pl.col("_rec"), (pl.col("idx") + 1).alias("line"), pl.col("raw").alias("text"), *keep
    )
    multi_rows = df.filter(~pl.col("_single"))
    if multi_rows.height:
        multi = multi_rows.group_by("_rec", maintain_order=True).agg(
            (pl.col("idx").first() + 1).alias("line"),
            pl.col("raw").str.join("\n").str.strip_chars_end("\n ").alias("text"),
            *[pl.col(k).first() for k in keep],
        )
        out = pl.concat([single, multi.select(single.columns)], how="vertical").sort("_rec")
    else:
        out = single
    return out.drop("_rec")


def join_continuation_lines(
    df: pl.DataFrame,
    keep: Sequence[str] = (),
    *,
    header: str = "is_header",
    message: str = "message",
    tidy: Callable[[pl.Expr], pl.Expr] | None = None,
) -> pl.DataFrame:
    """The continuation rule of every text log: a line without a header joins the record above.

    ``df`` is a lines frame (``idx``, ``raw``) with a boolean ``header`` column and the header
    fields in ``keep`` (``message`` among them: the header line's text after its prefix).
    Returns one row per record (:func:`build_records`) whose ``message`` continues with the
    record's other lines as written, so a traceback or a JSON dump stays with the line that
    announced it. A record with no header of its own (lines before the first header of a file
    cut mid-record) has its whole text as message. ``tidy`` rewrites the continuation lines
    only (e.g. dropping a stamp the writer repeats on every line).

    Every text parser calls this (or :func:`build_records` when it has no message); it is the
    one place the rule lives.
    """
    keep = tuple(keep) if message in keep else (*keep, message)
    rec = build_records(df, header=header, keep=keep)
    first_len = pl.col("text").str.split("\n").list.first().str.len_chars()
    joined = pl.col(message) + pl.col("text").str.slice(first_len)
    if tidy is not None:
        joined = (pl.col(message) + tidy(pl.col("text").str.slice(first_len))).str.strip_chars_end("\n ")
    multi = pl.col("text").str.contains("\n", literal=True)
    return rec.with_columns(
        pl.when(pl.col(message).is_null())
        .then(pl.col("text"))
        .when(multi)
        .then(joined)
        .otherwise(pl.col(message))
        .alias(message)
    )


def finish_events(df: pl.DataFrame, source: str, f: SourceFile) -> pl.DataFrame:
    """Stamp ``source``/``file`` and conform to the event schema."""
    return conform(df.with_columns(source=pl.lit(source), file=pl.lit(f.display)), EVENT_SCHEMA)


def utc(expr: pl.Expr) -> pl.Expr:
    """Mark a naive datetime as UTC (it already is, or is assumed to be)."""
    return expr.dt.replace_time_zone("UTC").cast(UTC_DT)


__all__ = [
    "EVENT_SCHEMA",
    "FACT_SCHEMA",
    "Parsed",
    "SourceFile",
    "SourceSpec",
    "build_records",
    "empty",
    "extract",
    "finish_events",
    "join_continuation_lines",
    "lines_frame",
    "lines_of",
    "parse_times",
    "utc",
]
