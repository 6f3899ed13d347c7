"""``content/checks/*.yaml`` → validated :class:`~.model.Check` objects (errors at file:line:col).

Everything a check names is checked here, once: its kind, every key of that kind (unknown
keys are errors, with "did you mean"), cause ids against the knowledge base, log names
against the source registry, event columns, versions, durations, weights in [0, 1], note
templates' ``{fields}``, and that each check cites a ``source:`` or is ``heuristic: true``
with a ``reason:``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from ...frames import EVENT_SCHEMA
from .. import validate
from ..yamlpos import KeyNodes, PositionedYaml
from .kinds import KINDS, duration, version_tuple
from .model import Also, Check

COMMON = ("id", "title", "kind", "cause", "weight", "why", "source", "heuristic", "reason", "group", "also")
#: Each kind's own keys: name → (required, value check). Value checks raise ValueError.
Spec = dict[str, tuple[bool, str]]
KIND_KEYS: dict[str, Spec] = {
    "version_floor": {"of": (True, "of"), "floor": (True, "version"), "platform": (False, "platform"),
                      "bands": (False, "version_bands"), "note": (True, "note")},
    "config_value": {"key": (True, "str"), "is": (False, "values"), "is_not": (False, "values"), "note": (True, "note")},
    "extension_value": {"key": (True, "str"), "is": (True, "values"), "extensions": (False, "ext_filter"),
                        "detail": (False, "str"), "note": (True, "note")},
    "status_code": {"keys": (True, "strs"), "table": (True, "table"), "when": (False, "when"),
                    "extensions": (False, "ext_filter"), "weight_for": (False, "weight_for"),
                    "umbrella": (False, "umbrella"), "default_cause": (False, "cause"),
                    "note": (True, "note"), "code_note": (False, "note")},
    "silence": {"log": (True, "log"), "threshold": (True, "duration"), "local_time_slack": (False, "duration"),
                "ignore": (False, "ignore"), "bands": (False, "duration_bands"), "note": (True, "note")},
    "source_presence": {"log": (True, "log"), "present": (True, "bool"), "note": (True, "note")},
    # Note last: its fields are the named groups of subject and key (validated with them).
    "fact_value": {"subject": (True, "regex"), "key": (True, "regex"), "matches": (False, "regex"),
                   "not_matches": (False, "regex"), "when": (False, "conditions"), "unless_line": (False, "regex"),
                   "all_rows": (False, "bool"), "min_rows": (False, "count"), "platform": (False, "platform"),
                   "lists": (False, "lists"), "timeless": (False, "bool"), "note": (True, "fact_note")},
    "fact_absent": {"subject": (True, "regex"), "key": (True, "regex"), "matches": (False, "regex"),
                    "given": (True, "fact_pattern"), "platform": (False, "platform"), "timeless": (False, "bool"),
                    "note": (True, "note")},
}
#: Fields a note template may use, per kind.
NOTE_FIELDS = {"version_floor": ("value", "floor"), "extension_value": ("name", "value"),
               "status_code": ("name", "code", "code_value", "code_name"), "fact_value": ("subject", "key", "value")}
TABLES = ("codes", "agent_codes")
PLATFORMS = ("linux", "windows")


def parse_checks(text: str, file: str, causes: frozenset[str], sources: tuple[str, ...]) -> list[Check]:
    """The checks of one file's text; :class:`~logscan.errors.SignatureError` if invalid."""
    r = _CheckReader(text, file, causes, sources)
    return [r.check(data, node) for data, node in r.items()]


def _norm_list(v: Any) -> list[str]:
    if not isinstance(v, list) or not all(isinstance(x, (str, int)) and not isinstance(x, bool) for x in v):
        raise ValueError("must be a list of strings")
    return [str(x).strip().lower() for x in v]


def _weight(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 1:
        raise ValueError(f"a weight is a number from 0 to 1, not {v!r}")
    return float(v)


def _version(v: Any) -> str:
    if not isinstance(v, str) or version_tuple(v) is None or version_tuple(v) != tuple(int(x) for x in v.split(".")):
        raise ValueError(f"a version is dotted numbers in quotes, like \"2.2.53.1\", not {v!r}")
    return v


def _duration(v: Any) -> str:
    duration(str(v))
    return str(v)


class _CheckReader(PositionedYaml):
    def __init__(self, text: str, file: str, causes: frozenset[str], sources: tuple[str, ...]):
        super().__init__(text, file)
        self.causes, self.sources = causes, sources

    def cause(self, name: Any, node: yaml.Node) -> str:
        return validate.known(self, "cause id", str(name), node, self.causes)

    def check(self, data: Any, node: yaml.Node) -> Check:
        if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode):
            raise self.error("a check is a mapping (id, title, kind, cause, weight, ...)", node)
        keys = self.keys(node)
        for k in ("id", "title", "kind", "weight", "why"):
            if k not in data:
                raise self.error(f"missing required key {k!r}", node)
        kind = validate.known(self, "check kind", str(data["kind"]), keys["kind"][1], KINDS)
        spec = KIND_KEYS[kind]
        for k in data:
            if k not in COMMON and k not in spec:
                close = difflib.get_close_matches(str(k), [*COMMON, *spec], n=1)
                hint = f"; did you mean {close[0]!r}?" if close else f" (a {kind} check takes {', '.join(spec)})"
                raise self.error(f"unknown key {k!r}{hint}", keys[k][0])
        cause = self.cause(data["cause"], keys["cause"][1]) if "cause" in data else None
        if cause is None and kind != "status_code":
            raise self.error("missing required key 'cause'", node)
        if not isinstance(data.get("heuristic", False), bool):
            raise self.error("heuristic is true or false", keys["heuristic"][1])
        heuristic = data.get("heuristic", False)
        if heuristic and not data.get("reason"):
            raise self.error("a heuristic check needs a one-line reason:", node)
        if not heuristic and not data.get("source"):
            raise self.error("a check needs a source: (URL or file@section) or heuristic: true with a reason:", node)
        params: dict[str, Any] = {}
        for k, (required, how) in spec.items():
            if k not in data:
                if required:
                    raise self.error(f"missing required key {k!r} (kind {kind})", node)
                continue
            if how == "fact_note":
                params[k] = self.fact_note(data[k], keys[k][1], params)
                continue
            params[k] = self.value(how, data[k], keys[k][1], kind)
        if kind == "config_value" and ("is" in params) == ("is_not" in params):
            raise self.error("a config_value check takes one of is: or is_not:", node)
        if kind == "fact_value" and ("matches" in params) == ("not_matches" in params):
            raise self.error("a fact_value check takes one of matches: or not_matches:", node)
        return Check(
            id=self.string(data, keys, "id"),
            title=self.string(data, keys, "title"),
            kind=kind,
            cause=cause,
            weight=self.value("weight", data["weight"], keys["weight"][1], kind),
            params=params,
            why=" ".join(self.string(data, keys, "why").split()),
            source=data.get("source"),
            heuristic=heuristic,
            reason=data.get("reason"),
            group=data.get("group"),
            also=self.also(data, keys) if "also" in data else (),
            path=self.file,
            line=node.start_mark.line + 1,
        )

    def also(self, data: dict, keys: KeyNodes) -> tuple[Also, ...]:
        items, node = data["also"], keys["also"][1]
        if not isinstance(items, list):
            raise self.error("also: is a list of {key, weight, note, is}", node)
        out = []
        for item, n in zip(items, node.value, strict=True):
            if not isinstance(item, dict) or set(item) - {"key", "weight", "note", "is"} or "key" not in item:
                raise self.error("an also: item is {key, weight, note, is (optional)}", n)
            ik = self.keys(n)
            out.append(Also(item["key"], self.value("weight", item.get("weight"), ik["weight"][1], ""),
                            self.value("note", item.get("note"), ik["note"][1], "config_value"),
                            tuple(self.value("values", item["is"], ik["is"][1], "")) if "is" in item else None))
        return tuple(out)

    def value(self, how: str, v: Any, node: yaml.Node, kind: str) -> Any:
        checks: dict[str, Callable[[Any], Any]] = {
            "str": lambda x: x if isinstance(x, str) and x else _fail("must be a non-empty string"),
            "strs": lambda x: tuple(x) if isinstance(x, list) and x and all(isinstance(i, str) for i in x) else _fail("must be a list of strings"),
            "bool": lambda x: x if isinstance(x, bool) else _fail("must be true or false"),
            "values": lambda x: tuple(_norm_list(x)),
            "weight": _weight,
            "version": _version,
            "duration": _duration,
            "platform": lambda x: x if x in PLATFORMS else _fail(f"platform is one of {', '.join(PLATFORMS)}"),
            "table": lambda x: x if x in TABLES else _fail(f"table is one of {', '.join(TABLES)} (knowledge/extension_codes.yaml)"),
            "regex": regex,
            "count": lambda x: x if isinstance(x, int) and not isinstance(x, bool) and x >= 1 else _fail("must be a whole number >= 1"),
            "conditions": conditions,
            "fact_pattern": fact_pattern,
            "lists": lists,
            "of": lambda x: x if isinstance(x, str) and (x == "agent" or x.count("/") == 1) else _fail("of: is agent or SUBJECT/KEY"),
            "note": lambda x: self.template(x, kind),
            "version_bands": lambda x: self.bands(x, _version),
            "duration_bands": lambda x: self.bands(x, _duration),
            "ext_filter": lambda x: self.mapping(x, {"name_contains": str, "name_not_contains": str}, lower=True),
            "when": lambda x: {"key": self.mapping(x, {"key": str, "is": list})["key"], "is": tuple(_norm_list(x["is"]))},
            "ignore": lambda x: self.mapping(x, dict.fromkeys(EVENT_SCHEMA, str)),
        }
        try:
            if how == "cause":
                return self.cause(v, node)
            if how == "log":
                return validate.known(self, "source", str(v), node, self.sources)
            if how == "weight_for":
                if not isinstance(v, dict):
                    raise ValueError("weight_for is {cause id: weight}")
                return {self.cause(c, node): _weight(w) for c, w in v.items()}
            if how == "umbrella":
                m = self.mapping(v, {"cause": str, "weight": (int, float)})
                return {"cause": self.cause(m["cause"], node), "weight": _weight(m["weight"])}
            return checks[how](v)
        except (ValueError, TypeError, KeyError) as exc:
            raise self.error(f"{exc}", node) from None

    def fact_note(self, text: Any, node: yaml.Node, params: dict[str, Any]) -> str:
        """A fact_value note: its fields are subject, key, value and the regexes' named groups."""
        groups = tuple(g for k in ("subject", "key") for g in re.compile(params[k]).groupindex) + tuple(params.get("lists") or ())
        try:
            return self.template(text, "fact_value", groups)
        except ValueError as exc:
            raise self.error(f"{exc}", node) from None

    def template(self, text: Any, kind: str, extra: tuple[str, ...] = ()) -> str:
        if not isinstance(text, str) or not text.strip():
            raise ValueError("a note is a non-empty string")
        fields = NOTE_FIELDS.get(kind, ()) + (("key", "value") if kind == "config_value" else ()) + extra
        try:
            text.format(**dict.fromkeys(fields, ""))
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"note uses an unknown field {exc} (known: {', '.join(fields) or 'none'})") from None
        return " ".join(text.split())

    @staticmethod
    def bands(v: Any, check: Callable[[Any], str]) -> tuple[dict, ...]:
        if not isinstance(v, list) or not all(isinstance(b, dict) and set(b) == {"below", "weight"} for b in v):
            raise ValueError("bands is a list of {below, weight}")
        return tuple({"below": check(b["below"]), "weight": _weight(b["weight"])} for b in v)

    @staticmethod
    def mapping(v: Any, allowed: dict[str, Any], lower: bool = False) -> dict:
        if not isinstance(v, dict) or not v:
            raise ValueError(f"must be a mapping of {', '.join(allowed)}")
        for k, x in v.items():
            if k not in allowed:
                raise ValueError(f"unknown key {k!r} (use {', '.join(allowed)})")
            if not isinstance(x, allowed[k]):
                raise ValueError(f"{k} has the wrong type")
        return {k: (x.lower() if lower and isinstance(x, str) else x) for k, x in v.items()}


def _fail(message: str) -> Any:
    raise ValueError(message)


def regex(v: Any) -> str:
    """A regex both Python (named groups for notes) and polars (the prefilter) compile."""
    if not isinstance(v, str) or not v:
        raise ValueError("must be a non-empty regex string")
    try:
        re.compile(v)
        pl.Series([""]).str.contains(f"(?i)^(?:{v})$")
    except (re.error, pl.exceptions.ComputeError) as exc:
        raise ValueError(f"not a usable regex {v!r}: {exc}") from None
    return v


def conditions(v: Any) -> tuple[dict, ...]:
    """``when:`` of fact_value: [{key, matches | not_matches}], on the same subject's last values."""
    if not isinstance(v, list) or not v:
        raise ValueError("when: is a list of {key, matches} or {key, not_matches}")
    out = []
    for c in v:
        if not isinstance(c, dict) or "key" not in c or len(set(c) & {"matches", "not_matches"}) != 1 or set(c) - {"key", "matches", "not_matches"}:
            raise ValueError("a when: item is {key: KEY, matches: REGEX} or {key: KEY, not_matches: REGEX}")
        out.append({k: (str(x) if k == "key" else regex(x)) for k, x in c.items()})
    return tuple(out)


def lists(v: Any) -> dict[str, dict]:
    """``lists:`` of fact_value: {field: {key: REGEX, matches: REGEX (optional)}}."""
    if not isinstance(v, dict) or not v:
        raise ValueError("lists: is {field: {key: REGEX, matches: REGEX}}")
    out = {}
    for name, spec in v.items():
        if not str(name).isidentifier() or not isinstance(spec, dict) or "key" not in spec or set(spec) - {"key", "matches"}:
            raise ValueError(f"lists: {name!r} is {{key: REGEX, matches: REGEX (optional)}} under a plain field name")
        out[str(name)] = {k: regex(x) for k, x in spec.items()}
    return out


def fact_pattern(v: Any) -> dict:
    """``given:`` of fact_absent: {subject, key, matches (optional)}."""
    if not isinstance(v, dict) or not {"subject", "key"} <= set(v) or set(v) - {"subject", "key", "matches"}:
        raise ValueError("given: is {subject: REGEX, key: REGEX, matches: REGEX (optional)}")
    return {k: regex(x) for k, x in v.items()}


def check_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.yaml") if p.name != "notes.yaml")
