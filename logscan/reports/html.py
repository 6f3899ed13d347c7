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

import html
import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

import polars as pl

from ..diagnosis import Finding, VmReport, verdict
from ..io.redact import text as redact_text

#: Shown instead of charts when the ``html`` extra is missing.
NO_CHARTS_NOTE = (
    "Charts are not shown: they need the optional packages altair and vl-convert-python "
    "(pip install 'logscan[html]'). The tables below hold the same data."
)

LEVEL_COLOURS = {
    "CRITICAL": "#7f0000",
    "ERROR": "#d62728",
    "WARNING": "#ff9f1c",
    "INFO": "#4c78a8",
    "VERBOSE": "#9ecae9",
    "DEBUG": "#bab0ac",
    "OTHER": "#d8d8d8",
}

CSS = """
:root { --fg:#1f2328; --muted:#59636e; --line:#d1d9e0; --bg2:#f6f8fa; --accent:#0969da; --bad:#cf222e; --warn:#9a6700; --ok:#1a7f37; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); margin: 0 auto; max-width: 1100px; padding: 16px 24px 48px; }
h1 { font-size: 22px; margin: 8px 0 4px; } h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
a { color: var(--accent); }
.muted { color: var(--muted); } .small { font-size: 12px; }
.verdict { font-size: 16px; font-weight: 600; margin: 8px 0 12px; padding: 8px 12px; border-left: 4px solid var(--bad); background: var(--bg2); }
.verdict.healthy { border-color: var(--ok); }
.kv { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 6px 0; }
.kv dt { color: var(--muted); } .kv dd { margin: 0; overflow-wrap: anywhere; }
details.finding { border: 1px solid var(--line); border-radius: 6px; margin: 8px 0; background: #fff; }
details.finding > summary { cursor: pointer; padding: 8px 12px; background: var(--bg2); border-radius: 6px; list-style-position: inside; }
details.finding[open] > summary { border-bottom: 1px solid var(--line); border-radius: 6px 6px 0 0; }
details.finding .body { padding: 8px 14px 12px; }
.rank { font-weight: 700; margin-right: 6px; } .title { font-weight: 600; }
.badge { display: inline-block; font-size: 12px; padding: 0 6px; border-radius: 10px; border: 1px solid var(--line); margin-left: 6px; color: var(--muted); }
.badge.portal { color: var(--warn); border-color: var(--warn); } .badge.score { color: var(--fg); }
code, pre { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; margin: 0; }
.fix { white-space: pre-wrap; background: #f0fff4; border: 1px solid #c6e9d0; padding: 8px 10px; border-radius: 4px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 10px; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: var(--bg2); font-weight: 600; font-size: 12px; } td.num, th.num { text-align: right; }
span.where { overflow-wrap: anywhere; font: 12px ui-monospace, Menlo, Consolas, monospace; } span.t { white-space: nowrap; font: 12px ui-monospace, Menlo, Consolas, monospace; }
table.evidence { table-layout: fixed; } table.evidence th:nth-child(1) { width: 27%; } table.evidence th:nth-child(2) { width: 150px; } table.evidence th:nth-child(3) { width: 130px; }
.chart { overflow-x: auto; margin: 6px 0; } .chart svg { max-width: 100%; height: auto; }
.note { background: #fff8c5; border: 1px solid #d4a72c; padding: 6px 10px; border-radius: 4px; margin: 8px 0; }
nav.toc { columns: 3; font-size: 13px; margin: 6px 0 12px; } nav.toc a { display: block; }
section.vm { margin-top: 28px; }
@media print { details.finding { break-inside: avoid; } details.finding:not([open]) .body { display: block; } }
"""

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"


# --------------------------------------------------------------------------------------
# Small helpers shared with the fleet report
# --------------------------------------------------------------------------------------


def esc(value: Any) -> str:
    """Escape any value for HTML text or a quoted attribute (secrets masked first)."""
    if value is None:
        return ""
    return html.escape(redact_text(str(value)) or "", quote=True)


def safe_href(url: str | None) -> str | None:
    """Only http(s) article links become links (no ``javascript:`` or relative paths)."""
    if url and re.match(r"(?i)^https?://[^\s<>\"']+$", url):
        return url
    return None


def link(url: str | None, label: str | None = None) -> str:
    href = safe_href(url)
    if not href:
        return esc(label or url or "")
    return f'<a href="{esc(href)}" rel="noopener noreferrer" target="_blank">{esc(label or href)}</a>'


def fmt_time(t: datetime | str | None) -> str:
    if t is None:
        return "-"
    if isinstance(t, str):
        return t.replace("T", " ").rstrip("Z")[:19]
    return t.strftime("%Y-%m-%d %H:%M:%S")


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], num: Iterable[int] = (), cls: str = "") -> str:
    """An HTML table; ``rows`` cells are already-escaped HTML."""
    nums = set(num)
    head = "".join(f'<th{" class=num" if i in nums else ""}>{esc(h)}</th>' for i, h in enumerate(headers))
    body = "".join(
        "<tr>" + "".join(f'<td{" class=num" if i in nums else ""}>{c}</td>' for i, c in enumerate(r)) + "</tr>" for r in rows
    )
    klass = f' class="{esc(cls)}"' if cls else ""
    return f"<table{klass}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def page(title: str, body: str, generator_note: str = "") -> str:
    """The whole document: inline CSS, a CSP that forbids every load, no script."""
    return (
        "<!DOCTYPE html>\n<html lang=en>\n<head>\n<meta charset=utf-8>\n"
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
        '<meta name=viewport content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n{body}\n"
        f'<footer class="muted small"><p>Generated by logscan{esc(generator_note)}. Times are UTC.</p></footer>\n'
        "</body>\n</html>\n"
    )


def charts_available() -> bool:
    """True when Altair and vl-convert can be imported (the ``html`` extra)."""
    try:
        import altair  # noqa: F401
        import vl_convert  # noqa: F401
    except ImportError:
        return False
    return True


_SELF_CLOSING = re.compile(r"<(path|rect|circle|line|text|symbol)(\s[^<>]*?)/>")
_ARIA = re.compile(r'\baria-label="([^"]*)"')


def _titles_from_aria(svg: str) -> str:
    """Turn marks' aria-labels (Vega writes the tooltip fields there) into hover titles."""

    def repl(m: re.Match[str]) -> str:
        attrs = m.group(2)
        if 'role="graphics-symbol"' not in attrs:
            return m.group(0)
        label = _ARIA.search(attrs)
        if not label:
            return m.group(0)
        return f"<{m.group(1)}{attrs}><title>{label.group(1)}</title></{m.group(1)}>"

    return _SELF_CLOSING.sub(repl, svg)


def chart_svg(chart: Any) -> str | None:
    """Render an Altair chart to inline SVG, or None (library missing or render failed)."""
    try:
        import vl_convert

        svg = vl_convert.vegalite_to_svg(chart.to_dict())
    except Exception:  # ImportError, or any vl-convert failure: the page falls back to tables
        return None
    svg = re.sub(r"^<\?xml[^>]*>\s*", "", svg)
    # No mark in our specs has a link; drop any a Vega might add so the page stays offline.
    svg = re.sub(r"</?a\b[^>]*>", "", svg)
    return _titles_from_aria(svg)


def chart_block(svg: str | None, fallback_html: str, caption: str) -> str:
    """The chart with its caption, or (no library, or rendering failed) the same data as tables."""
    if svg is None:
        why = NO_CHARTS_NOTE if not charts_available() else "The chart could not be drawn; the table below holds its data."
        return f'<div class="note">{esc(why)}</div>{fallback_html}'
    return f'<figure class="chart" role="img" aria-label="{esc(caption)}">{svg}<figcaption class="muted small">{esc(caption)}</figcaption></figure>'


# --------------------------------------------------------------------------------------
# The timeline chart
# --------------------------------------------------------------------------------------

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


def finding_block(rank: int, f: Finding | dict, *, open_: bool = False, anchor: str = "") -> str:
    """One ranked finding: summary line, then its evidence, the fix and the article link."""
    d = f.as_dict() if isinstance(f, Finding) else f
    portal = d.get("status") == "check-in-portal"
    badges = (
        '<span class="badge portal">not visible in the guest: check in the portal</span>'
        if portal
        else f'<span class="badge score">score {float(d.get("score") or 0):.2f}</span>'
    )
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
    if d.get("remediation"):
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
    ver = agent.get("goal_state_agent_version") or agent.get("version")
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
    if r.other_findings:
        parts.append(f"<h3>Outside {esc(r.error_code)}'s causes</h3>")
        start = len(r.findings) + 1
        parts.extend(finding_block(start + i, f, anchor=f"{anchor}-o{i}") for i, f in enumerate(r.other_findings))
    if r.not_found:
        parts.append(f'<p class="muted">Checked, no evidence found: {esc(", ".join(r.not_found))}</p>')
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
