"""The condition language's parsed form: small frozen dataclasses, compared with ``==``.

Written by :mod:`.parse`, read by :mod:`.compiler` (row predicates → polars), :mod:`.temporal`
(count / followed_by / absent) and :mod:`.prefilter`; tests compare whole trees.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

#: Default grouping of temporal forms: a sequence never spans two files unless asked to.
DEFAULT_BY: tuple[str, ...] = ("file",)
#: ``by none``: one group for the whole frame.
NO_GROUPING = "none"

TEXT_OPS = ("contains", "icontains", "startswith", "endswith")


@dataclass(frozen=True)
class Regex:
    """A ``/pattern/flags`` literal (the slashes removed, ``\\/`` turned into ``/``)."""

    pattern: str
    flags: str = ""

    @property
    def polars_pattern(self) -> str:
        """The pattern with its flags as an inline group, for polars' Rust regex engine."""
        return f"(?{''.join(sorted(set(self.flags)))}){self.pattern}" if self.flags else self.pattern


Scalar = str | int | float
Value = Scalar | tuple | Regex | None


@dataclass(frozen=True)
class Predicate:
    """``field op value``; ``field`` is an event column or ``data.NAME``."""

    field: str
    op: str  # contains icontains startswith endswith ~ !~ == != < <= > >= in exists
    value: Value = None

    @property
    def data_name(self) -> str | None:
        """NAME of a ``data.NAME`` predicate, else None."""
        return self.field[5:] if self.field.startswith("data.") else None


@dataclass(frozen=True)
class And:
    items: tuple


@dataclass(frozen=True)
class Or:
    items: tuple


@dataclass(frozen=True)
class Not:
    item: object


@dataclass(frozen=True)
class Duration:
    """``30s``, ``10m``, ``2h``, ``1d`` or ``500ms``; equal when written the same way."""

    text: str

    _UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}  # noqa: RUF012 (class constant)

    @property
    def delta(self) -> timedelta:
        m = re.fullmatch(r"(\d+)(ms|s|m|h|d)", self.text)
        if not m:
            raise ValueError(f"bad duration {self.text!r}")
        return timedelta(seconds=int(m.group(1)) * self._UNITS[m.group(2)])


@dataclass(frozen=True)
class Count:
    """``count(expr) >= minimum [within D] [by ...]``."""

    expr: object
    minimum: int
    within: Duration | None = None
    by: tuple[str, ...] = DEFAULT_BY


@dataclass(frozen=True)
class Sequence:
    """``first followed_by then within D`` or, with ``absent``, ``first not followed_by then``."""

    first: object
    then: object
    within: Duration
    by: tuple[str, ...] = DEFAULT_BY
    absent: bool = False


Node = Predicate | And | Or | Not
Top = Predicate | And | Or | Not | Count | Sequence


def is_temporal(tree: object) -> bool:
    return isinstance(tree, (Count, Sequence))

