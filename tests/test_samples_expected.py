"""End to end: every sample bundle's expected top cause is ranked first by `logscan scan`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from typer.testing import CliRunner

from logscan.cli import app

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
EXPECTED = tomllib.loads((SAMPLES / "EXPECTED.toml").read_text()) if (SAMPLES / "EXPECTED.toml").exists() else {}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_expected_top_cause(name: str) -> None:
    spec = EXPECTED[name]
    args = ["scan", str(SAMPLES / name), "--format", "json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    vm = json.loads(result.stdout)["vms"][0]
    confirmed = [f for f in vm["findings"] if f.get("status", "evidence") == "evidence"]
    want = spec["top_cause"]
    if want == "none":
        assert confirmed == [], [f["cause"] for f in confirmed]
        assert vm["healthy"] is True
        return
    ranked = [f["cause"] for f in confirmed]
    assert ranked and ranked[0] == want, f"{name}: expected {want} first, got {ranked}"
    top = confirmed[0]
    assert top["evidence"], "the top finding must carry evidence"
    for ev in top["evidence"]:
        if ev["file"] is not None:
            assert isinstance(ev["line"], int) and ev["line"] >= 1


@pytest.mark.parametrize("name", sorted(n for n, s in EXPECTED.items() if s.get("error_code")))
def test_expected_with_error_code(name: str) -> None:
    """With the portal's error code the expected cause is still first (or the code's portal-only causes follow)."""
    spec = EXPECTED[name]
    result = CliRunner().invoke(app, ["scan", str(SAMPLES / name), "--format", "json", "--error-code", spec["error_code"]])
    assert result.exit_code == 0, result.output
    vm = json.loads(result.stdout)["vms"][0]
    confirmed = [f["cause"] for f in vm["findings"] if f["status"] == "evidence"]
    all_causes = [f["cause"] for f in vm["findings"]] + [f["cause"] for f in vm["other_findings"]]
    assert spec["top_cause"] in all_causes
    if spec["top_cause"] in [f["cause"] for f in vm["findings"]]:
        assert confirmed[0] == spec["top_cause"]
