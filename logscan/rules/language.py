"""The signature condition language: parse (lark) → AST (dataclasses) → polars expressions.

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

import difflib
import functools
import operator
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cache
from importlib import resources
from pathlib import Path

import lark
import polars as pl

from ..errors import SignatureError
from ..frames import EVENT_SCHEMA

GRAMMAR_FILE = "signature.lark"

#: Default grouping of temporal forms: a sequence never spans two files unless asked to.
DEFAULT_BY: tuple[str, ...] = ("file",)
#: ``by none``: one group for the whole frame.
NO_GROUPING = "none"

TEXT_OPS = ("contains", "icontains", "startswith", "endswith")
_INT64_MAX = 2**63 - 1


# ---------------------------------------------------------------------------------------
# AST
# ---------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------------------


class ConditionError(SignatureError):
    """An error at ``offset`` (0-based, in the condition string); mapped to file:line:col later."""

    def __init__(self, message: str, offset: int):
        super().__init__(f"{message} (at offset {offset})")
        self.message = message
        self.offset = offset


def grammar_text() -> str:
    """The grammar, from the installed ``logscan.grammars`` package or the source tree."""
    try:
        return (resources.files("logscan.grammars") / GRAMMAR_FILE).read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        # Running from a checkout that is not installed: grammars/ sits beside logscan/.
        return (Path(__file__).resolve().parents[2] / "grammars" / GRAMMAR_FILE).read_text(encoding="utf-8")


@cache
def parser() -> lark.Lark:
    return lark.Lark(grammar_text(), parser="lalr", lexer="contextual", maybe_placeholders=False)


_TERMINAL_NAMES = {
    "FIELD": "a field name",
    "DATA_FIELD": "data.NAME",
    "STRING": "a string",
    "NUMBER": "a number",
    "REGEX": "a /regex/",
    "DURATION": "a duration (30s, 10m, 2h, 1d)",
    "TEXT_OP": "contains/icontains/startswith/endswith",
    "MATCH_OP": "~ or !~",
    "CMP_OP": "a comparison (== != < <= > >=)",
    "FOLLOWED_BY": "followed_by",
    "NOT_FOLLOWED_BY": "not followed_by",
    "$END": "the end of the condition",
}


def _describe(names: set[str] | frozenset[str]) -> str:
    out = set()
    p = parser()
    for n in names:
        if n in _TERMINAL_NAMES:
            out.add(_TERMINAL_NAMES[n])
            continue
        try:
            pat = p.get_terminal(n).pattern
            out.add(repr(pat.value) if isinstance(pat, lark.lexer.PatternStr) else n)
        except KeyError:
            out.add(n)
    return ", ".join(sorted(out))


def parse_condition(text: str) -> Top:
    """Parse a condition string into its AST; raises :class:`ConditionError` with an offset."""
    if not isinstance(text, str) or not text.strip():
        raise ConditionError("the condition is empty", 0)
    try:
        tree = parser().parse(text)
    except lark.exceptions.UnexpectedCharacters as exc:
        raise ConditionError(f"unexpected character {text[exc.pos_in_stream]!r}", exc.pos_in_stream) from None
    except lark.exceptions.UnexpectedToken as exc:
        tok = exc.token
        if tok.type == "$END":
            raise ConditionError(f"the condition ends too early; expected {_describe(exc.expected)}", len(text)) from None
        pos = tok.start_pos if tok.start_pos is not None else len(text)
        raise ConditionError(f"unexpected {tok.value!r}; expected {_describe(exc.expected)}", pos) from None
    except lark.exceptions.UnexpectedEOF as exc:
        raise ConditionError(f"the condition ends too early; expected {_describe(set(exc.expected))}", len(text)) from None
    except lark.exceptions.LarkError as exc:  # any other parser complaint
        raise ConditionError(str(exc).splitlines()[0], 0) from None
    try:
        return _Builder().top(tree)
    except RecursionError:
        raise ConditionError("the condition is nested too deeply", 0) from None


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0"}


def _unquote(tok: lark.Token) -> str:
    body = tok.value[1:-1]
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), body, flags=re.DOTALL)


def _parse_time(value: str, offset: int) -> datetime:
    v = value.strip().replace(" ", "T", 1)
    if v.endswith(("Z", "z")):
        v = v[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(v)
    except ValueError:
        raise ConditionError(f"{value!r} is not an ISO 8601 time", offset) from None
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)


@cache
def _regex_problem(pattern: str) -> str | None:
    """polars' (Rust) verdict on a pattern, so a bad regex fails at load, not at evaluation."""
    try:
        pl.Series([""], dtype=pl.String).str.contains(pattern)
    except Exception as exc:  # polars raises ComputeError; anything else is just as fatal
        lines = [ln for ln in str(exc).splitlines() if ln.strip().startswith("error:")]
        return lines[0].strip() if lines else str(exc).splitlines()[0]
    return None


def _dtype(field_name: str) -> pl.DataType:
    return pl.String() if field_name.startswith("data.") else EVENT_SCHEMA[field_name]


def _is_numeric(dtype: pl.DataType) -> bool:
    return dtype.is_numeric()


class _Builder:
    """Lark tree → AST, checking fields and value types (errors carry the token offset)."""

    def top(self, t: lark.Tree | lark.Token) -> Top:
        if isinstance(t, lark.Tree) and t.data == "count":
            return self.count(t)
        if isinstance(t, lark.Tree) and t.data == "sequence":
            return self.sequence(t)
        return self.expr(t)

    # --- temporal ---------------------------------------------------------------------
    def _window_by(self, rest: list) -> tuple[Duration | None, tuple[str, ...]]:
        within, by = None, DEFAULT_BY
        for t in rest:
            if t.data == "window":
                tok = t.children[0]
                within = Duration(tok.value)
                if within.delta <= timedelta(0):
                    raise ConditionError("a window must be longer than 0", tok.start_pos)
            else:
                names = [tok for tok in t.children]
                if len(names) == 1 and names[0].value == NO_GROUPING:
                    by = ()
                else:
                    for tok in names:
                        self._check_field(tok.value, tok.start_pos)
                        if tok.value == "data":
                            raise ConditionError("cannot group by data", tok.start_pos)
                    by = tuple(tok.value for tok in names)
        return within, by

    def count(self, t: lark.Tree) -> Count:
        expr, op, num, *rest = t.children
        if op.value not in (">=", ">"):
            raise ConditionError(f"count supports >= and >, not {op.value}", op.start_pos)
        if not re.fullmatch(r"\d+", num.value):
            raise ConditionError("count needs a whole number", num.start_pos)
        n = int(num.value) + (1 if op.value == ">" else 0)
        if n < 1 or n > 1_000_000_000:
            raise ConditionError("count must be between 1 and 1e9", num.start_pos)
        within, by = self._window_by(rest)
        return Count(self.expr(expr), n, within, by)

    def sequence(self, t: lark.Tree) -> Sequence:
        first, kw, then, *rest = t.children
        within, by = self._window_by(rest)
        assert within is not None  # the grammar requires it
        return Sequence(self.expr(first), self.expr(then), within, by, absent=kw.type == "NOT_FOLLOWED_BY")

    # --- boolean ----------------------------------------------------------------------
    def expr(self, t: lark.Tree | lark.Token) -> Node:
        if isinstance(t, lark.Token):  # a lone token is never an expression; the grammar forbids it
            raise ConditionError(f"unexpected {t.value!r}", t.start_pos or 0)
        kind = t.data
        if kind in ("or_expr", "and_expr"):
            items: list = []
            cls = Or if kind == "or_expr" else And
            for c in t.children:
                node = self.expr(c)
                items.extend(node.items if isinstance(node, cls) else [node])
            return cls(tuple(items))
        if kind == "not_":
            return Not(self.expr(t.children[0]))
        if kind == "bare_string":
            return Predicate("message", "contains", _unquote(t.children[0]))
        if kind == "bare_regex":
            return Predicate("message", "~", self.regex(t.children[0]))
        if kind in ("text_pred", "regex_pred", "cmp_pred", "in_pred", "exists_pred"):
            return self.predicate(t)
        if kind in ("count", "sequence"):
            raise ConditionError(f"{kind} is only allowed at the top of a condition", self._pos(t))
        raise ConditionError(f"unexpected {kind}", self._pos(t))

    def _pos(self, t: lark.Tree | lark.Token) -> int:
        if isinstance(t, lark.Token):
            return t.start_pos or 0
        for c in t.children:
            return self._pos(c)
        return 0

    # --- predicates -------------------------------------------------------------------
    def _check_field(self, name: str, pos: int) -> None:
        if name.startswith("data.") or name.startswith("data["):
            return
        if name not in EVENT_SCHEMA:
            close = difflib.get_close_matches(name, list(EVENT_SCHEMA), n=1)
            hint = f"did you mean {close[0]!r}?" if close else "see logscan.frames.EVENT_SCHEMA, or data.NAME"
            raise ConditionError(f"unknown field {name!r} ({hint})", pos)

    def field(self, t: lark.Tree) -> tuple[str, int]:
        tok = t.children[0]
        name = tok.value
        if tok.type == "DATA_FIELD" and name.startswith("data["):
            name = "data." + _unquote(lark.Token("STRING", name[5:-1]))
        self._check_field(name, tok.start_pos)
        return name, tok.start_pos

    def regex(self, tok: lark.Token) -> Regex:
        body, _, flags = tok.value[1:].rpartition("/")
        bad = set(flags) - set("ism")
        if bad:
            raise ConditionError(f"unknown regex flag(s) {''.join(sorted(bad))!r} (use i, s, m)", tok.start_pos)
        rx = Regex(body.replace("\\/", "/"), "".join(dict.fromkeys(flags)))
        problem = _regex_problem(rx.polars_pattern)
        if problem:
            raise ConditionError(f"bad regex: {problem}", tok.start_pos)
        return rx

    def scalar(self, tok: lark.Token) -> Scalar:
        if tok.type == "STRING":
            return _unquote(tok)
        if "." in tok.value:
            return float(tok.value)
        n = int(tok.value)
        if abs(n) > _INT64_MAX:
            raise ConditionError("number out of range", tok.start_pos)
        return n

    def _coerce(self, name: str, value: Scalar, tok: lark.Token, op: str) -> Scalar:
        """Check a literal against the field's type; numbers in strings become numbers."""
        dtype = _dtype(name)
        if name == "time":
            if not isinstance(value, str):
                raise ConditionError("time compares with an ISO 8601 string", tok.start_pos)
            _parse_time(value, tok.start_pos)
            return value
        if name == "data":
            raise ConditionError("use data.NAME to test an EventData value (data itself only supports exists)", tok.start_pos)
        if op in ("<", "<=", ">", ">=") and not isinstance(value, (int, float)):
            try:
                return float(value) if "." in value else int(value)
            except ValueError:
                raise ConditionError(f"{op} compares numbers, not {value!r}", tok.start_pos) from None
        if _is_numeric(dtype) and isinstance(value, str):
            try:
                return float(value) if "." in value else int(value)
            except ValueError:
                raise ConditionError(f"{name} is a number; {value!r} is not", tok.start_pos) from None
        return value

    def predicate(self, t: lark.Tree) -> Predicate:
        kind = t.data
        name, pos = self.field(t.children[0])
        if kind == "exists_pred":
            return Predicate(name, "exists")
        if name == "data":
            raise ConditionError("use data.NAME to test an EventData value (data itself only supports exists)", pos)
        if kind == "text_pred":
            op, val = t.children[1].value, t.children[2]
            toks = val.children if isinstance(val, lark.Tree) else [val]
            if any(tok.type != "STRING" for tok in toks):
                bad = next(tok for tok in toks if tok.type != "STRING")
                raise ConditionError(f"{op} needs strings", bad.start_pos)
            strings = tuple(_unquote(tok) for tok in toks)
            if any(s == "" for s in strings):
                raise ConditionError(f"{op} needs a non-empty string", toks[0].start_pos)
            return Predicate(name, op, strings if isinstance(val, lark.Tree) else strings[0])
        if kind == "regex_pred":
            return Predicate(name, t.children[1].value, self.regex(t.children[2]))
        if kind == "cmp_pred":
            op, tok = t.children[1].value, t.children[2]
            return Predicate(name, op, self._coerce(name, self.scalar(tok), tok, op))
        if kind == "in_pred":
            toks = t.children[1].children
            return Predicate(name, "in", tuple(self._coerce(name, self.scalar(tok), tok, "in") for tok in toks))
        raise ConditionError(f"unexpected {kind}", pos)


# ---------------------------------------------------------------------------------------
# Compiling row predicates to polars
# ---------------------------------------------------------------------------------------

_RX_META = set("\\.+*?()|[]{}^$#&-~")


def _rx_escape(s: str) -> str:
    """Escape a literal for the Rust regex engine (Python's re.escape escapes too much)."""
    return "".join("\\" + c if c in _RX_META else c for c in s)


def _any(exprs: list[pl.Expr]) -> pl.Expr:
    return functools.reduce(operator.or_, exprs)


def _value_pred(e: pl.Expr, dtype: pl.DataType, p: Predicate) -> pl.Expr:
    """The predicate on one value expression (a column, or a data value inside list.eval)."""
    op, v = p.op, p.value
    if op in TEXT_OPS or op in ("~", "!~"):
        s = e if dtype == pl.String else e.cast(pl.String)
        vals = v if isinstance(v, tuple) else (v,)
        if op == "contains":
            # A few literal scans beat polars' Aho-Corasick (contains_any) for short lists.
            if len(vals) <= 8:
                return _any([s.str.contains(x, literal=True) for x in vals])
            return s.str.contains_any(list(vals))
        if op == "icontains":
            return s.str.contains("(?i)" + "|".join(_rx_escape(x) for x in vals))
        if op == "startswith":
            return _any([s.str.starts_with(x) for x in vals])
        if op == "endswith":
            return _any([s.str.ends_with(x) for x in vals])
        assert isinstance(v, Regex)
        m = s.str.contains(v.polars_pattern)
        return ~m.fill_null(False) if op == "!~" else m
    if p.field == "time":
        vals = v if isinstance(v, tuple) else (v,)
        lits = [pl.lit(_parse_time(x, 0)).cast(dtype) for x in vals]  # type: ignore[arg-type]
        if op == "in":
            return _any([e == x for x in lits])
        return _compare(e, op, lits[0])
    numeric = _is_numeric(dtype)
    if op == "in":
        vals = list(v)  # type: ignore[arg-type]
        if numeric or all(isinstance(x, (int, float)) for x in vals):
            target = e if numeric else e.cast(pl.Float64, strict=False)
            nums = [float(x) if not numeric or isinstance(x, float) else x for x in vals]
            return _any([target == x for x in nums])
        return e.cast(pl.String).is_in([str(x) for x in vals])
    if isinstance(v, (int, float)) and not numeric:
        e = e.cast(pl.Float64, strict=False)
    elif isinstance(v, str) and dtype != pl.String:
        e = e.cast(pl.String)
    return _compare(e, op, pl.lit(v))


def _compare(e: pl.Expr, op: str, lit: pl.Expr) -> pl.Expr:
    if op == "==":
        return e == lit
    if op == "!=":
        return ~(e == lit).fill_null(False)
    return {"<": e < lit, "<=": e <= lit, ">": e > lit, ">=": e >= lit}[op]


def compile_expr(node: object) -> pl.Expr:
    """A row-level AST node → a boolean, never-null polars expression over the event frame."""
    if isinstance(node, And):
        return functools.reduce(operator.and_, [compile_expr(i) for i in node.items])
    if isinstance(node, Or):
        return _any([compile_expr(i) for i in node.items])
    if isinstance(node, Not):
        return ~compile_expr(node.item)
    if isinstance(node, Predicate):
        name = node.data_name
        if name is not None:
            el = pl.element()
            named = el.struct.field("name") == name
            if node.op == "exists":
                inner = named
            else:
                inner = _value_pred(el.filter(named).struct.field("value"), pl.String(), node)
            return pl.col("data").list.eval(inner).list.any().fill_null(False)
        if node.op == "exists":
            col = pl.col(node.field)
            if EVENT_SCHEMA[node.field] == pl.String:
                return (col.is_not_null() & (col != "")).fill_null(False)
            if node.field == "data":
                return (col.list.len() > 0).fill_null(False)
            return col.is_not_null()
        return _value_pred(pl.col(node.field), EVENT_SCHEMA[node.field], node).fill_null(False)
    raise TypeError(f"not a row-level condition node: {node!r}")


def fields_of(node: object) -> set[str]:
    """Event columns a tree reads (``data.NAME`` counts as ``data``)."""
    if isinstance(node, (And, Or)):
        return set().union(*(fields_of(i) for i in node.items))
    if isinstance(node, Not):
        return fields_of(node.item)
    if isinstance(node, Predicate):
        return {"data" if node.data_name is not None else node.field}
    if isinstance(node, Count):
        return fields_of(node.expr) | set(node.by) | {"time"}
    if isinstance(node, Sequence):
        return fields_of(node.first) | fields_of(node.then) | set(node.by) | {"time"}
    return set()


# ---------------------------------------------------------------------------------------
# Temporal evaluation (on the few rows the row predicates selected)
# ---------------------------------------------------------------------------------------

HIT_PARTS = {"_row": pl.UInt32, "role": pl.String, "group": pl.Int64}


def _empty_parts() -> pl.DataFrame:
    return pl.DataFrame(schema=HIT_PARTS)


def _by_key(by: tuple[str, ...]) -> pl.Expr:
    """One string key for the grouping columns (nulls are a group of their own)."""
    if not by:
        return pl.lit("").alias("_by")
    parts = [pl.col(f).cast(pl.String).fill_null("\x00") for f in by]
    return (parts[0] if len(parts) == 1 else pl.concat_str(parts, separator="\x1f")).alias("_by")


def count_hits(rows: pl.DataFrame, flag: str, node: Count) -> pl.DataFrame:
    """Rows of every window that reaches ``node.minimum`` matches (``_row``, role, group).

    ``rows`` holds ``_row``, ``time``, the ``by`` columns and the boolean column ``flag``.
    With ``within D``: a row *i* ends a qualifying window when the matches in
    ``[time_i - D, time_i]`` (in time order, up to and including *i*) number at least N; every
    row inside such a window is a hit, and overlapping windows form one group. Without
    ``within``: all matches of each ``by`` group whose total reaches N, one group per ``by``.
    Rows without a time take part only in the form without ``within``.
    """
    a = rows.filter(pl.col(flag)).with_columns(_by_key(node.by))
    if node.within is None:
        groups = (
            a.group_by("_by")
            .agg(_n=pl.len(), _first=pl.col("time").min(), _r=pl.col("_row").min())
            .filter(pl.col("_n") >= node.minimum)
            .sort(["_first", "_r"], nulls_last=True)
            .with_columns(group=pl.int_range(1, pl.len() + 1, dtype=pl.Int64))
        )
        if not groups.height:
            return _empty_parts()
        a = a.join(groups.select("_by", "group"), on="_by", how="inner")
        return a.sort(["group", "time", "_row"], nulls_last=True).select(
            "_row", pl.lit("match").alias("role"), "group"
        )
    a = a.filter(pl.col("time").is_not_null()).sort(["time", "_row"])
    if a.height < node.minimum:
        return _empty_parts()
    # _n: position of each match in (by, time) order; _start: position of the first match of
    # the same group at or after time - D (an as-of join, forward).
    a = a.sort(["_by", "time", "_row"]).with_columns(_n=pl.int_range(pl.len(), dtype=pl.Int64))
    look = a.select("_by", "_n", (pl.col("time") - pl.lit(node.within.delta)).alias("_from")).sort("_from")
    first = a.select("_by", "time", pl.col("_n").alias("_start")).sort("time")
    starts = look.join_asof(
        first, left_on="_from", right_on="time", by="_by", strategy="forward", check_sortedness=False
    ).select("_n", "_start")
    a = a.join(starts, on="_n", how="left").sort("_n")
    a = a.with_columns(_end=pl.when(pl.col("_n") - pl.col("_start") + 1 >= node.minimum).then(pl.col("_start")))
    # The nearest qualifying window ending at or after a row has the smallest start of all
    # that do (starts never decrease), so one backward fill decides whether the row is in one.
    a = a.with_columns(_es=pl.col("_end").backward_fill().over("_by"))
    a = a.filter(pl.col("_es").is_not_null() & (pl.col("_es") <= pl.col("_n")))
    if not a.height:
        return _empty_parts()
    a = a.with_columns(group=(pl.col("_es") == pl.col("_n")).cum_sum().cast(pl.Int64))
    return a.select("_row", pl.lit("match").alias("role"), "group")


def sequence_hits(rows: pl.DataFrame, first: str, then: str, node: Sequence) -> pl.DataFrame:
    """Pairs (A row, its first later B row within D) or, when ``absent``, A rows without one.

    "Later" is time order, ties broken by the frame's own row order; B must be a different row
    from A. An A whose window runs past the end of the data and saw no B is absent: the freeze
    that starts and never ends.
    """
    r = rows.filter(pl.col(first) | pl.col(then)).filter(pl.col("time").is_not_null())
    r = r.with_columns(_by_key(node.by)).sort(["time", "_row"]).with_columns(_o=pl.int_range(pl.len(), dtype=pl.Int64))
    a = r.filter(pl.col(first)).select("_row", "_o", "_by", "time")
    if not a.height:
        return _empty_parts()
    b = r.filter(pl.col(then)).select(pl.col("_row").alias("_brow"), "_o", "_by", pl.col("time").alias("_btime"))
    if b.height:
        j = a.join_asof(
            b, on="_o", by="_by", strategy="forward", allow_exact_matches=False, check_sortedness=False
        )
    else:
        j = a.with_columns(_brow=pl.lit(None, pl.UInt32), _btime=pl.lit(None, a.schema["time"]))
    ok = pl.col("_brow").is_not_null() & ((pl.col("_btime") - pl.col("time")) <= pl.lit(node.within.delta))
    if node.absent:
        j = j.filter(~ok).with_columns(group=pl.int_range(1, pl.len() + 1, dtype=pl.Int64))
        return j.select("_row", pl.lit("start").alias("role"), "group")
    j = j.filter(ok).with_columns(group=pl.int_range(1, pl.len() + 1, dtype=pl.Int64))
    if not j.height:
        return _empty_parts()
    firsts = j.select("_row", pl.lit("first").alias("role"), "group")
    thens = j.select(pl.col("_brow").alias("_row"), pl.lit("then").alias("role"), "group")
    return pl.concat([firsts, thens]).sort(["group", "role"])


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
    "fields_of",
    "grammar_text",
    "is_temporal",
    "parse_condition",
    "parser",
    "sequence_hits",
]
