"""Rich terminal output for `logscan scan`: the verdict, ranked findings with evidence, coverage."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ..diagnosis import VmReport, verdict

CONFIDENCE_STYLE = {"confirmed": "bold red", "likely": "yellow", "possible": "dim"}
UNEXPLAINED_SHOWN = 5


def fix_lines(f) -> list[Text]:
    """The fix for the VM's platform: structured steps when the knowledge base has them."""
    if f.fix:
        out = [Text("Fix:", style="green")]
        for step in f.fix:
            label = f"[{step.get('label') or step['platform']}] " if step.get("platform") not in (None, "any") else ""
            rule = " (rule of thumb)" if step.get("heuristic") else ""
            out.append(Text(f"  - {label}{step['text']}{rule}", style="green", overflow="fold"))
            if step.get("command"):
                out.append(Text(f"      {step['command']}", style="bold", overflow="fold"))
        return out
    fix = (f.remediation or "").strip()
    if not fix:
        return []
    return [Text("Fix: " + fix.splitlines()[0] + (" …" if "\n" in fix else ""), style="green")]


def renderable(r: VmReport):
    parts = []
    head = Text(verdict(r), style="bold green" if r.healthy else "bold")
    parts.append(head)
    if r.error_code:
        parts.append(Text(f"Error code {r.error_code}" + (f", failed at {r.at:%Y-%m-%d %H:%M} UTC" if r.at else ""), style="dim"))
    for i, f in enumerate(r.findings, 1):
        if f.status == "check-in-portal":
            parts.append(Text.assemble((f"{i}. {f.title} ", "bold"), (f"[{f.cause}] ", "magenta"), ("not visible in the guest: check in the portal", "yellow")))
            continue
        style = CONFIDENCE_STYLE.get(f.confidence, "")
        outside = (f" (outside {r.error_code}'s documented causes)", "dim") if f.in_error_code is False else ("", "")
        parts.append(
            Text.assemble(
                (f"{i}. {f.title} ", "bold"), (f"[{f.cause}] ", "magenta"), (f"{f.confidence} ", style), (f"score {f.score:.2f}", "cyan"), outside
            )
        )
        for e in f.evidence:
            where = f"{e.file}:{e.line}" if e.file else (e.source or "")
            when = e.time.strftime("%Y-%m-%d %H:%M:%S") if e.time else "-"
            lines = (e.text or "").split("\n")
            parts.append(Text.assemble(("  ", ""), (where, "dim"), ("  ", ""), (when, "cyan")))
            parts.append(Text("    " + lines[0][:400], overflow="fold"))
            if "Traceback (most recent call last)" in (e.text or ""):
                parts.extend(Text("    " + ln[:400], overflow="fold", style="dim") for ln in lines[1:4])
            if e.note:
                parts.append(Text("    ↳ " + e.note, style="yellow"))
        parts.extend(fix_lines(f))
        parts.append(Text(f.doc, style="blue underline"))
    if r.not_found:
        parts.append(Text("Checked, no evidence: " + ", ".join(r.not_found), style="dim"))
    for n in r.notes:
        parts.append(Text("Note: " + n, style="yellow"))
    if r.unexplained:
        parts.append(Text(f"Unexplained error/warning lines ({len(r.unexplained)} template(s)):", style="bold"))
        for u in r.unexplained[:UNEXPLAINED_SHOWN]:
            parts.append(Text(f"  {u['count']:>5}×  {u['template'][:160]}", overflow="fold"))
            parts.append(Text(f"         first at {u['first']}", style="dim", overflow="fold"))
    cov = r.coverage
    src = ", ".join(f"{k} ({v['files']} file(s), {v['events']} events)" for k, v in cov.get("sources", {}).items())
    parts.append(Text(f"Checked {cov.get('signatures', 0)} signatures over: {src or 'no recognised files'}", style="dim"))
    if cov.get("missing"):
        parts.append(Text("Missing: " + ", ".join(cov["missing"]), style="yellow"))
    if r.ingest_errors:
        t = Table(title="Ingest errors", box=None, show_header=True)
        for c in ("file", "kind", "detail"):
            t.add_column(c, overflow="fold")
        for e in r.ingest_errors[:20]:
            t.add_row(str(e.get("file")), str(e.get("kind")), str(e.get("detail")))
        parts.append(t)
    return Panel(Group(*parts), title=f"[bold]{r.vm}[/]", subtitle=r.bundle if r.bundle != r.vm else None)


def render(reports: Sequence[VmReport], console: Console) -> None:
    for r in reports:
        console.print(renderable(r))
