"""The building blocks of logscan's HTML pages (single VM and fleet): escaping, links, tables,
the page shell with its inline style and Content-Security-Policy, and charts rendered ahead of
time to inline SVG (see :mod:`logscan.reports.html` for why the pages are built this way)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

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
.badge.conf-confirmed { color: #fff; background: #b42318; border-color: #b42318; } .badge.conf-likely { color: #7a4b00; border-color: #d08700; } .badge.conf-possible { color: var(--muted); }
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
