"""The fleet summary (``summary.json``) and its Markdown face (``summary.md``)."""

from __future__ import annotations

from typing import Any

import polars as pl

from .schemas import STATUS_FAILED, STATUS_OK, STATUS_TIMED_OUT, SUMMARY_EXAMPLES
from .templates import mine_templates


def _counts(df: pl.DataFrame, col: str, label: str) -> list[dict]:
    if not df.height:
        return []
    g = (
        df.filter(pl.col(col).is_not_null())
        .group_by(col)
        .agg(vms=pl.col("vm").n_unique(), vm_list=pl.col("vm").unique().sort().head(SUMMARY_EXAMPLES))
        .sort(["vms", col], descending=[True, False])
    )
    return [{label: r[col], "vms": r["vms"], "vm_list": r["vm_list"]} for r in g.iter_rows(named=True)]


def build_summary(
    vms: pl.DataFrame, findings: pl.DataFrame, unexplained: pl.DataFrame, *, options: dict | None = None
) -> dict:
    """The fleet summary: deterministic (no timings), so executors can be compared."""
    status = dict(vms.group_by("status").len().iter_rows()) if vms.height else {}
    ok = vms.filter(pl.col("status") == STATUS_OK)
    confirmed = findings.filter(pl.col("status") == "evidence") if findings.height else findings
    titles = dict(findings.select("cause", "title").unique("cause").iter_rows()) if findings.height else {}
    top = {r["cause"]: r for r in _counts(ok.rename({"top_cause": "cause"}), "cause", "cause")}
    anyc = {r["cause"]: r for r in _counts(confirmed, "cause", "cause")}
    causes = [
        {
            "cause": c,
            "title": titles.get(c),
            "vms_top": top.get(c, {}).get("vms", 0),
            "vms_any": anyc[c]["vms"],
            "vm_list": (top.get(c) or anyc[c])["vm_list"],
        }
        for c in anyc
    ]
    causes.sort(key=lambda r: (-r["vms_top"], -r["vms_any"], r["cause"]))
    codes = _counts(confirmed.explode("error_codes"), "error_codes", "error_code") if confirmed.height else []
    failed = vms.filter(pl.col("status") != STATUS_OK).sort("vm")
    return {
        "vms": vms.height,
        "status": {s: int(status.get(s, 0)) for s in (STATUS_OK, STATUS_FAILED, STATUS_TIMED_OUT)},
        "healthy": int(ok.filter(pl.col("top_cause").is_null()).height),
        "options": options or {},
        "causes": causes,
        "error_codes": codes,
        "agent_versions": _counts(ok, "agent_version", "version"),
        "os": _counts(ok.with_columns(os=pl.concat_str("os", "os_version", separator=" ", ignore_nulls=True)), "os", "os"),
        "failed": [
            {"vm": r["vm"], "status": r["status"], "reason": r["reason"], "path": r["path"]}
            for r in failed.select("vm", "status", "reason", "path").iter_rows(named=True)
        ],
        "unexplained": mine_templates(unexplained),
    }


def _md_cell(v: Any) -> str:
    s = ", ".join(map(str, v)) if isinstance(v, list) else ("" if v is None else str(v))
    return s.replace("|", "\\|").replace("\n", " ")


def render_markdown(s: dict) -> str:
    """``summary.md``: the fleet summary as tables an engineer can paste into a ticket."""
    st = s["status"]
    lines = [
        "# Fleet scan summary",
        "",
        f"{s['vms']} VMs: {st['ok']} scanned, {st['failed']} failed, {st['timed-out']} timed out; "
        f"{s['healthy']} with no known cause.",
        "",
        "## Causes by number of VMs",
        "",
        "| cause | title | VMs (top cause) | VMs (any evidence) | e.g. |",
        "|---|---|---:|---:|---|",
    ]
    lines += [f"| {_md_cell(c['cause'])} | {_md_cell(c['title'])} | {c['vms_top']} | {c['vms_any']} | {_md_cell(c['vm_list'])} |" for c in s["causes"]]
    lines += ["", "## Error codes", "", "| error code | VMs | e.g. |", "|---|---:|---|"]
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
    lines += [
        "",
        "## Most common unexplained error lines",
        "",
        "ERROR/WARNING lines no signature matched, grouped into templates (Drain3). "
        "Candidates for new signatures.",
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
