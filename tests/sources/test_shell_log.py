"""VMSnapshotLinux shell.log (vmsnapshot-extension.md §1.3.4, §1.9)."""

from __future__ import annotations

from datetime import datetime, timezone

import polars as pl
import pytest

from logscan.frames import EVENT_SCHEMA
from logscan.sources import spec_for
from logscan.sources.base import SourceFile
from logscan.sources.shell_log import SPEC

PATH = "var/log/azure/Microsoft.Azure.RecoveryServices.VMSnapshotLinux/shell.log"


def parse(text: str, path: str = PATH) -> pl.DataFrame:
    return SPEC.parse(SourceFile(path, path, text.encode())).events


def utc(*a: int) -> datetime:
    return datetime(*a, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("line", "time", "basis", "level", "message"),
    [
        ("Mon Nov 18 00:05:10 UTC 2019- python version unknown", utc(2019, 11, 18, 0, 5, 10), "utc", "ERROR", "python version unknown"),
        ("Thu May 21 05:04:31 PM UTC 2026- 1 returned from handle.py", utc(2026, 5, 21, 17, 4, 31), "utc", "ERROR", "1 returned from handle.py"),
        ("Thu May 21 12:04:31 AM UTC 2026- 0 returned from handle.py", utc(2026, 5, 21, 0, 4, 31), "utc", "INFO", "0 returned from handle.py"),
        ("Tue Jun  4 09:01:02 CET 2019- /usr/bin/python2.7 path exists", utc(2019, 6, 4, 9, 1, 2), "local-assumed-utc", "INFO", "/usr/bin/python2.7 path exists"),
        ("Wed Jan  1 10:00:00 UTC 2025- 3 returned from handle.py", utc(2025, 1, 1, 10), "utc", "ERROR", "3 returned from handle.py"),
        ("Wed Jan  1 10:00:00 UTC 2025- 127 returned from handle.py", utc(2025, 1, 1, 10), "utc", "ERROR", "127 returned from handle.py"),
        ("Wed Jan  1 10:00:00 UTC 2025- The command is disable, exiting", utc(2025, 1, 1, 10), "utc", "INFO", "The command is disable, exiting"),
        ("Wed Jan  1 10:00:00 UTC 2025- ConfigSequenceNumber from environment variable seqNo:4", utc(2025, 1, 1, 10), "utc", "INFO", "ConfigSequenceNumber from environment variable seqNo:4"),
        ("[2024-05-30 13:15:40:123456789] python3.8 path exists", utc(2024, 5, 30, 13, 15, 40, 123456), "local-assumed-utc", "INFO", "python3.8 path exists"),
    ],
)
def test_line_forms(line: str, time: datetime, basis: str, level: str, message: str) -> None:
    ev = parse(line + "\n")
    assert ev.schema == pl.Schema(EVENT_SCHEMA)
    row = ev.row(0, named=True)
    assert (row["time"], row["time_basis"], row["level"], row["message"]) == (time, basis, level, message)
    assert row["source"] == "shell_log"
    assert row["text"] == line


def test_unstamped_lines_continue_the_record_above() -> None:
    text = (
        "Thu May 21 05:04:30 PM UTC 2026- /usr/bin/python3 path exists\n"
        "Traceback (most recent call last):\n"
        "ModuleNotFoundError: No module named 'imp'\n"
        "Thu May 21 05:04:31 PM UTC 2026- 1 returned from handle.py\n"
    )
    ev = parse(text)
    assert ev["line"].to_list() == [1, 4]
    assert ev["message"][0].endswith("No module named 'imp'")
    assert ev["level"].to_list() == ["INFO", "ERROR"]


def test_leading_garbage_has_no_time() -> None:
    ev = parse("garbage\nMon Nov 18 00:05:10 UTC 2019- x\n")
    assert ev["time_basis"].to_list() == ["none", "utc"]
    assert ev["time"][0] is None


def test_paths() -> None:
    assert spec_for(SPEC.example_path) is SPEC
    assert spec_for("x/var/log/azure/Microsoft.Azure.RecoveryServices.VMSnapshotLinux/shell.log") is SPEC
    assert spec_for("var/log/azure/Other.Ext/shell.log") is None
