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

import polars as pl

from ..frames import TimeBasis, normalise_level
from .base import Parsed, SourceFile, SourceSpec, build_records, extract, finish_events, lines_frame, parse_times, utc

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
# Lines copied out of syslog/journal: strip the wrapper, then try the formats above.
SYSLOG = (
    r"^(?:[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{1,2}|\d{4}-\d{2}-\d{2}T\S+)\s+(?:\S+\s+)??"
    r"(?:python[\d.]*|waagent|WALinuxAgent)(?:\[\d+\])?:\s(?P<inner>.*)$"
)
EXT_PREFIX = r"^\[(?P<ext_name>.+)-(?P<ext_ver>\d+(?:\.\d+)*)\]$"
V20_EXT = r"^\[(?P<v20_ext>[^\]]+?)-(?P<v20_ver>\d+(?:\.\d+)*)\]\s?(?P<v20_msg>.*)$"
EVENT = r"(?s)^Event: name=(?P<event_name>[^,]*), op=(?P<event_op>[^,]*), message=(?P<ev_msg>.*?)(?:, duration=(?P<event_duration>-?\d+))?$"

PROCESSES = ("Daemon", "ExtHandler", "LogCollector", "Firewall")


def parse_agent_log(df: pl.DataFrame) -> pl.DataFrame:
    """Header fields of every line of a lines frame (``idx``, ``raw``), vectorised.

    Returns the frame with ``is_header``, ``time``, ``time_raw``, ``time_basis``, ``level``,
    ``process``, ``thread``, ``extension``, ``ext_version`` and ``message`` (the header's
    message part) set on header lines.
    """
    # Syslog/journal copies: the agent line is the part after "python3[pid]: ".
    has_wrapper = pl.col("raw").str.contains(r"^(?:[A-Z][a-z]{2} [ \d]\d |\d{4}-\d{2}-\d{2}T\S+\s+\S+\s+(?:python|waagent|WALinux))")
    df = df.with_columns(
        body=pl.when(has_wrapper)
        .then(pl.coalesce(pl.col("raw").str.extract(SYSLOG, 1), pl.col("raw")))
        .otherwise(pl.col("raw"))
    )
    df = extract(df, "body", NEW)
    df = extract(df, "body", OLD, mask=pl.col("ts_new").is_null() & pl.col("body").str.contains(r"^\d{4}/"))
    df = extract(df, "body", V20, mask=pl.col("ts_new").is_null() & pl.col("ts_old").is_null() & pl.col("body").str.contains(r"^\d{4}/"))

    new, old, v20 = pl.col("ts_new").is_not_null(), pl.col("ts_old").is_not_null(), pl.col("ts_20").is_not_null()
    prefix = pl.coalesce("prefix_new", "prefix_old")
    msg = pl.coalesce("msg_new", "msg_old", "msg_20")
    df = df.with_columns(
        is_header=new | old | v20,
        time_raw=pl.coalesce("ts_new", "ts_old", "ts_20"),
        time=pl.coalesce(
            utc(parse_times(pl.col("ts_new"), ["%Y-%m-%dT%H:%M:%S%.fZ"])),
            utc(parse_times(pl.col("ts_old"), ["%Y/%m/%d %H:%M:%S%.f"])),
            utc(parse_times(pl.col("ts_20"), ["%Y/%m/%d %H:%M:%S"])),
        ),
        time_basis=pl.when(new).then(pl.lit(TimeBasis.UTC)).when(old | v20).then(pl.lit(TimeBasis.LOCAL_ASSUMED_UTC)),
        level=normalise_level(pl.coalesce("lvl_new", "lvl_old", pl.when(v20).then(pl.coalesce("lvl_20", pl.lit("INFO"))))),
        prefix=prefix,
        message=msg,
    )
    # 2.2.46 lines have the prefix where 2.2.47+ has the thread: a lone Daemon/ExtHandler token
    # is the process either way.
    lone = pl.col("thread").is_in(PROCESSES) & pl.col("prefix").is_null()
    df = df.with_columns(
        process=pl.when(pl.col("prefix").is_in(PROCESSES))
        .then(pl.col("prefix"))
        .when(lone)
        .then(pl.col("thread"))
        .when(pl.col("prefix").str.starts_with("["))
        .then(pl.lit("ExtHandler")),
        thread=pl.when(lone).then(None).otherwise(pl.col("thread")),
    )
    df = extract(df, "prefix", EXT_PREFIX)
    # waagent-2.0 / HandlerUtil extension lines carry "[Name-Ver]" glued to the message.
    df = extract(df, "message", V20_EXT, mask=v20 & pl.col("message").str.starts_with("["))
    df = df.with_columns(
        extension=pl.coalesce("ext_name", "v20_ext"),
        ext_version=pl.coalesce("ext_ver", "v20_ver"),
        message=pl.coalesce("v20_msg", "message"),
    )
    return df


HEADER_FIELDS = ("time", "time_raw", "time_basis", "level", "process", "thread", "extension", "ext_version", "message")


def records(text: str) -> pl.DataFrame:
    """Records of an agent-format log with header fields and Event: fields split out."""
    df = parse_agent_log(lines_frame(text))
    rec = build_records(df, keep=HEADER_FIELDS + ("idx",))
    # The message of a multi-line record continues with the record's other lines.
    first_line_len = pl.col("text").str.split("\n").list.first().str.len_chars()
    rec = rec.with_columns(
        message=pl.when(pl.col("text").str.contains("\n"))
        .then(pl.col("message") + pl.col("text").str.slice(first_line_len))
        .otherwise(pl.col("message"))
    )
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


def parse(f: SourceFile) -> Parsed:
    return Parsed(events=finish_events(records(f.text), SPEC.name, f))


def parse_command_execution(f: SourceFile) -> Parsed:
    return Parsed(events=finish_events(records(f.text), COMMAND_EXECUTION.name, f))


SPEC = SourceSpec(
    name="waagent_log",
    patterns=(
        r"(^|/)waagent\.log(\.\d+)?$",
        r"(^|/)waagent\.log-\d{4}-\d{2}-\d{2}(-\d+)?$",
        r"(^|/)truncated_+var_log_waagent\.log.*$",
    ),
    parse=parse,
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
