"""Correlations between events: evidence that belongs to the same incident.

Windows Error Reporting logs a 1001 for the crash an Application Error 1000 reports; linking
them shows whether a dump was taken and where, next to the crash itself.
"""

from __future__ import annotations

import polars as pl

#: A GUID as Windows writes report ids (windows-events.md §4.1, §4.2).
_GUID = r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"


def _report_id(names: tuple[str, ...], position: int) -> pl.Expr:
    """The WER report id of an event: the named data item, else the positional one at
    ``position`` (0-based), else ``Report Id: <guid>`` in a rendered message (exports), lower-cased."""
    value = pl.element().struct.field("value")
    named = pl.col("data").list.eval(value.filter(pl.element().struct.field("name").is_in(list(names)))).list.first()
    positional = pl.col("data").list.get(position, null_on_oob=True).struct.field("value")
    rendered = pl.col("message").str.extract(rf"Report Id: ({_GUID})", 1)
    parts = [pl.when(e.str.contains(rf"^\s*{_GUID}\s*$")).then(e.str.strip_chars()) for e in (named, positional)]
    return pl.coalesce([*parts, rendered]).str.to_lowercase()


def link_wer(hits: pl.DataFrame, events: pl.DataFrame) -> pl.DataFrame:
    """Add the WER 1001 report of every Application Error 1000 hit as evidence of the same cause.

    Windows Error Reporting logs a 1001 whose ``ReportId`` (20th data item) equals the 1000's
    ``IntegratorReportId`` (13th item; ``Report Id:`` in rendered exports); it says whether a
    dump was taken and where. The rows added are marked ``signature = <sig>+wer`` with weight 0,
    so they show as evidence without changing any score.
    """
    if not hits.height or not events.height or not {"provider", "event_id", "data"} <= set(events.columns):
        return hits
    crash = (pl.col("provider") == "Application Error") & (pl.col("event_id") == 1000)
    report = (pl.col("provider") == "Windows Error Reporting") & (pl.col("event_id") == 1001)
    crashes = (
        events.filter(crash)
        .select("file", "line", _report_id(("IntegratorReportId", "ReportId"), 12).alias("_rid"))
        .drop_nulls()
        .unique()
    )
    if not crashes.height:
        return hits
    reports = events.filter(report).select(
        pl.col("file").alias("_file"),
        pl.col("line").alias("_line"),
        pl.col("time").alias("_time"),
        pl.col("source").alias("_source"),
        pl.coalesce("text", "message").alias("_text"),
        _report_id(("ReportId",), 19).alias("_rid"),
    ).drop_nulls("_rid")
    if not reports.height:
        return hits
    linked = hits.join(crashes, on=["file", "line"], how="inner").join(reports, on="_rid", how="inner")
    if not linked.height:
        return hits
    added = linked.select(
        (pl.col("signature") + "+wer").alias("signature"),
        "cause",
        pl.lit(0.0).alias("weight"),
        pl.col("_file").alias("file"),
        pl.col("_line").alias("line"),
        pl.col("_time").alias("time"),
        pl.col("_source").alias("source"),
        pl.col("_text").alias("text"),
        pl.lit("Windows Error Reporting record of the same crash (same report id)").alias("note"),
    ).unique(["signature", "cause", "file", "line"], maintain_order=True)
    return pl.concat([hits, added.cast(hits.schema)], how="vertical")  # type: ignore[arg-type]
