"""Row-level condition trees → one boolean, never-null polars expression each.

Runs once per signature (the result is cached on the signature); nothing here runs per line.
"""

from __future__ import annotations

import functools
import operator

import polars as pl

from ..frames import EVENT_SCHEMA
from .parse import parse_time
from .tree import TEXT_OPS, And, Not, Or, Predicate, Regex

_RX_META = set("\\.+*?()|[]{}^$#&-~")


def rx_escape(s: str) -> str:
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
            return s.str.contains("(?i)" + "|".join(rx_escape(x) for x in vals))
        if op == "startswith":
            return _any([s.str.starts_with(x) for x in vals])
        if op == "endswith":
            return _any([s.str.ends_with(x) for x in vals])
        assert isinstance(v, Regex)
        m = s.str.contains(v.polars_pattern)
        return ~m.fill_null(False) if op == "!~" else m
    if p.field == "time":
        vals = v if isinstance(v, tuple) else (v,)
        lits = [pl.lit(parse_time(x, 0)).cast(dtype) for x in vals]  # type: ignore[arg-type]
        if op == "in":
            return _any([e == x for x in lits])
        return _compare(e, op, lits[0])
    numeric = dtype.is_numeric()
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

