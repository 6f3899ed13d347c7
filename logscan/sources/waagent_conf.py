"""``/etc/waagent.conf`` (and the CoreOS/Flatcar, Clear Linux and FreeBSD locations) → ``conf`` facts.

The agent's own reader (``ConfigurationProvider.load``, ``linux-agent.md`` §6) is copied here
so the facts say what the agent saw, not what a person meant:

* each ``key=value`` line, split at the first ``=``, key stripped of spaces and kept *exactly*
  (keys are case-sensitive: a misspelt ``Extensions.Enable=n`` is a different, ignored key,
  which is precisely the Backup doc's typo trap, so it must stay visible as written);
* the value cut at the first ``#`` and stripped of spaces and ``"``;
* lines starting with ``#`` are comments (here also after leading spaces), lines without
  ``=`` are ignored. Later duplicates win in the agent; every one is kept with its line.

Whether a value is *valid* (switches accept only ``y``/``n``) is for the checks to judge.
"""

from __future__ import annotations

import polars as pl

from ..frames import FACT_SCHEMA, conform, empty
from .base import Parsed, SourceFile, SourceSpec, extract, lines_frame

NAME = "waagent_conf"
LINE = r"^(?P<conf_key>[^=]*)=(?P<conf_value>.*)$"


def parse(f: SourceFile) -> Parsed:
    df = lines_frame(f.text)
    if not df.height:
        return Parsed(facts=empty(FACT_SCHEMA))
    df = df.filter(~pl.col("raw").str.strip_chars_start().str.starts_with("#") & pl.col("raw").str.contains("=", literal=True))
    df = extract(df, "raw", LINE)
    key = pl.col("conf_key").str.strip_chars()
    value = pl.col("conf_value").str.split("#").list.first().str.strip_chars('" ').str.strip_chars()
    facts = df.filter(key != "").select(
        source=pl.lit(NAME),
        file=pl.lit(f.display),
        line=pl.col("idx") + 1,
        subject=pl.lit("conf"),
        key=key,
        value=value,
    )
    return Parsed(facts=conform(facts, FACT_SCHEMA))


SPEC = SourceSpec(
    name=NAME,
    patterns=(r"(^|/)waagent\.conf$",),
    parse=parse,
    description="Linux agent configuration: every key=value as written (etc/, usr/share/oem/, usr/local/etc/)",
    platform="linux",
    priority=30,
    expected=True,  # in every -collect-logs manifest; without it Extensions.Enabled cannot be checked
    example_path="etc/waagent.conf",
)
