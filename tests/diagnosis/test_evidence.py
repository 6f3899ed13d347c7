"""Evidence a person would pick."""

from __future__ import annotations

from datetime import datetime, timezone

import polars as pl

from logscan.diagnosis.evidence import drop_repeated_umbrellas, pick, traceback_summary
from logscan.diagnosis.model import Evidence, Finding
from logscan.knowledge import load_knowledge
from logscan.rules.checks import HIT_SCHEMA

T0 = datetime(2024, 5, 30, 13, 0, tzinfo=timezone.utc)


def frame(rows: list[dict]) -> pl.DataFrame:
    base = {"signature": "s", "cause": "c", "weight": 0.8, "file": "f", "line": 1, "time": T0, "source": "waagent_log", "text": "", "note": None}
    return pl.DataFrame([{**base, **r} for r in rows], schema=HIT_SCHEMA)


def test_near_duplicates_shown_once_and_empty_text_dropped() -> None:
    df = frame(
        [
            {"line": 1, "text": "ERROR Fetch failed after 3 attempts to 10.0.0.4"},
            {"line": 2, "text": "ERROR Fetch failed after 5 attempts to 10.0.0.9"},
            {"line": 3, "text": "   "},
            {"line": 4, "text": None},
            {"line": 5, "text": "ERROR something else", "signature": "t"},
        ]
    )
    ev = pick(df, T0)
    assert [e.line for e in ev] == [1, 5]


def test_decisive_fact_line_first() -> None:
    df = frame(
        [
            {"line": 10, "weight": 1.0, "text": "ERROR will not be processed since extension processing is disabled"},
            {"line": 7, "weight": 0.9, "file": "etc/waagent.conf", "text": "Extensions.Enabled=n", "note": "extension processing is off", "signature": "conf", "time": None},
        ]
    )
    assert [e.line for e in pick(df, T0)] == [7, 10]


def test_traceback_keeps_first_line_last_frame_and_exception() -> None:
    tb = "\n".join(
        [
            "2024-05-30T13:00:00Z ERROR ExtHandler Unexpected error",
            "Traceback (most recent call last):",
            '  File "/usr/lib/python3/agent.py", line 10, in run',
            "    self.step()",
            '  File "/usr/lib/python3/handler.py", line 99, in step',
            "    raise OSError(28, 'No space left on device')",
            "OSError: [Errno 28] No space left on device",
        ]
    )
    out = traceback_summary(tb).split("\n")
    assert out[0].endswith("Unexpected error")
    assert 'handler.py", line 99' in out[-3]
    assert out[-1] == "OSError: [Errno 28] No space left on device"
    assert not any("agent.py" in ln for ln in out)
    assert traceback_summary("plain line") == "plain line"


def test_umbrella_not_repeated_when_a_specific_cause_holds_its_lines() -> None:
    kb = load_knowledge()
    child = next(c for c in kb.causes.values() if c.parent)
    ev = [Evidence("f", 3, None, "x")]
    specific = Finding(child.id, "t", 0.9, [], list(ev), "", "")
    umbrella = Finding(child.parent, "t", 0.5, [], list(ev), "", "")
    assert [f.cause for f in drop_repeated_umbrellas([specific, umbrella], kb)] == [child.id]
    umbrella.evidence.append(Evidence("g", 9, None, "other line"))
    assert len(drop_repeated_umbrellas([specific, umbrella], kb)) == 2
