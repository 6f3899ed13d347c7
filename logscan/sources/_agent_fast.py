"""The agent log's dominant header shapes cut by string splits (``waagent_log``'s fast paths).

Most lines of a big agent log have one of two shapes whose tokens a plain split cuts exactly
as the era regexes' groups would; testing the shape is one anchored DFA pass, and the split
and a fixed-width ``strptime`` cost a fraction of the capturing regex. Every other line goes
to the regex in :mod:`.waagent_log`; tests/speed checks both give the same columns.
"""

from __future__ import annotations

import polars as pl

from ..frames import TimeBasis
from .base import utc

PROCESSES = ("Daemon", "ExtHandler", "LogCollector", "Firewall")
#: A "[Name-Version]" prefix (an extension handler's lines).
EXT_PREFIX = r"^\[(?P<ext_name>.+)-(?P<ext_ver>\d+(?:\.\d+)*)\]$"

# The dominant header (2.2.46+: microsecond UTC stamp, level, thread and/or prefix tokens) in a
# shape whose tokens plain space splits cut exactly as HEADER's groups would: single spaces
# between tokens, a thread not starting with "[", a bracket prefix without whitespace and
# followed by a space, and the token after the thread followed by a space or ending the line.
# Testing it is one DFA pass (no captures); every other line (other eras, tabs, double spaces,
# "[a b]" prefixes, continuations) goes to the capturing HEADER regex, the slow part.
_STAMP = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z"
_TOK = r"[^\[\s]\S*"
_BRACKET = r"\[[^\]\s]+\] "
FAST = rf"^{_STAMP} (?:VERBOSE|INFO|WARNING|ERROR) (?:$|{_TOK}$|{_BRACKET}|{_TOK} (?:$|{_BRACKET}|{_TOK}(?: |$)))"
PREFIX_WORDS = ("Daemon", "ExtHandler", "LogCollector", "Firewall")
#: FAST stamps have exactly six fraction digits: this fixed-width format reads them as
#: NEW's "%.f" does (same values, same nulls for impossible dates), about 4x cheaper.
FAST_TIME = "%Y-%m-%dT%H:%M:%S.%6fZ"
# The dominant 2.1-2.2.45 header (local stamp with microseconds, level, optional Daemon /
# ExtHandler / "[...]" prefix) in a shape where a split cuts what OLD's groups would: single
# spaces, and the text after the level either empty, or a prefix word or whitespace-free
# "[...]" followed by a space, or starting with a character that cannot begin a prefix
# ("D"/"E" only when not followed by "a"/"x", so "Daemonic" or "Exception" go to the regex).
OLD_PREFIX_WORDS = ("Daemon", "ExtHandler")
FAST_OLD = r"^\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}\.\d{6} (?:VERBOSE|INFO|WARNING|ERROR) (?:$|Daemon |ExtHandler |\[[^\]\s]+\] |[^DE\[\s]|D[^a]|E[^x])"
#: FAST_OLD stamps have exactly six fraction digits: read as OLD's "%.f" reads them.
FAST_OLD_TIME = "%Y/%m/%d %H:%M:%S.%6f"



def _ext_join(df: pl.DataFrame) -> pl.DataFrame:
    """``extension`` and ``ext_version`` of every line from its ``prefix``. A log names a
    handful of extensions on thousands of lines: EXT_PREFIX runs once per distinct
    "[Name-Ver]" prefix, and a join hands the parts to every line."""
    bracket = pl.col("prefix").str.starts_with("[")
    ext = df.select(pl.col("prefix").filter(bracket).unique()).with_columns(_e=pl.col("prefix").str.extract_groups(EXT_PREFIX))
    ext = ext.select("prefix", extension=pl.col("_e").struct.field("ext_name"), ext_version=pl.col("_e").struct.field("ext_ver"))
    return df.join(ext, on="prefix", how="left", maintain_order="left")


def fast_fields(df: pl.DataFrame) -> pl.DataFrame:
    """:func:`.waagent_log._fields` of :data:`FAST` lines: the tokens by one split, the message by a
    slice at the header's length (no second copy of the line through a split)."""
    p = pl.col("body").str.split_exact(" ", 4)
    df = df.with_columns(_ts=p.struct.field("field_0"), level=p.struct.field("field_1"), _a=p.struct.field("field_2"),
                         _b=p.struct.field("field_3"), _c=p.struct.field("field_4"))
    a, b = pl.col("_a"), pl.col("_b")
    # The thread is the token after the level when a space follows it and it is no "[...]";
    # a "[...]" there is the prefix. After a thread, the next token is the prefix when it is a
    # process word or "[...]" and a space follows it.
    threaded = b.is_not_null() & ~a.str.starts_with("[")
    bracket_first = b.is_not_null() & a.str.starts_with("[")
    after_thread = threaded & pl.col("_c").is_not_null() & (b.is_in(PREFIX_WORDS) | b.str.starts_with("["))
    df = df.with_columns(
        thread=pl.when(threaded).then(a),
        prefix=pl.when(bracket_first).then(a).when(after_thread).then(b),
        _off=29 + pl.col("level").str.len_bytes().cast(pl.Int64)
        + pl.when(threaded | bracket_first).then(a.str.len_chars().cast(pl.Int64) + 1).otherwise(0)
        + pl.when(after_thread).then(b.str.len_chars().cast(pl.Int64) + 1).otherwise(0),
    )
    lone = pl.col("thread").is_in(PROCESSES) & pl.col("prefix").is_null()
    bracket = pl.col("prefix").str.starts_with("[")
    df = df.with_columns(
        is_header=pl.lit(True),
        time=utc(pl.col("_ts").str.strptime(pl.Datetime("us"), FAST_TIME, strict=False, exact=True)),
        time_raw=pl.col("_ts"),
        time_basis=pl.lit(TimeBasis.UTC),
        process=pl.when(pl.col("prefix").is_in(PROCESSES)).then(pl.col("prefix")).when(lone).then(pl.col("thread"))
        .when(bracket).then(pl.lit("ExtHandler")),
        thread=pl.when(lone).then(None).otherwise(pl.col("thread")),
        message=pl.col("body").str.slice(pl.col("_off")),
    )
    return _ext_join(df)


def fast_old_fields(df: pl.DataFrame) -> pl.DataFrame:
    """:func:`.waagent_log._fields` of :data:`FAST_OLD` lines (2.1-2.2.45): fixed-width stamp, the level
    and the one optional prefix token by a split of the rest, the message by a slice.

    The shape guarantees that the token after the level is the prefix exactly when it is
    ``Daemon``, ``ExtHandler`` or ``[...]`` (each then followed by a space, as OLD's
    ``prefix`` and whitespace need); every other first token starts the message."""
    # The stamp holds one space: the level is the third token, the prefix candidate the fourth.
    p = pl.col("body").str.split_exact(" ", 3)
    df = df.with_columns(level=p.struct.field("field_2"), _a=p.struct.field("field_3"))
    a = pl.col("_a")
    stamp = pl.col("body").str.slice(0, 26)
    df = df.with_columns(prefix=pl.when(a.is_in(OLD_PREFIX_WORDS) | a.str.starts_with("[")).then(a))
    prefix = pl.col("prefix")
    df = df.with_columns(
        is_header=pl.lit(True),
        time=utc(stamp.str.strptime(pl.Datetime("us"), FAST_OLD_TIME, strict=False, exact=True)),
        time_raw=stamp,
        time_basis=pl.lit(TimeBasis.LOCAL_ASSUMED_UTC),
        process=pl.when(prefix.is_in(PROCESSES)).then(prefix).when(prefix.str.starts_with("[")).then(pl.lit("ExtHandler")),
        thread=pl.lit(None, pl.String),
        message=pl.col("body").str.slice(
            28 + pl.col("level").str.len_bytes().cast(pl.Int64) + (prefix.str.len_chars().cast(pl.Int64) + 1).fill_null(0)
        ),
    )
    return _ext_join(df)
