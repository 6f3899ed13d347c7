"""Extension ``extension.log`` files written by the HandlerUtil libraries (VMSnapshotLinux and others).

``/var/log/azure/<Handler>/extension.log`` (also ``<Handler>/<version>/extension.log`` from
agents before 2.2.32, and VMSnapshotLinux's ``host_based_extension.log``) mixes several
writers, so every line is tried against every form (vmsnapshot-extension.md §1.3)::

    2024-01-14 22:16:48.796446 [Microsoft.Azure.RecoveryServices.VMSnapshotLinux-1.0]T:S freeze, timeout value 60   (py3, UTC)
    2017/11/14 03:06:52 ERROR:[Microsoft.Azure.RecoveryServices.VMSnapshotLinux-1.0]Enable failed ...              (py2 / hutil.error, local)
    2017/11/14 03:06:52  StatusCode.FailedRetryableSnapshotFailedNoNetwork,                                       (py2 continuation)
    ================== Logs during Freeze Start ==============
    2024/01/14 22:16:49.000001  Info  ****** 4. Freeze Completed (Signal=1 received)                               (freeze buffer)
    2016/09/21 05:26:30 [MyBackupTestLinuxInt-0.0]2016-09-21 05:26:30.123456  Info  msg                          (2016 double stamp)
    2020/03/30 20:07:40 [Microsoft.EnterpriseCloud.Monitoring.OmsAgentForLinux-1.12.25] Install,failed,51,...    (generic HandlerUtil)

Record rules:

* A line matching none of the forms continues the record above it (tracebacks, status JSON,
  safefreeze binary output).
* The py2 (waagent-2.0) logger stamps *every* line of a message but puts the ``[Name-ver]``
  prefix and ``ERROR:`` only on the first, so a py2 line without prefix or level whose stamp
  equals the previous line's stamp is folded into that record (its stamp is dropped from the
  message).
* The freeze-window buffer is flushed as one entry, but each buffered line keeps its own time
  and level; each becomes its own event. The Start/End markers are events of their own and
  inherit the time of the record before them.

Time basis: py3 lines are ``utcnow()`` since Sep 2021 (PR #1409) and local before, so py3
stamps before 2021-09-01 are ``local-assumed-utc``; py2 lines are local. Buffered lines with
dashes (``YYYY-MM-DD``) come from ``Backuplogger`` via ``utcnow()`` (the doc states this for
the dashed form); the slashed py3 buffer form's zone is not documented, so it is
``local-assumed-utc``.

Levels: py2 lines state ``ERROR:``/``WARNING:``; buffered lines state ``Info``/``Warning``/
``Error``. py3 lines state no level, so they are INFO except where the text itself states a
failure the doc defines: a ``StatusCodeStringBuilder`` failure name (`` StatusCode.Failed…``
or `` StatusCode.error…``, §1.5), ``Enable failed`` (unhandled-exception outcome, §1.5/§1.6),
and the outcome line ``<Op>,<status>,<code>,<msg>`` whose status is ``error``/``failed``
(ERROR) or ``warning`` (WARNING). Outcome lines also set ``event_op`` (the operation) and
``event_name`` = ``"status"``; the code stays in the message.
"""

from __future__ import annotations

import polars as pl

from ..frames import TimeBasis, normalise_level
from ._formats import format_facts
from .base import (
    Parsed,
    SourceFile,
    SourceSpec,
    extract,
    finish_events,
    join_continuation_lines,
    lines_frame,
    lines_of,
    parse_times,
    utc,
)
from .grep import Grep, keep_records

# py3 HandlerUtil.log_py3: no space after "]", no level. As the doc's regex:
#   ^(?P<ts3>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}) \[(?P<h3>[^\]]+?)-(?P<v3>\d+(?:\.\d+)*)\](?P<msg3>.*)$
# matched as PY3_HEAD + slicing (see _py3), PREFIX splitting the bracket.
PY3_HEAD = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6} \[[^\]]+-\d+(?:\.\d+)*\]"
PREFIX = r"^(?P<h3>.+)-(?P<v3>\d+(?:\.\d+)*)$"
# py2 / hutil.error / generic HandlerUtil: seconds only, optional level glued on, optional prefix.
PY2 = (
    r"^(?P<ts2>\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}) (?P<lvl2>ERROR:|WARNING:)?"
    r"(?:\[(?P<h2>[^\]]+?)-(?P<v2>\d+(?:\.\d+)*)\] ?)?(?P<msg2>.*)$"
)
# Backuplogger lines (freeze buffer, 2016 double stamp): two spaces around the level, trailing space.
BUFFERED = r"^(?P<tsb>\d{4}[/-]\d{2}[/-]\d{2} \d{2}:\d{2}:\d{2}\.\d{6})  (?P<lvlb>Info|Warning|Error|Verbose)  (?P<msgb>.*?) ?$"
MARKER = r"^=+ Logs during Freeze (?:Start|End) =+\s*$"
OUTCOME = r"^(?P<op>[A-Z][A-Za-z]*),(?P<st>success|error|failed|transitioning|warning|NotReady|Ready),(?P<code>-?\d+),"
FORMAT = "vmsnapshot_log"  # content/formats/vmsnapshot-linux.yaml: failure_text
PY2_STAMP = r"(?m)^\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2} ?"
HANDLER_FROM_PATH = r"(?:^|/)azure/([^/]+)/(?:[^/]+/)?[^/]*$"
PLACEHOLDER_NAMES = ("MyBackupTestLinuxInt",)  # build placeholder used before the context is parsed

PY3_UTC_SINCE = "2021-09-01"
#: A stamp with exactly six fraction digits (what PY3_HEAD and BUFFERED admit).
STAMP_US = "%Y-%m-%d %H:%M:%S.%6f"

HEADER_FIELDS = (
    "time",
    "time_raw",
    "time_basis",
    "extension",
    "ext_version",
    "message",
    "is_marker",
)


def _py3(df: pl.DataFrame) -> pl.DataFrame:
    """The py3 form (nearly every line of a current log) by position rather than by capture.

    A capturing regex over every line is the slowest step of a big log; the py3 header has a
    fixed-width stamp and ends at the first ``]``, so a non-capturing ``contains`` validates
    it and slices split it. The ``Name-version`` split runs on the few distinct prefixes only.
    """
    raw = pl.col("raw")
    df = df.with_columns(_is3=raw.str.contains(PY3_HEAD))
    parts = pl.when(pl.col("_is3")).then(raw.str.slice(28)).str.splitn("]", 2)
    df = df.with_columns(
        ts3=pl.when(pl.col("_is3")).then(raw.str.slice(0, 26)),
        _pref=parts.struct.field("field_0"),
        msg3=parts.struct.field("field_1"),
    )
    prefixes = extract(df.select(pl.col("_pref").unique().drop_nulls()), "_pref", PREFIX)
    return df.join(prefixes, on="_pref", how="left", maintain_order="left").drop("_is3", "_pref")


def _lines(lines: pl.DataFrame) -> pl.DataFrame:
    """Header fields of every line of a lines frame, vectorised (see the module docstring)."""
    df = _py3(lines)
    raw = pl.col("raw")
    df = extract(df, "raw", PY2, mask=pl.col("ts3").is_null() & raw.str.contains(r"^\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2} "))
    # Buffered lines stand alone, or follow a py3/py2 header's prefix (one-entry flush, 2016 double stamp).
    inner = pl.coalesce("msg3", "msg2", "raw")
    df = df.with_columns(_inner=inner)
    df = extract(df, "_inner", BUFFERED, mask=pl.col("_inner").str.contains(r"^\d{4}[/-]\d{2}[/-]\d{2} \d{2}:\d{2}:\d{2}\.\d{6}  [A-Z]"))

    py3, py2, buf = pl.col("ts3").is_not_null(), pl.col("ts2").is_not_null(), pl.col("tsb").is_not_null()
    is_marker = pl.col("_inner").str.contains(MARKER)
    # A py2 continuation: same stamp as the line above, no prefix, no level, not a buffered line.
    py2_cont = (
        py2
        & pl.col("h2").is_null()
        & pl.col("lvl2").is_null()
        & ~buf
        & ~is_marker
        & (pl.col("ts2") == pl.col("ts2").shift(1)).fill_null(False)
    )
    # Both stamps have exactly six fraction digits (PY3_HEAD, BUFFERED): the fixed-width
    # "%6f" reads them as "%.f" does, about 3x cheaper (tests/sources: same values).
    t3 = parse_times(pl.col("ts3"), [STAMP_US])
    df = df.with_columns(
        is_marker=is_marker,
        is_header=(py3 | py2 | buf | is_marker) & ~py2_cont,
        time_raw=pl.coalesce("tsb", "ts3", "ts2"),
        time=utc(
            pl.coalesce(
                parse_times(pl.col("tsb"), [STAMP_US, STAMP_US.replace("-", "/")]),
                t3,
                parse_times(pl.col("ts2"), ["%Y/%m/%d %H:%M:%S"]),
            )
        ),
        time_basis=pl.when(buf & pl.col("tsb").str.contains("^....-"))
        .then(pl.lit(TimeBasis.UTC))
        .when(buf)
        .then(pl.lit(TimeBasis.LOCAL_ASSUMED_UTC))
        .when(py3 & (t3 >= pl.lit(PY3_UTC_SINCE).str.to_datetime("%Y-%m-%d")))
        .then(pl.lit(TimeBasis.UTC))
        .when(py3 | py2)
        .then(pl.lit(TimeBasis.LOCAL_ASSUMED_UTC)),
        extension=pl.coalesce("h3", "h2"),
        ext_version=pl.coalesce("v3", "v2"),
        message=pl.when(buf).then(pl.col("msgb")).otherwise(pl.col("_inner")),
        _lvl=pl.when(buf).then(pl.col("lvlb")).otherwise(pl.col("lvl2")),
    )
    return df


def records(text: str, path: str = "") -> pl.DataFrame:
    """One row per record of an extension.log, header fields and level set."""
    return records_of(lines_frame(text), path)


def records_of(lines: pl.DataFrame, path: str = "") -> pl.DataFrame:
    """:func:`records` of a lines frame (``idx``, ``raw``)."""
    df = _lines(lines)
    # Continuation lines join the message; folded py2 lines lose their repeated stamp.
    rec = join_continuation_lines(df, keep=(*HEADER_FIELDS, "_lvl"), tidy=lambda rest: rest.str.replace_all(PY2_STAMP, ""))
    rec = rec.with_columns(is_marker=pl.col("is_marker").fill_null(False))
    # Freeze markers have no stamp: they take the time of the record before them.
    rec = rec.with_columns(
        time_basis=pl.when(pl.col("is_marker") & pl.col("time").is_null() & pl.col("time").forward_fill().is_not_null())
        .then(pl.lit(TimeBasis.INHERITED))
        .otherwise(pl.coalesce("time_basis", pl.lit(TimeBasis.NONE))),
        time=pl.when(pl.col("is_marker")).then(pl.col("time").forward_fill()).otherwise(pl.col("time")),
    )
    rec = extract(rec, "message", OUTCOME, mask=pl.col("message").str.contains(r"^[A-Z][A-Za-z]*,[A-Za-z]+,-?\d+,"))
    stated = normalise_level(pl.col("_lvl"))
    outcome_lvl = (
        pl.when(pl.col("st").is_in(["error", "failed"]))
        .then(pl.lit("ERROR"))
        .when(pl.col("st") == "warning")
        .then(pl.lit("WARNING"))
    )
    failure_text = format_facts(FORMAT).pattern("failure_text")
    failure = pl.when(pl.col("message").str.contains(failure_text)).then(pl.lit("ERROR"))
    has_header = pl.col("time_raw").is_not_null() | pl.col("is_marker")
    # The file's folder names the handler; it stands in for the placeholder or a missing prefix.
    handler = pl.lit(path).str.extract(HANDLER_FROM_PATH, 1)
    ext = pl.col("extension")
    rec = rec.with_columns(
        level=pl.when(has_header).then(pl.coalesce(stated, outcome_lvl, failure, pl.lit("INFO"))),
        event_op=pl.col("op"),
        event_name=pl.when(pl.col("op").is_not_null()).then(pl.lit("status")),
        extension=pl.when(ext.is_null() | ext.is_in(PLACEHOLDER_NAMES)).then(handler).otherwise(ext),
    )
    return rec.drop("op", "st", "code", "_lvl", "is_marker")


def parse(f: SourceFile) -> Parsed:
    return Parsed(events=finish_events(records_of(lines_of(f), f.path), SPEC.name, f))


def parse_grep(f: SourceFile, plan: Grep) -> Parsed:
    """:func:`parse`, then only the records ``plan`` selects (see :func:`.grep.keep_records`:
    the py2 continuation rule reads the previous line's stamp, so every line is parsed)."""
    events, total = keep_records(finish_events(records_of(lines_of(f), f.path), SPEC.name, f), plan)
    return Parsed(events=events, total_events=total)


def parse_other(f: SourceFile) -> Parsed:
    return Parsed(events=finish_events(records_of(lines_of(f), f.path), EXTENSION_LOG.name, f))


SPEC = SourceSpec(
    name="vmsnapshot_log",
    patterns=(
        r"(^|/)var/log/azure/Microsoft\.Azure\.RecoveryServices\.VMSnapshotLinux/(\d+(\.\d+)*/)?(host_based_)?extension\.log(\.\d+)?$",
        r"(^|/)truncated_+var_log_azure_Microsoft\.Azure\.RecoveryServices\.VMSnapshotLinux_(\d+(\.\d+)*_)?(host_based_)?extension\.log.*$",
    ),
    parse=parse,
    parse_grep=parse_grep,
    description="VMSnapshotLinux (Azure Backup) extension.log: py3, py2/hutil.error, freeze buffer, 2016 forms",
    platform="linux",
    priority=20,
    example_path="var/log/azure/Microsoft.Azure.RecoveryServices.VMSnapshotLinux/extension.log",
)

EXTENSION_LOG = SourceSpec(
    name="extension_log",
    patterns=(
        r"(^|/)var/log/azure/[^/]+/([^/]+/)?extension\.log(\.\d+)?$",
        r"(^|/)truncated_+var_log_azure_.+_extension\.log.*$",
    ),
    parse=parse_other,
    description="Other extensions' HandlerUtil extension.log (waagent-2.0 logger format)",
    platform="linux",
    priority=40,
    example_path="var/log/azure/Microsoft.EnterpriseCloud.Monitoring.OmsAgentForLinux/extension.log",
)

SPECS = [SPEC, EXTENSION_LOG]
