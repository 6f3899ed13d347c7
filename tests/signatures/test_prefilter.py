"""The literal prefilter changes speed, never results."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

import logscan
from logscan.rules import cost as costmod
from logscan.rules.language import parse_condition
from logscan.rules.prefilter import regex_literal, required_literals
from logscan.rules.signatures import evaluate, load_signatures

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


@pytest.mark.parametrize(
    ("pattern", "want"),
    [
        (r"Failed to FIFREEZE", "Failed to FIFREEZE"),
        (r"^\[DhcpError\] .*timed out", "[DhcpError] "),
        (r"Non-zero exit code: 12[67]", "Non-zero exit code: 12"),
        (r"restarted more than \d+ times", "restarted more than "),
        (r"foo|barbaz", None),
        (r"(?i)python version unknown", "python version unknown"),
        (r"abcd?e", "abc"),
        (r"\x41\x42CDEF", "CDEF"),
        (r"ab", None),
        (r"(optional)?required-part", "required-part"),
        (r"x{0,3}yyyy", "yyyy"),
    ],
)
def test_regex_literal(pattern: str, want: str | None) -> None:
    assert regex_literal(pattern) == want


def test_required_literals_boolean_logic() -> None:
    assert required_literals(parse_condition('message contains "alpha" and level == "ERROR"')) == {"alpha"}
    assert required_literals(parse_condition('message contains "alpha" or text ~ /beta gamma/')) == {"alpha", "beta gamma"}
    assert required_literals(parse_condition('message contains "alpha" or level == "ERROR"')) is None
    assert required_literals(parse_condition('not message contains "alpha"')) is None
    assert required_literals(parse_condition('provider == "VSS" and event_id == 8193')) is None


def _all_sample_events() -> pl.DataFrame:
    frames = []
    for p in sorted(SAMPLES.iterdir()):
        if p.name.startswith(("_", ".")) or p.suffix in (".toml", ".py"):
            continue
        frames.append(logscan.load(p).events)
    return pl.concat(frames, how="vertical")


def test_prefilter_does_not_change_hits(monkeypatch: pytest.MonkeyPatch) -> None:
    ev = _all_sample_events()
    sigs = load_signatures()
    fast = evaluate(sigs, ev)
    monkeypatch.setattr(costmod, "required_literals", lambda node, cost=None: None)
    slow = evaluate(sigs, ev)
    assert fast.height > 0
    key = ["signature", "row", "role"]
    assert fast.sort(key).equals(slow.sort(key))
