"""HTML: one self-contained file per scan, for reading in a browser (``--format html``).

Why it is built this way:

* **One file that opens from disk.** Styles are inline, there is no script at all, and a
  Content-Security-Policy ``default-src 'none'`` forbids the page from loading anything, so
  the report can be attached to a case and opened offline without leaking a request.
* **Charts from a plotting library, rendered ahead of time.** The charts are Altair
  (Vega-Lite) specifications rendered to SVG by ``vl-convert`` when the report is written and
  inlined in the page. The alternative, shipping the ~900 kB Vega JavaScript bundle in every
  file, would make each report heavy and give it script that can fail; a static SVG prints,
  opens in any viewer and shows the same thing. Mark tooltips are kept as SVG ``<title>``s.
* **Optional.** Altair and vl-convert are the ``html`` extra. Without them (or if rendering
  fails) the page is the same minus the charts, with a note and a table in their place.
* **Everything from the bundle is escaped** (and masked again with :mod:`logscan.redact`, in
  case a secret slipped past ingest): evidence is text, never markup.

The ranked findings are ``<details>`` elements (the first one open) holding their evidence
lines (file:line, time), the remediation and the article link.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import polars as pl

from ..diagnosis import Finding, VmReport, verdict
from .html_base import (  # noqa: F401  (re-exported: the fleet page builds on them)
    CSS,
    LEVEL_COLOURS,
    NO_CHARTS_NOTE,
    chart_block,
    chart_svg,
    charts_available,
    esc,
    fmt_time,
    link,
    page,
    safe_href,
    table,
)

_BUCKET_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def _bucket_delta(width: str | None) -> timedelta:
    if not width or width[-1] not in _BUCKET_UNITS:
        return timedelta(minutes=1)
    return timedelta(**{_BUCKET_UNITS[width[-1]]: int(width[:-1])})


def timeline_chart(tl: pl.DataFrame, ref: datetime | None) -> Any:
    """Stacked event counts per bucket by level, one row per source; evidence and failure marked."""
    import altair as alt

    counts = tl.filter(pl.col("kind") == "count")
    width = counts["bucket"].drop_nulls().first() if counts.height else None
    delta = _bucket_delta(width)
    counts = counts.with_columns(end=pl.col("time") + delta)
    marks = tl.filter(pl.col("kind") == "evidence")
    sources = sorted(set(counts["source"].drop_nulls().to_list()) | set(marks["source"].drop_nulls().to_list()))
    rows: list[pl.DataFrame] = [counts, marks]
    if ref is not None and sources:
        rows.append(pl.DataFrame({"kind": ["failure"] * len(sources), "source": sources, "time": [ref] * len(sources)}))
    data = pl.concat(rows, how="diagonal_relaxed").with_columns(
        pl.col("time").dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
        pl.col("end").dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    levels = [lv for lv in LEVEL_COLOURS if lv in set(counts["level"].to_list())] or ["INFO"]
    x = alt.X("time:T", title="time (UTC)", scale=alt.Scale(type="utc"), axis=alt.Axis(format="%m-%d %H:%M", labelOverlap=True))
    base = alt.Chart().encode(x=x)
    bars = (
        base.transform_filter("datum.kind == 'count'")
        .mark_bar(opacity=0.9)
        .encode(
            x2="end:T",
            y=alt.Y("sum(count):Q", title="events", scale=alt.Scale(type="sqrt"), axis=alt.Axis(tickCount=3)),
            color=alt.Color(
                "level:N",
                title="level",
                scale=alt.Scale(domain=levels, range=[LEVEL_COLOURS[lv] for lv in levels]),
                sort=levels,
            ),
            order=alt.Order("level:N"),
            tooltip=[alt.Tooltip("time:T", title="from (UTC)", format="%Y-%m-%d %H:%M"), "level:N", alt.Tooltip("sum(count):Q", title="events")],
        )
    )
    evidence = (
        base.transform_filter("datum.kind == 'evidence'")
        .mark_point(shape="triangle-down", size=90, filled=True, color="#111", opacity=1)
        .encode(y=alt.value(4), tooltip=[alt.Tooltip("time:T", title="evidence (UTC)", format="%Y-%m-%d %H:%M:%S"), "cause:N", "label:N"])
    )
    ev_rules = base.transform_filter("datum.kind == 'evidence'").mark_rule(color="#111", strokeDash=[2, 2], opacity=0.6)
    failure = (
        base.transform_filter("datum.kind == 'failure'")
        .mark_rule(color="#cf222e", strokeWidth=2)
        .encode(tooltip=[alt.Tooltip("time:T", title="failure / reference time (UTC)", format="%Y-%m-%d %H:%M:%S")])
    )
    layered = alt.layer(bars, ev_rules, evidence, failure, data=alt.Data(values=data.to_dicts())).properties(width=820, height=70)
    return (
        layered.facet(row=alt.Row("source:N", title=None, header=alt.Header(labelAngle=0, labelAlign="left", labelFontWeight="bold")))
        .resolve_scale(y="independent")
        .configure_view(stroke="#ddd")
    )


def _timeline_table(tl: pl.DataFrame) -> str:
    counts = tl.filter(pl.col("kind") == "count")
    if not counts.height:
        return '<p class="muted">No timed events in the window.</p>'
    piv = (
        counts.group_by("source", "level")
        .agg(pl.col("count").sum(), first=pl.col("time").min(), last=pl.col("time").max())
        .sort("source", "level")
    )
    rows = [(esc(s), esc(lv), f"{n:,}", esc(fmt_time(a)), esc(fmt_time(b))) for s, lv, n, a, b in piv.iter_rows()]
    return table(["source", "level", "events", "first bucket", "last bucket"], rows, num=[2])


def timeline_section(r: VmReport, use_charts: bool) -> str:
    tl = r.timeline
    if tl is None or not tl.height:
        return '<h2>Timeline</h2><p class="muted">No timed events to chart.</p>'
    counts = tl.filter(pl.col("kind") == "count")
    width = counts["bucket"].drop_nulls().first() if counts.height else None
    span = f"{fmt_time(counts['time'].min())} – {fmt_time(counts['time'].max())} UTC" if counts.height else ""
    caption = (
        f"Events per {width or 'bucket'} by source and level ({span}); "
        "▼ and dotted lines: evidence lines; red line: the failure (reference) time."
    )
    svg = None
    if use_charts:
        try:
            svg = chart_svg(timeline_chart(tl, r.reference_time))
        except Exception:
            svg = None
    marks = tl.filter(pl.col("kind") == "evidence").sort("time")
    fallback = _timeline_table(tl)
    if marks.height:
        fallback += table(
            ["evidence time", "cause", "where"],
            [(esc(fmt_time(t)), esc(c), esc(lb)) for t, c, lb in marks.select("time", "cause", "label").iter_rows()],
        )
    return "<h2>Timeline</h2>" + chart_block(svg, fallback, caption)


# --------------------------------------------------------------------------------------
# One VM
# --------------------------------------------------------------------------------------


def evidence_table(evidence: Sequence[dict]) -> str:
    """Evidence rows as dicts (``Evidence.as_dict()`` or the batch struct)."""
    rows = []
    for e in evidence:
        where = f"{e.get('file')}:{e.get('line')}" if e.get("file") else (e.get("source") or "")
        rows.append(
            (
                f'<span class=where>{esc(where)}</span>',
                f'<span class=t>{esc(fmt_time(e.get("time")))}</span>',
                esc(e.get("source") or ""),
                f"<pre>{esc(e.get('text') or '')}</pre>",
            )
        )
    if not rows:
        return ""
    return table(["file:line", "time (UTC)", "source", "line"], rows, cls="evidence")


def fix_list(steps: Sequence[dict]) -> str:
    """Fix steps for the VM's platform, commands in code blocks, rules of thumb labelled."""
    items = []
    for st in steps:
        label = f'<span class="badge">{esc(st.get("label") or st.get("platform"))}</span> ' if st.get("platform") not in (None, "any") else ""
        rule = ' <span class="badge">rule of thumb</span>' if st.get("heuristic") else ""
        cmd = f"<pre>{esc(st['command'])}</pre>" if st.get("command") else ""
        src = f' <span class="small">({link(st["source"], "source")})</span>' if st.get("source") else ""
        items.append(f"<li>{label}{esc(st.get('text'))}{rule}{src}{cmd}</li>")
    return '<ol class="fix">' + "".join(items) + "</ol>"


def unexplained_block(r: VmReport) -> str:
    """Problem lines no signature explained, as templates (known-benign left out)."""
    if not r.unexplained:
        return '<p class="muted">None: every ERROR/WARNING line is explained or known-benign.</p>'
    rows = [
        (f"{int(u['count']):,}", f"<code>{esc(u['template'])}</code>", esc(", ".join(u.get("levels") or [])), f'<span class=where>{esc(u["first"])}</span>')
        for u in r.unexplained
    ]
    return table(["count", "template", "levels", "first at"], rows, num=[0])


def finding_block(rank: int, f: Finding | dict, *, open_: bool = False, anchor: str = "") -> str:
    """One ranked finding: summary line, then its evidence, the fix and the article link."""
    d = f.as_dict() if isinstance(f, Finding) else f
    portal = d.get("status") == "check-in-portal"
    badges = (
        '<span class="badge portal">not visible in the guest: check in the portal</span>'
        if portal
        else f'<span class="badge conf-{esc(d.get("confidence"))}">{esc(d.get("confidence"))}</span>'
        f'<span class="badge score">score {float(d.get("score") or 0):.2f}</span>'
    )
    if d.get("in_error_code") is False:
        badges += '<span class="badge">outside the error code\'s documented causes</span>'
    codes = "".join(f'<span class="badge">{esc(c)}</span>' for c in d.get("error_codes") or [])
    n_ev = len(d.get("evidence") or [])
    hits = f'<span class="badge">{n_ev} evidence line(s)</span>' if n_ev else ""
    summary = (
        f'<summary><span class="rank">{rank}.</span><span class="title">{esc(d.get("title"))}</span> '
        f'<code class="muted">{esc(d.get("cause"))}</code>{badges}{hits}{codes}</summary>'
    )
    body = []
    if d.get("summary"):
        body.append(f"<p>{esc(d['summary'])}</p>")
    if n_ev:
        body.append("<h3>Evidence</h3>" + evidence_table(d["evidence"]))
    if d.get("signatures"):
        body.append(f'<p class="muted small">Signatures: {esc(", ".join(d["signatures"]))}</p>')
    if d.get("fix_steps"):
        body.append("<h3>Fix</h3>" + fix_list(d["fix_steps"]))
    elif d.get("remediation"):
        body.append(f'<h3>Fix</h3><div class="fix">{esc(str(d["remediation"]).strip())}</div>')
    if d.get("doc"):
        body.append(f"<p>Article: {link(d['doc'])}</p>")
    ident = f' id="{esc(anchor)}"' if anchor else ""
    return f'<details class="finding"{ident}{" open" if open_ else ""}>{summary}<div class="body">{"".join(body)}</div></details>'


def facts_block(r: VmReport) -> str:
    facts = r.facts_summary or {}
    agent, osf = facts.get("agent", {}), facts.get("os", {})
    pairs: list[tuple[str, str]] = []
    for k, v in (r.identity or {}).items():
        if v:
            pairs.append((str(k), str(v)))
    ver = agent.get("effective_version")
    if ver:
        pairs.append(("agent version", str(ver)))
    if agent.get("daemon_version"):
        pairs.append(("agent daemon", str(agent["daemon_version"])))
    if agent.get("status"):
        pairs.append(("agent status", str(agent["status"])))
    if osf:
        pairs.append(("OS", " ".join(str(osf.get(k) or "") for k in ("name", "version")).strip()))
    if r.error_code:
        pairs.append(("backup error code", r.error_code))
    if r.at:
        pairs.append(("failed at", fmt_time(r.at) + " UTC"))
    if r.reference_time:
        pairs.append(("reference time", fmt_time(r.reference_time) + " UTC"))
    out = '<dl class="kv">' + "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in pairs) + "</dl>"
    exts = facts.get("extensions") or {}
    if exts:
        rows = [
            (esc(name), esc(v.get("version")), esc(v.get("handler_status") or v.get("state")), esc(v.get("status")), esc(v.get("status_code")))
            for name, v in sorted(exts.items())
        ]
        out += "<h3>Extensions</h3>" + table(["extension", "version", "handler", "status", "code"], rows)
    return out


def coverage_block(r: VmReport) -> str:
    cov = r.coverage or {}
    sources = cov.get("sources") or {}
    rows = [(esc(s), f"{v.get('files', 0):,}", f"{v.get('events', 0):,}") for s, v in sorted(sources.items())]
    out = f"<p>Platform: <b>{esc(cov.get('platform') or 'unknown')}</b>; {esc(cov.get('signatures', 0))} signatures checked"
    if cov.get("first_event"):
        out += f"; events from {esc(fmt_time(cov.get('first_event')))} to {esc(fmt_time(cov.get('last_event')))} UTC"
    out += ".</p>"
    out += table(["present source", "files", "events"], rows, num=[1, 2]) if rows else '<p class="note">No recognised log file in this bundle.</p>'
    missing = cov.get("missing") or []
    if missing:
        out += f'<p class="note">Missing (expected for this platform, not in the bundle): {esc(", ".join(missing))}</p>'
    else:
        out += '<p class="muted">Every expected source is present.</p>'
    if cov.get("unrecognised_files"):
        out += f'<p class="muted">{esc(cov["unrecognised_files"])} file(s) of kinds logscan does not read.</p>'
    return out


def ingest_errors_block(errors: Sequence[dict]) -> str:
    if not errors:
        return '<p class="muted">None: every recognised file was read.</p>'
    rows = [
        (f'<span class=where>{esc(e.get("file"))}{(":" + esc(e.get("line"))) if e.get("line") else ""}</span>', esc(e.get("source")), esc(e.get("kind")), f"<pre>{esc(e.get('detail'))}</pre>")
        for e in errors
    ]
    return table(["file", "source", "kind", "detail"], rows)


def vm_section(r: VmReport, use_charts: bool, anchor: str = "vm") -> str:
    parts = [f'<section class="vm" id="{esc(anchor)}">']
    parts.append(f"<h1>{esc(r.vm)}</h1>")
    sub = r.bundle if r.bundle != r.vm else ""
    parts.append(f'<p class="muted small">{esc(sub)} {esc(r.path)}</p>')
    parts.append(f'<div class="verdict{" healthy" if r.healthy else ""}">{esc(verdict(r))}</div>')
    parts.append(facts_block(r))
    for n in r.notes:
        parts.append(f'<p class="note">Note: {esc(n)}</p>')
    parts.append(f"<h2>Findings ({len(r.findings)})</h2>")
    if r.findings:
        first_open = True
        for i, f in enumerate(r.findings, 1):
            parts.append(finding_block(i, f, open_=first_open, anchor=f"{anchor}-f{i}"))
            first_open = False
    else:
        parts.append('<p class="muted">No known cause matched this bundle.</p>')
    if r.not_found:
        parts.append(f'<p class="muted">Checked, no evidence found: {esc(", ".join(r.not_found))}</p>')
    parts.append(f"<h2>Unexplained error/warning lines ({len(r.unexplained)})</h2>" + unexplained_block(r))
    parts.append(timeline_section(r, use_charts))
    parts.append("<h2>Coverage</h2>" + coverage_block(r))
    parts.append(f"<h2>Ingest errors ({len(r.ingest_errors)})</h2>" + ingest_errors_block(r.ingest_errors))
    parts.append("</section>")
    return "\n".join(parts)


def render(reports: Sequence[VmReport]) -> str:
    """The whole page for one or more scanned VMs."""
    use_charts = charts_available()
    body = []
    if len(reports) > 1:
        body.append("<h1>logscan report</h1><nav class=toc>")
        body.extend(f'<a href="#vm-{i}">{esc(r.vm)}</a>' for i, r in enumerate(reports))
        body.append("</nav>")
    if not use_charts:
        body.append(f'<div class="note">{esc(NO_CHARTS_NOTE)}</div>')
    for i, r in enumerate(reports):
        body.append(vm_section(r, use_charts, anchor=f"vm-{i}" if len(reports) > 1 else "vm"))
    title = "logscan: " + ", ".join(r.vm for r in reports[:3]) + (" …" if len(reports) > 3 else "")
    return page(title, "\n".join(body))
