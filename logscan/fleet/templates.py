"""Unexplained lines grouped into templates with Drain3: candidates for new signatures."""

from __future__ import annotations

import polars as pl

from ..diagnosis.unexplained import template_miner
from .schemas import SUMMARY_EXAMPLES, SUMMARY_TEMPLATES


def mine_templates(unexplained: pl.DataFrame, limit: int = SUMMARY_TEMPLATES) -> list[dict]:
    """Group the fleet's unexplained lines into templates (Drain3), most widespread first.

    Lines are fed in a fixed order (sorted) so the same fleet always gives the same templates,
    whichever executor produced it. Drain3 is configured in code: no ini file, no persistence.
    """
    if not unexplained.height:
        return []
    miner = template_miner()

    df = unexplained.sort("message", "level", "source", "vm")
    msgs = df.group_by("message", maintain_order=True).agg(
        pl.col("vm").unique().sort(), pl.col("count").sum(), pl.col("level").unique().sort()
    )
    per_cluster: dict[int, dict] = {}
    for message, vms, count, levels in msgs.iter_rows():
        cid = miner.add_log_message(message)["cluster_id"]
        c = per_cluster.setdefault(cid, {"vms": set(), "lines": 0, "levels": set(), "sample": message})
        c["vms"].update(vms)
        c["lines"] += int(count)
        c["levels"].update(levels)
    clusters = {c.cluster_id: c for c in miner.drain.clusters}
    out = []
    for cid, c in per_cluster.items():
        vms = sorted(c["vms"])
        out.append(
            {
                "template": clusters[cid].get_template() if cid in clusters else c["sample"],
                "vms": len(vms),
                "lines": c["lines"],
                "levels": sorted(c["levels"]),
                "sample": c["sample"],
                "vm_list": vms[:SUMMARY_EXAMPLES],
            }
        )
    out.sort(key=lambda r: (-r["vms"], -r["lines"], r["template"]))
    return out[:limit]
