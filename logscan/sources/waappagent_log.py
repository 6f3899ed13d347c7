"""``C:\\WindowsAzure\\Logs\\WaAppAgent.log`` and the Windows agent's other logs.

The Windows guest agent (WindowsAzureGuestAgent) writes an 8-digit thread id and a bracketed,
space-padded level before each message, with one of two timestamp styles
(docs/formats/vmsnapshot-extension.md §2.2)::

    [00000006] [11/14/2019 05:52:13.44] [INFO]  WindowsAzureGuestAgent starting. Version 2.7.41491.949
    [00000018] 2021-01-12T16:35:45Z [INFO]  Test extract the plugin zip file to the temp folder C:\\TEMP\\...
    [00000004] 2024-04-17T07:19:26.812Z [TRACE] Microsoft.CPlat.Core.RunCommandWindows: A job object ...

The bracketed ``MM/DD/YYYY`` form is local wall time with hundredths (read as UTC, marked
``local-assumed-utc``); the ISO form ends in ``Z``. .NET exceptions continue on unprefixed lines
(``   at Microsoft.WindowsAzure...``) and are folded into their record.

The same helpers read files whose line format is not documented (TransparentInstaller.log,
the per-plugin logs, ``IaaSBcdrExtension*.log``): :func:`agent_records` with ``generic=True``
also accepts any leading ISO or ``MM/DD/YYYY`` timestamp, never drops a line, and takes the
level from keywords when the line carries none.
"""

from __future__ import annotations

import posixpath
import re

import polars as pl

from ..frames import FACT_SCHEMA, UTC_DT, TimeBasis, conform, empty, normalise_level
from ._formats import format_facts
from .base import (
    Parsed,
    SourceFile,
    SourceSpec,
    extract,
    finish_events,
    join_continuation_lines,
    lines_frame,
    parse_times,
    utc,
)

# The two documented WaAppAgent headers (§2.2); the level is padded, the message may be empty.
WAAPP_OLD = (
    r"^\[(?P<tid>\d+)\] \[(?P<ts_old>\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{2}:\d{2}(?:\.\d{1,7})?)\] "
    r"\[(?P<lvl>[A-Za-z]+)\]\s*(?P<msg>.*)$"
)
WAAPP_ISO = (
    r"^\[(?P<tid>\d+)\] (?P<ts_iso>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z) "
    r"\[(?P<lvl>[A-Za-z]+)\]\s*(?P<msg>.*)$"
)
# Both in one pass. Only the header is captured (``head``): the message is the rest of the
# line, taken by slicing, which is several times faster than capturing ``(.*)``.
WAAPP = (
    r"^(?P<head>\[(?P<tid>\d+)\] (?:\[(?P<ts_old>\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{2}:\d{2}(?:\.\d{1,7})?)\]"
    r"|(?P<ts_iso>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z)) \[(?P<lvl>[A-Za-z]+)\]\s*)"
)
# Undocumented formats: any leading ISO-like or US-style timestamp, optionally bracketed,
# followed by a separator or the end of the line.
GENERIC_ISO = (
    r"^(?P<head_gi>\[?(?P<ts_gi>\d{4}[-/]\d{2}[-/]\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d{1,9})?)"
    r"(?P<tz_gi>Z| ?UTC|[+-]\d{2}:?\d{2})?\]?(?:[\s,:|]+|$))"
)
GENERIC_US = (
    r"^(?P<head_gu>\[?(?P<ts_gu>\d{1,2}/\d{1,2}/\d{4},? \d{1,2}:\d{2}:\d{2}(?:\.\d{1,7})?(?: ?[AaPp][Mm])?)"
    r"(?P<tz_gu> ?UTC|Z)?\]?(?:[\s,:|]+|$))"
)
# An optional level word right after an undocumented timestamp.
GENERIC_LEVEL = (
    r"(?i)^(?P<head_lvl>(?:\[(?P<glvl_b>verbose|debug|trace|info|information|informational|warn|warning|error|err|fatal|critical|heart)\]"
    r"|(?P<glvl_w>verbose|debug|trace|info|information|warn|warning|error|fatal|critical):?)(?:\s+|$))"
)
# Health-signal JSON lines (TransparentInstaller.log): each is its own event.
JSON_LINE = r'^\s*\{"reportTime"'

# Keyword levels for lines that carry none: content/formats/windows-agent-logs.yaml.
FORMAT = "windows_agent_logs"

# Which extension a message is about: "plugin <Name>" / "plugin '<Name>'", a leading
# "<Publisher.Type>:", else a Microsoft.* handler name anywhere (agent namespaces excluded).
# ASCII classes instead of \w/\b: names are ASCII, and Unicode word boundaries keep polars'
# regex engine off its fast path (the patterns must also compile in Python's re, so no (?-u)).
EXT_PLUGIN = r"(?i)(?:^|[^A-Za-z0-9_])plugin:?\s+'?(?P<ext_plugin>[A-Za-z][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)+)"
EXT_LEADING = r"^(?P<ext_lead>[A-Z][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+){1,5}):\s"
EXT_ANY = r"(?:^|[^A-Za-z0-9_.])(?P<ext_any>Microsoft\.[A-Za-z][A-Za-z0-9_-]*(?:\.[A-Za-z][A-Za-z0-9_-]*)+)"
EXT_VERSION = r"(?i)(?:^|[^A-Za-z0-9_])version:?\s*'?(?P<ext_ver_msg>\d+(?:\.\d+){1,3})(?:[^A-Za-z0-9_.]|$)"
#: Namespaces that name the agent or .NET, not an extension handler.
NOT_EXTENSIONS = ("Microsoft.WindowsAzure.", "Microsoft.VisualStudio.", "Microsoft.Win32.", "Microsoft.CSharp.")

AGENT_VERSION = (
    r"(?i)^(?:WindowsAzureGuestAgent|WaAppAgent|Windows Azure Guest Agent)\b[^\r\n]{0,40}?"
    r"\bversion:?\s*(?P<agent_ver>\d+\.\d+\.\d+(?:\.\d+)?)"
)

HEADER_FIELDS = ("time", "time_raw", "time_basis", "level", "thread", "message", "extension", "ext_version")
RECORD_SCHEMA = {k: (UTC_DT if k == "time" else pl.String()) for k in HEADER_FIELDS}


def _strip_ext_suffix(expr: pl.Expr) -> pl.Expr:
    """Drop a trailing ``.exe``/``.dll``/``.log``/``.zip`` that the name regex swallowed."""
    return expr.str.replace(r"(?i)\.(?:exe|dll|log|zip|json|xml|settings|status)$", "")


def header_fields(df: pl.DataFrame, *, generic: bool) -> pl.DataFrame:
    """Parse the header of every line of a lines frame (``idx``, ``raw``), vectorised.

    Adds ``matched`` (the line opens a record by its own timestamp), ``time``, ``time_raw``,
    ``time_basis``, ``level`` (explicit only), ``thread`` and ``message``. With ``generic`` the
    undocumented timestamp forms are tried on lines the WaAppAgent forms did not claim.
    """
    starts_br = pl.col("raw").str.starts_with("[")
    df = extract(df, "raw", WAAPP, mask=starts_br)
    iso, old = pl.col("ts_iso").is_not_null(), pl.col("ts_old").is_not_null()
    time_exprs = [
        utc(parse_times(pl.col("ts_iso"), ["%Y-%m-%dT%H:%M:%S%.fZ"])),
        utc(parse_times(pl.col("ts_old"), ["%m/%d/%Y %H:%M:%S%.f"])),
    ]
    basis = pl.when(iso).then(pl.lit(TimeBasis.UTC)).when(old).then(pl.lit(TimeBasis.LOCAL_ASSUMED_UTC))
    raw_ts = [pl.col("ts_iso"), pl.col("ts_old")]
    rest = pl.col("raw").str.slice(pl.col("head").str.len_chars())
    msgs = [pl.when(pl.col("head").is_not_null()).then(rest)]
    lvls = [pl.col("lvl")]
    matched = iso | old
    if generic:
        free = ~matched & pl.col("raw").str.contains(r"^\[?\d")
        df = extract(df, "raw", GENERIC_ISO, mask=free)
        df = extract(df, "raw", GENERIC_US, mask=free & pl.col("ts_gi").is_null())
        gi, gu = pl.col("ts_gi").is_not_null(), pl.col("ts_gu").is_not_null()
        gi_norm = pl.col("ts_gi").str.replace_all(",", ".").str.replace_all("/", "-").str.replace("T", " ")
        gi_naive = parse_times(gi_norm, ["%Y-%m-%d %H:%M:%S%.f"])
        # A numeric offset is applied, so the time is true UTC.
        tz = pl.col("tz_gi").str.strip_chars(" ")
        offset_min = (
            pl.when(tz.str.contains(r"^[+-]"))
            .then(
                pl.when(tz.str.starts_with("-")).then(-1).otherwise(1)
                * (
                    tz.str.slice(1, 2).cast(pl.Int64, strict=False) * 60
                    + tz.str.replace(":", "").str.slice(3, 2).cast(pl.Int64, strict=False)
                )
            )
            .otherwise(0)
        )
        gi_time = utc(gi_naive - pl.duration(minutes=offset_min))
        gu_norm = pl.col("ts_gu").str.replace(",", "").str.to_uppercase().str.replace(r"(\d)(AM|PM)$", "$1 $2")
        gu_time = utc(parse_times(gu_norm, ["%m/%d/%Y %H:%M:%S%.f", "%m/%d/%Y %I:%M:%S%.f %p"]))
        time_exprs += [gi_time, gu_time]
        basis = (
            basis.when(gi & pl.col("tz_gi").is_not_null())
            .then(pl.lit(TimeBasis.UTC))
            .when(gi)
            .then(pl.lit(TimeBasis.LOCAL_ASSUMED_UTC))
            .when(gu & pl.col("tz_gu").is_not_null())
            .then(pl.lit(TimeBasis.UTC))
            .when(gu)
            .then(pl.lit(TimeBasis.LOCAL_ASSUMED_UTC))
        )
        raw_ts += [pl.col("ts_gi") + pl.col("tz_gi").fill_null(""), pl.col("ts_gu") + pl.col("tz_gu").fill_null("")]
        msgs += [
            pl.when(gi).then(pl.col("raw").str.slice(pl.col("head_gi").str.len_chars())),
            pl.when(gu).then(pl.col("raw").str.slice(pl.col("head_gu").str.len_chars())),
        ]
        matched = matched | gi | gu
    df = df.with_columns(
        matched=matched,
        time=pl.coalesce(time_exprs),
        time_raw=pl.coalesce(raw_ts),
        time_basis=basis,
        level=normalise_level(pl.coalesce(lvls)),
        thread=pl.col("tid"),
        message=pl.coalesce(msgs),
    )
    if generic:
        # "2024-01-01 10:00:00 [ERROR] msg": take the level word off an undocumented header.
        df = extract(df, "message", GENERIC_LEVEL, mask=pl.col("matched") & pl.col("level").is_null())
        df = df.with_columns(
            level=pl.coalesce("level", normalise_level(pl.coalesce("glvl_b", "glvl_w"))),
            message=pl.when(pl.col("head_lvl").is_not_null())
            .then(pl.col("message").str.slice(pl.col("head_lvl").str.len_chars()))
            .otherwise(pl.col("message")),
        )
    return df


def _extension_columns(df: pl.DataFrame) -> pl.DataFrame:
    """``extension``/``ext_version`` named by each record's first line (vectorised).

    Runs on the lines frame before records are built, so each regex sees one short line, and
    only on lines that can match (cheap literal pre-filters).
    """
    first = pl.when(pl.col("is_header")).then(pl.coalesce("message", "raw"))
    df = df.with_columns(_first=first)
    df = extract(df, "_first", EXT_PLUGIN, mask=pl.col("_first").str.contains_any(["plugin", "Plugin", "PLUGIN"]))
    df = extract(df, "_first", EXT_LEADING, mask=pl.col("ext_plugin").is_null())
    any_mask = pl.col("ext_plugin").is_null() & pl.col("_first").str.contains("Microsoft.", literal=True)
    df = extract(df, "_first", EXT_ANY, mask=any_mask)
    ext_any = pl.col("ext_any")
    for prefix in NOT_EXTENSIONS:
        ext_any = pl.when(pl.col("ext_any").str.starts_with(prefix)).then(None).otherwise(ext_any)
    not_handler = pl.col("ext_lead").str.contains(r"^(?:System|Newtonsoft|Microsoft\.WindowsAzure)\.|Exception$")
    lead = pl.when(not_handler).then(None).otherwise(pl.col("ext_lead"))
    df = df.with_columns(extension=_strip_ext_suffix(pl.coalesce("ext_plugin", lead, ext_any)))
    df = extract(df, "_first", EXT_VERSION, mask=pl.col("extension").is_not_null())
    return df.rename({"ext_ver_msg": "ext_version"}).drop("_first", "ext_plugin", "ext_lead", "ext_any")


def agent_records(text: str, *, generic: bool = False, keyword_levels: bool = False) -> pl.DataFrame:
    """One row per record of a Windows agent-style log, every line kept.

    A line with a recognised header opens a record; other lines continue the record above them
    (exception stacks) or, before the first header, stand as records of their own so nothing
    is lost when the format is not recognised at all. ``{"reportTime":...}`` JSON lines always
    stand alone. With ``keyword_levels`` records without a level get one from their words.
    """
    df = lines_frame(text)
    if not df.height:
        return pl.DataFrame(schema={"line": pl.Int64, "text": pl.String, **{k: RECORD_SCHEMA[k] for k in HEADER_FIELDS}})
    df = header_fields(df, generic=generic)
    json_line = pl.col("raw").str.contains(JSON_LINE)
    started = pl.col("matched").cast(pl.Int64).cum_sum() > 0
    df = df.with_columns(is_header=pl.col("matched") | ~started | json_line)
    df = _extension_columns(df)
    rec = join_continuation_lines(df, keep=HEADER_FIELDS)
    rec = rec.with_columns(time_basis=pl.coalesce("time_basis", pl.lit(TimeBasis.NONE)))
    if keyword_levels:
        rec = rec.with_columns(level=pl.coalesce("level", format_facts(FORMAT).keyword_level("text")))
    return rec


def agent_version_facts(rec: pl.DataFrame, source: str, f: SourceFile) -> pl.DataFrame:
    """``agent/version`` facts from "WindowsAzureGuestAgent starting. Version X", one per version."""
    if not rec.height:
        return empty(FACT_SCHEMA)
    hits = extract(rec.select("line", "time", "message"), "message", AGENT_VERSION).filter(pl.col("agent_ver").is_not_null())
    if not hits.height:
        return empty(FACT_SCHEMA)
    hits = hits.unique("agent_ver", keep="first", maintain_order=True)
    out = hits.select(
        source=pl.lit(source),
        file=pl.lit(f.display),
        line=pl.col("line"),
        time=pl.col("time"),
        subject=pl.lit("agent"),
        key=pl.lit("version"),
        value=pl.col("agent_ver"),
    )
    return conform(out, FACT_SCHEMA)


def _process_name(path: str) -> str:
    """The writing program, from the file name (``WaAppAgent``, ``AppAgentRuntime``...)."""
    stem = posixpath.basename(path)
    stem = re.sub(r"(?i)\.log(\.\d+)?$", "", stem)
    return re.sub(r"[._-]?\d+$", "", stem) or stem


def _parse_with(f: SourceFile, source: str, *, generic: bool) -> Parsed:
    rec = agent_records(f.text, generic=generic, keyword_levels=generic)
    events = finish_events(rec.with_columns(process=pl.lit(_process_name(f.path))), source, f)
    return Parsed(events=events, facts=agent_version_facts(rec, source, f))


def parse(f: SourceFile) -> Parsed:
    return _parse_with(f, SPEC.name, generic=False)


def parse_other(f: SourceFile) -> Parsed:
    # The other agent logs are listed by the disk-inspect manifests but their lines are not
    # documented: read the WaAppAgent header where present and keep every other line.
    return _parse_with(f, WIN_AGENT_LOG.name, generic=True)


SPEC = SourceSpec(
    name="waappagent_log",
    patterns=(r"(^|/)WaAppAgent[^/]*\.log(\.\d+)?$",),
    parse=parse,
    description="Windows guest agent main log (WindowsAzureGuestAgent), both timestamp styles",
    platform="windows",
    priority=10,
    expected=True,
    example_path="WindowsAzure/Logs/WaAppAgent.log",
)

WIN_AGENT_LOG = SourceSpec(
    name="win_agent_log",
    patterns=(
        r"(^|/)(AppAgentRuntime|MonitoringAgent)[^/]*\.log(\.\d+)?$",
        r"(^|/)Logs/Telemetry\.log(\.\d+)?$",
    ),
    parse=parse_other,
    description="Windows guest agent's other logs (AppAgentRuntime, Telemetry, MonitoringAgent)",
    platform="windows",
    priority=20,
    example_path="WindowsAzure/Logs/AppAgentRuntime.log",
)

SPECS = [SPEC, WIN_AGENT_LOG]
