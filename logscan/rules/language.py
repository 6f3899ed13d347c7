"""The signature condition language: parse (lark) → tree (dataclasses) → polars expressions.

A facade over :mod:`.tree`, :mod:`.parse`, :mod:`.compiler` and :mod:`.temporal` (one job each),
so ``from logscan.rules.language import ...`` keeps working.

A condition is parsed once, when the signature set loads, with the LALR grammar in
``grammars/signature.lark``; the tree becomes small frozen dataclasses (so tests compare
trees with ``==``) and every row-level part compiles to one boolean ``pl.Expr`` over the
event frame (:data:`logscan.frames.EVENT_SCHEMA`). No Python runs per log line.

Semantics worth knowing when writing signatures:

* A predicate on a null field is false; ``!=`` and ``!~`` are the negation of ``==`` and
  ``~``, so ``level != "INFO"`` holds for a null level. ``not`` inverts a false to a true.
* ``contains``/``startswith``/``endswith`` are literal and case-sensitive, ``icontains`` is
  case-insensitive (Unicode); a list means "any of". ``~ /re/flags`` is a Rust regex (no
  look-around or back-references), searched anywhere in the value; flags ``i``, ``s``, ``m``.
* ``<``, ``<=``, ``>``, ``>=`` compare numbers (a string column is read as a number, rows that
  are not numbers are false); ``time`` compares with an ISO 8601 string (UTC when no zone).
* ``data.NAME <op> ...`` holds when *any* EventData value named NAME satisfies the predicate;
  ``data.NAME exists`` when the event has such a value; ``data["Any name"]`` for other names.
* A bare ``"text"`` means ``message contains "text"``, a bare ``/re/`` ``message ~ /re/``.
* Temporal forms, at the top level only (see :func:`count_hits`, :func:`sequence_hits`):
  ``count(X) >= N [within D] [by F, ...]``, ``X followed_by Y within D [by ...]`` and
  ``X not followed_by Y within D [by ...]`` ("absent"). ``by`` defaults to ``file``;
  ``by none`` makes the whole frame one group (needed when X and Y come from different files).
  ``count(X) > N`` is stored as ``>= N+1``.
"""

from __future__ import annotations

from ..errors import SignatureError
from .compiler import compile_expr, rx_escape
from .parse import ConditionError, grammar_text, parse_condition, parser
from .temporal import count_hits, sequence_hits
from .tree import And, Count, Duration, Not, Or, Predicate, Regex, Sequence, is_temporal

__all__ = [
    "And",
    "ConditionError",
    "Count",
    "Duration",
    "Not",
    "Or",
    "Predicate",
    "Regex",
    "Sequence",
    "SignatureError",
    "compile_expr",
    "count_hits",
    "grammar_text",
    "is_temporal",
    "parse_condition",
    "parser",
    "rx_escape",
    "sequence_hits",
]
