"""What a loaded check is: one generic kind, its parameters, and what a hit of it means."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl


@dataclass(frozen=True)
class Also:
    """Rows of another config key reported beside a check that holds (``also:``)."""

    key: str
    weight: float
    note: str
    values: tuple[str, ...] | None = None  # lower-cased values that count; None: any value


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    kind: str
    cause: str | None  # None for status_code checks whose cause comes from the code table
    weight: float
    params: dict[str, Any] = field(hash=False)  # the kind's own keys, validated at load
    why: str = ""
    source: str | None = None  # URL or file@section backing the thresholds
    heuristic: bool = False
    reason: str | None = None  # one line, when heuristic
    group: str | None = None  # hits score as one signature named after the group
    also: tuple[Also, ...] = ()
    path: str = "<string>"
    line: int = 1

    @property
    def reports_as(self) -> str:
        """The ``signature`` value of this check's hits."""
        return self.group or self.id


@dataclass(frozen=True)
class Note:
    """A remark about a config value that is not a cause (``notes.yaml``)."""

    key: str
    text: str
    values_not: tuple[str, ...] | None = None  # show when the value is none of these; None: always


@dataclass(frozen=True)
class FactNote:
    """A remark about collected state that is not a cause (``notes.yaml``, ``note: facts``).

    Without ``item`` every matching fact gives its own note (``file:line:`` first); with it,
    the matching facts give one note whose ``{items}`` lists them (``{count}`` how many)."""

    subject: str  # regex, whole subject, case-insensitive; named groups are text fields
    key: str  # regex, whole key; named groups are text fields
    text: str
    matches: str | None = None  # regex the value must match (whole, case-insensitive)
    item: str | None = None  # template of one listed fact
    max_items: int = 5


#: The diagnosis hits frame: signature and check hits, one row per (hit, cause).
HIT_SCHEMA = {
    "signature": pl.String,
    "cause": pl.String,
    "weight": pl.Float64,
    "file": pl.String,
    "line": pl.Int64,
    "time": pl.Datetime("us", "UTC"),
    "source": pl.String,
    "text": pl.String,
    "note": pl.String,  # what a check concluded from the line (signature hits: null)
}
