from __future__ import annotations

import os
from pathlib import Path

from logscan.collect.files import _base_and_depth, could_contain, glob_regex, resolve_within


def test_glob_star_stays_in_one_folder_and_double_star_crosses() -> None:
    assert glob_regex("var/log/waagent.log*").match("var/log/waagent.log.2.gz")
    assert not glob_regex("var/lib/waagent/*.xml").match("var/lib/waagent/history/GoalState.xml")
    assert glob_regex("var/log/azure/**").match("var/log/azure/a/b/c.log")
    assert not glob_regex("etc/os-release").match("etc/os-release.bak")


def test_base_and_depth() -> None:
    assert _base_and_depth("etc/waagent.conf") == ("etc", 1)
    assert _base_and_depth("var/lib/waagent/*/status/*.status") == ("var/lib/waagent", 3)
    assert _base_and_depth("var/log/azure/**") == ("var/log/azure", None)


def test_could_contain() -> None:
    assert could_contain("var/log/azure/**", "var/log/azure/x")
    assert could_contain("var/lib/waagent/*/status/*.status", "var/lib/waagent/Ext-1.0")
    assert not could_contain("etc/os-release", "etc/ssl")


def test_resolve_within_reanchors_absolute_links_and_refuses_escapes(tmp_path: Path) -> None:
    (tmp_path / "usr/lib").mkdir(parents=True)
    (tmp_path / "etc").mkdir()
    os.symlink("/usr/lib/os-release", tmp_path / "etc/os-release")
    os.symlink("../../x", tmp_path / "etc/up")
    os.symlink("b", tmp_path / "etc/a")
    os.symlink("a", tmp_path / "etc/b")
    assert resolve_within(tmp_path, "etc/os-release") == "usr/lib/os-release"
    assert resolve_within(tmp_path, "etc/up") is None
    assert resolve_within(tmp_path, "etc/a") is None  # loop
    assert resolve_within(tmp_path, "etc/plain") == "etc/plain"
