"""Reading and validating the knowledge files (causes, error codes, distros, thresholds):
every inconsistency is a :class:`KnowledgeError` naming file:line:col, at load time."""

from __future__ import annotations

import difflib
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from ._yaml import load_located, where
from .fixes import (
    Distro,
    FixDataError,
    FixStep,
    LabelledCommand,
    StepSpec,
    parse_distros,
    parse_steps,
)
from .model import ARTICLE_URL, PLATFORMS, Cause, ErrorCode, Knowledge, KnowledgeError, Threshold


def _strs(value: Any, where: str, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise KnowledgeError(f"{where}: '{key}' must be a list of strings")
    return tuple(value)


def _need(entry: dict, key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise KnowledgeError(f"{where}: missing or empty '{key}'")
    return value.strip()


def _cause(entry: Any, origin: str, i: int, distros: dict[str, Distro]) -> Cause:
    if not isinstance(entry, dict):
        raise KnowledgeError(f"{where(entry, origin)}: entry {i} is not a mapping")
    cid = _need(entry, "id", f"{where(entry, origin)}: entry {i}")
    at = f"{where(entry, origin)}: cause '{cid}'"
    where_ = at
    gv = entry.get("guest_visible")
    if not isinstance(gv, bool):
        raise KnowledgeError(f"{where_}: 'guest_visible' must be true or false")
    platforms = _strs(entry.get("platforms"), where_, "platforms")
    bad = [p for p in platforms if p not in PLATFORMS]
    if not platforms or bad:
        raise KnowledgeError(f"{where_}: 'platforms' must list some of {PLATFORMS}, got {list(platforms)}")
    if "remediation" in entry:
        raise KnowledgeError(f"{where_}: 'remediation' text is replaced by 'fix' steps (text, platform, command, source)")
    try:
        fix = parse_steps(entry.get("fix"), at, distros)
    except FixDataError as exc:
        raise KnowledgeError(str(exc)) from exc
    step_platforms = {s.platform for s in fix} - {"any"}
    if step_platforms - set(platforms):
        raise KnowledgeError(f"{where_}: fix steps for {sorted(step_platforms - set(platforms))}, not in its platforms")
    anchor = _need(entry, "anchor", where_)
    return Cause(
        id=cid,
        title=_need(entry, "title", where_),
        summary=_need(entry, "summary", where_),
        fix=fix,
        anchor=anchor,
        doc=entry.get("doc") or f"{ARTICLE_URL}#{anchor}",
        error_codes=_strs(entry.get("error_codes"), where_, "error_codes"),
        guest_visible=gv,
        platforms=platforms,
        evidence=_strs(entry.get("evidence"), where_, "evidence"),
        parent=entry.get("parent"),
        note=entry.get("note"),
        _distros=distros,
    )


_THRESHOLD_KINDS = ("threshold", "mapping", "list", "inference")


def _threshold(entry: Any, origin: str, i: int) -> Threshold:
    at = where(entry, f"{origin}: entry {i}")
    if not isinstance(entry, dict):
        raise KnowledgeError(f"{at}: entry {i} is not a mapping")
    tid = _need(entry, "id", at)
    unknown = set(entry) - {"id", "kind", "value", "in_use", "used_by", "source", "heuristic", "why", "note"}
    if unknown:
        raise KnowledgeError(f"{at}: '{tid}' has unknown keys {sorted(unknown)}")
    kind = entry.get("kind")
    if kind not in _THRESHOLD_KINDS:
        raise KnowledgeError(f"{at}: '{tid}' kind must be one of {_THRESHOLD_KINDS}, got {kind!r}")
    if "value" not in entry:
        raise KnowledgeError(f"{at}: '{tid}' has no 'value'")
    heuristic = entry.get("heuristic", False)
    source, why = entry.get("source"), entry.get("why")
    if not isinstance(heuristic, bool):
        raise KnowledgeError(f"{at}: '{tid}' 'heuristic' must be true or false")
    if source is not None and not (isinstance(source, str) and source.startswith("https://")):
        raise KnowledgeError(f"{at}: '{tid}' 'source' must be an https URL")
    if not source and not heuristic:
        raise KnowledgeError(f"{at}: '{tid}' has neither 'source' nor 'heuristic: true'")
    if heuristic and (not isinstance(why, str) or not why.strip() or "\n" in why.strip()):
        raise KnowledgeError(f"{at}: '{tid}' is heuristic but has no one-line 'why'")
    return Threshold(
        id=tid,
        kind=kind,
        value=entry["value"],
        used_by=_strs(entry.get("used_by"), at, "used_by"),
        source=source,
        heuristic=heuristic,
        why=why.strip() if isinstance(why, str) else None,
        note=entry.get("note"),
        in_use=entry.get("in_use"),
    )


def _code(entry: Any, origin: str, i: int) -> ErrorCode:
    if not isinstance(entry, dict):
        raise KnowledgeError(f"{where(entry, origin)}: entry {i} is not a mapping")
    name = _need(entry, "code", f"{where(entry, origin)}: entry {i}")
    at = f"{where(entry, origin)}: code '{name}'"
    anchor = entry.get("anchor")
    candidates = _strs(entry.get("candidates"), at, "candidates")
    if not candidates:
        raise KnowledgeError(f"{at}: no candidate causes")
    return ErrorCode(
        code=name,
        meaning=_need(entry, "meaning", at),
        candidates=candidates,
        reported_candidates=_strs(entry.get("reported_candidates"), at, "reported_candidates"),
        anchor=anchor,
        doc=entry.get("doc") or (f"{ARTICLE_URL}#{anchor}" if anchor else None),
    )


def _yaml(text: str, origin: str) -> Any:
    try:
        return load_located(text, origin)
    except yaml.YAMLError as exc:
        raise KnowledgeError(f"{origin}: not valid YAML: {exc}") from exc


def _list(text: str, origin: str) -> list:
    data = _yaml(text, origin)
    if not isinstance(data, list):
        raise KnowledgeError(f"{origin}: expected a list of entries at the top level")
    return data


def _close(name: str, known: list[str]) -> str:
    near = difflib.get_close_matches(name, known, n=1)
    return f" (did you mean '{near[0]}'?)" if near else ""


def _packaged(name: str) -> str:
    return (resources.files("logscan.content") / "knowledge" / name).read_text(encoding="utf-8")


def parse_knowledge(
    causes_text: str,
    codes_text: str,
    *,
    origin: tuple[str, str] = ("causes.yaml", "error_codes.yaml"),
    distros_text: str | None = None,
    thresholds_text: str | None = None,
    extra_origin: tuple[str, str] = ("distros.yaml", "thresholds.yaml"),
) -> Knowledge:
    """Build and validate a :class:`Knowledge` from the YAML texts.

    ``distros_text`` / ``thresholds_text`` default to the packaged files. Raises
    :class:`KnowledgeError` naming file:line:col when an id is repeated, a candidate or parent
    is not a known cause, a cause names an unknown code, a cause and a code disagree, a fix
    step has an unknown platform or distribution key, neither source nor heuristic flag, a
    placeholder some distribution cannot fill, or removes a protection without saying how to
    undo it; or a threshold lacks a source or heuristic flag.
    """
    c_origin, k_origin = origin
    d_origin, t_origin = extra_origin
    try:
        distros = parse_distros(_yaml(distros_text if distros_text is not None else _packaged("distros.yaml"), d_origin), d_origin)
    except FixDataError as exc:
        raise KnowledgeError(str(exc)) from exc
    thresholds: dict[str, Threshold] = {}
    for i, entry in enumerate(_list(thresholds_text if thresholds_text is not None else _packaged("thresholds.yaml"), t_origin)):
        th = _threshold(entry, t_origin, i)
        if th.id in thresholds:
            raise KnowledgeError(f"{where(entry, t_origin)}: threshold '{th.id}' is defined twice")
        thresholds[th.id] = th
    causes: dict[str, Cause] = {}
    for i, entry in enumerate(_list(causes_text, c_origin)):
        cause = _cause(entry, c_origin, i, distros)
        if cause.id in causes:
            raise KnowledgeError(f"{c_origin}: cause id '{cause.id}' is defined twice")
        causes[cause.id] = cause
    codes: dict[str, ErrorCode] = {}
    lower: dict[str, str] = {}
    for i, entry in enumerate(_list(codes_text, k_origin)):
        ec = _code(entry, k_origin, i)
        if ec.code.lower() in lower:
            raise KnowledgeError(f"{k_origin}: error code '{ec.code}' is defined twice")
        codes[ec.code] = ec
        lower[ec.code.lower()] = ec.code

    ids = list(causes)
    for ec in codes.values():
        for c in ec.candidates + ec.reported_candidates:
            if c not in causes:
                raise KnowledgeError(
                    f"{k_origin}: code '{ec.code}' names unknown cause '{c}'{_close(c, ids)}"
                )
    for cause in causes.values():
        if cause.parent is not None and cause.parent not in causes:
            raise KnowledgeError(f"{c_origin}: cause '{cause.id}' has unknown parent '{cause.parent}'")
        for name in cause.error_codes:
            if name not in codes:
                raise KnowledgeError(
                    f"{c_origin}: cause '{cause.id}' names unknown error code '{name}'{_close(name, list(codes))}"
                )
            if cause.id not in codes[name].all_candidates:
                raise KnowledgeError(
                    f"{c_origin}: cause '{cause.id}' lists code '{name}', but {k_origin} does not list it as a candidate of that code"
                )
    for ec in codes.values():
        for c in ec.all_candidates:
            if ec.code not in causes[c].error_codes:
                raise KnowledgeError(
                    f"{k_origin}: code '{ec.code}' lists cause '{c}', but {c_origin} does not list the code under that cause"
                )
    return Knowledge(causes=causes, codes=codes, _by_lower=lower, distros=distros, thresholds=thresholds)


def check_extension_codes(text: str, k: Knowledge, origin: str = "extension_codes.yaml") -> None:
    """Every cause extension_codes.yaml maps a status code to exists (KnowledgeError if not)."""
    data = _yaml(text, origin)
    for table in ("codes", "agent_codes"):
        for entry in (data or {}).get(table) or []:
            cid = entry.get("cause") if isinstance(entry, dict) else None
            if cid is not None and cid not in k.causes:
                raise KnowledgeError(f"{where(entry, origin)}: {table} entry names unknown cause '{cid}'{_close(cid, list(k.causes))}")


def load_knowledge_files(
    causes_path: str | Path,
    codes_path: str | Path,
    distros_path: str | Path | None = None,
    thresholds_path: str | Path | None = None,
) -> Knowledge:
    """Load knowledge from files outside the package (tests, experiments); not cached.

    Without ``distros_path`` / ``thresholds_path`` the packaged ones are used.
    """
    cp, kp = Path(causes_path), Path(codes_path)
    dp = Path(distros_path) if distros_path else None
    tp = Path(thresholds_path) if thresholds_path else None
    return parse_knowledge(
        cp.read_text(encoding="utf-8"),
        kp.read_text(encoding="utf-8"),
        origin=(str(cp), str(kp)),
        distros_text=dp.read_text(encoding="utf-8") if dp else None,
        thresholds_text=tp.read_text(encoding="utf-8") if tp else None,
        extra_origin=(str(dp or "distros.yaml"), str(tp or "thresholds.yaml")),
    )


@cache
def load_knowledge() -> Knowledge:
    """The packaged knowledge base (read once per process; the validated result is kept in
    the startup cache, :mod:`logscan.io.cache`, keyed by the files' content), extension code
    map checked against it."""
    from ..io import cache as disk

    pkg = resources.files("logscan.content") / "knowledge"
    names = ("causes.yaml", "error_codes.yaml", "distros.yaml", "thresholds.yaml", "extension_codes.yaml")
    files = [Path(str(pkg / n)) for n in names] + [Path(__file__), Path(__file__).with_name("fixes.py")]

    def build() -> Knowledge:
        k = parse_knowledge(_packaged("causes.yaml"), _packaged("error_codes.yaml"))
        check_extension_codes(_packaged("extension_codes.yaml"), k)
        return k

    allowed = (Knowledge, Cause, ErrorCode, Threshold, Distro, StepSpec, LabelledCommand, FixStep)
    return disk.cached(
        "knowledge",
        disk.content_key("knowledge", files),
        build,
        disk.encode,
        lambda v: disk.decode(v, {c.__name__: c for c in allowed}),
    )


