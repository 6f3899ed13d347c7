"""/etc/waagent.conf → conf facts exactly as the agent reads them (§6 rules)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

import logscan
from logscan.sources import spec_for, waagent_conf
from logscan.sources.base import SourceFile

SAMPLE = Path(__file__).resolve().parents[2] / ".." / "shared" / "agent-samples" / "config__waagent.conf"


def parse(text: str | bytes, path: str = "etc/waagent.conf") -> pl.DataFrame:
    raw = text.encode() if isinstance(text, str) else text
    r = waagent_conf.parse(SourceFile(path, path, raw))
    assert r.events is None or r.events.height == 0
    return r.facts


def as_dict(facts: pl.DataFrame) -> dict[str, tuple[str, int]]:
    return {k: (v, n) for k, v, n in facts.select("key", "value", "line").iter_rows()}


def test_shipped_conf_every_setting_line_and_no_comment():
    if not SAMPLE.exists():
        pytest.skip("agent samples not available")
    text = SAMPLE.read_text()
    facts = parse(text)
    # Independent count: lines that are not comments and hold "=".
    expected = [i + 1 for i, ln in enumerate(text.splitlines()) if "=" in ln and not ln.lstrip().startswith("#")]
    assert facts["line"].to_list() == expected
    d = as_dict(facts)
    lines = text.splitlines()
    assert d["Extensions.Enabled"] == ("y", lines.index("Extensions.Enabled=y") + 1)
    assert d["Provisioning.Agent"][0] == "auto"
    assert "Provisioning.PasswordCryptId" not in d  # "#Provisioning.PasswordCryptId=6" is commented out
    assert d["OS.OpensslPath"][0] == "None"  # the raw literal; the agent reads it as unset
    assert set(facts["subject"]) == {"conf"} and set(facts["source"]) == {"waagent_conf"}


def test_agent_reading_rules():
    text = (
        "Extensions.Enable=n\n"  # the Backup doc's typo: kept as written
        "  Extensions.Enabled = y   # trailing comment\r\n"
        'HttpProxy.Host="proxy.corp"\n'
        "#AutoUpdate.Enabled=n\n"
        "   # OS.EnableFirewall=y\n"
        "no equals sign here\n"
        "Provisioning.Agent=\n"
        "AutoUpdate.Enabled=N\n"
        "AutoUpdate.Enabled=y\n"
    )
    facts = parse(text)
    rows = list(facts.select("key", "value", "line").iter_rows())
    assert rows == [
        ("Extensions.Enable", "n", 1),
        ("Extensions.Enabled", "y", 2),
        ("HttpProxy.Host", "proxy.corp", 3),
        ("Provisioning.Agent", "", 7),
        ("AutoUpdate.Enabled", "N", 8),
        ("AutoUpdate.Enabled", "y", 9),
    ]
    assert facts["file"].unique().to_list() == ["etc/waagent.conf"]


def test_empty_and_comment_only_files_give_no_facts():
    assert parse("# nothing\n#Extensions.Enabled=n\n").height == 0
    assert parse("").height == 0


@pytest.mark.parametrize("path", ["etc/waagent.conf", "usr/share/oem/waagent.conf", "usr/local/etc/waagent.conf"])
def test_all_locations_are_claimed(path):
    spec = spec_for(path)
    assert spec is not None and spec.name == "waagent_conf"


def test_through_load_the_typo_is_visible(tmp_path):
    etc = tmp_path / "vm3" / "etc"
    etc.mkdir(parents=True)
    (etc / "waagent.conf").write_text("Extensions.Enable=n\nProvisioning.Agent=auto\n")
    b = logscan.load(tmp_path / "vm3")
    conf = b.facts.filter(pl.col("subject") == "conf")
    assert sorted(conf["key"]) == ["Extensions.Enable", "Provisioning.Agent"]
    assert "Extensions.Enabled" not in conf["key"].to_list()
