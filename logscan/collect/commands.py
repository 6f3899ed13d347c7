"""Run the plan's commands and connect tests, recording each outcome instead of failing.

Commands run without a shell (argv lists), with ``LC_ALL=C`` so their output reads the same
on every VM, stdin closed, a timeout, and stdout and stderr captured together (as sosreport
does: the error text is often the evidence). A command that is not installed is ``missing``,
one that exits non-zero or times out is ``failed``; neither stops the collection.

Both the runner and the TCP connector are parameters, so tests never start real programs or
touch the network unless they choose to (a loopback listener).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone

from .plan import Command, Target

DEFAULT_TIMEOUT_S = 30.0
MAX_OUTPUT_BYTES = 16 * 1024**2


@dataclass
class Outcome:
    """What happened when one command (or connect test) ran."""

    path: str  # the output file in the bundle
    argv: list[str]
    status: str  # ok | failed | missing
    exit_code: int | None
    start: str  # UTC ISO 8601
    duration_s: float
    output: bytes = b""
    detail: str = ""
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        d = {
            "path": self.path,
            "argv": self.argv,
            "status": self.status,
            "exit_code": self.exit_code,
            "start": self.start,
            "duration_s": round(self.duration_s, 3),
            "detail": self.detail,
        }
        d.update(self.extra)
        return d


def utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def command_env() -> dict[str, str]:
    """The environment commands see: the caller's PATH, C locale, no pager, no colour."""
    path = os.environ.get("PATH", "") + ":/usr/local/sbin:/usr/sbin:/sbin:/usr/bin:/bin"
    return {"PATH": path, "LC_ALL": "C", "LANG": "C", "SYSTEMD_PAGER": "", "PAGER": "cat", "SYSTEMD_COLORS": "0", "TERM": "dumb"}


def run_command(cmd: Command, *, since: str = "7 days ago", timeout_s: float = DEFAULT_TIMEOUT_S) -> Outcome:
    """Run one command; never raises for a missing, failing or hanging program."""
    argv = [a.replace("{since}", since) for a in cmd.argv]
    env = command_env()
    start, t0 = utc_now(), time.monotonic()
    exe = shutil.which(argv[0], path=env["PATH"])
    if exe is None:
        return Outcome(cmd.path, argv, "missing", None, start, 0.0, detail=f"{argv[0]}: command not found")
    limit = cmd.timeout_s or timeout_s
    try:
        proc = subprocess.run(
            [exe, *argv[1:]],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            timeout=limit,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.output or b""
        return Outcome(cmd.path, argv, "failed", None, start, time.monotonic() - t0, out[:MAX_OUTPUT_BYTES], f"timed out after {limit:g} s")
    except OSError as exc:
        return Outcome(cmd.path, argv, "failed", None, start, time.monotonic() - t0, detail=f"could not start: {exc.strerror or exc}")
    out = proc.stdout or b""
    detail = ""
    if len(out) > MAX_OUTPUT_BYTES:
        out, detail = out[-MAX_OUTPUT_BYTES:], f"output cut to its last {MAX_OUTPUT_BYTES:,} bytes"
    status = "ok" if proc.returncode == 0 else "failed"
    if status == "failed" and not detail:
        detail = f"exit code {proc.returncode}"
    return Outcome(cmd.path, argv, status, proc.returncode, start, time.monotonic() - t0, out, detail)


#: ``connect(host, port, timeout_s)`` returns nothing or raises ``OSError`` / ``TimeoutError``.
Connector = Callable[[str, int, float], None]


def tcp_connect(host: str, port: int, timeout_s: float) -> None:
    """Open and close a TCP connection; nothing is sent."""
    with socket.create_connection((host, port), timeout=timeout_s):
        pass


def default_connector() -> Connector:
    """The real TCP connect, looked up when used (tests replace ``tcp_connect``)."""
    return tcp_connect


def connect_test(target: Target, timeout_s: float, connect: Connector = tcp_connect) -> Outcome:
    """One line: ``connect H:P ok 12 ms`` | ``connect H:P refused`` | ``connect H:P failed: why``."""
    argv = ["connect", target.host, str(target.port)]
    start, t0 = utc_now(), time.monotonic()
    head = f"connect {target.host}:{target.port}"
    try:
        connect(target.host, target.port, timeout_s)
        ms = (time.monotonic() - t0) * 1000
        status, line, code, detail = "ok", f"{head} ok {ms:.0f} ms", 0, ""
    except ConnectionRefusedError:
        status, line, code, detail = "failed", f"{head} refused", 1, "refused"
    except TimeoutError:
        status, line, code, detail = "failed", f"{head} failed: timed out after {timeout_s:g} s", 1, "timed out"
    except OSError as exc:
        why = exc.strerror or str(exc) or type(exc).__name__
        status, line, code, detail = "failed", f"{head} failed: {why}", 1, why
    dur = time.monotonic() - t0
    extra = {"kind": "connect", "host": target.host, "port": target.port, "result": line[len(head) + 1 :]}
    return Outcome(target.path, argv, status, code, start, dur, (line + "\n").encode(), detail, extra)
