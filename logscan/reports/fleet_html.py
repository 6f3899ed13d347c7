"""The fleet report: one self-contained HTML page for a ``logscan batch`` output folder.

It is given what batch wrote (a :class:`logscan.fleet.read.FleetResult`: ``vms``, ``findings``,
``ingest_errors``, ``summary``, ``out``) and never the bundles, so it can be rebuilt at any
time, also from a half-finished run. It does not import the fleet package (reports sit below
it): the caller reads the folder, or passes the folder and the four files are read here. The page uses
the single-VM report's building blocks (:mod:`logscan.reports.html`): the same CSS, the same
no-script / no-network rules, the same finding blocks.

Layout: totals; causes by VM count (chart + table whose VM names link to each VM's section);
error codes; agent versions against top causes; VMs that could not be scanned; the most
common unexplained error templates; an index of every VM; then one section per VM with its
ranked findings (evidence, fix, article) and ingest errors. Very large fleets keep every VM in
the index but only the first :data:`MAX_VM_SECTIONS` sections (VMs with a cause first), so
the page stays openable.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from types import SimpleNamespace

import polars as pl

from . import html as h

#: VM sections written in full (the index lists every VM).
MAX_VM_SECTIONS = 2000
#: VM names listed per cause in the causes table.
VMS_PER_CAUSE = 25


def vm_anchors(names: list[str]) -> dict[str, str]:
    """A unique, attribute-safe fragment id per VM name."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for n in names:
        base = "vm-" + (re.sub(r"[^A-Za-z0-9_.-]+", "-", n).strip("-") or "x")
        a, i = base, 2
        while a in used:
            a, i = f"{base}-{i}", i + 1
        used.add(a)
        out[n] = a
    return out


def _vm_links(vms: list[str], anchors: dict[str, str], limit: int = VMS_PER_CAUSE) -> str:
    """The first ``limit`` VMs as links; the rest, complete, in a collapsible block (no script)."""

    def link(v: str) -> str:
        return f'<a href="#{h.esc(anchors[v])}">{h.esc(v)}</a>' if v in anchors else h.esc(v)

    head = ", ".join(link(v) for v in vms[:limit])
    if len(vms) <= limit:
        return head
    rest = ", ".join(link(v) for v in vms[limit:])
    return f"{head} <details><summary>+{len(vms) - limit} more</summary>{rest}</details>"


def cause_counts(vms: pl.DataFrame, findings: pl.DataFrame) -> pl.DataFrame:
    """Per cause: VMs where it is the top cause, VMs with any evidence for it, and their names."""
    ok = vms.filter(pl.col("status") == "ok")
    confirmed = findings.filter(pl.col("status") == "evidence") if findings.height else findings
    if not confirmed.height:
        return pl.DataFrame(schema={"cause": pl.String, "title": pl.String, "vms_top": pl.Int64, "vms_any": pl.Int64, "vm_list": pl.List(pl.String)})
    top = ok.filter(pl.col("top_cause").is_not_null()).group_by(cause="top_cause").agg(vms_top=pl.col("vm").n_unique().cast(pl.Int64))
    anyc = confirmed.group_by("cause").agg(
        title=pl.col("title").first(),
        vms_any=pl.col("vm").n_unique().cast(pl.Int64),
        vm_list=pl.col("vm").unique().sort(),
    )
    return (
        anyc.join(top, on="cause", how="left")
        .with_columns(pl.col("vms_top").fill_null(0))
        .select("cause", "title", "vms_top", "vms_any", "vm_list")
        .sort(["vms_top", "vms_any", "cause"], descending=[True, True, False])
    )


def _causes_chart(cc: pl.DataFrame):
    import altair as alt

    rows = []
    for c, t, top, anyv in cc.select("cause", "title", "vms_top", "vms_any").iter_rows():
        label = f"{t} ({c})" if t else c
        rows.append({"cause": label, "kind": "top cause", "vms": top, "order": 0})
        rows.append({"cause": label, "kind": "evidence, not top", "vms": anyv - top, "order": 1})
    order = [f"{t} ({c})" if t else c for c, t in cc.select("cause", "title").iter_rows()]
    return (
        alt.Chart(alt.Data(values=rows))
        .mark_bar()
        .encode(
            y=alt.Y("cause:N", sort=order, title=None, axis=alt.Axis(labelLimit=420)),
            x=alt.X("sum(vms):Q", title="VMs", axis=alt.Axis(tickMinStep=1, format="d")),
            color=alt.Color("kind:N", title=None, scale=alt.Scale(domain=["top cause", "evidence, not top"], range=["#cf222e", "#f4a6a6"])),
            order=alt.Order("order:Q"),
            tooltip=["cause:N", "kind:N", alt.Tooltip("sum(vms):Q", title="VMs")],
        )
        .properties(width=520, height=alt.Step(22))
    )


def _versions_chart(vc: pl.DataFrame):
    import altair as alt

    return (
        alt.Chart(alt.Data(values=vc.to_dicts()))
        .mark_rect()
        .encode(
            x=alt.X("agent_version:N", title="agent version", sort="ascending"),
            y=alt.Y("cause:N", title=None, axis=alt.Axis(labelLimit=320)),
            color=alt.Color("vms:Q", title="VMs", scale=alt.Scale(scheme="reds"), legend=alt.Legend(format="d", tickMinStep=1)),
            tooltip=["agent_version:N", "cause:N", "vms:Q"],
        )
        .properties(width=alt.Step(36), height=alt.Step(22))
    )


def _chart(builder, data: pl.DataFrame, use_charts: bool, fallback: str, caption: str) -> str:
    svg = None
    if use_charts and data.height:
        try:
            svg = h.chart_svg(builder(data))
        except Exception:
            svg = None
    if not use_charts:
        return fallback  # the page-level note already says why there are no charts
    return h.chart_block(svg, fallback, caption)


def _vm_section(
    vm: dict,
    findings: pl.DataFrame,
    errors: pl.DataFrame,
    anchor: str,
) -> str:
    name = vm["vm"]
    parts = [f'<section class="vm" id="{h.esc(anchor)}"><h2>{h.esc(name)}</h2>']
    bits = [vm.get("path") or ""]
    if vm.get("agent_version"):
        bits.append(f"agent {vm['agent_version']}")
    os_ = " ".join(x for x in (vm.get("os"), vm.get("os_version")) if x)
    if os_:
        bits.append(os_)
    if vm.get("n_events") is not None:
        bits.append(f"{vm['n_events']:,} events")
    parts.append(f'<p class="muted small">{h.esc(" · ".join(b for b in bits if b))}</p>')
    if vm.get("status") != "ok":
        parts.append(f'<p class="note">Not scanned: {h.esc(vm.get("status"))}: {h.esc(vm.get("reason"))}</p>')
    elif vm.get("verdict"):
        parts.append(f'<div class="verdict{" healthy" if vm.get("healthy") else ""}">{h.esc(vm["verdict"])}</div>')
    for i, f in enumerate(findings.sort("rank").iter_rows(named=True)):
        parts.append(h.finding_block(int(f["rank"] or i + 1), f, open_=i == 0, anchor=f"{anchor}-f{f['rank']}"))
    if errors.height:
        parts.append(f"<h3>Ingest errors ({errors.height})</h3>" + h.ingest_errors_block(errors.to_dicts()))
    parts.append('<p class="small"><a href="#top">back to the summary</a></p></section>')
    return "\n".join(parts)


def _read_folder(out_dir: Path) -> SimpleNamespace:
    """The four tables and the summary of a finished batch folder (no schema fallback: a
    folder batch has merged always has every file)."""
    summary_path = out_dir / "summary.json"
    return SimpleNamespace(
        out=out_dir,
        vms=pl.read_parquet(out_dir / "vms.parquet"),
        findings=pl.read_parquet(out_dir / "findings.parquet"),
        ingest_errors=pl.read_parquet(out_dir / "ingest_errors.parquet"),
        summary=json.loads(summary_path.read_text(encoding="utf-8")) if summary_path.exists() else {},
    )


def render_fleet(fleet) -> str:
    """The fleet page (write it as ``summary.html``) for a ``FleetResult`` or an output folder."""
    if isinstance(fleet, (str, os.PathLike)):
        fleet = _read_folder(Path(fleet))
    out_dir = fleet.out
    vms, findings, errors, summary = fleet.vms, fleet.findings, fleet.ingest_errors, fleet.summary
    use_charts = h.charts_available()

    # VMs with a cause first (strongest first), then the unscanned, then the healthy.
    vms = vms.with_columns(
        _grp=pl.when(pl.col("top_cause").is_not_null()).then(0).when(pl.col("status") != "ok").then(1).otherwise(2)
    ).sort(["_grp", "top_score", "vm"], descending=[False, True, False], nulls_last=True)
    names = vms["vm"].to_list()
    anchors = vm_anchors(names)
    shown = set(names[:MAX_VM_SECTIONS])
    linkable = {n: a for n, a in anchors.items() if n in shown}

    body = ['<header id="top"><h1>logscan fleet report</h1>']
    n_ok = vms.filter(pl.col("status") == "ok").height
    n_healthy = vms.filter((pl.col("status") == "ok") & pl.col("top_cause").is_null()).height
    counts = vms.group_by("status").len()
    status = dict(counts.iter_rows()) if counts.height else {}
    body.append(
        f'<p class="verdict">{vms.height:,} VMs: {n_ok:,} scanned, {status.get("failed", 0):,} failed, '
        f'{status.get("timed-out", 0):,} timed out; {n_ok - n_healthy:,} with a known cause, '
        f"{n_healthy:,} with none.</p>"
    )
    opts = {k: v for k, v in (summary.get("options") or {}).items() if v}
    if opts:
        body.append(f'<p class="muted small">Options: {h.esc(", ".join(f"{k}={v}" for k, v in opts.items()))}</p>')
    body.append(f'<p class="muted small">Folder: {h.esc(Path(out_dir).resolve())}</p></header>')
    if not use_charts:
        body.append(f'<div class="note">{h.esc(h.NO_CHARTS_NOTE)}</div>')

    # Causes by VM count.
    cc = cause_counts(vms, findings)
    body.append("<h2>Causes by number of VMs</h2>")
    cause_rows = [
        (
            f"<code>{h.esc(c)}</code>",
            h.esc(t),
            str(top),
            str(anyv),
            _vm_links(vl, linkable),
        )
        for c, t, top, anyv, vl in cc.iter_rows()
    ]
    table = h.table(["cause", "title", "VMs (top cause)", "VMs (any evidence)", "VMs"], cause_rows, num=[2, 3])
    if cc.height:
        body.append(_chart(_causes_chart, cc, use_charts, "", "VMs per cause: dark, the VM's top cause; light, evidence found but another cause ranked higher."))
        body.append(table)
    else:
        body.append('<p class="muted">No VM has evidence for a known cause.</p>')

    # Failures together in time (computed by batch: summary["time_patterns"]).
    patterns = summary.get("time_patterns") or []
    if patterns:
        body.append("<h2>Failures together in time</h2>")
        body.append('<p class="note">Many VMs failing with the same cause within one window: a platform or network event is more likely than as many separate guest faults.</p>')
        body.append(h.table(["cause", "VMs", "of", "from", "to", "VMs"], [(f"<code>{h.esc(t['cause'])}</code>", str(t["vms"]), str(t["of"]), h.esc(t["start"]), h.esc(t["end"]), _vm_links(t["vm_list"], linkable)) for t in patterns], num=[1, 2]))
    given = summary.get("error_codes_given") or []
    if given:
        body.append("<h2>Error codes the backup jobs gave</h2>")
        body.append(h.table(["error code", "VMs", "VMs"], [(f"<code>{h.esc(c['error_code'])}</code>", str(c["vms"]), _vm_links(c["vm_list"], linkable)) for c in given], num=[1]))

    # Error codes.
    confirmed = findings.filter(pl.col("status") == "evidence") if findings.height else findings
    if confirmed.height:
        codes = (
            confirmed.explode("error_codes")
            .filter(pl.col("error_codes").is_not_null())
            .group_by("error_codes")
            .agg(vms=pl.col("vm").n_unique(), vm_list=pl.col("vm").unique().sort())
            .sort(["vms", "error_codes"], descending=[True, False])
        )
        if codes.height:
            body.append("<h2>Error codes the found causes can produce (inferred, not observed)</h2>")
            body.append(h.table(["error code", "VMs", "VMs"], [(f"<code>{h.esc(c)}</code>", str(n), _vm_links(vl, linkable)) for c, n, vl in codes.iter_rows()], num=[1]))

    # Agent versions against top causes.
    ok = vms.filter(pl.col("status") == "ok").with_columns(
        agent_version=pl.col("agent_version").fill_null("unknown"), cause=pl.col("top_cause").fill_null("(no known cause)")
    )
    if ok.height:
        vc = ok.group_by("agent_version", "cause").agg(vms=pl.len().cast(pl.Int64)).sort("agent_version", "cause")
        body.append("<h2>Agent versions and top causes</h2>")
        fallback = h.table(["agent version", "top cause", "VMs"], [(h.esc(a), h.esc(c), str(n)) for a, c, n in vc.iter_rows()], num=[2])
        body.append(_chart(_versions_chart, vc, use_charts, fallback, "VMs per agent version (goal-state agent) and top cause."))
        if use_charts:
            body.append(f"<details><summary>Table</summary>{fallback}</details>")

    # VMs that could not be scanned.
    failed = vms.filter(pl.col("status") != "ok").sort("vm")
    body.append(f"<h2>VMs that could not be scanned ({failed.height})</h2>")
    if failed.height:
        body.append(
            h.table(
                ["VM", "status", "reason", "path"],
                [(_vm_links([v], linkable), h.esc(s), f"<pre>{h.esc(r)}</pre>", h.esc(p)) for v, s, r, p in failed.select("vm", "status", "reason", "path").iter_rows()],
            )
        )
    else:
        body.append('<p class="muted">None.</p>')

    # Unexplained error templates (mined by batch with Drain3).
    templates = summary.get("unexplained") or []
    body.append("<h2>Most common unexplained error lines</h2>")
    body.append('<p class="muted small">ERROR/WARNING lines no signature matched, grouped into templates: candidates for new signatures.</p>')
    if templates:
        body.append(
            h.table(
                ["VMs", "lines", "levels", "template", "VMs"],
                [
                    (str(t.get("vms")), str(t.get("lines")), h.esc(", ".join(t.get("levels") or [])), f"<pre>{h.esc(t.get('template'))}</pre>", _vm_links(t.get("vm_list") or [], linkable, 10))
                    for t in templates
                ],
                num=[0, 1],
            )
        )
    else:
        body.append('<p class="muted">None.</p>')

    # Ingest errors across the fleet, by kind.
    if errors.height:
        by_kind = errors.group_by("kind").agg(vms=pl.col("vm").n_unique(), files=pl.len(), vm_list=pl.col("vm").unique().sort()).sort("files", descending=True)
        body.append("<h2>Ingest errors by kind</h2>")
        body.append(h.table(["kind", "VMs", "files", "VMs"], [(h.esc(k), str(v), str(f), _vm_links(vl, linkable, 10)) for k, v, f, vl in by_kind.iter_rows()], num=[1, 2]))

    # Index of every VM.
    body.append(f"<h2>Every VM ({vms.height:,})</h2>")
    idx_rows = [
        (
            _vm_links([r["vm"]], linkable),
            h.esc(r["status"]),
            f"<code>{h.esc(r['top_cause'])}</code>" if r["top_cause"] else '<span class="muted">none</span>',
            f"{r['top_score']:.2f}" if r["top_score"] is not None else "",
            h.esc(r["agent_version"]),
            h.esc(" ".join(x for x in (r["os"], r["os_version"]) if x)),
            f"{r['n_events'] or 0:,}",
            str(r["n_ingest_errors"] or 0),
        )
        for r in vms.iter_rows(named=True)
    ]
    body.append(h.table(["VM", "status", "top cause", "score", "agent", "OS", "events", "ingest errors"], idx_rows, num=[3, 6, 7]))
    if vms.height > MAX_VM_SECTIONS:
        body.append(f'<p class="note">Sections are written for the first {MAX_VM_SECTIONS:,} VMs; the rest are in the Parquet files.</p>')

    # One section per VM.
    body.append("<h2>VMs</h2>")
    f_by_vm = findings.partition_by("vm", as_dict=True) if findings.height else {}
    e_by_vm = errors.partition_by("vm", as_dict=True) if errors.height else {}
    empty_f, empty_e = findings.clear(), errors.clear()
    for r in vms.head(MAX_VM_SECTIONS).iter_rows(named=True):
        key = (r["vm"],)
        body.append(_vm_section(r, f_by_vm.get(key, empty_f), e_by_vm.get(key, empty_e), anchors[r["vm"]]))
    return h.page(f"logscan fleet report: {vms.height} VMs", "\n".join(body))


__all__ = ["cause_counts", "render_fleet", "vm_anchors"]
