"""VMSnapshotLinux ``shell.log``: one line per step of ``handle.sh`` / ``handle_host_daemon.sh``.

``handle.sh`` writes `` `date -u`- <message> `` (``date`` without ``-u`` before Sep 2021), so
the stamp is whatever the VM's locale makes of ``date`` (vmsnapshot-extension.md §1.3.4)::

    Mon Nov 18 00:05:10 UTC 2019- python version unknown
    Thu May 21 05:04:31 PM UTC 2026- 1 returned from handle.py
    Tue Jun  4 09:01:02 CET 2019- /usr/bin/python2.7 path exists
    [2024-05-30 13:15:40:123456789] python3.8 path exists          (handle_host_daemon.sh)

Time basis: a ``UTC``/``GMT`` zone in the stamp is ``utc``; any other zone name (``CET``,
``PDT``: abbreviations are ambiguous, so they are not converted) and the zone-less
``handle_host_daemon.sh`` stamp are ``local-assumed-utc``.

Levels: shell.log states none. Two messages are failures by definition (§1.3.4, §1.9):
``python version unknown`` (no interpreter found, the script exits 3) and
``<rc> returned from handle.py`` with rc != 0 (1 = Python crashed at import, before
``main()``, which otherwise catches everything and exits 0). Those are ERROR; every other
step (interpreter probing, sequence numbers, no-op commands) is routine and INFO. Lines with
no stamp (stray interpreter output) continue the line above.
"""

from __future__ import annotations

import polars as pl

from ..frames import TimeBasis
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

SHELL = (
    r"^(?P<ts>(?P<dow>[A-Z][a-z]{2}) (?P<mon>[A-Z][a-z]{2}) +(?P<day>\d{1,2}) (?P<hms>\d{2}:\d{2}:\d{2})"
    r"(?: (?P<ampm>[AP]M))? (?P<zone>[A-Z]{2,5}|[+-]\d{2,4}) (?P<year>\d{4}))- ?(?P<msg>.*)$"
)
DAEMON = r"^\[(?P<dts>(?P<ddate>\d{4}-\d{2}-\d{2}) (?P<dhms>\d{2}:\d{2}:\d{2}):(?P<dfrac>\d{1,9}))\] ?(?P<dmsg>.*)$"
FORMAT = "shell_log"  # content/formats/shell-log.yaml: failure
UTC_ZONES = ("UTC", "GMT", "Z", "+0000", "+00")

KEEP = ("time", "time_raw", "time_basis", "level", "message")


def records(text: str) -> pl.DataFrame:
    """One row per shell.log record, vectorised."""
    df = lines_frame(text)
    df = extract(df, "raw", SHELL, mask=pl.col("raw").str.contains(r"^[A-Z][a-z]{2} [A-Z]"))
    df = extract(df, "raw", DAEMON, mask=pl.col("ts").is_null() & pl.col("raw").str.starts_with("["))
    shell, daemon = pl.col("ts").is_not_null(), pl.col("dts").is_not_null()
    norm = pl.concat_str(
        [pl.col("year"), pl.col("mon"), pl.col("day").str.zfill(2), pl.col("hms"), pl.coalesce("ampm", pl.lit(""))],
        separator=" ",
    ).str.strip_chars_end()
    iso = pl.concat_str([pl.col("ddate"), pl.lit("T"), pl.col("dhms"), pl.lit("."), pl.col("dfrac")])
    message = pl.coalesce("msg", "dmsg")
    df = df.with_columns(
        is_header=shell | daemon,
        time_raw=pl.coalesce("ts", "dts"),
        time=utc(
            pl.coalesce(
                pl.when(pl.col("ampm").is_not_null()).then(parse_times(norm, ["%Y %b %d %I:%M:%S %p"])),
                pl.when(pl.col("ampm").is_null()).then(parse_times(norm, ["%Y %b %d %H:%M:%S"])),
                parse_times(iso, ["%Y-%m-%dT%H:%M:%S%.f"]),
            )
        ),
        time_basis=pl.when(shell & pl.col("zone").is_in(UTC_ZONES))
        .then(pl.lit(TimeBasis.UTC))
        .when(shell | daemon)
        .then(pl.lit(TimeBasis.LOCAL_ASSUMED_UTC)),
        level=pl.when(shell | daemon).then(
            pl.when(message.str.contains(format_facts(FORMAT).pattern("failure"))).then(pl.lit("ERROR")).otherwise(pl.lit("INFO"))
        ),
        message=message,
    )
    rec = join_continuation_lines(df, keep=KEEP)
    return rec.with_columns(
        time_basis=pl.coalesce("time_basis", pl.lit(TimeBasis.NONE)),
        extension=pl.lit("Microsoft.Azure.RecoveryServices.VMSnapshotLinux"),
    )


def parse(f: SourceFile) -> Parsed:
    return Parsed(events=finish_events(records(f.text), SPEC.name, f))


SPEC = SourceSpec(
    name="shell_log",
    patterns=(
        r"(^|/)var/log/azure/Microsoft\.Azure\.RecoveryServices\.VMSnapshotLinux/(\d+(\.\d+)*/)?shell\.log(\.\d+)?$",
        r"(^|/)truncated_+var_log_azure_Microsoft\.Azure\.RecoveryServices\.VMSnapshotLinux_(\d+(\.\d+)*_)?shell\.log.*$",
    ),
    parse=parse,
    description="VMSnapshotLinux handle.sh / handle_host_daemon.sh step log",
    platform="linux",
    priority=20,
    example_path="var/log/azure/Microsoft.Azure.RecoveryServices.VMSnapshotLinux/shell.log",
)
