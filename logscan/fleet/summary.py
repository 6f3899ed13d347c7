"""The fleet summary (``summary.json``) and its Markdown face (``summary.md``)."""

from __future__ import annotations

from typing import Any

import polars as pl

from .schemas import STATUS_FAILED, STATUS_OK, STATUS_TIMED_OUT, SUMMARY_EXAMPLES
from .templates import mine_templates
from .timepattern import render_time_patterns, time_patterns

#: Confidence levels diagnosis states, strongest first.
CONFIDENCES = ("confirmed", "likely", "possible")


def _counts(df: pl.DataFrame, col: str, label: str, *, examples: int | None = SUMMARY_EXAMPLES) -> list[dict]:
    if not df.height:
        return []
    names = pl.col("vm").unique().sort()
    g = (
        df.filter(pl.col(col).is_not_null())
        .group_by(col)
        .agg(vms=pl.col("vm").n_unique(), vm_list=names.head(examples) if examples else names)
        .sort(["vms", col], descending=[True, False])
    )
    return [{label: r[col], "vms": r["vms"], "vm_list": r["vm_list"]} for r in g.iter_rows(named=True)]


def _confidence(ok: pl.DataFrame) -> dict[str, dict[str, int]]:
    """Per top cause, how many VMs at each confidence diagnosis stated (empty if it states none)."""
    if "top_confidence" not in ok.columns or not ok.height:
        return {}
    g = ok.filter(pl.col("top_cause").is_not_null() & pl.col("top_confidence").is_not_null()).group_by(
        "top_cause", "top_confidence"
    ).len()
    out: dict[str, dict[str, int]] = {}
    for cause, conf, n in g.iter_rows():
        out.setdefault(cause, {})[conf] = int(n)
    return {c: {k: v[k] for k in CONFIDENCES if k in v} for c, v in out.items()}


def build_summary(
    vms: pl.DataFrame,
    findings: pl.DataFrame,
    unexplained: pl.DataFrame,
    *,
    options: dict | None = None,
    not_done: int = 0,
) -> dict:
    """The fleet summary: deterministic (no timings), so executors can be compared.

    VM lists are complete (a triage at 10,000 VMs needs every name); error codes the jobs
    *gave* are kept apart from codes the found causes *could* produce.
    """
    status = dict(vms.group_by("status").len().iter_rows()) if vms.height else {}
    ok = vms.filter(pl.col("status") == STATUS_OK)
    confirmed = findings.filter(pl.col("status") == "evidence") if findings.height else findings
    titles = dict(findings.select("cause", "title").unique("cause").iter_rows()) if findings.height else {}
    top = {r["cause"]: r for r in _counts(ok.rename({"top_cause": "cause"}), "cause", "cause", examples=None)}
    anyc = {r["cause"]: r for r in _counts(confirmed, "cause", "cause", examples=None)}
    conf = _confidence(ok)
    causes = [
        {
            "cause": c,
            "title": titles.get(c),
            "vms_top": top.get(c, {}).get("vms", 0),
            "vms_any": anyc[c]["vms"],
            "confidence": conf.get(c, {}),
            "vm_list": (top.get(c) or anyc[c])["vm_list"],
        }
        for c in anyc
    ]
    causes.sort(key=lambda r: (-r["vms_top"], -r["vms_any"], r["cause"]))
    codes = _counts(confirmed.explode("error_codes"), "error_codes", "error_code", examples=None) if confirmed.height else []
    given = _counts(vms, "error_code", "error_code", examples=None) if "error_code" in vms.columns else []
    failed = vms.filter(pl.col("status") != STATUS_OK).sort("vm")
    several = vms.filter(pl.col("several_vms").is_not_null()) if "several_vms" in vms.columns else vms.clear()
    return {
        "vms": vms.height,
        "status": {s: int(status.get(s, 0)) for s in (STATUS_OK, STATUS_FAILED, STATUS_TIMED_OUT)},
        "not_done": int(not_done),
        "healthy": int(ok.filter(pl.col("top_cause").is_null()).height),
        "options": options or {},
        "causes": causes,
        "error_codes_given": given,
        "error_codes": codes,
        "time_patterns": time_patterns(ok),
        "agent_versions": _counts(ok, "agent_version", "version"),
        "os": _counts(ok.with_columns(os=pl.concat_str("os", "os_version", separator=" ", ignore_nulls=True)), "os", "os"),
        "failed": [
            {"vm": r["vm"], "status": r["status"], "reason": r["reason"], "path": r["path"]}
            for r in failed.select("vm", "status", "reason", "path").iter_rows(named=True)
        ],
        "several_vms": [{"vm": v, "why": w} for v, w in several.select("vm", "several_vms").sort("vm").iter_rows()],
        "unexplained": mine_templates(unexplained),
    }


def _md_cell(v: Any) -> str:
    s = ", ".join(map(str, v)) if isinstance(v, list) else ("" if v is None else str(v))
    return s.replace("|", "\\|").replace("\n", " ")


def _md_confidence(c: dict[str, int]) -> str:
    return ", ".join(f"{k} {n}" for k, n in c.items()) if c else "—"


def render_markdown(s: dict) -> str:
    """``summary.md``: the fleet summary as tables an engineer can paste into a ticket."""
    st = s["status"]
    not_done = s.get("not_done") or 0
    total = s["vms"] + not_done
    lines = [
        "# Fleet scan summary",
        "",
        f"{total} VMs: {st['ok']} scanned, {st['failed']} failed, {st['timed-out']} timed out"
        + (f", {not_done} not done (the run was interrupted; run the same command to continue)" if not_done else "")
        + f"; {s['healthy']} with no known cause.",
        "",
        "## Causes by number of VMs",
        "",
        "| cause | title | VMs (top cause) | VMs (any evidence) | confidence (top) | VMs |",
        "|---|---|---:|---:|---|---|",
    ]
    lines += [
        f"| {_md_cell(c['cause'])} | {_md_cell(c['title'])} | {c['vms_top']} | {c['vms_any']} | "
        f"{_md_confidence(c.get('confidence') or {})} | {_md_cell(c['vm_list'])} |"
        for c in s["causes"]
    ]
    lines += render_time_patterns(s.get("time_patterns") or [])
    lines += ["", "## Error codes the backup jobs gave", ""]
    if s.get("error_codes_given"):
        lines += ["| error code | VMs | VMs |", "|---|---:|---|"]
        lines += [f"| {_md_cell(c['error_code'])} | {c['vms']} | {_md_cell(c['vm_list'])} |" for c in s["error_codes_given"]]
    else:
        lines.append("None given (pass a jobs file `bundle,error_code,at`, or `--error-code`).")
    lines += [
        "",
        "## Error codes the found causes can produce (inferred, not observed)",
        "",
        "| error code | VMs | VMs |",
        "|---|---:|---|",
    ]
    lines += [f"| {_md_cell(c['error_code'])} | {c['vms']} | {_md_cell(c['vm_list'])} |" for c in s["error_codes"]]
    lines += ["", "## Agent versions", "", "| version | VMs |", "|---|---:|"]
    lines += [f"| {_md_cell(c['version'])} | {c['vms']} |" for c in s["agent_versions"]]
    lines += ["", "## Operating systems", "", "| OS | VMs |", "|---|---:|"]
    lines += [f"| {_md_cell(c['os'])} | {c['vms']} |" for c in s["os"]]
    lines += ["", "## VMs that could not be scanned", ""]
    if s["failed"]:
        lines += ["| VM | status | reason |", "|---|---|---|"]
        lines += [f"| {_md_cell(f['vm'])} | {f['status']} | {_md_cell(f['reason'])} |" for f in s["failed"]]
    else:
        lines.append("None.")
    if s.get("several_vms"):
        lines += ["", "## Bundles holding several VMs' files (diagnosed as one)", "", "| VM | why |", "|---|---|"]
        lines += [f"| {_md_cell(r['vm'])} | {_md_cell(r['why'])} |" for r in s["several_vms"]]
    lines += [
        "",
        "## Most common unexplained error lines",
        "",
        "ERROR/WARNING lines no signature matched (known-benign lines left out), grouped into "
        "templates (Drain3). Candidates for new signatures.",
        "",
    ]
    if s["unexplained"]:
        lines += ["| VMs | lines | template | e.g. |", "|---:|---:|---|---|"]
        lines += [
            f"| {t['vms']} | {t['lines']} | `{_md_cell(t['template'])[:300]}` | {_md_cell(t['vm_list'])} |" for t in s["unexplained"]
        ]
    else:
        lines.append("None.")
    return "\n".join(lines) + "\n"
