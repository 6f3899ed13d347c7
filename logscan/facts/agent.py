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

#: Key precedence, most telling first. ``log_version`` is the last resort: the version in the
#: logger prefix of 2.2-era lines ("INFO WALinuxAgent-2.2.15 waiting for ..."), used only when
#: no banner, heartbeat or status file says it (an excerpt pasted into a ticket).
PRECEDENCE: tuple[str, ...] = ("goal_state_agent_version", "version", "daemon_version", "log_version")

#: Where an agent line names the running agent in its prefix (2.2.x) or as its subject.
_LOG_VERSION = r"^(?:Agent )?WALinuxAgent-(\d+\.\d+\.\d+(?:\.\d+)?) (?:waiting|forcibly|is running|launched|failed with exception)"


@dataclass(frozen=True)
class AgentVersions:
    """The agent version the VM ran last, with the fact row it came from (for evidence)."""

    version: str | None = None
    key: str | None = None  # which fact key decided it (one of PRECEDENCE)
    daemon: str | None = None
    row: dict | None = None  # the deciding fact row: source, file, line, time, value
    seen: list[str] = field(default_factory=list)  # every version any source mentioned


def log_version_rows(events: pl.DataFrame) -> pl.DataFrame:
    """``agent/log_version`` fact rows from agent log lines that name the running version."""
    if not events.height:
        return pl.DataFrame()
    agent = events.filter(pl.col("source").is_in(["waagent_log", "syslog"]))
    if not agent.height:
        return pl.DataFrame()
    found = agent.select(
        "source", "file", "line", "time", value=pl.col("message").str.extract(_LOG_VERSION, 1)
    ).filter(pl.col("value").is_not_null())
    return found.with_columns(subject=pl.lit("agent"), key=pl.lit("log_version")).select(
        "source", "file", "line", "time", "subject", "key", "value"
    )


def decide_agent(facts: pl.DataFrame, events: pl.DataFrame | None = None) -> AgentVersions:
    """Apply :data:`PRECEDENCE` to the ``agent`` facts (and, failing those, the agent log's
    own prefix)."""
    rows = facts.filter((pl.col("subject") == "agent") & pl.col("key").is_in(PRECEDENCE) & pl.col("value").is_not_null())
    if not rows.height and events is not None:
        logged = log_version_rows(events)
        if logged.height:
            rows = logged.cast({c: facts.schema[c] for c in logged.columns if c in facts.schema})
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
