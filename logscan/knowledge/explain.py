"""``logscan explain CODE|CAUSE``: the knowledge base, readable in a terminal.

For an error code it lists the candidate causes in the order the article says to check them,
says which ones a log bundle can show at all ("check in the portal" for the rest), and what
evidence would confirm each; for a cause it prints what it means, how to confirm it and how
to fix it: the steps grouped by platform (both unless one is asked for), each command per
distribution where they differ, heuristic steps labelled "rule of thumb", and each step's
source. Unknown terms raise :class:`LookupError` carrying close matches, so the CLI can
suggest the right spelling.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.markdown import Markdown
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from . import Cause, ErrorCode, FixStep, Knowledge, load_knowledge


class UnknownTerm(LookupError):
    """``term`` is neither a known error code nor a cause id; ``suggestions`` are close matches."""

    def __init__(self, term: str, suggestions: list[str]):
        hint = f" Did you mean: {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"'{term}' is not a known error code or cause id.{hint}")
        self.term = term
        self.suggestions = suggestions


def _visibility(cause: Cause) -> Text:
    if cause.guest_visible:
        return Text("in the logs", style="green")
    return Text("not in the guest: check in the portal", style="yellow")


def _bullets(items: tuple[str, ...]) -> str:
    return "\n".join(f"- {i}" for i in items) if items else "- (none)"


def render_code(ec: ErrorCode, k: Knowledge) -> RenderableType:
    """Meaning, then every candidate cause in order with visibility and confirming evidence."""
    table = Table(show_lines=True, expand=True, title="Candidate causes, in the order to check them")
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("cause")
    table.add_column("visible")
    table.add_column("evidence that would confirm it")
    for i, cid in enumerate(ec.all_candidates, 1):
        cause = k.causes[cid]
        origin = "" if cid in ec.candidates else "\n(from real reports, not the article)"
        table.add_row(
            str(i),
            Text.assemble((cause.id, "bold"), f"\n{cause.title}{origin}"),
            _visibility(cause),
            Markdown(_bullets(cause.evidence)),
        )
    head = Text.assemble((ec.code, "bold cyan"), "\n", ec.meaning)
    parts: list[RenderableType] = [head, table]
    if ec.doc:
        parts.append(Text(f"Article: {ec.doc}", style="dim", overflow="fold"))
    parts.append(Text(f"More on one cause: logscan explain {ec.all_candidates[0]}", style="dim"))
    return Group(*parts)


def _step_md(i: int, s: FixStep) -> str:
    """One numbered step; command, undo and source as sub-items so they keep their own lines."""
    head = f"{i}. {s.text}" + (f" *(rule of thumb: {s.why})*" if s.heuristic else "")
    subs: list[str] = []
    if len(s.commands) > 1:
        subs += [f"{c.label}: `{c.command}`" if c.command else f"{c.label}: no command" for c in s.commands]
    elif s.command:
        subs.append(f"`{s.command}`")
    if s.undo:
        subs.append(f"*Undo:* {s.undo}")
    if s.source:
        subs.append(f"Source: {s.source}")
    return "\n".join([head, *(f"   - {x}" for x in subs)])


def render_fix(steps: list[FixStep]) -> RenderableType:
    """One runbook per platform (its own steps plus the shared ones, in the data's order).

    A reader on a Linux VM follows the Linux list top to bottom without skipping Windows
    steps; when the steps do not differ by platform there is a single list.
    """
    plats = [p for p in ("linux", "windows") if any(s.platform == p for s in steps)]
    if not plats:
        return Markdown("\n".join(_step_md(i, s) for i, s in enumerate(steps, 1)))
    parts: list[RenderableType] = []
    for plat in plats:
        mine = [s for s in steps if s.platform in ("any", plat)]
        if len(plats) > 1:
            parts.append(Text({"linux": "Linux", "windows": "Windows"}[plat], style="bold underline"))
        parts.append(Markdown("\n".join(_step_md(i, s) for i, s in enumerate(mine, 1))))
    return Group(*parts)


def render_cause(
    cause: Cause, k: Knowledge, platform: str = "unknown", distro: str | None = None
) -> RenderableType:
    """Title, summary, evidence, fix steps (for ``platform``/``distro``), doc link and codes."""
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold", no_wrap=True)
    facts.add_column(overflow="fold")
    facts.add_row("platforms", ", ".join(cause.platforms))
    facts.add_row("visible", _visibility(cause))
    if cause.parent:
        parent = k.causes[cause.parent]
        facts.add_row("part of", f"{parent.id} ({parent.title})")
    facts.add_row("error codes", ", ".join(cause.error_codes) or "(none named; seen without a specific code)")
    facts.add_row("article", cause.doc)
    if cause.note:
        facts.add_row("note", cause.note)
    body: list[RenderableType] = [
        Text(cause.summary),
        Text(""),
        facts,
        Panel(Markdown(_bullets(cause.evidence)), title="Evidence that confirms it", title_align="left"),
        Panel(render_fix(k.fix_steps(cause.id, platform, distro)), title="What to do", title_align="left"),
    ]
    return Panel(
        Group(*body), title=Text.assemble((cause.id, "bold cyan"), f" - {cause.title}"), title_align="left"
    )


def render_explain(
    term: str, knowledge: Knowledge | None = None, platform: str = "unknown", distro: str | None = None
) -> RenderableType:
    """What ``term`` (an error code, any case, or a cause id) means; LookupError if unknown.

    For a cause, ``platform`` / ``distro`` narrow the fix steps (default: every platform and
    distribution, labelled).
    """
    k = knowledge or load_knowledge()
    ec = k.code(term)
    if ec is not None:
        return render_code(ec, k)
    cause = k.cause(term)
    if cause is not None:
        return render_cause(cause, k, platform, distro)
    raise UnknownTerm(term, k.suggest(term))


__all__ = ["UnknownTerm", "render_cause", "render_code", "render_explain", "render_fix"]
