"""``C:\\WindowsAzure\\Logs\\TransparentInstaller.log``: the Windows agent's install/update log.

Only message bodies of this file are documented (docs/formats/vmsnapshot-extension.md §2.3),
e.g. ``[ERROR] System.Configuration.ConfigurationErrorsException: ... could not be loaded.``;
the line prefix is **unverified**. So the parser takes a WaAppAgent header or a leading
timestamp where one is present and otherwise keeps every line as its own event (time null,
level from keywords such as ``[ERROR]``, ``Exception``, ``failed``). Whole-line
``{"reportTime":...}`` JSON health signals are kept as events of their own, timed by their
``reportTime`` when it parses.
"""

from __future__ import annotations

import polars as pl

from ..frames import UTC_DT, TimeBasis
from .base import Parsed, SourceFile, SourceSpec, extract, finish_events, parse_times, utc
from .waappagent_log import agent_records

REPORT_TIME = r'^\s*\{"reportTime"\s*:\s*"(?P<report_time>[^"]+)"'


def records(text: str) -> pl.DataFrame:
    """Records of TransparentInstaller.log with JSON health lines timed by ``reportTime``."""
    rec = agent_records(text, generic=True, keyword_levels=True)
    if not rec.height:
        return rec
    rec = extract(rec, "text", REPORT_TIME, mask=pl.col("text").str.contains(r'^\s*\{"reportTime"'))
    iso = pl.col("report_time")
    rt = pl.coalesce(
        utc(parse_times(iso, ["%Y-%m-%dT%H:%M:%S%.fZ"])),
        iso.str.strptime(UTC_DT, "%Y-%m-%dT%H:%M:%S%.f%z", strict=False),
    )
    local = utc(parse_times(iso, ["%Y-%m-%dT%H:%M:%S%.f", "%m/%d/%Y %H:%M:%S%.f", "%m/%d/%Y %I:%M:%S %p"]))
    has_rt = rt.is_not_null()
    has_local = local.is_not_null()
    return rec.with_columns(
        time=pl.when(pl.col("time").is_null()).then(pl.coalesce(rt, local)).otherwise(pl.col("time")),
        time_raw=pl.coalesce("time_raw", "report_time"),
        time_basis=pl.when(pl.col("time").is_not_null())
        .then(pl.col("time_basis"))
        .when(has_rt)
        .then(pl.lit(TimeBasis.UTC))
        .when(has_local)
        .then(pl.lit(TimeBasis.LOCAL_ASSUMED_UTC))
        .otherwise(pl.col("time_basis")),
    ).drop("report_time")


def parse(f: SourceFile) -> Parsed:
    rec = records(f.text).with_columns(process=pl.lit("TransparentInstaller"))
    return Parsed(events=finish_events(rec, SPEC.name, f))


SPEC = SourceSpec(
    name="transparent_installer_log",
    patterns=(r"(^|/)TransparentInstaller[^/]*\.log(\.\d+)?$",),
    parse=parse,
    description="Windows guest agent install/self-update log (line prefix unverified: every line kept)",
    platform="windows",
    priority=20,
    example_path="WindowsAzure/Logs/TransparentInstaller.log",
)
