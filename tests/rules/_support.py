"""What the check tests share: the part of a loaded bundle that checks read."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from logscan.frames import events_from_records


@dataclass
class Bundle:
    """The part of a LoadedBundle that checks read."""

    facts: pl.DataFrame
    events: pl.DataFrame = field(default_factory=lambda: events_from_records([]))
    name: str = "vm"
    coverage: dict = field(default_factory=lambda: {"platform": "linux"})
