"""Zip members keep their file time, so a folder and its zip read year-less stamps alike.

Syslog lines carry no year; the year comes from the file's mtime. Zip members used to have
none, so a zip took its year from elsewhere and could name a different cause than the folder
it was made from.
"""

from __future__ import annotations

import calendar
import os
import struct
import zipfile
from pathlib import Path

import polars as pl

from logscan.io.archives import zip_mtime
from logscan.io.bundle import Bundle
from logscan.sources.ingest import load

SYSLOG = (
    "Jun 14 09:00:01 vm1 systemd[1]: Started Azure Linux Agent.\n"
    "Jun 15 11:59:58 vm1 python3[812]: WALinuxAgent ERROR ExtHandler failed\n"
)
WHEN = calendar.timegm((2021, 6, 15, 12, 0, 0, 0, 0, 0))  # mid-year: no zone can change the year


def _folder(tmp_path: Path) -> Path:
    root = tmp_path / "vm1"
    log = root / "var" / "log" / "syslog"
    log.parent.mkdir(parents=True)
    log.write_text(SYSLOG)
    os.utime(log, (WHEN, WHEN))
    return root


def _zip_of(folder: Path, dest: Path) -> Path:
    with zipfile.ZipFile(dest, "w") as zf:
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                zf.write(p, p.relative_to(folder).as_posix())  # stores the file's time, as zip tools do
    return dest


def test_zip_member_has_its_file_time(tmp_path: Path) -> None:
    dest = tmp_path / "b.zip"
    with zipfile.ZipFile(dest, "w") as zf:
        zf.writestr(zipfile.ZipInfo("var/log/syslog", date_time=(2019, 12, 31, 23, 0, 0)), SYSLOG)
    with Bundle.open(dest) as b:
        (m,) = list(b.members())
    assert m.mtime == calendar.timegm((2019, 12, 31, 23, 0, 0, 0, 0, 0))


def test_zip_extended_timestamp_wins_over_the_dos_time() -> None:
    info = zipfile.ZipInfo("a.log", date_time=(2020, 1, 1, 0, 0, 0))
    info.extra = struct.pack("<HHBi", 0x5455, 5, 1, WHEN)  # Info-ZIP "UT": flags=mtime, UTC seconds
    assert zip_mtime(info) == WHEN
    assert zip_mtime(zipfile.ZipInfo("b.log", date_time=(2020, 1, 1, 0, 0, 0))) == calendar.timegm((2020, 1, 1, 0, 0, 0))


def test_a_folder_and_its_zip_give_syslog_the_same_year(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    archive = _zip_of(folder, tmp_path / "vm1.zip")

    def times(path: Path) -> list:
        ev = load(path).events.filter(pl.col("source") == "syslog")
        return ev.get_column("time").to_list()

    from_folder, from_zip = times(folder), times(archive)
    assert len(from_folder) == 2 and all(t is not None and t.year == 2021 for t in from_folder)
    assert from_zip == from_folder
