"""The HTML report in a real browser: headless Chromium driven over the DevTools protocol.

Chromium is Debian's ``chromium`` package (``.ci/run`` installs it); the test is skipped where
it is absent. The DevTools protocol is spoken over ``--remote-debugging-pipe`` (fd 3 in, fd 4
out, NUL-separated JSON), so no Python package and no listening port is needed. The page must
load with no console error, no exception, no network request other than the file itself, and
show the findings; a screenshot is written to ``test-artifacts/`` for the test log.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from logscan.reports import html as html_report
from logscan.reports.fleet_html import render_fleet

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--remote-debugging-pipe",
]

needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)")


def _high(fd: int) -> int:
    """Move a pipe end to fd >= 10 so the shell's ``3<&N 4>&M`` cannot clobber it."""
    new = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return new


class Browser:
    """A minimal DevTools-protocol client over the debugging pipe."""

    def __init__(self, timeout: float = 60.0) -> None:
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="logscan-chromium-")
        to_child_r, self._to_child = (_high(fd) for fd in os.pipe())
        self._from_child, from_child_w = (_high(fd) for fd in os.pipe())
        # bash (dash takes one-digit fds only) moves our pipe ends onto fds 3 and 4 for Chromium.
        cmd = ["/bin/bash", "-c", f'exec "$0" "$@" 3<&{to_child_r} 4>&{from_child_w}', CHROMIUM, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"]
        self.proc = subprocess.Popen(cmd, pass_fds=(to_child_r, from_child_w), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_child_r)
        os.close(from_child_w)
        self._buf = b""
        self._id = 0
        self.events: list[dict] = []

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.send("Browser.close")
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self._to_child, self._from_child):
            with contextlib.suppress(OSError):
                os.close(fd)
        shutil.rmtree(self.profile, ignore_errors=True)

    def _read_message(self, deadline: float) -> dict:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no answer from chromium")
            ready, _, _ = select.select([self._from_child], [], [], left)
            if ready:
                chunk = os.read(self._from_child, 1 << 20)
                if not chunk:
                    raise RuntimeError("chromium closed the debugging pipe")
                self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self._id += 1
        msg: dict = {"id": self._id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._to_child, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            m = self._read_message(deadline)
            if m.get("id") == self._id:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m.get("result", {})
            self.events.append(m)

    def wait_for(self, method: str, timeout: float = 30.0) -> dict:
        deadline = time.monotonic() + timeout
        for m in self.events:
            if m.get("method") == method:
                return m
        while True:
            m = self._read_message(deadline)
            self.events.append(m)
            if m.get("method") == method:
                return m

    def open(self, url: str, width: int = 1200, height: int = 900) -> str:
        """A new tab with console, log and network events on; returns its session id."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable", session=session)
        self.send("Emulation.setDeviceMetricsOverride", {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}, session)
        self.events.clear()
        self.send("Page.navigate", {"url": url}, session)
        self.wait_for("Page.loadEventFired")
        time.sleep(0.3)  # let late console/log events arrive
        self.send("Runtime.evaluate", {"expression": "1"}, session)  # flushes pending events
        return session

    def problems(self, page_url: str) -> tuple[list[str], list[str]]:
        """(console errors/exceptions/log errors, network requests other than the page itself)."""
        errors, requests = [], []
        for m in self.events:
            p = m.get("params", {})
            if m.get("method") == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert", "warning"):
                errors.append("console: " + " ".join(str(a.get("value", a.get("description"))) for a in p.get("args", [])))
            elif m.get("method") == "Runtime.exceptionThrown":
                errors.append("exception: " + json.dumps(p.get("exceptionDetails", {}))[:300])
            elif m.get("method") == "Log.entryAdded" and p.get("entry", {}).get("level") in ("error", "warning"):
                errors.append("log: " + p["entry"].get("text", ""))
            elif m.get("method") == "Network.requestWillBeSent":
                url = p.get("request", {}).get("url", "")
                if url != page_url and not url.startswith("data:"):
                    requests.append(url)
        return errors, requests

    def evaluate(self, session: str, expression: str):
        r = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session)
        return r.get("result", {}).get("value")

    def screenshot(self, session: str, path: Path) -> Path:
        data = self.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}, session)["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path


@pytest.fixture
def browser():
    b = Browser()
    try:
        yield b
    finally:
        b.close()


VISIBLE_FINDINGS = """(() => {
  const items = [...document.querySelectorAll('details.finding > summary')];
  const shown = items.filter(s => { const r = s.getBoundingClientRect(); return r.width > 0 && r.height > 0; });
  const open = document.querySelector('details.finding[open] .body');
  const ev = open ? open.querySelectorAll('tbody tr').length : 0;
  const openVisible = open ? open.getBoundingClientRect().height > 0 : false;
  return {titles: shown.map(s => s.querySelector('.title').textContent), evidenceRows: ev, openVisible,
          charts: document.querySelectorAll('figure.chart svg').length,
          scripts: document.scripts.length};
})()"""


@needs_chromium
def test_detector_sees_errors_and_requests(browser, tmp_path):
    """The checks below would catch a bad page: a console error and a request are reported."""
    bad = tmp_path / "bad.html"
    bad.write_text('<!DOCTYPE html><html><body><img src="http://127.0.0.1:9/x.png"><script>console.error("boom")</script></body></html>')
    url = bad.as_uri()
    browser.open(url)
    errors, requests = browser.problems(url)
    assert any("boom" in e for e in errors), errors
    assert any(r.startswith("http://127.0.0.1:9/") for r in requests), requests


@needs_chromium
def test_vm_report_renders_cleanly(browser, scanned_report, tmp_path):
    page = tmp_path / "report.html"
    page.write_text(html_report.render([scanned_report]), encoding="utf-8")
    url = page.as_uri()
    session = browser.open(url)
    errors, requests = browser.problems(url)
    assert errors == [], errors
    assert requests == [], requests
    seen = browser.evaluate(session, VISIBLE_FINDINGS)
    assert seen["titles"] == [f.title for f in scanned_report.findings]
    assert seen["openVisible"] and seen["evidenceRows"] == len(scanned_report.findings[0].evidence)
    assert seen["scripts"] == 0
    if html_report.charts_available():
        assert seen["charts"] >= 1
    # The hostile evidence is text on the page, not markup that ran.
    assert browser.evaluate(session, "document.body.innerText.includes('<script>alert(1)</script>')") is True
    shot = browser.screenshot(session, ARTIFACTS / "html-report-vm.png")
    assert shot.stat().st_size > 10_000
    print(f"screenshot: {shot}")


@needs_chromium
def test_fleet_report_renders_cleanly(browser, tmp_path):
    from logscan.fleet.batch import run_batch

    from .conftest import write_bundle

    write_bundle(tmp_path / "in" / "vm-a")
    write_bundle(tmp_path / "in" / "vm-b", extensions_enabled="y", hostile=False, n=40, errors=False)
    run_batch([str(tmp_path / "in")], tmp_path / "out", jobs=1, progress=False)
    page = tmp_path / "out" / "summary.html"
    page.write_text(render_fleet(tmp_path / "out"), encoding="utf-8")
    url = page.as_uri()
    session = browser.open(url)
    errors, requests = browser.problems(url)
    assert errors == [] and requests == [], (errors, requests)
    # The cause table's link jumps to the VM's section.
    target = browser.evaluate(session, "(() => { const a = document.querySelector('table a[href^=\"#vm-\"]'); a.click(); return a.getAttribute('href'); })()")
    assert target == "#vm-vm-a"
    assert browser.evaluate(session, "location.hash") == "#vm-vm-a"
    assert browser.evaluate(session, "document.getElementById('vm-vm-a').getBoundingClientRect().top") < 50
    shot = browser.screenshot(session, ARTIFACTS / "html-report-fleet.png")
    print(f"screenshot: {shot}")
