"""Never silent: the ERROR/WARNING lines no signature or check explained, as templates.

A bundle can hold trouble no signature knows yet. Those lines are grouped into templates with
Drain3 (the same miner the fleet summary uses) so a person sees "this error, 40 times, first
at file:line" instead of nothing. Known-benign messages (``content/benign.yaml``) are left out.
"""

from __future__ import annotations

import polars as pl

from ..frames import PROBLEM_LEVELS
from .benign import benign_mask

#: Templates listed per VM; distinct lines fed to the miner (the rest are counted, not mined).
MAX_TEMPLATES = 15
MAX_DISTINCT = 5000
TEXT_MAX = 300

#: Drain3 masks: variable parts of agent/extension messages that must not split templates.
MASKS = (
    (r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", "GUID"),
    (r"https?://[^\s\"',;\]]+", "URL"),
    (r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?Z?", "TIME"),
    (r"(?<=-)\d+(?:\.\d+){1,3}\b", "VER"),  # WALinuxAgent-2.11.1.4, Name-1.0.9224.0
    (r"(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?(?![\d.])", "IP"),
    (r"(?<=[=:\s])0x[0-9a-fA-F]+\b", "HEX"),
    (r"(?<![A-Za-z])\d+(?:\.\d+)*(?![A-Za-z])", "NUM"),
)


def template_miner():
    """A Drain3 miner configured in code (no ini file, no persistence)."""
    from drain3 import TemplateMiner
    from drain3.masking import MaskingInstruction
    from drain3.template_miner_config import TemplateMinerConfig

    cfg = TemplateMinerConfig()
    cfg.masking_instructions = [MaskingInstruction(p, m) for p, m in MASKS]
    cfg.drain_sim_th = 0.5
    cfg.drain_depth = 4
    cfg.parametrize_numeric_tokens = True
    cfg.profiling_enabled = False
    return TemplateMiner(persistence_handler=None, config=cfg)


def unexplained_events(events: pl.DataFrame, hits: pl.DataFrame | None) -> pl.DataFrame:
    """Problem-level records that no hit points at and no benign family covers."""
    if not events.height:
        return events
    ev = events.filter(pl.col("level").is_in(PROBLEM_LEVELS))
    if hits is not None and hits.height and ev.height:
        keys = hits.filter(pl.col("file").is_not_null() & pl.col("line").is_not_null()).select("file", "line").unique()
        ev = ev.join(keys, on=["file", "line"], how="anti")
    if ev.height:
        ev = ev.filter(~benign_mask(ev))
    return ev


def first_line(limit: int = TEXT_MAX) -> pl.Expr:
    """A record's first line (message, else text), stripped and cut: tracebacks and wrapped
    continuations vary more than the error they belong to."""
    return (
        pl.coalesce(pl.col("message"), pl.col("text"), pl.lit(""))
        .str.split("\n")
        .list.first()
        .str.strip_chars()
        .str.slice(0, limit)
    )


def unexplained_templates(events: pl.DataFrame, hits: pl.DataFrame | None, limit: int = MAX_TEMPLATES) -> list[dict]:
    """Templates of unexplained lines: ``template, count, levels, first (file:line), sample``,
    most frequent first."""
    ev = unexplained_events(events, hits)
    if not ev.height:
        return []
    distinct = (
        ev.with_row_index("_order")
        .select("_order", "file", "line", "level", msg=first_line())
        .filter(pl.col("msg") != "")
        .group_by("msg", maintain_order=True)
        .agg(
            count=pl.len(),
            first_order=pl.col("_order").min(),
            file=pl.col("file").first(),
            line=pl.col("line").first(),
            levels=pl.col("level").unique().sort(),
        )
        .sort("first_order")
    )
    if not distinct.height:
        return []
    miner = template_miner()
    groups: dict[int, dict] = {}
    for row in distinct.head(MAX_DISTINCT).iter_rows(named=True):
        cid = miner.add_log_message(row["msg"])["cluster_id"]
        g = groups.setdefault(
            cid, {"count": 0, "levels": set(), "first": f"{row['file']}:{row['line']}", "sample": row["msg"], "order": row["first_order"]}
        )
        g["count"] += int(row["count"])
        g["levels"].update(row["levels"])
    templates = {c.cluster_id: c.get_template() for c in miner.drain.clusters}
    out = [
        {
            "template": templates.get(cid, g["sample"]),
            "count": g["count"],
            "levels": sorted(g["levels"]),
            "first": g["first"],
            "sample": g["sample"],
        }
        for cid, g in sorted(groups.items(), key=lambda kv: (-kv[1]["count"], kv[1]["order"]))
    ]
    return out[:limit]
