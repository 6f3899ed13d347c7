"""The facts layer: each fact that several sources can tell is decided here, once.

Checks, diagnosis, reports and the fleet read a :class:`Facts` instead of the raw ``facts``
frame, so they cannot disagree (the insights-core idea of *combiners*):

- :mod:`.identity`: VM names and ids, OS, platform, distribution family;
- :mod:`.agent`: the agent version, with one stated precedence;
- :mod:`.latest`: the latest value of every (subject, key), e.g. each extension's state;
- the bundle's time span (first and last timed event).

``decide(bundle)`` takes frames only (a :class:`~logscan.sources.ingest.LoadedBundle`); it
opens no file.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import datetime

import polars as pl

from .agent import PRECEDENCE, AgentVersions, decide_agent
from .identity import Identity, decide_identity, distro_family
from .latest import as_mapping, latest_values


@dataclass(frozen=True)
class TimeSpan:
    """First and last event time the bundle shows (events with a known time only)."""

    first: datetime | None = None
    last: datetime | None = None

    def covers(self, when: datetime) -> bool:
        return self.first is not None and self.last is not None and self.first <= when <= self.last


@dataclass(frozen=True)
class Facts:
    identity: Identity
    agent: AgentVersions
    span: TimeSpan
    latest: pl.DataFrame  # one row per (subject, key), FACT_SCHEMA
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # latest as {subject: {key: value}}

    def get(self, subject: str, key: str) -> str | None:
        return self.values.get(subject, {}).get(key)

    @property
    def extensions(self) -> dict[str, dict[str, str]]:
        """``{"Publisher.Type": {key: latest value}}`` for every extension any file names."""
        return {s[len("extension:") :]: kv for s, kv in self.values.items() if s.startswith("extension:")}


def time_span(events: pl.DataFrame) -> TimeSpan:
    if not events.height:
        return TimeSpan()
    first, last = events.select(pl.col("time").min().alias("first"), pl.col("time").max().alias("last")).row(0)
    return TimeSpan(first, last)


def decide(bundle) -> Facts:
    """Decide every combined fact of one loaded bundle (cached on the bundle)."""
    cached = getattr(bundle, "_decided_facts", None)
    if cached is not None:
        return cached
    facts: pl.DataFrame = bundle.facts
    latest = latest_values(facts)
    values = as_mapping(latest)
    first_seen: dict[str, str] = {}
    if facts.height:
        for key, value in facts.filter(pl.col("subject") == "vm").select("key", "value").iter_rows():
            if value and key not in first_seen:
                first_seen[key] = value
    platform = (bundle.coverage or {}).get("platform", "unknown")
    out = Facts(
        identity=decide_identity(bundle.name, values, first_seen, platform),
        agent=decide_agent(facts, bundle.events),
        span=time_span(bundle.events),
        latest=latest,
        values=values,
    )
    with contextlib.suppress(AttributeError, TypeError):  # a frozen or slotted bundle: no cache
        object.__setattr__(bundle, "_decided_facts", out)
    return out


__all__ = [
    "PRECEDENCE",
    "AgentVersions",
    "Facts",
    "Identity",
    "TimeSpan",
    "as_mapping",
    "decide",
    "decide_agent",
    "distro_family",
    "latest_values",
]
