"""Markdown: short, pasteable into a support case. Top causes, an evidence excerpt, the fix, the link."""

from __future__ import annotations

from collections.abc import Sequence

from ..diagnosis import Finding, VmReport, verdict
from ..io.redact import text as redact_text

TOP = 3
EXCERPT_LINES = 3
#: An excerpt line longer than this is cut (a case note is read, not grepped).
EXCERPT_WIDTH = 240
UNEXPLAINED_SHOWN = 5


def _fence(text: str) -> str:
    body = "\n".join(text.splitlines()[:6])
    return body.replace("```", "'''")


def _finding(i: int, f: Finding) -> list[str]:
    if f.status == "check-in-portal":
        return [f"{i}. **{f.title}** (`{f.cause}`) — not visible in the guest: check in the portal. [Doc]({f.doc})"]
    outside = " — outside the error code's documented causes" if f.in_error_code is False else ""
    out = [f"{i}. **{f.title}** (`{f.cause}`), **{f.confidence}**, score {f.score:.2f}{outside}", ""]
    if f.evidence:
        out.append("   ```text")
        # The most telling lines (by rank), shown in the order they were written.
        best = sorted(sorted(f.evidence, key=lambda e: e.rank or 99)[:EXCERPT_LINES], key=f.evidence.index)
        for e in best:
            where = f"{e.file}:{e.line}" if e.file else (e.source or "")
            first = _fence(e.text).splitlines()[0] if e.text and e.text.strip() else ""
            if len(first) > EXCERPT_WIDTH:
                first = first[:EXCERPT_WIDTH] + " …"
            out.append(f"   {where}  {first}" + (f"   <- {e.note}" if e.note else ""))
        if len(f.evidence) > EXCERPT_LINES:
            out.append(f"   … {len(f.evidence) - EXCERPT_LINES} more evidence line(s)")
        out.append("   ```")
    if f.fix:
        out.append("   **Fix:**")
        for step in f.fix:
            label = f"[{step.get('label') or step['platform']}] " if step.get("platform") not in (None, "any") else ""
            rule = " _(rule of thumb)_" if step.get("heuristic") else ""
            cmd = f" `{step['command']}`" if step.get("command") else ""
            out.append(f"   - {label}{step['text']}{rule}{cmd}")
    else:
        fix = (f.remediation or "").strip().splitlines()
        if fix:
            out.append(f"   **Fix:** {fix[0]}" + (" …" if len(fix) > 1 else ""))
    out.append(f"   [Doc]({f.doc})")
    out.append("")
    return out


def render_vm(r: VmReport) -> str:
    lines = [f"### logscan: {r.vm}", ""]
    if r.error_code:
        lines.append(f"Backup error code: `{r.error_code}`" + (f", failed at {r.at:%Y-%m-%d %H:%M} UTC" if r.at else ""))
        lines.append("")
    lines.append(verdict(r))
    lines.append("")
    for i, f in enumerate(r.findings[:TOP], 1):
        lines.extend(_finding(i, f))
    if len(r.findings) > TOP:
        lines.append(f"_{len(r.findings) - TOP} more finding(s) in the full report._")
        lines.append("")
    for n in r.notes:
        lines.append(f"> Note: {n}")
    if r.notes:
        lines.append("")
    if r.unexplained:
        lines.append(f"**Unexplained error/warning lines** ({len(r.unexplained)} template(s), known-benign left out):")
        lines.append("")
        for u in r.unexplained[:UNEXPLAINED_SHOWN]:
            tpl = _fence(u["template"])[:EXCERPT_WIDTH].replace("`", "'")
            lines.append(f"- {u['count']}× `{tpl}` (first at {u['first']})")
        lines.append("")
    facts = r.facts_summary or {}
    ver = facts.get("agent", {}).get("effective_version")
    cov = r.coverage
    checked = ", ".join(sorted(cov.get("sources", {}))) or "nothing"
    bits = [f"agent {ver}" if ver else None, f"checked: {checked}"]
    if cov.get("missing"):
        bits.append("missing: " + ", ".join(cov["missing"]))
    if r.ingest_errors:
        bits.append(f"{len(r.ingest_errors)} unreadable/odd file(s)")
    lines.append("<sub>" + "; ".join(b for b in bits if b) + "</sub>")
    return "\n".join(lines) + "\n"


def render(reports: Sequence[VmReport]) -> str:
    return redact_text("\n".join(render_vm(r) for r in reports))
