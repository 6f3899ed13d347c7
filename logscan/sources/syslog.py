"""``/var/log/messages*`` and ``/var/log/syslog*``: only the lines about the agent or extensions.

A syslog holds everything the VM did; logscan keeps the lines that can explain a backup
failure (linux-agent.md §3.4/§3.5, vmsnapshot-extension.md §1.6): the agent's own stdout
copies (program ``python*``/``waagent``/``WALinuxAgent``), and any line mentioning the agent,
an extension (``Microsoft.Azure.``), the WireServer ``168.63.129.16``, DHCP/``dhclient``,
``iptables`` or ``fsfreeze``, plus the guest powering off or rebooting (systemd/logind lines:
a VM shut down from inside). The filter runs on the whole file in polars before any field is
extracted, so a 30 MB syslog costs one regex scan::

    May 30 13:15:40 vm1 python3[812]: 2024-05-30T13:15:40.1Z INFO Daemon Azure Linux Agent Version:2.2.45
    2024-05-30T13:15:40.123456+00:00 vm1 dhclient[700]: DHCPACK of 10.0.0.4 from 168.63.129.16

RFC 3164 stamps have no year and are local time (``local-assumed-utc``). The year of the file's
*last* line is taken from the file's mtime when known (a file is last written at its last
line), else from the newest ISO year inside the file (the agent's own stamps), else the time
stays null (``none``). Going forwards, a month smaller than the line before's means the year
turned (Dec → Jan), so years are counted back from the anchor with a cumulative sum over that
flag. RFC 3339 stamps carry their year and zone (``utc``; a zone-less one is local).

``process`` is the program name; the most common hostname becomes one ``vm/hostname`` fact.
Agent lines copied here keep their own level (read with the waagent.log header regexes);
other lines state no level and get none.
"""

from __future__ import annotations

from datetime import datetime, timezone

import polars as pl

from ..frames import FACT_SCHEMA, UTC_DT, TimeBasis, conform, empty
from .base import Parsed, SourceFile, SourceSpec, extract, finish_events, lines_frame, parse_times, utc
from .waagent_log import parse_agent_log

RELEVANT = (
    r"(?i)waagent|walinuxagent|Microsoft\.Azure\.|168\.63\.129\.16|dhclient|dhcp|iptables|fsfreeze"
    r"|^\S+(?:\s+\S+){1,3}\s+python[\d.]*(?:\[\d+\])?:"
    # the agent's systemd unit, and the guest powering off or rebooting (vm-not-running, guest-shutdown)
    r"|Azure Linux Agent|System is (?:powering down|rebooting|halting)|Power key pressed"
    r"|Reached target (?:Power-Off|Reboot|System Power Off|System Reboot|System Halt)|shutting down for system"
)
# Pasted copies lose parts: a one-digit seconds field ("02:00:2"), the host ("Nov  2 02:00:29
# python: ..."), or date and host both ("waagent[741]: ..."): each still reads as a line.
RFC3164 = (
    r"^(?P<mon>[A-Z][a-z]{2}) +(?P<day>\d{1,2}) (?P<hms>\d{2}:\d{2}:\d{1,2})(?:\.\d+)? "
    r"(?:(?P<host>\S+) )??(?P<proc>[^\s:\[]+)(?:\[(?P<pid>\d+)\])?: ?(?P<msg>.*)$"
)
BARE = r"^(?P<bproc>waagent|python[\d.]*|WALinuxAgent|systemd)\[(?P<bpid>\d+)\]: ?(?P<bmsg>.*)$"
RFC3339 = (
    r"^(?P<iso>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?)(?P<tz>Z|[+-]\d{2}:?\d{2})? "
    r"(?P<ihost>\S+) (?P<iproc>[^\s:\[]+)(?:\[(?P<ipid>\d+)\])?: ?(?P<imsg>.*)$"
)
HOST = r"^(?:[A-Z][a-z]{2} +\d{1,2} \d{2}:\d{2}:\d{2}(?:\.\d+)?|\d{4}-\d{2}-\d{2}T\S+) (\S+) [^\s:\[]+(?:\[\d+\])?:"
ISO_YEAR = r"\b((?:19|20)\d{2})-\d{2}-\d{2}T\d{2}:\d{2}"
MONTHS = {m: i for i, m in enumerate(["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], 1)}


def _with_years(f: SourceFile, lines: pl.DataFrame, all_lines: pl.DataFrame) -> pl.DataFrame:
    """Add ``year`` to RFC 3164 lines (null when no anchor is known), vectorised."""
    month = pl.col("mon").replace_strict(MONTHS, default=None, return_dtype=pl.Int32)
    lines = lines.with_columns(_month=month)
    months = lines.get_column("_month").drop_nulls()
    if not months.len():
        return lines.with_columns(year=pl.lit(None, dtype=pl.Int32))
    # A month drop (Dec -> Jan) going forward means a new year began; count them.
    prev = pl.col("_month").forward_fill().shift(1)
    lines = lines.with_columns(_turn=(pl.col("_month") < prev).fill_null(False).cast(pl.Int32).cum_sum())
    turns = lines.get_column("_turn")
    mtime = _utc(f.mtime)
    if mtime is not None:
        # The file was last written at its last line, so that line is in the mtime's year,
        # unless its month is later than the mtime's (a December line in a January file).
        anchor_year = mtime.year - (1 if months[-1] > mtime.month else 0)
        anchor_turn = turns[-1]
    else:
        # No mtime: the newest ISO year written inside the file (agent lines), at the last
        # line that carries it.
        iso = all_lines.select(pl.col("idx"), pl.col("raw").str.extract(ISO_YEAR, 1).cast(pl.Int32).alias("y")).drop_nulls()
        if not iso.height:
            return lines.with_columns(year=pl.lit(None, dtype=pl.Int32))
        anchor_year = int(iso.get_column("y").max())
        at = iso.filter(pl.col("y") == anchor_year).get_column("idx")[-1]
        before = lines.filter(pl.col("idx") <= at).get_column("_turn")
        anchor_turn = before[-1] if before.len() else 0
    return lines.with_columns(year=(pl.lit(anchor_year) - pl.lit(anchor_turn) + pl.col("_turn")).cast(pl.Int32))


def _utc(ts: float | None) -> datetime | None:
    if not ts:
        return None
    try:
        return datetime.fromtimestamp(ts, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def _hostname_fact(f: SourceFile, all_lines: pl.DataFrame) -> pl.DataFrame:
    """One ``vm/hostname`` fact: the most common hostname in the file's headers."""
    hosts = all_lines.select(pl.col("idx"), pl.col("raw").str.extract(HOST, 1).alias("host")).drop_nulls()
    if not hosts.height:
        return empty(FACT_SCHEMA)
    top = hosts.group_by("host").agg(pl.len().alias("n"), pl.col("idx").min().alias("first")).sort(
        ["n", "first"], descending=[True, False]
    )
    host, first = top.row(0)[0], top.row(0)[2]
    row = pl.DataFrame(
        {
            "source": [SPEC.name],
            "file": [f.display],
            "line": [int(first) + 1],
            "subject": ["vm"],
            "key": ["hostname"],
            "value": [host],
        }
    )
    return conform(row, FACT_SCHEMA)


def parse(f: SourceFile) -> Parsed:
    all_lines = lines_frame(f.text)
    df = all_lines.filter(pl.col("raw").str.contains(RELEVANT))
    df = extract(df, "raw", RFC3164, mask=pl.col("raw").str.contains(r"^[A-Z][a-z]{2} "))
    df = extract(df, "raw", RFC3339, mask=pl.col("mon").is_null() & pl.col("raw").str.contains(r"^\d{4}-"))
    df = extract(df, "raw", BARE, mask=pl.col("mon").is_null() & pl.col("iso").is_null())
    df = _with_years(f, df, all_lines)
    hms = pl.col("hms").str.replace(r":(\d)$", ":0$1")
    norm = pl.concat_str([pl.col("year").cast(pl.String), pl.col("mon"), pl.col("day").str.zfill(2), hms], separator=" ")
    tz = pl.col("tz").str.replace("Z", "+00:00").str.replace(":", "")
    aware = pl.concat_str([pl.col("iso"), tz]).str.strptime(UTC_DT, "%Y-%m-%dT%H:%M:%S%.f%z", strict=False)
    rfc3164, rfc3339 = pl.col("mon").is_not_null(), pl.col("iso").is_not_null()
    df = df.with_columns(
        time_raw=pl.when(rfc3164)
        .then(pl.col("raw").str.extract(r"^(\S+ +\S+ \S+)", 1))
        .otherwise(pl.concat_str([pl.col("iso"), pl.coalesce("tz", pl.lit(""))])),
        time=pl.coalesce(
            utc(parse_times(norm, ["%Y %b %d %H:%M:%S"])),
            pl.when(pl.col("tz").is_not_null()).then(aware.dt.convert_time_zone("UTC")),
            utc(parse_times(pl.col("iso"), ["%Y-%m-%dT%H:%M:%S%.f"])),
        ),
        process=pl.coalesce("proc", "iproc", "bproc"),
        message=pl.coalesce("msg", "imsg", "bmsg", "raw"),
        text=pl.col("raw"),
        line=pl.col("idx") + 1,
    )
    df = df.with_columns(
        time_basis=pl.when(pl.col("time").is_null())
        .then(pl.lit(TimeBasis.NONE))
        .when(rfc3339 & pl.col("tz").is_not_null())
        .then(pl.lit(TimeBasis.UTC))
        .otherwise(pl.lit(TimeBasis.LOCAL_ASSUMED_UTC)),
    )
    # Agent lines copied from its stdout keep their level and extension prefix.
    agent = parse_agent_log(df.select(pl.col("idx"), pl.col("message").alias("raw")))
    df = df.with_columns(
        level=agent.get_column("level"),
        extension=agent.get_column("extension"),
        ext_version=agent.get_column("ext_version"),
    )
    return Parsed(events=finish_events(df, SPEC.name, f), facts=_hostname_fact(f, all_lines))


SPEC = SourceSpec(
    name="syslog",
    patterns=(
        r"(^|/)var/log/(messages|syslog)(\.\d+|-\d{8})?$",
        r"(^|/)truncated_+var_log_(messages|syslog)(\.\d+|-\d{8})?$",
        # journal copies: sosreport's logs plugin, and saved "journalctl -u waagent" output
        r"(^|/)sos_commands/logs/journalctl[^/]*$",
        r"(^|/)journalctl[-_ ][^/]*$",
    ),
    parse=parse,
    description="syslog / messages / journal copies, lines about the agent, extensions, WireServer, DHCP, firewall, freeze",
    platform="linux",
    priority=30,
    example_path="var/log/syslog",
)
