"""Confidence grades and scoring, on hand-made hit frames (no bundle needed)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import polars as pl
import pytest

from logscan.diagnosis.scoring import cause_confidence, grade, score_causes, time_factor
from logscan.knowledge import load_knowledge
from logscan.rules.checks import HIT_SCHEMA

T0 = datetime(2024, 5, 30, 13, 0, tzinfo=timezone.utc)


def hits(*rows: tuple[str, str, float, datetime | None, str]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {"signature": s, "cause": c, "weight": w, "file": "f.log", "line": i + 1, "time": t, "source": src, "text": f"line {i}", "note": None}
            for i, (s, c, w, t, src) in enumerate(rows)
        ],
        schema=HIT_SCHEMA,
    )


@pytest.mark.parametrize(
    ("weight", "factor", "expected"),
    [(1.0, 1.0, "confirmed"), (0.8, 1.0, "likely"), (0.5, 1.0, "likely"), (0.3, 1.0, "possible"), (1.0, 0.3, "likely"), (0.5, 0.3, "possible")],
)
def test_grade_from_weight_and_age(weight: float, factor: float, expected: str) -> None:
    assert grade(weight, factor) == expected


def test_two_independent_likely_sources_confirm() -> None:
    assert cause_confidence([("likely", "waagent_log"), ("likely", "waagent_conf")]) == "confirmed"
    assert cause_confidence([("likely", "waagent_log"), ("likely", "waagent_log")]) == "likely"
    assert cause_confidence([("possible", "a"), ("possible", "b")]) == "possible"


def test_old_evidence_counts_less() -> None:
    assert time_factor(T0, T0, False) == 1.0
    assert time_factor(T0 - timedelta(days=3), T0, False) == pytest.approx(0.5)
    assert time_factor(T0 - timedelta(days=60), T0, False) == 0.15
    assert time_factor(T0 + timedelta(hours=5), T0, True) == 0.35  # after --at
    assert time_factor(None, T0, False) == 0.8


def test_weak_family_is_a_possible_finding_not_nothing() -> None:
    kb = load_knowledge()
    found = score_causes(hits(("generic-ext-error", "extension-failed-provisioning", 0.3, T0, "waagent_log")), T0, False, kb)
    assert [(f.cause, f.confidence) for f in found] == [("extension-failed-provisioning", "possible")]


def test_ranks_stay_by_score_and_confidence_is_beside() -> None:
    kb = load_knowledge()
    h = hits(
        ("a", "agent-not-running", 0.8, T0, "waagent_log"),
        ("b", "agent-not-running", 0.8, T0, "syslog"),
        ("c", "linux-agent-config", 1.0, T0 - timedelta(days=20), "waagent_conf"),
    )
    found = score_causes(h, T0, False, kb)
    assert [f.cause for f in found] == ["agent-not-running", "linux-agent-config"]
    assert found[0].score > found[1].score
    assert found[0].confidence == "confirmed"  # two likely, independent sources
    assert found[1].confidence == "likely"  # decisive but 20 days old: one grade down


def test_unknown_cause_in_hits_is_an_error_not_dropped() -> None:
    from logscan.errors import LogscanError

    with pytest.raises(LogscanError, match="no-such-cause"):
        score_causes(hits(("a", "no-such-cause", 1.0, T0, "x")), T0, False, load_knowledge())


def test_a_cause_with_its_own_line_outranks_causes_on_shared_lines() -> None:
    from logscan.diagnosis.model import Finding
    from logscan.diagnosis.scoring import demote_subsumed

    rows = [
        {"signature": "generic", "cause": "extension-failed-provisioning", "weight": 0.8, "line": 1},
        {"signature": "exit127", "cause": "extension-install-failed", "weight": 0.8, "line": 1},
        {"signature": "python", "cause": "extension-python-missing", "weight": 0.8, "line": 4},
    ]
    h = pl.DataFrame(
        [{**r, "file": "f", "time": T0, "source": "waagent_log", "text": "x", "note": None} for r in rows], schema=HIT_SCHEMA
    )
    fs = [Finding(c, c, s, [], [], "", "") for c, s in [("extension-failed-provisioning", 0.86), ("extension-install-failed", 0.8), ("extension-python-missing", 0.8)]]
    assert demote_subsumed(fs, h)[0].cause == "extension-python-missing"
    # a cause whose line nobody else explains keeps its score
    assert fs[0].score == 0.8
