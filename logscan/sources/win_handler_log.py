"""Windows extension handler logs in the forms handlers write (read for ``win_plugin_log``).

``CommandExecution.log`` blocks (``[MM/DD/YYYY hh:mm:ss.ff] Executing: <cmd>``, ``Execution
Complete.``, ``######``, ``Execution Output:``/``Execution Error:`` then raw console output),
tab-separated handler logs (``<ISO time>\\t[Level]:\\t<msg>``), DSC-style logs (``VERBOSE:
[YYYY-MM-DD hh:mm:ssZ] …``, hard-wrapped at 80 columns: the wrapped rest has no header and
joins its record) and CustomScript handler logs (``[pid+tid] [MM/DD/YYYY hh:mm:ss.ff] [LEVEL]
msg``). A header opens a record; anything else continues the one above. A block with an
``Execution Error:`` part, and DSC lines whose text reports an error, are ERROR.
"""

from __future__ import annotations

import re

import polars as pl

from ..frames import TimeBasis, normalise_level
from .base import build_records, extract, lines_frame, parse_times, utc

HEADER = (
    r"^(?:\[(?P<ce_ts>\d\d/\d\d/\d{4} \d\d:\d\d:\d\d(?:\.\d+)?)\] (?P<ce_msg>.*)"
    r"|(?P<tab_ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z?)\t\[(?P<tab_lvl>\w+)\]:\t(?P<tab_msg>.*)"
    r"|(?P<dsc_lvl>VERBOSE|WARNING|ERROR|DEBUG): \[(?P<dsc_ts>\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ?)\] (?P<dsc_msg>.*)"
    r"|\[(?P<cs_pid>\d+)\+(?P<cs_tid>\d+)\] \[(?P<cs_ts>\d\d/\d\d/\d{4} \d\d:\d\d:\d\d(?:\.\d+)?)\] \[(?P<cs_lvl>\w+)\] (?P<cs_msg>.*))$"
)
FORMS = re.compile(r"(?m)^(?:\[\d\d/\d\d/\d{4} [\d:.]+\] Execut|\d{4}-\d\d-\d\dT[\d:.]+Z?\t\[\w+\]:\t|VERBOSE: \[\d{4}-|\[\d+\+\d+\] \[)")
ERROR_WORDS = r"(?i)\berror|exception|failed|fault"


def handles(text: str) -> bool:
    """True when ``text`` is written in one of the handler forms read here."""
    return FORMS.search(text[:65536]) is not None


def records(text: str) -> pl.DataFrame:
    """One row per record, with ``time``, ``time_raw``, ``time_basis``, ``level``, ``thread``,
    ``message``, ``text`` and ``line``."""
    df = extract(lines_frame(text), "raw", HEADER)
    df = df.with_columns(is_header=pl.coalesce("ce_ts", "tab_ts", "dsc_ts", "cs_ts").is_not_null())
    keep = ["ce_ts", "ce_msg", "tab_ts", "tab_lvl", "tab_msg", "dsc_lvl", "dsc_ts", "dsc_msg", "cs_pid", "cs_tid", "cs_ts", "cs_lvl", "cs_msg"]
    rec = build_records(df, keep=keep)
    first_len = pl.col("text").str.split("\n").list.first().str.len_chars()
    rest = pl.when(pl.col("text").str.contains("\n")).then(pl.col("text").str.slice(first_len)).otherwise(pl.lit(""))
    head_msg = pl.coalesce("ce_msg", "tab_msg", "dsc_msg", "cs_msg")
    stated = normalise_level(pl.coalesce("tab_lvl", "cs_lvl", "dsc_lvl"))
    rec = rec.with_columns(
        time_raw=pl.coalesce("ce_ts", "tab_ts", "dsc_ts", "cs_ts"),
        time=pl.coalesce(
            utc(parse_times(pl.coalesce("ce_ts", "cs_ts"), ["%m/%d/%Y %H:%M:%S%.f", "%m/%d/%Y %H:%M:%S"])),
            utc(parse_times(pl.col("tab_ts").str.strip_suffix("Z"), ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S"])),
            utc(parse_times(pl.col("dsc_ts").str.strip_suffix("Z"), ["%Y-%m-%d %H:%M:%S"])),
        ),
        thread=pl.col("cs_tid"),
        message=pl.coalesce(head_msg + rest, pl.col("text")),
    )
    block_error = pl.col("text").str.contains(r"(?m)^Execution Error:")
    keyworded = pl.col("message").str.contains(ERROR_WORDS)
    return rec.with_columns(
        time_basis=pl.when(pl.col("time").is_null())
        .then(pl.lit(TimeBasis.NONE))
        .when(pl.coalesce("tab_ts", "dsc_ts").str.ends_with("Z"))
        .then(pl.lit(TimeBasis.UTC))
        .otherwise(pl.lit(TimeBasis.LOCAL_ASSUMED_UTC)),
        level=pl.when(block_error)
        .then(pl.lit("ERROR"))
        .when(stated.is_in(["VERBOSE", "DEBUG", "INFO"]).fill_null(True) & pl.col("dsc_ts").is_not_null() & keyworded)
        .then(pl.lit("ERROR"))
        .when(stated.is_null() & keyworded)
        .then(pl.lit("ERROR"))
        .otherwise(stated),
        extension=pl.lit(None, pl.String),
        ext_version=pl.lit(None, pl.String),
    ).drop(keep)
