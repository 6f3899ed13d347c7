"""``/var/log/waagent.log`` (and rotated copies) from every WALinuxAgent era.

One file routinely mixes formats (a 2.2.45 daemon beside an auto-updated 2.11 ExtHandler,
old HandlerUtil extensions writing waagent-2.0 lines), so every line is tried against every
era's header, newest first; a line that matches none continues the record above it
(tracebacks, ``[stdout]``/``[stderr]`` blocks, ``Inner error:``)::

    2023-03-13T15:44:04.906673Z INFO ExtHandler ExtHandler Azure Linux Agent (Goal State Agent version 9.9.9.9)
    2021-05-28T01:17:40.683072Z INFO ExtHandler Wire server endpoint:168.63.129.16          (2.2.46)
    2021/03/30 19:35:35.971742 INFO Daemon Azure Linux Agent Version:2.2.45                 (2.1-2.2.45, local)
    2017/04/05 15:19:30 ERROR:timed out                                                     (2.0, local)
    Mar 30 19:35:35 vm1 python3[812]: 2021-03-30T19:35:35.1Z INFO Daemon ...                (syslog copy)

Local-time eras (before 2.2.46) carry no zone: their time is read as UTC and marked
``local-assumed-utc``. The same parser reads the agent's per-extension
``/var/log/azure/<Handler>/CommandExecution*.log``, which uses the same header.
"""

from __future__ import annotations

import re

import polars as pl

from ..frames import TimeBasis
from ._agent_fast import EXT_PREFIX, FAST, FAST_OLD, PROCESSES, fast_fields, fast_old_fields
from .base import (
    Parsed,
    SourceFile,
    SourceSpec,
    build_records,
    extract,
    finish_events,
    lines_frame,
    lines_of,
    parse_times,
    utc,
)
from .grep import Grep, select_records

# 2.2.47+ (thread, optional prefix) and 2.2.46 (prefix only): UTC.
NEW = (
    r"^(?P<ts_new>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z)\s(?P<lvl_new>VERBOSE|INFO|WARNING|ERROR)\s"
    r"(?:(?P<thread>[^\[\s]\S*)\s)?(?:(?P<prefix_new>Daemon|ExtHandler|LogCollector|Firewall|\[[^\]]+\])\s)?(?P<msg_new>.*)$"
)
# 2.1.x - 2.2.45: local time, microseconds.
OLD = (
    r"^(?P<ts_old>\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}\.\d{6})\s(?P<lvl_old>VERBOSE|INFO|WARNING|ERROR)\s"
    r"(?:(?P<prefix_old>Daemon|ExtHandler|\[[^\]]+\])\s)?(?P<msg_old>.*)$"
)
# waagent 2.0.x and HandlerUtil extension lines: local time, seconds, level glued on.
V20 = r"^(?P<ts_20>\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2})\s(?:(?P<lvl_20>ERROR|WARNING):)?(?P<msg_20>.*)$"
# Pasted lines whose timestamp was removed: the level (glued "ERROR:" of 2.0, or the level and
# its process/extension tag) still opens a record, which then has no time of its own.
BARE = r"^(?:(?P<lvl_bare>VERBOSE|INFO|WARNING|ERROR) (?P<prefix_bare>Daemon|ExtHandler|\[[^\]]+\])\s|(?P<lvl_glued>ERROR|WARNING):)(?P<msg_bare>.*)$"
# Lines copied out of syslog/journal: strip the wrapper, then try the formats above.
SYSLOG = (
    r"^(?:[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{1,2}|\d{4}-\d{2}-\d{2}T\S+)\s+(?:\S+\s+)??"
    r"(?:python[\d.]*|waagent|WALinuxAgent)(?:\[\d+\])?:\s(?P<inner>.*)$"
)
V20_EXT = r"^\[(?P<v20_ext>[^\]]+?)-(?P<v20_ver>\d+(?:\.\d+)*)\]\s?(?P<v20_msg>.*)$"
EVENT = r"(?s)^Event: name=(?P<event_name>[^,]*), op=(?P<event_op>[^,]*), message=(?P<ev_msg>.*?)(?:, duration=(?P<event_duration>-?\d+))?$"



def _head(rx: str, msg: str) -> str:
    """An era's header regex without ``^`` and its trailing ``(?P<msg>.*)$``."""
    tail = f"(?P<{msg}>.*)$"
    assert rx.startswith("^") and rx.endswith(tail), rx
    return rx[1 : -len(tail)]


# All three eras in one pass. Alternation at an anchored start is tried in order, so this is
# "NEW, else OLD, else V20" exactly as §1.6 says. The message group ``(.*)$`` of each era always
# matches the rest of a line (lines hold no "\n"), so it is left out: the regex engine then
# captures only the short header, and the message is the line with the header stripped.
HEADER = (
    "^(?P<head>(?:" + _head(NEW, "msg_new") + ")|(?:" + _head(OLD, "msg_old") + ")|(?:" + _head(V20, "msg_20") + ")|(?:"
    + _head(BARE, "msg_bare") + "))"
)
_HEADER_GROUPS = [n for n in re.compile(HEADER).groupindex if n != "head"]


#: Lines that can carry a syslog/journal wrapper (the wrapper regex runs on these only).
_WRAPPED = pl.col("raw").str.contains(r"^(?:[A-Z][a-z]{2} [ \d]\d |\d{4}-\d{2}-\d{2}T\S+\s+\S+\s+(?:python|waagent|WALinux))")


def _wrapped_inner() -> pl.Expr:
    """The agent line inside a syslog/journal copy (after "python3[pid]: "), null on every
    other line."""
    return pl.when(_WRAPPED).then(pl.col("raw")).str.extract(SYSLOG, 1)


def _body() -> pl.Expr:
    """The agent line of each raw line: syslog/journal copies carry it after "python3[pid]: "."""
    return pl.coalesce(_wrapped_inner(), pl.col("raw"))


def header_times(df: pl.DataFrame) -> pl.DataFrame:
    """``is_header`` and the header's time to the second (``time``) of every line, without
    the full header parse (grep-first's cheap pass). The second is enough: grep-first keeps
    every record of a file's first and last second (see :mod:`.grep`)."""
    # Not a whole ``_body`` column (a copy of every line): the few syslog-wrapped lines'
    # inner text beside the raw lines, each test read from whichever applies.
    raw = pl.col("raw")
    df = df.with_columns(_inner=_wrapped_inner())
    inner = pl.col("_inner")
    df = df.with_columns(is_header=pl.when(inner.is_null()).then(raw.str.contains(HEADER)).otherwise(inner.str.contains(HEADER)))
    stamp = pl.when(pl.col("is_header")).then(pl.when(inner.is_null()).then(raw.str.slice(0, 19)).otherwise(inner.str.slice(0, 19)))
    return df.with_columns(
        time=pl.coalesce(
            stamp.str.strptime(pl.Datetime("us"), "%Y-%m-%dT%H:%M:%S", strict=False, exact=True),
            stamp.str.strptime(pl.Datetime("us"), "%Y/%m/%d %H:%M:%S", strict=False, exact=True),
        )
    ).drop("_inner")


def parse_agent_log(df: pl.DataFrame, *, fast: bool = True) -> pl.DataFrame:
    """Header fields of every line of a lines frame (``idx``, ``raw``), vectorised.

    Returns the frame with ``is_header``, ``time``, ``time_raw``, ``time_basis``, ``level``,
    ``process``, ``thread``, ``extension``, ``ext_version`` and ``message`` (the header's
    message part) set on header lines, in the rows' order.

    Lines of the :data:`FAST` shape (most of a modern log) and of the :data:`FAST_OLD` shape
    (most of a 2.1-2.2.45 log) are cut with string splits; the rest go through the HEADER
    regex. ``fast=False`` sends every line through the regex: the reference the fast paths
    are tested against (tests/speed), equal on those columns.
    """
    if not fast or not df.height:
        return _fields(_regex_groups(df.with_columns(body=_body())))
    # Most logs hold no syslog/journal copy: then the body is the line itself (the wrapper
    # test alone is half the cost of ``_body``).
    wrapped = df.select(_WRAPPED.any()).item()
    df = df.with_columns(body=_body() if wrapped else pl.col("raw"))
    body = pl.col("body")
    # 1: FAST, 2: FAST_OLD, 0: the regex. Both tests are anchored DFA passes that give up
    # within a few bytes on the other era's lines (``-`` against ``/`` after the year).
    df = df.with_columns(
        _era=pl.when(body.str.contains(FAST)).then(pl.lit(1, pl.Int8)).when(body.str.contains(FAST_OLD))
        .then(pl.lit(2, pl.Int8)).otherwise(pl.lit(0, pl.Int8))
    )
    counts = dict(df.group_by("_era").len().iter_rows())
    if not counts.get(1) and not counts.get(2):
        return _fields(_regex_groups(df.drop("_era")))
    kept = [c for c in df.columns[:-2] if c not in ("is_header", *HEADER_FIELDS)]
    out = [*kept, "is_header", *HEADER_FIELDS]
    cut = {1: fast_fields, 2: fast_old_fields}
    if len(counts) == 1:  # one shape only: no split, no reordering
        (era,) = counts
        return cut[era](df).select(out)
    # The row number puts the parts back in place (a sort of one integer column and one
    # gather: half the cost of merge_sorted here).
    df = df.with_row_index("_n")
    era = pl.col("_era")
    parts = [cut[e](df.filter(era == e)).select("_n", *out) for e in (1, 2) if counts.get(e)]
    if counts.get(0):
        parts.append(_fields(_regex_groups(df.filter(era == 0))).select("_n", *out))
    return pl.concat(parts).sort("_n").drop("_n")


def _regex_groups(df: pl.DataFrame) -> pl.DataFrame:
    """HEADER's groups of ``body``, and ``_head`` (the whole header)."""
    df = df.with_columns(_h=pl.col("body").str.extract_groups(HEADER))
    return df.with_columns(*[pl.col("_h").struct.field(n) for n in _HEADER_GROUPS], _head=pl.col("_h").struct.field("head")).drop("_h")


def _fields(df: pl.DataFrame) -> pl.DataFrame:
    """The header fields from HEADER's groups (:func:`_regex_groups`)."""
    new, old, v20 = pl.col("ts_new").is_not_null(), pl.col("ts_old").is_not_null(), pl.col("ts_20").is_not_null()
    df = df.with_columns(
        is_header=pl.col("_head").is_not_null(),
        time_raw=pl.coalesce("ts_new", "ts_old", "ts_20"),
        time=pl.coalesce(
            utc(parse_times(pl.col("ts_new"), ["%Y-%m-%dT%H:%M:%S%.fZ"])),
            utc(parse_times(pl.col("ts_old"), ["%Y/%m/%d %H:%M:%S%.f"])),
            utc(parse_times(pl.col("ts_20"), ["%Y/%m/%d %H:%M:%S"])),
        ),
        time_basis=pl.when(new).then(pl.lit(TimeBasis.UTC)).when(old | v20).then(pl.lit(TimeBasis.LOCAL_ASSUMED_UTC)),
        # The regexes admit only the canonical spellings, so normalise_level would be a no-op.
        level=pl.coalesce("lvl_new", "lvl_old", pl.when(v20).then(pl.coalesce("lvl_20", pl.lit("INFO"))), "lvl_bare", "lvl_glued"),
        prefix=pl.coalesce("prefix_new", "prefix_old", "prefix_bare"),
        message=pl.col("body").str.strip_prefix(pl.col("_head")),
    ).drop("_head")
    # 2.2.46 lines have the prefix where 2.2.47+ has the thread: a lone Daemon/ExtHandler token
    # is the process either way.
    lone = pl.col("thread").is_in(PROCESSES) & pl.col("prefix").is_null()
    bracket = pl.col("prefix").str.starts_with("[")
    df = df.with_columns(
        process=pl.when(pl.col("prefix").is_in(PROCESSES))
        .then(pl.col("prefix"))
        .when(lone)
        .then(pl.col("thread"))
        .when(bracket)
        .then(pl.lit("ExtHandler")),
        thread=pl.when(lone).then(None).otherwise(pl.col("thread")),
        # "[Name-Ver]" prefixes, and waagent-2.0 / HandlerUtil lines with "[Name-Ver]" glued to
        # the message; each regex sees only the rows that start with "[".
        _e=pl.when(bracket).then(pl.col("prefix")).str.extract_groups(EXT_PREFIX),
        _v=pl.when(v20 & pl.col("message").str.starts_with("[")).then(pl.col("message")).str.extract_groups(V20_EXT),
    )
    return df.with_columns(
        extension=pl.coalesce(pl.col("_e").struct.field("ext_name"), pl.col("_v").struct.field("v20_ext")),
        ext_version=pl.coalesce(pl.col("_e").struct.field("ext_ver"), pl.col("_v").struct.field("v20_ver")),
        message=pl.coalesce(pl.col("_v").struct.field("v20_msg"), "message"),
    ).drop("_e", "_v")


HEADER_FIELDS = ("time", "time_raw", "time_basis", "level", "process", "thread", "extension", "ext_version", "message")


def records(text: str) -> pl.DataFrame:
    """Records of an agent-format log with header fields and Event: fields split out."""
    return records_of(lines_frame(text))


def records_of(lines: pl.DataFrame) -> pl.DataFrame:
    """:func:`records` of a lines frame (all of a file's lines, or whole records of it)."""
    df = parse_agent_log(lines)
    rec = build_records(df, keep=(*HEADER_FIELDS, "idx"))
    # The message of a multi-line record continues with the record's other lines. Only those
    # records (a few percent) are worked on and put back in place: splitting every record's
    # text to find its first line cost 3x more.
    multi = rec["text"].str.contains("\n", literal=True).fill_null(False)
    if multi.any():
        idx = multi.arg_true()
        part = rec.select(pl.col("message", "text").gather(idx))
        first_line_len = pl.col("text").str.split("\n").list.first().str.len_chars()
        longer = part.select(pl.col("message") + pl.col("text").str.slice(first_line_len)).to_series()
        rec = rec.with_columns(rec["message"].clone().scatter(idx, longer))
    # Lines before the first header (a file cut mid-record) have no time of their own.
    rec = rec.with_columns(
        message=pl.coalesce("message", "text"),
        time_basis=pl.coalesce("time_basis", pl.lit(TimeBasis.NONE)),
    )
    rec = extract(rec, "message", EVENT, mask=pl.col("message").str.starts_with("Event: "))
    # An "Event: name=<handler>" line is about that extension even without a [Name-Ver] prefix.
    about_ext = pl.col("event_name").is_not_null() & ~pl.col("event_name").is_in(["WALinuxAgent", "WALA"])
    return rec.with_columns(
        pl.col("event_duration").cast(pl.Int64, strict=False),
        extension=pl.coalesce("extension", pl.when(about_ext).then(pl.col("event_name"))),
    ).drop("ev_msg", "idx")


# Start and heartbeat lines that name the agent, OS and Python (format doc §2). Each fact is
# taken from the events already parsed, so it carries the line and time where it was seen.
FACT_LINES: tuple[tuple[str, str, str], ...] = (
    ("agent", "daemon_version", r"^Azure Linux Agent Version: ?(\d+(?:\.\d+)+)"),
    ("agent", "goal_state_agent_version", r"^Azure Linux Agent \(Goal State Agent version (\d+(?:\.\d+)+)\)"),
    ("agent", "goal_state_agent_version", r"^(?:\[HEARTBEAT\] )?Agent WALinuxAgent-(\d+(?:\.\d+)+) is running"),
    ("os", "name", r"^OS: (\S+) \S+\s*$"),
    ("os", "version", r"^OS: \S+ (\S+)\s*$"),
    ("agent", "python", r"^Python: (\d+(?:\.\d+)+)"),
)


ANY_FACT_LINE = "|".join(f"(?:{rx})" for _, _, rx in FACT_LINES)


def facts_from_events(events: pl.DataFrame) -> pl.DataFrame:
    """Agent/OS facts from start and heartbeat lines, vectorised over the events frame.

    Heartbeats repeat every 30 minutes, so each (key, value) keeps only its first and last
    sighting: enough to say which versions ran and when, without one row per heartbeat.
    """
    msg = pl.col("message")
    # One pass picks the few fact lines (only the columns facts keep); each fact's regex then
    # runs on those alone.
    events = events.select("source", "file", "line", "time", "message").filter(msg.str.contains(ANY_FACT_LINE))
    parts = []
    for subject, key, rx in FACT_LINES:
        parts.append(
            events.filter(msg.str.contains(rx))
            .select("source", "file", "line", "time", subject=pl.lit(subject), key=pl.lit(key), value=msg.str.extract(rx, 1))
        )
    facts = pl.concat(parts).filter(pl.col("value").is_not_null())
    if not facts.height:
        return facts
    keys = ["subject", "key", "value"]
    seen = pl.concat([facts.unique(keys, keep="first", maintain_order=True), facts.unique(keys, keep="last", maintain_order=True)])
    return seen.unique(maintain_order=True).sort("line", maintain_order=True)


def parse(f: SourceFile) -> Parsed:
    events = finish_events(records_of(lines_of(f)), SPEC.name, f)
    return Parsed(events=events, facts=facts_from_events(events))


def parse_grep(f: SourceFile, plan: Grep) -> Parsed:
    """:func:`parse` of the records ``plan`` selects (see :mod:`.grep`); the same events for
    those records, and the record count of the whole file."""
    lines, total = select_records(header_times(lines_of(f)), plan)
    events = finish_events(records_of(lines), SPEC.name, f)
    return Parsed(events=events, facts=facts_from_events(events), total_events=total)


def parse_command_execution(f: SourceFile) -> Parsed:
    return Parsed(events=finish_events(records_of(lines_of(f)), COMMAND_EXECUTION.name, f))


SPEC = SourceSpec(
    name="waagent_log",
    patterns=(
        r"(^|/)waagent\.log(\.\d+)?$",
        r"(^|/)waagent\.log-\d{4}-\d{2}-\d{2}(-\d+)?$",
        r"(^|/)truncated_+var_log_waagent\.log.*$",
    ),
    parse=parse,
    parse_grep=parse_grep,
    description="WALinuxAgent log, every era, rotated and gzipped copies",
    platform="linux",
    priority=10,
    expected=True,
    example_path="var/log/waagent.log",
)

COMMAND_EXECUTION = SourceSpec(
    name="command_execution_log",
    patterns=(r"(^|/)var/log/azure/.+/CommandExecution[^/]*\.log(\.\d+)?$",),
    parse=parse_command_execution,
    description="The agent's record of each extension command (same header as waagent.log)",
    platform="linux",
    priority=20,
    example_path="var/log/azure/Microsoft.Azure.RecoveryServices.VMSnapshotLinux/CommandExecution.log",
)

SPECS = [SPEC, COMMAND_EXECUTION]
