"""Hostile archives and folders: slips, links, bombs, nesting, encryption, odd names.

Each case is built on the fly beside the evidence of a known cause. Checked every time: no
exception escapes, an ingest-error row names the file and a reason (``kind``), the known
cause is still diagnosed, nothing is written outside the output, and the bundle is opened
read-only and left unchanged.
"""

from __future__ import annotations

import json
import os
import tarfile
import time
import zipfile
from pathlib import Path

import pytest

import logscan
from logscan.io.bundle import Bundle, Limits

from .conftest import (
    AGENT_LOG,
    assert_cause_found,
    errors_of,
    evidence_loaded,
    evidence_members,
    gzip_zeros,
    has_error,
    patch_zip,
    rename_zip_member,
    tar_bytes,
    tar_link,
    write_evidence,
    zip_bytes,
    zip_symlink,
)

ESCAPES = ["../../evil-dotdot.txt", "/tmp/evil-absolute.txt", "C:/Windows/evil-drive.txt", "..\\..\\evil-backslash.txt", "a/../../evil-mid.txt"]


@pytest.fixture(autouse=True)
def _never_extract(monkeypatch: pytest.MonkeyPatch) -> None:
    """Archive members are read in memory only: any extraction API call fails the test."""

    def boom(*a, **k):
        raise AssertionError("logscan extracted an archive member to disk")

    for cls, names in ((zipfile.ZipFile, ("extract", "extractall")), (tarfile.TarFile, ("extract", "extractall", "makefile"))):
        for n in names:
            monkeypatch.setattr(cls, n, boom)


def _no_evil_anywhere(*roots: Path) -> None:
    for root in (*roots, Path("/tmp"), Path("/")):
        for name in ("evil-dotdot.txt", "evil-absolute.txt", "evil-drive.txt", "evil-backslash.txt", "evil-mid.txt"):
            assert not (root / name).exists(), root / name


# -- zip-slip and absolute paths -----------------------------------------------------------
@pytest.mark.parametrize("kind", ["zip", "tar"])
def test_slip_and_absolute_names_are_refused(tmp_path: Path, untouched, kind: str) -> None:
    members = [*evidence_members(), *[(n, b"pwned\n") for n in ESCAPES]]
    if kind == "zip":
        path = tmp_path / "vm1.zip"
        path.write_bytes(zip_bytes(members))
    else:
        path = tmp_path / "vm1.tar.gz"
        path.write_bytes(tar_bytes(members))
    untouched(path)
    b = logscan.load(path)
    errs = errors_of(b)
    for n in ESCAPES:
        shown = n.replace("\\", "\\")
        assert any(e["kind"] == "unsafe" and shown in (e["file"] or "") for e in errs), (n, errs)
    assert not any("pwned" in (t or "") for t in b.events["text"].to_list())
    assert evidence_loaded(b)
    assert_cause_found(path)
    _no_evil_anywhere(tmp_path, tmp_path.parent)


# -- links ---------------------------------------------------------------------------------
def test_folder_symlinks_outside_are_not_followed(tmp_path: Path, bundle_dir: Path, untouched) -> None:
    secret = tmp_path / "outside" / "secret.log"
    secret.parent.mkdir()
    secret.write_bytes(AGENT_LOG.replace(b"Azure Linux Agent", b"OUTSIDE-SECRET"))
    log = bundle_dir / "var/log"
    (log / "waagent.log.1").symlink_to(secret)  # file link out of the bundle
    (log / "azure").symlink_to(tmp_path / "outside", target_is_directory=True)  # folder link out
    (log / "waagent.log.2").symlink_to("waagent.log")  # link inside: fine, read
    (log / "waagent.log.3").symlink_to("/nonexistent/waagent.log")  # dangling
    (log / "loop-a.log").symlink_to("loop-b.log")
    (log / "loop-b.log").symlink_to("loop-a.log")
    (log / "waagent.log.4").symlink_to("/etc/passwd")
    untouched(bundle_dir)
    b = logscan.load(bundle_dir)
    errs = errors_of(b)
    assert has_error(errs, "var/log/waagent.log.1", "unsafe")
    assert has_error(errs, "var/log/azure", "unsafe")
    assert has_error(errs, "var/log/waagent.log.4", "unsafe")
    assert has_error(errs, "var/log/waagent.log.3", ("unsafe", "unreadable"))
    assert has_error(errs, "loop-a.log", ("unsafe", "unreadable"))
    texts = "\n".join(b.events["text"].to_list())
    assert "OUTSIDE-SECRET" not in texts and "root:" not in texts
    assert "var/log/waagent.log.2" in set(b.events["file"].to_list())  # the inside link was read
    assert evidence_loaded(b)
    assert_cause_found(bundle_dir)


def test_folder_hard_link_to_outside_file_is_not_read(tmp_path: Path, bundle_dir: Path, untouched) -> None:
    secret = tmp_path / "secret.log"
    secret.write_bytes(AGENT_LOG.replace(b"Azure Linux Agent", b"HARDLINK-SECRET"))
    os.link(secret, bundle_dir / "var/log/waagent.log.1")
    untouched(bundle_dir)
    b = logscan.load(bundle_dir)
    assert has_error(errors_of(b), "var/log/waagent.log.1", "unsafe")
    assert "HARDLINK-SECRET" not in "\n".join(b.events["text"].to_list())
    assert_cause_found(bundle_dir)


def test_tar_and_zip_links_are_refused(tmp_path: Path, untouched) -> None:
    tar = tmp_path / "vm1.tar.gz"
    tar.write_bytes(
        tar_bytes(
            [
                *evidence_members(),
                tar_link("var/log/waagent.log.1", "/etc/passwd", hard=False),
                tar_link("var/log/waagent.log.2", "../../../../etc/shadow", hard=True),
                tar_link("var/log/waagent.log.3", "/etc/passwd", hard=True),
                tar_link("var/log/waagent.log.4", "var/log/waagent.log", hard=False),  # inside, still not followed
            ]
        )
    )
    untouched(tar)
    b = logscan.load(tar)
    for n in (1, 2, 3, 4):
        assert has_error(errors_of(b), f"var/log/waagent.log.{n}", "unsafe")
    assert_cause_found(tar)

    z = tmp_path / "vm2.zip"
    z.write_bytes(zip_bytes([*evidence_members(), zip_symlink("var/log/waagent.log.1", "/etc/passwd")]))
    b = logscan.load(z)
    assert has_error(errors_of(b), "var/log/waagent.log.1", "unsafe")
    assert "root:" not in "\n".join(b.events["text"].to_list())
    assert_cause_found(z)


def test_fifo_device_like_file_does_not_hang(bundle_dir: Path) -> None:
    fifo = bundle_dir / "var/log/waagent.log.1"
    os.mkfifo(fifo)
    t0 = time.monotonic()
    b = logscan.load(bundle_dir)
    assert time.monotonic() - t0 < 30
    assert has_error(errors_of(b), "var/log/waagent.log.1", "unsafe")
    assert_cause_found(bundle_dir)


# -- bombs ---------------------------------------------------------------------------------
def test_zip_member_declaring_gigabytes_is_not_read(tmp_path: Path, untouched) -> None:
    z = tmp_path / "vm1.zip"
    data = zip_bytes([*evidence_members(), ("var/log/waagent.log.1", AGENT_LOG * 10)])
    z.write_bytes(patch_zip(data, b"var/log/waagent.log.1", file_size=0xF000_0000))  # ~4 GB declared
    untouched(z)
    t0 = time.monotonic()
    b = logscan.load(z)
    assert time.monotonic() - t0 < 30
    assert has_error(errors_of(b), "var/log/waagent.log.1", ("bomb", "too-large"))
    assert evidence_loaded(b)
    assert_cause_found(z)


def test_zip_ratio_bomb_default_limits(tmp_path: Path) -> None:
    """40 MB of zeros squeezed to ~40 KB: past the default ratio, refused before reading."""
    z = tmp_path / "vm1.zip"
    z.write_bytes(zip_bytes([*evidence_members(), ("var/log/waagent.log.1", bytes(40 * 1024**2))]))
    assert z.stat().st_size < 1024**2
    b = logscan.load(z)
    assert has_error(errors_of(b), "var/log/waagent.log.1", "bomb")
    assert_cause_found(z)


def test_zip_member_lying_about_its_size_is_bounded(tmp_path: Path) -> None:
    """A member that declares 1 KB but inflates to 20 MB: reading stops, an error is recorded."""
    z = tmp_path / "vm1.zip"
    data = zip_bytes([*evidence_members(), ("var/log/waagent.log.1", bytes(20 * 1024**2))])
    z.write_bytes(patch_zip(data, b"var/log/waagent.log.1", file_size=1024))
    b = logscan.load(z, limits=Limits(max_member_bytes=4 * 1024**2))
    assert has_error(errors_of(b), "var/log/waagent.log.1", ("corrupt", "too-large", "bomb"))
    assert evidence_loaded(b)


def test_gzip_bomb_stops_at_configured_size(tmp_path: Path, bundle_dir: Path, untouched) -> None:
    (bundle_dir / "var/log/waagent.log.1.gz").write_bytes(gzip_zeros(64 * 1024**2))
    untouched(bundle_dir)
    t0 = time.monotonic()
    b = logscan.load(bundle_dir, limits=Limits(max_member_bytes=2 * 1024**2))
    assert time.monotonic() - t0 < 30
    errs = [e for e in errors_of(b) if "waagent.log.1.gz" in (e["file"] or "")]
    assert errs and errs[0]["kind"] in ("too-large", "bomb"), errs
    assert "2,097,152" in errs[0]["detail"] or "ratio" in errs[0]["detail"]
    assert evidence_loaded(b)


def test_gzip_bomb_stops_at_ratio_with_default_limits(bundle_dir: Path) -> None:
    (bundle_dir / "var/log/waagent.log.1.gz").write_bytes(gzip_zeros(200 * 1024**2))
    t0 = time.monotonic()
    doc = assert_cause_found(bundle_dir)
    assert time.monotonic() - t0 < 60
    assert has_error(errors_of(doc), "waagent.log.1.gz", "bomb")


def test_archives_nested_past_max_depth(tmp_path: Path, untouched) -> None:
    inner = zip_bytes([("var/log/waagent.log", AGENT_LOG)])
    for n in range(6):  # six levels of zip in zip
        inner = zip_bytes([(f"level{n}.zip", inner)])
    z = tmp_path / "vm1.zip"
    z.write_bytes(zip_bytes([*evidence_members(), ("logs.zip", inner)]))
    untouched(z)
    b = logscan.load(z)
    assert any(e["kind"] == "nested-too-deep" for e in errors_of(b))
    assert evidence_loaded(b)
    assert_cause_found(z)
    # The depth is a setting: with max_depth=0 even the first inner archive stays closed.
    b0 = logscan.load(z, limits=Limits(max_depth=0))
    assert has_error(errors_of(b0), "logs.zip", "nested-too-deep")


def test_42_zip_style_recursive_bomb_is_bounded(tmp_path: Path) -> None:
    """Ten zips of ten zips of ten members that each inflate 1000x: small on disk, never read."""
    leaf = zip_bytes([(f"part{i}.log", bytes(2 * 1024**2)) for i in range(10)])
    mid = zip_bytes([(f"m{i}.zip", leaf) for i in range(10)], compression=zipfile.ZIP_STORED)
    top = zip_bytes([(f"t{i}.zip", mid) for i in range(10)], compression=zipfile.ZIP_STORED)
    z = tmp_path / "42.zip"
    z.write_bytes(zip_bytes([*evidence_members(), ("bomb.zip", top)], compression=zipfile.ZIP_STORED))
    assert z.stat().st_size < 5 * 1024**2
    limits = Limits(ratio_min_bytes=1024**2, max_total_bytes=64 * 1024**2)
    t0 = time.monotonic()
    b = logscan.load(z, limits=limits)
    assert time.monotonic() - t0 < 60
    kinds = {e["kind"] for e in errors_of(b)}
    assert kinds & {"bomb", "nested-too-deep", "too-large"}, kinds
    assert evidence_loaded(b)


def test_member_count_and_total_budget(tmp_path: Path, bundle_dir: Path) -> None:
    for i in range(20):
        (bundle_dir / f"var/log/waagent.log.{i + 1}").write_bytes(AGENT_LOG)
    b = logscan.load(bundle_dir, limits=Limits(max_members=5))
    assert any(e["kind"] == "too-many-files" for e in errors_of(b))
    b = logscan.load(bundle_dir, limits=Limits(max_total_bytes=3 * len(AGENT_LOG)))
    assert any(e["kind"] == "too-large" and "budget" in e["detail"] for e in errors_of(b))


# -- encrypted, duplicate, odd names, corrupt --------------------------------------------
def test_encrypted_member_is_reported(tmp_path: Path) -> None:
    z = tmp_path / "vm1.zip"
    data = zip_bytes([*evidence_members(), ("var/log/waagent.log.1", AGENT_LOG)])
    z.write_bytes(patch_zip(data, b"var/log/waagent.log.1", flag_or=0x1))
    b = logscan.load(z)
    assert has_error(errors_of(b), "var/log/waagent.log.1", "encrypted")
    assert_cause_found(z)


def test_duplicate_member_names_each_copy_read(tmp_path: Path) -> None:
    z = tmp_path / "vm1.zip"
    second = AGENT_LOG.replace(b"2.9.1.1", b"2.9.1.2")
    with pytest.warns(UserWarning):  # zipfile itself warns when writing a duplicate
        z.write_bytes(zip_bytes([*evidence_members(), ("var/log/waagent.log", second)]))
    b = logscan.load(z)
    assert has_error(errors_of(b), "var/log/waagent.log", "duplicate")
    files = set(b.events["file"].to_list())
    assert len([f for f in files if f.startswith("var/log/waagent.log")]) == 2, files
    assert_cause_found(z)


def test_non_utf8_member_names(tmp_path: Path, untouched) -> None:
    # zip without the UTF-8 flag: names are bytes in some code page (cp437 per the spec).
    z = tmp_path / "vm1.zip"
    data = zip_bytes([*evidence_members(), ("var/log/caf#.log", b"x\n"), ("var/log/waagent.log.1", AGENT_LOG)])
    z.write_bytes(rename_zip_member(data, b"var/log/caf#.log", b"var/log/caf\xe9.log", utf8_flag=False))
    untouched(z)
    assert_cause_found(z)
    # zip claiming UTF-8 names that are not: the archive cannot be listed, a nested one
    # costs only itself.
    bad = rename_zip_member(zip_bytes([("var/log/waagent.log.#", AGENT_LOG)]), b"waagent.log.#", b"waagent.log.\xff", utf8_flag=True)
    folder = write_evidence(tmp_path / "folder")
    (folder / "logs.zip").write_bytes(bad)
    b = logscan.load(folder)
    assert has_error(errors_of(b), "logs.zip", ("corrupt", "unsafe"))
    assert evidence_loaded(b)
    # tar with raw non-UTF-8 bytes in names.
    t = tmp_path / "vm2.tar"
    t.write_bytes(tar_bytes([*evidence_members(), ("var/log/waagent.log.1", AGENT_LOG), ("var/log/odd\udcff\udcfe.log", b"x")], mode="w"))
    b = logscan.load(t)
    assert evidence_loaded(b)
    assert_cause_found(t)
    # folder with a file name that is not UTF-8.
    folder2 = write_evidence(tmp_path / "folder2")
    os.makedirs(os.fsencode(folder2 / "var/log") + b"/old\xff", exist_ok=True)
    with open(os.fsencode(folder2 / "var/log") + b"/old\xff/waagent.log", "wb") as fh:
        fh.write(AGENT_LOG)
    b = logscan.load(folder2)
    assert any("\\xff" in f for f in b.events["file"].to_list())
    assert_cause_found(folder2)


def test_corrupt_and_truncated_archives(tmp_path: Path) -> None:
    good = zip_bytes(evidence_members())
    z = tmp_path / "vm1.zip"
    z.write_bytes(good[: len(good) // 2])  # central directory gone
    doc = None
    b = logscan.load(z)
    assert has_error(errors_of(b), "vm1.zip", "corrupt")
    folder = write_evidence(tmp_path / "folder")
    (folder / "logs.zip").write_bytes(good[: len(good) // 2])
    (folder / "logs2.tar.gz").write_bytes(tar_bytes(evidence_members())[:200])
    (folder / "logs3.tgz").write_bytes(os.urandom(5000))
    b = logscan.load(folder)
    errs = errors_of(b)
    for name in ("logs.zip", "logs2.tar.gz", "logs3.tgz"):
        assert has_error(errs, name, ("corrupt", "truncated")), (name, errs)
    assert evidence_loaded(b)
    doc = assert_cause_found(folder)
    assert doc["vms"][0]["ingest_errors"]


def test_bundle_open_on_directory_listing_is_lazy_and_closed(tmp_path: Path) -> None:
    """Bundle closes every archive it opened (no file handle leaks past ``with``)."""
    z = tmp_path / "vm1.zip"
    z.write_bytes(zip_bytes([*evidence_members(), ("logs.zip", zip_bytes(evidence_members()))]))
    with Bundle.open(z) as bundle:
        names = [m.path for m in bundle.members()]
        assert "logs/var/log/waagent.log" in names
        assert bundle._closers
    assert not bundle._closers


def test_only_the_output_file_is_written(tmp_path: Path, untouched) -> None:
    """A hostile zip scanned with --output: the one new file anywhere under tmp_path is the report."""
    from typer.testing import CliRunner

    from logscan.cli import app

    from .conftest import tree_snapshot

    z = tmp_path / "in" / "vm1.zip"
    z.parent.mkdir()
    z.write_bytes(zip_bytes([*evidence_members(), *[(n, b"pwned\n") for n in ESCAPES], zip_symlink("link", "/etc/passwd")]))
    out = tmp_path / "out" / "report.json"
    out.parent.mkdir()
    untouched(z)
    before = set(tree_snapshot(tmp_path))
    res = CliRunner().invoke(app, ["scan", str(z), "--format", "json", "--output", str(out)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert set(tree_snapshot(tmp_path)) - before == {"out/report.json"}
    doc = json.loads(out.read_text())
    assert "linux-agent-config" in [f["cause"] for f in doc["vms"][0]["findings"]]
    _no_evil_anywhere(tmp_path, out.parent)
