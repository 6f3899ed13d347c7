"""Rich terminal output for `logscan scan`: the verdict, ranked findings with evidence, coverage."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ..diagnosis import VmReport, verdict


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
        parts.append(Text.assemble((f"{i}. {f.title} ", "bold"), (f"[{f.cause}] ", "magenta"), (f"score {f.score:.2f}", "cyan")))
        for e in f.evidence:
            where = f"{e.file}:{e.line}" if e.file else (e.source or "")
            when = e.time.strftime("%Y-%m-%d %H:%M:%S") if e.time else "-"
            first = (e.text or "").split("\n")[0][:400]
            parts.append(Text.assemble(("  ", ""), (where, "dim"), ("  ", ""), (when, "cyan")))
            parts.append(Text("    " + first, overflow="fold"))
            if e.note:
                parts.append(Text("    ↳ " + e.note, style="yellow"))
        fix = (f.remediation or "").strip()
        if fix:
            parts.append(Text("Fix: " + fix.splitlines()[0] + (" …" if "\n" in fix else ""), style="green"))
        parts.append(Text(f.doc, style="blue underline"))
    for f in r.other_findings:
        parts.append(Text(f"(outside {r.error_code}) {f.title} [{f.cause}] score {f.score:.2f}", style="dim"))
    if r.not_found:
        parts.append(Text("Checked, no evidence: " + ", ".join(r.not_found), style="dim"))
    for n in r.notes:
        parts.append(Text("Note: " + n, style="yellow"))
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
