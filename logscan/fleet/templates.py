"""Unexplained lines grouped into templates with Drain3: candidates for new signatures."""

from __future__ import annotations

import polars as pl

from .schemas import SUMMARY_EXAMPLES, SUMMARY_TEMPLATES

#: Drain3 masks: variable parts of agent/extension messages that must not split templates.
_MASKS = (
    (r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", "GUID"),
    (r"https?://[^\s\"',;\]]+", "URL"),
    (r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?Z?", "TIME"),
    (r"(?<=-)\d+(?:\.\d+){1,3}\b", "VER"),  # WALinuxAgent-2.11.1.4, Name-1.0.9224.0
    (r"(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?(?![\d.])", "IP"),
    (r"(?<=[=:\s])0x[0-9a-fA-F]+\b", "HEX"),
    (r"(?<![A-Za-z])\d+(?:\.\d+)*(?![A-Za-z])", "NUM"),
)


def mine_templates(unexplained: pl.DataFrame, limit: int = SUMMARY_TEMPLATES) -> list[dict]:
    """Group the fleet's unexplained lines into templates (Drain3), most widespread first.

    Lines are fed in a fixed order (sorted) so the same fleet always gives the same templates,
    whichever executor produced it. Drain3 is configured in code: no ini file, no persistence.
    """
    if not unexplained.height:
        return []
    from drain3 import TemplateMiner
    from drain3.masking import MaskingInstruction
    from drain3.template_miner_config import TemplateMinerConfig

    cfg = TemplateMinerConfig()
    cfg.masking_instructions = [MaskingInstruction(p, m) for p, m in _MASKS]
    cfg.drain_sim_th = 0.5
    cfg.drain_depth = 4
    cfg.parametrize_numeric_tokens = True
    cfg.profiling_enabled = False
    miner = TemplateMiner(persistence_handler=None, config=cfg)

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
