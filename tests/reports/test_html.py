"""The HTML reports (one VM and fleet) and the Markdown report: content, safety, fallbacks."""

from __future__ import annotations

import re
import sys
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from typing import ClassVar

import polars as pl
import pytest

from logscan.diagnosis import Evidence, Finding, VmReport, timeline_summary
from logscan.diagnosis.chart import TIMELINE_MAX_ROWS
from logscan.frames import EVENT_SCHEMA, conform
from logscan.reports import html as html_report
from logscan.reports import markdown

from .conftest import HOSTILE, write_bundle

UTC = timezone.utc
REF = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


class _Loads(HTMLParser):
    """Collects every URL the page could load, and every link target."""

    LOADING: ClassVar[dict[str, str]] = {"script": "src", "link": "href", "img": "src", "iframe": "src", "embed": "src", "object": "data", "source": "src", "audio": "src", "video": "src", "image": "href", "use": "href"}

    def __init__(self) -> None:
        super().__init__()
        self.loads: list[tuple[str, str]] = []
        self.links: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script":
            self.scripts += 1
        want = self.LOADING.get(tag)
        for k in (want, "xlink:href") if want else ("xlink:href",):
            if k and a.get(k):
                self.loads.append((tag, a[k]))
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])

    handle_startendtag = handle_starttag


def _parse(page: str) -> _Loads:
    p = _Loads()
    p.feed(page)
    return p


def _finding(cause: str, title: str, score: float, evidence: list[Evidence], doc: str = "https://learn.microsoft.com/x") -> Finding:
    return Finding(cause=cause, title=title, score=score, error_codes=["UserErrorX"], evidence=evidence, remediation=f"Fix {cause}\nthen retry", doc=doc)


def _report(findings: list[Finding], events: pl.DataFrame | None = None) -> VmReport:
    r = VmReport(
        vm="vm-1",
        bundle="vm-1.zip",
        path="/cases/vm-1.zip",
        identity={"hostname": "vm-1"},
        findings=findings,
        ingest_errors=[{"file": "var/log/bad.log", "source": "syslog", "kind": "decode", "detail": "bytes <b>0xff</b>", "line": None}],
        coverage={"platform": "linux", "sources": {"waagent_log": {"files": 1, "events": 30}}, "missing": ["vmsnapshot_log"], "signatures": 12},
        facts_summary={},
        reference_time=REF,
    )
    if events is not None:
        r.timeline = timeline_summary(events, findings, REF)
    return r


def _events(n: int = 30, sources: int = 1, levels=("INFO", "ERROR"), step=timedelta(minutes=10)) -> pl.DataFrame:
    times = [REF - timedelta(hours=4) + i * step for i in range(n)]
    df = pl.DataFrame(
        {
            "time": times,
            "source": [f"src{i % sources}" for i in range(n)],
            "level": [levels[i % len(levels)] for i in range(n)],
            "file": ["var/log/waagent.log"] * n,
            "line": list(range(1, n + 1)),
        }
    )
    return conform(df, EVENT_SCHEMA)


def _three() -> list[Finding]:
    return [
        _finding("cause-a", "Alpha first", 0.9, [Evidence("var/log/waagent.log", 11, REF - timedelta(minutes=5), "alpha line", "waagent_log", "sig-a")]),
        _finding("cause-b", "Bravo second", 0.6, [Evidence("var/log/syslog", 22, REF - timedelta(hours=1), "bravo line", "syslog", "sig-b")]),
        _finding("cause-c", "Charlie third", 0.3, [Evidence("etc/waagent.conf", 3, None, "charlie line", "waagent_conf", "sig-c")]),
    ]


# ----------------------------------------------------------------------------------------
# Single-VM HTML
# ----------------------------------------------------------------------------------------


def test_page_is_self_contained():
    page = html_report.render([_report(_three(), _events())])
    p = _parse(page)
    assert p.scripts == 0
    for tag, url in p.loads:
        assert not re.match(r"(?i)^\s*(https?:)?//", url), f"{tag} loads {url}"
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", page)
    # Article links are allowed, and only http(s) or in-page ones.
    assert "https://learn.microsoft.com/x" in p.links
    assert all(u.startswith(("https://", "http://", "#")) for u in p.links)


def test_findings_in_rank_order_with_evidence_fix_and_link():
    page = html_report.render([_report(_three(), _events())])
    pos = [page.index(t) for t in ("Alpha first", "Bravo second", "Charlie third")]
    assert pos == sorted(pos)
    ranks = re.findall(r'<span class="rank">(\d+)\.</span>', page)
    assert ranks[:3] == ["1", "2", "3"]
    assert page.count("<details class=\"finding\"") == 3
    assert re.search(r'<details class="finding" id="vm-f1" open>', page)  # the top finding is expanded
    for where in ("var/log/waagent.log:11", "var/log/syslog:22", "etc/waagent.conf:3"):
        assert where in page
    assert (REF - timedelta(minutes=5)).strftime("%Y-%m-%d %H:%M:%S") in page
    assert "Fix cause-b\nthen retry" in page
    assert page.count('href="https://learn.microsoft.com/x"') == 3


def test_coverage_and_ingest_errors_shown_escaped():
    page = html_report.render([_report(_three())])
    assert "vmsnapshot_log" in page and "Missing" in page
    assert "var/log/bad.log" in page
    assert "&lt;b&gt;0xff&lt;/b&gt;" in page and "<b>0xff</b>" not in page


def test_hostile_evidence_is_escaped_and_masked(scanned_report):
    page = html_report.render([scanned_report])
    assert scanned_report.findings, "the sample bundle should give a finding"
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "SeCrEtSiG123" not in page
    assert "sig=***" in page


def test_escapes_even_unmasked_input_and_drops_unsafe_links():
    ev = [Evidence("f.log", 1, REF, HOSTILE + ' "quoted" & <img src=x onerror=alert(2)>', "syslog", None)]
    page = html_report.render([_report([_finding("c", "<i>Title</i>", 0.5, ev, doc="javascript:alert(3)")])])
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(2)&gt;" in page
    assert "<i>Title</i>" not in page and "&lt;i&gt;Title&lt;/i&gt;" in page
    assert 'href="javascript:' not in page
    assert "SeCrEtSiG123" not in page


def test_timeline_chart_marks_evidence():
    pytest.importorskip("altair")
    pytest.importorskip("vl_convert")
    page = html_report.render([_report(_three(), _events(sources=2))])
    timeline = page[page.index("<h2>Timeline</h2>") : page.index("<h2>Coverage</h2>")]
    assert "<svg" in timeline
    assert "src0" in timeline and "src1" in timeline  # one row per source
    titles = re.findall(r"<title>([^<]*)</title>", timeline)
    assert any("var/log/waagent.log:11" in t and "cause-a" in t for t in titles), titles[:5]
    assert any("failure" in t for t in titles)
    assert "could not be drawn" not in page


def test_without_chart_libraries_falls_back_to_tables(monkeypatch):
    monkeypatch.setitem(sys.modules, "vl_convert", None)  # import fails as if not installed
    assert not html_report.charts_available()
    page = html_report.render([_report(_three(), _events(sources=2))])
    assert "<svg" not in page
    assert html_report.NO_CHARTS_NOTE.split(":")[0] in page
    timeline = page[page.index("<h2>Timeline</h2>") : page.index("<h2>Coverage</h2>")]
    assert "src1" in timeline and "evidence time" in timeline
    assert "Alpha first" in page


def test_cli_writes_html(tmp_path):
    from typer.testing import CliRunner

    from logscan.cli import app

    bundle = write_bundle(tmp_path / "vm-cli", hostile=False, n=60)
    out = tmp_path / "r.html"
    res = CliRunner().invoke(app, ["scan", str(bundle), "--format", "html", "-o", str(out)])
    assert res.exit_code == 0, res.output
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "vm-cli" in page and "<h2>Findings" in page


# ----------------------------------------------------------------------------------------
# timeline_summary
# ----------------------------------------------------------------------------------------


def test_timeline_summary_is_small_and_keeps_evidence():
    ev = _events(n=200_000, sources=12, levels=("INFO", "WARNING", "ERROR", "VERBOSE", "DEBUG", "CRITICAL"), step=timedelta(seconds=20))
    f = _three()
    tl = timeline_summary(ev, f, REF)
    counts = tl.filter(pl.col("kind") == "count")
    assert 0 < tl.height <= TIMELINE_MAX_ROWS + 3
    assert counts["bucket"].n_unique() == 1
    assert counts["count"].sum() <= ev.height
    # The window is around the reference time.
    assert counts["time"].min() >= REF - timedelta(days=1, minutes=1)
    assert counts["time"].max() <= REF + timedelta(hours=2)
    marks = tl.filter(pl.col("kind") == "evidence")
    assert sorted(marks["label"].to_list()) == ["var/log/syslog:22", "var/log/waagent.log:11"]  # the untimed one has no mark


def test_timeline_summary_counts_match_events_and_handles_empty():
    ev = _events(n=30, levels=("INFO", "ERROR", None))
    tl = timeline_summary(ev, [], REF)
    got = dict(tl.group_by("level").agg(pl.col("count").sum()).iter_rows())
    assert got == {"INFO": 10, "ERROR": 10, "OTHER": 10}
    empty = timeline_summary(ev.clear(), [], None)
    assert empty.height == 0 and empty.columns == tl.columns


def test_timeline_not_in_json_contract():
    r = _report(_three(), _events())
    assert r.timeline is not None and "timeline" not in r.as_dict()


# ----------------------------------------------------------------------------------------
# Markdown
# ----------------------------------------------------------------------------------------


def test_markdown_is_short_and_pasteable(scanned_report):
    text = markdown.render([scanned_report])
    lines = text.splitlines()
    assert len(lines) <= 40, text
    top = scanned_report.findings[0]
    assert top.title in text and top.doc in text and "**Fix:**" in text
    assert "SeCrEtSiG123" not in text
    assert max(len(line) for line in lines) < 400


def test_markdown_lists_top_three_only():
    many = [*_three(), _finding("cause-d", "Delta fourth", 0.2, []), _finding("cause-e", "Echo fifth", 0.1, [])]
    ev = [Evidence("var/log/x.log", i, REF, f"line {i} " + "x" * 1000, "syslog", None) for i in range(6)]
    many[0].evidence = ev
    text = markdown.render([_report(many)])
    assert "Alpha first" in text and "Charlie third" in text
    assert "Delta fourth" not in text and "2 more finding(s)" in text
    assert "3 more evidence line(s)" in text
    assert all(len(line) < 300 for line in text.splitlines())
    assert len(text.splitlines()) <= 40


# ----------------------------------------------------------------------------------------
# Fleet HTML
# ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def batch_out(tmp_path_factory):
    from logscan.fleet.batch import run_batch

    root = tmp_path_factory.mktemp("fleet")
    write_bundle(root / "in" / "vm-a")
    write_bundle(root / "in" / "vm-b", n=80)
    write_bundle(root / "in" / "vm-ok", extensions_enabled="y", hostile=False, n=50, errors=False)
    out = root / "out"
    run_batch([str(root / "in")], out, jobs=1, progress=False)
    return out


def test_fleet_report_links_every_vm_and_ranks_causes(batch_out):
    from logscan.fleet.read import read_batch
    from logscan.reports.fleet_html import render_fleet

    page = render_fleet(batch_out)
    fleet = read_batch(batch_out)
    p = _parse(page)
    assert p.scripts == 0
    assert all(not re.match(r"(?i)^\s*(https?:)?//", u) for _, u in p.loads)
    ids = set(re.findall(r'<section class="vm" id="([^"]+)"', page))
    assert len(ids) == fleet.vms.height == 3
    internal = {u[1:] for u in p.links if u.startswith("#") and u != "#top"}
    assert internal <= ids and len(internal) == 3
    # The top cause's row links the two VMs that have it.
    top = fleet.vms.filter(pl.col("top_cause").is_not_null())
    cause = top["top_cause"][0]
    row = re.search(rf"<tr><td><code>{re.escape(cause)}</code></td>.*?</tr>", page).group(0)
    assert re.findall(r'href="#(vm-[^"]+)"', row) == ["vm-vm-a", "vm-vm-b"]
    assert ">2</td>" in row
    assert "<svg" in page or html_report.NO_CHARTS_NOTE.split(":")[0] in page
    assert "SeCrEtSiG123" not in page and "&lt;script&gt;" in page


def test_cause_counts_order_and_anchor_uniqueness():
    from logscan.reports.fleet_html import cause_counts, vm_anchors

    vms = pl.DataFrame({"vm": ["a", "b", "c", "d"], "status": ["ok"] * 4, "top_cause": ["x", "y", "y", None]})
    findings = pl.DataFrame(
        {"vm": ["a", "b", "c", "a", "d"], "cause": ["x", "y", "y", "y", "z"], "title": ["X", "Y", "Y", "Y", "Z"], "status": ["evidence"] * 4 + ["check-in-portal"]}
    )
    cc = cause_counts(vms, findings)
    assert cc["cause"].to_list() == ["y", "x"]  # z is only "check in the portal"
    assert cc.row(0, named=True)["vms_top"] == 2 and cc.row(0, named=True)["vms_any"] == 3
    anchors = vm_anchors(["vm 1", "vm/1", "vm-1", "<x>"])
    assert len(set(anchors.values())) == 4
    assert all(re.fullmatch(r"[A-Za-z0-9_.-]+", a) for a in anchors.values())
