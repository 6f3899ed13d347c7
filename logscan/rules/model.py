"""The signature model: what one loaded signature is, and the shape of the hits it gives.

A signature file (``logscan/content/signatures/**/*.yaml``) holds one signature, a YAML list
of them (a family), or several ``---`` documents of either. Keys follow Sigma where Sigma has
one::

    title: VMSnapshot could not freeze the file systems
    id: vmsnapshot-fsfreeze-failed          # unique, kebab-case
    status: stable                          # stable | test | experimental (default)
    level: high                             # informational | low | medium | high | critical
    description: ...
    references: [https://learn.microsoft.com/...]
    falsepositives: [A retry that later succeeded]
    tags: [linux, vmsnapshot]
    logsource: {sources: [vmsnapshot_log]}  # names from logscan.sources.registry(); omitted = all
    causes: [fs-freeze-failed]              # required; ids of knowledge/causes.yaml
    error_codes: [UserErrorFsFreezeFailed]  # optional
    condition: message contains "FsFreezeFailed" and level == "ERROR"
    tests:                                  # required, at least one of each
      match:
        - "2024-05-30 13:15:00 ERROR ... FsFreezeFailed ..."    # text, parsed as the first source
        - {source: waagent_log, text: "..."}                   # text for another source
        - {events: [{provider: VSS, event_id: 12289, time: "2024-05-30T13:15:00Z"}]}
      nomatch:
        - "..."

Besides Sigma's keys, ``author``, ``date``, ``modified``, ``license``, ``related`` and
``fields`` are accepted and kept in :attr:`Signature.extra`; any other key is an error, so a
typo (``conditon:``) never silently disables a signature. (An ``evidence:`` key once capped
the evidence lines per signature but was never applied; it is gone, and diagnosis alone
decides how many lines a finding quotes.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import polars as pl

from ..frames import EVENT_SCHEMA
from .compiler import compile_expr
from .tree import Count, Sequence, is_temporal

#: Diagnosis weight of a hit, from the signature's Sigma level.
LEVEL_WEIGHTS: dict[str, float] = {"informational": 0.1, "low": 0.3, "medium": 0.5, "high": 0.8, "critical": 1.0}
STATUSES = ("stable", "test", "experimental")

REQUIRED_KEYS = ("title", "id", "level", "causes", "condition", "tests")
OPTIONAL_KEYS = ("status", "description", "references", "falsepositives", "tags", "logsource", "error_codes")
SIGMA_EXTRA_KEYS = ("author", "date", "modified", "license", "related", "fields")
ALLOWED_KEYS = REQUIRED_KEYS + OPTIONAL_KEYS + SIGMA_EXTRA_KEYS
LOGSOURCE_KEYS = ("sources", "product", "service", "category")  # Sigma's three are accepted and ignored

ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

#: The hits frame :func:`logscan.rules.evaluate.evaluate` returns. ``level`` is the
#: *signature's* level (what diagnosis weighs), ``event_level`` the event's own; ``row``
#: indexes the evaluated frame. ``role``: ``match`` (plain and count), ``first``/``then``
#: (followed_by pairs), ``start`` (absent). ``group`` numbers the occurrences, pairs or
#: windows of a signature from 1.
HIT_SCHEMA: dict[str, pl.DataType] = {
    "signature": pl.String(),
    "level": pl.String(),
    "role": pl.String(),
    "group": pl.Int64(),
    "file": pl.String(),
    "line": pl.Int64(),
    "time": EVENT_SCHEMA["time"],
    "source": pl.String(),
    "event_level": pl.String(),
    "text": pl.String(),
    "row": pl.Int64(),
}


@dataclass(frozen=True)
class Example:
    """One ``tests:`` item: text for a source's parser, or event rows given directly."""

    expect: str  # "match" | "nomatch"
    line: int  # where the item starts in the signature file
    source: str | None = None
    text: str | None = None
    events: tuple = field(default=(), hash=False)  # tuple of dicts (rows)


@dataclass(frozen=True)
class Signature:
    id: str
    title: str
    level: str
    condition: str
    tree: Any  # the parsed condition (logscan.rules.tree)
    causes: tuple[str, ...]
    sources: tuple[str, ...] | None = None  # None: every source
    status: str = "experimental"
    description: str = ""
    references: tuple[str, ...] = ()
    falsepositives: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    error_codes: tuple[str, ...] = ()
    tests: tuple[Example, ...] = ()
    path: str = "<string>"
    line: int = 1
    extra: tuple[tuple[str, Any], ...] = field(default=(), hash=False, compare=False)

    @property
    def weight(self) -> float:
        """How much one hit of this signature counts in diagnosis (from ``level``)."""
        return LEVEL_WEIGHTS[self.level]

    @property
    def temporal(self) -> bool:
        return is_temporal(self.tree)

    @property
    def parts(self) -> list:
        """The row-level trees: the condition, the inside of ``count``, or A and B of a sequence."""
        t = self.tree
        return [t.expr] if isinstance(t, Count) else [t.first, t.then] if isinstance(t, Sequence) else [t]

    @cached_property
    def exprs(self) -> tuple[pl.Expr, ...]:
        """The compiled row predicates of :attr:`parts`, scoped to the signature's sources.

        Compiled once per signature object.
        """
        out = []
        for p in self.parts:
            e = compile_expr(p)
            if self.sources:
                e = pl.col("source").is_in(list(self.sources)).fill_null(False) & e
            out.append(e)
        return tuple(out)
