"""Condition text → :mod:`.tree`, with the LALR grammar in ``grammars/signature.lark``.

Every error is a :class:`ConditionError` carrying the offset in the condition string; the
signature loader maps it to file:line:col. Fields are checked against
:data:`logscan.frames.EVENT_SCHEMA` and regexes against polars' engine here, so nothing that
cannot run survives loading.
"""

from __future__ import annotations

import difflib
import re
from datetime import datetime, timedelta, timezone
from functools import cache
from importlib import resources
from pathlib import Path

import polars as pl

from ..errors import SignatureError
from ..frames import EVENT_SCHEMA
from .tree import (
    DEFAULT_BY,
    NO_GROUPING,
    And,
    Count,
    Duration,
    Node,
    Not,
    Or,
    Predicate,
    Regex,
    Scalar,
    Sequence,
    Top,
)


def _lazy_module(name: str):
    """``name`` imported on first use (the standard library's ``LazyLoader`` recipe): a scan
    reads its signatures from the startup cache and never parses a condition, so it need not
    pay lark's import (~30 ms of every run)."""
    import importlib.util
    import sys

    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module


lark = _lazy_module("lark")

GRAMMAR_FILE = "signature.lark"
_INT64_MAX = 2**63 - 1


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


def parse_time(value: str, offset: int) -> datetime:
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
            parse_time(value, tok.start_pos)
            return value
        if name == "data":
            raise ConditionError("use data.NAME to test an EventData value (data itself only supports exists)", tok.start_pos)
        if op in ("<", "<=", ">", ">=") and not isinstance(value, (int, float)):
            try:
                return float(value) if "." in value else int(value)
            except ValueError:
                raise ConditionError(f"{op} compares numbers, not {value!r}", tok.start_pos) from None
        if dtype.is_numeric() and isinstance(value, str):
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

