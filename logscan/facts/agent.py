"""Which guest agent version the VM runs, decided once with one precedence.

Several sources tell an agent version: the goal-state agent line and heartbeat
(``goal_state_agent_version``, the ExtHandler that actually processes extensions), the status
files and the Windows agent's logs (``version``), and the daemon's banner (``daemon_version``,
which on Linux stays old while the ExtHandler updates itself). The version that matters for a
backup is the one handling extensions, so the precedence is goal-state agent → reported version
→ daemon, and within a key the newest row.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

#: Key precedence, most telling first.
PRECEDENCE: tuple[str, ...] = ("goal_state_agent_version", "version", "daemon_version")


@dataclass(frozen=True)
class AgentVersions:
    """The agent version the VM ran last, with the fact row it came from (for evidence)."""

    version: str | None = None
    key: str | None = None  # which fact key decided it (one of PRECEDENCE)
    daemon: str | None = None
    row: dict | None = None  # the deciding fact row: source, file, line, time, value
    seen: list[str] = field(default_factory=list)  # every version any source mentioned


def decide_agent(facts: pl.DataFrame) -> AgentVersions:
    """Apply :data:`PRECEDENCE` to the ``agent`` facts."""
    rows = facts.filter((pl.col("subject") == "agent") & pl.col("key").is_in(PRECEDENCE) & pl.col("value").is_not_null())
    if not rows.height:
        return AgentVersions()
    rank = {k: i for i, k in enumerate(PRECEDENCE)}
    ranked = rows.with_columns(_p=pl.col("key").replace_strict(rank, default=len(PRECEDENCE), return_dtype=pl.Int64))
    best = ranked.sort(["_p", "time"], descending=[False, True], nulls_last=True).drop("_p").row(0, named=True)
    daemon = rows.filter(pl.col("key") == "daemon_version").sort("time", nulls_last=False)
    all_versions = facts.filter((pl.col("subject") == "agent") & pl.col("key").str.ends_with("version"))
    return AgentVersions(
        version=best["value"],
        key=best["key"],
        daemon=daemon["value"][-1] if daemon.height else None,
        row=best,
        seen=sorted(set(all_versions["value"].drop_nulls().to_list())),
    )
