"""`logscan batch`: fleet scans that survive bad bundles (issue 5).

The fleet is built in tmp from literal strings: good bundles as a folder, a .zip and a .tar.gz,
plus an empty folder, a corrupt zip, a file that is no bundle, a bundle whose scan hangs and
one whose worker is killed mid-bundle.

Why the hang and the kill go through ``run_batch(_scan=...)`` rather than an environment
variable honoured by the real worker: the production worker stays free of test-only code
paths, and the replacement is a plain module-level function here (picklable by reference, so
it also runs in *spawned* worker processes) that wraps the real :func:`scan_bundle` for every
other bundle. The kill is a real ``os.kill(pid, SIGKILL)`` from the test process on the worker
process, at a moment the worker is provably inside that bundle (it has written its pid).
"""

from __future__ import annotations

import io
import json
import os
import signal
import tarfile
import threading
import time
import zipfile
from pathlib import Path

import polars as pl
import pytest

from logscan.fleet.batch import (
    FINDING_SCHEMA,
    STATUS_FAILED,
    STATUS_OK,
    STATUS_TIMED_OUT,
    VM_SCHEMA,
    BundleResult,
    Task,
    expand_inputs,
    make_tasks,
    mine_templates,
    run_batch,
    scan_bundle,
    unexplained_lines,
)
from logscan.fleet.read import read_batch

EXT = "Microsoft.Azure.RecoveryServices.VMSnapshotLinux"

WAAGENT_LOG = """\
2024-05-30T10:00:00.000001Z INFO Daemon Daemon Azure Linux Agent Version: 2.11.1.4
2024-05-30T10:00:01.000001Z INFO ExtHandler ExtHandler Azure Linux Agent (Goal State Agent version 2.11.1.4)
2024-05-30T10:00:02.000001Z INFO ExtHandler ExtHandler OS: ubuntu 22.04
2024-05-30T10:05:00.000001Z WARNING ExtHandler ExtHandler Fetch failed from [http://168.63.129.16:32526/extensionArtifact]: [HTTP Failed] [404: Not Found]
2024-05-30T10:06:00.000001Z ERROR ExtHandler ExtHandler Frobnicator 17 exploded while reticulating splines
2024-05-30T10:30:00.000001Z INFO ExtHandler ExtHandler [HEARTBEAT] Agent WALinuxAgent-2.11.1.4 is running as the goal state agent [DEBUG HeartbeatCounter: 1;]
"""

CONF_DISABLED = "Extensions.Enabled=n\nProvisioning.Agent=auto\n"
CONF_OK = "Extensions.Enabled=y\nProvisioning.Agent=auto\n"


def _status(code: int) -> str:
    inner = {"status": "error", "code": str(code), "vmHealthInfo": {"vmHealthState": 128, "vmHealthStatusCode": code}}
    return json.dumps(
        [
            {
                "version": "1.0",
                "timestampUTC": "2024-05-30T10:20:00Z",
                "status": {
                    "name": EXT,
                    "operation": "Enable",
                    "status": "success",
                    "substatus": [{"code": "0", "name": json.dumps(inner), "status": "error", "formattedMessage": None}],
                    "code": str(code),
                    "formattedMessage": {"lang": "en-US", "message": json.dumps({"messageStr": "freeze failed for some mount"})},
                },
            }
        ]
    )


def _files(conf: str, status_code: int | None = None, log: str = WAAGENT_LOG) -> dict[str, str]:
    files = {"var/log/waagent.log": log, "etc/waagent.conf": conf}
    if status_code is not None:
        files[f"var/lib/waagent/{EXT}-1.0.9224.0/status/3.status"] = _status(status_code)
    return files


def _folder(root: Path, name: str, files: dict[str, str]) -> None:
    for rel, text in files.items():
        p = root / name / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)


def _zip(path: Path, files: dict[str, str]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for rel, text in files.items():
            zf.writestr(rel, text)


def _targz(path: Path, files: dict[str, str]) -> None:
    with tarfile.open(path, "w:gz") as tf:
        for rel, text in files.items():
            data = text.encode()
            ti = tarfile.TarInfo(rel)
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))


GOOD = ("ext-disabled", "fsfreeze", "healthy")


def build_good(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    _folder(root, "ext-disabled", _files(CONF_DISABLED))
    _zip(root / "fsfreeze.zip", _files(CONF_OK, 121))
    _targz(root / "healthy.tar.gz", _files(CONF_OK))


def build_bad(root: Path) -> None:
    (root / "empty").mkdir(parents=True)
    (root / "corrupt.zip").write_bytes(b"PK\x03\x04 this is not really a zip archive" * 20)
    (root / "notes.txt").write_text("shopping list: milk, eggs\n")
    _folder(root, "hang", _files(CONF_OK))
    _folder(root, "killme", _files(CONF_OK))


# --- the test-only per-bundle function (runs in the worker processes) --------------------


def scan_with_faults(task: Task) -> BundleResult:
    """Hang on ``hang``; on ``killme`` announce the worker's pid and wait to be killed."""
    if task.key == "hang":
        time.sleep(3600)
    if task.key == "killme":
        pidfile = Path(task.path).with_name(".killme.pid")
        pidfile.write_text(str(os.getpid()))
        time.sleep(3600)
    return scan_bundle(task)


def _kill_when_ready(pidfile: Path, stop: threading.Event) -> None:
    while not stop.is_set():
        if pidfile.exists() and pidfile.read_text():
            os.kill(int(pidfile.read_text()), signal.SIGKILL)
            return
        time.sleep(0.05)


def _strip(df: pl.DataFrame) -> pl.DataFrame:
    return df.drop([c for c in ("seconds",) if c in df.columns])


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fleet_run(tmp_path_factory):
    """One batch over good and bad bundles; the kill happens from a thread of this process."""
    base = tmp_path_factory.mktemp("fleet")
    bundles = base / "bundles"
    build_good(bundles)
    build_bad(bundles)
    out = base / "out"
    stop = threading.Event()
    killer = threading.Thread(target=_kill_when_ready, args=(bundles / ".killme.pid", stop), daemon=True)
    killer.start()
    t0 = time.monotonic()
    run = run_batch([str(bundles)], out, jobs=2, timeout=6, progress=False, _scan=scan_with_faults)
    elapsed = time.monotonic() - t0
    stop.set()
    return base, run, read_batch(out), elapsed


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory):
    """The good bundles alone, with the real worker: the reference for 'others unaffected'."""
    base = tmp_path_factory.mktemp("clean")
    build_good(base / "bundles")
    out = base / "out"
    run = run_batch([str(base / "bundles")], out, jobs=2, timeout=120, progress=False)
    return base, run, read_batch(out)


# --- inputs ---------------------------------------------------------------------------------


def test_expand_inputs_folder_glob_paths_and_unique_keys(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    build_good(a)
    (a / ".hidden").mkdir()
    _folder(b, "ext-disabled", _files(CONF_OK))
    # a folder of bundles: each visible child is one VM
    assert sorted(Path(p).name for p in expand_inputs([str(a)])) == ["ext-disabled", "fsfreeze.zip", "healthy.tar.gz"]
    # a folder that is itself a bundle (holds var/, etc/) stays one bundle
    assert expand_inputs([str(a / "ext-disabled")]) == [str(a / "ext-disabled")]
    # globs; duplicates dropped; order kept
    got = expand_inputs([str(tmp_path / "*" / "*.zip"), str(a / "fsfreeze.zip"), f"file://{b}"])
    assert got == [str(a / "fsfreeze.zip"), str(b / "ext-disabled")]
    tasks = make_tasks([str(a / "ext-disabled"), str(b / "ext-disabled"), str(a / "fsfreeze.zip")])
    assert [t.key for t in tasks] == ["ext-disabled", "ext-disabled~2", "fsfreeze"]


# --- a fleet with bad bundles ---------------------------------------------------------------


def test_outputs_exist_with_contract_columns(fleet_run):
    base, _run, fleet, _ = fleet_run
    out = base / "out"
    for name in ("findings.parquet", "vms.parquet", "ingest_errors.parquet", "summary.md", "summary.json"):
        assert (out / name).is_file(), name
    assert {"vm", "cause", "rank", "score", "error_codes", "evidence"} <= set(fleet.findings.columns)
    assert {"vm", "status", "top_cause", "agent_version", "os", "n_events", "n_findings"} <= set(fleet.vms.columns)
    assert fleet.vms.schema == pl.Schema(VM_SCHEMA)
    assert fleet.findings.schema == pl.Schema(FINDING_SCHEMA)
    assert fleet.vms.height == 8


def test_every_bundle_gets_a_status_and_reason(fleet_run):
    _, _, fleet, elapsed = fleet_run
    st = {r["vm"]: r for r in fleet.vms.iter_rows(named=True)}
    for good in GOOD:
        assert st[good]["status"] == STATUS_OK, st[good]
    assert st["empty"]["status"] == STATUS_FAILED and "empty" in st["empty"]["reason"]
    assert st["corrupt"]["status"] == STATUS_FAILED and "corrupt" in st["corrupt"]["reason"]
    assert st["notes.txt"]["status"] == STATUS_FAILED and "not a folder" in st["notes.txt"]["reason"]
    assert st["hang"]["status"] == STATUS_TIMED_OUT and "6 s" in st["hang"]["reason"]
    assert st["killme"]["status"] == STATUS_FAILED and "SIGKILL" in st["killme"]["reason"]
    assert elapsed < 60  # the hung bundle was stopped at its timeout, not waited for


def test_known_faults_found_and_ranks_are_one_based(fleet_run):
    _, _, fleet, _ = fleet_run
    top = dict(fleet.vms.select("vm", "top_cause").iter_rows())
    assert top["ext-disabled"] == "linux-agent-config"
    assert top["fsfreeze"] == "fs-freeze-failed"
    ranks = fleet.findings.group_by("vm").agg(pl.col("rank").sort())
    for vm, r in ranks.iter_rows():
        assert r == list(range(1, len(r) + 1)), vm
    ext = fleet.findings.filter((pl.col("vm") == "ext-disabled") & (pl.col("rank") == 1)).row(0, named=True)
    assert ext["cause"] == "linux-agent-config" and ext["score"] > 0
    assert any("Extensions.Enabled" in (e["text"] or "") for e in ext["evidence"])
    assert fleet.vms.filter(pl.col("vm") == "healthy")["agent_version"].item() == "2.11.1.4"


def test_bad_bundles_do_not_affect_the_others(fleet_run, clean_run):
    _, _, fleet, _ = fleet_run
    clean = clean_run[2]
    good = pl.col("vm").is_in(list(GOOD))
    cols = [c for c in VM_SCHEMA if c not in ("seconds", "path")]
    assert _strip(fleet.vms.filter(good)).select(cols).equals(clean.vms.select(cols))
    assert fleet.findings.filter(good).equals(clean.findings)
    assert fleet.unexplained.filter(good).equals(clean.unexplained)


def test_summary_reports_failures_causes_and_unexplained_templates(fleet_run):
    base, run, fleet, _ = fleet_run
    s = json.loads((base / "out" / "summary.json").read_text())
    assert s == fleet.summary == run.summary
    assert s["status"] == {"ok": 3, "failed": 4, "timed-out": 1}
    failed = {f["vm"]: f for f in s["failed"]}
    assert set(failed) == {"empty", "corrupt", "notes.txt", "hang", "killme"}
    assert all(f["reason"] for f in failed.values())
    causes = {c["cause"]: c for c in s["causes"]}
    assert causes["linux-agent-config"]["vms_top"] == 1 and causes["linux-agent-config"]["vm_list"] == ["ext-disabled"]
    # the ERROR line no signature knows is an unexplained template, with the VMs showing it
    tmpl = [t for t in s["unexplained"] if "Frobnicator" in t["template"]]
    assert tmpl and tmpl[0]["vms"] == 3 and tmpl[0]["vm_list"] == sorted(GOOD)
    md = (base / "out" / "summary.md").read_text()
    assert "killme" in md and "SIGKILL" in md and "Frobnicator" in md


def test_read_batch_round_trip(fleet_run):
    base, _, fleet, _ = fleet_run
    out = base / "out"
    assert fleet.vms.equals(pl.read_parquet(out / "vms.parquet"))
    assert fleet.findings.equals(pl.read_parquet(out / "findings.parquet"))
    assert fleet.ingest_errors.equals(pl.read_parquet(out / "ingest_errors.parquet"))
    failed_rows = fleet.ingest_errors.filter(pl.col("source") == "batch")
    assert set(failed_rows["vm"]) == {"empty", "corrupt", "notes.txt", "hang", "killme"}


# --- re-runs, --force, --events ---------------------------------------------------------------


def test_rerun_skips_finished_and_force_redoes(tmp_path):
    build_good(tmp_path / "b")
    out = tmp_path / "out"
    first = run_batch([str(tmp_path / "b")], out, jobs=1, progress=False)
    assert (first.scanned, first.skipped) == (3, 0)
    before = {p.name: p.stat().st_mtime_ns for p in (out / ".parts").iterdir()}
    again = run_batch([str(tmp_path / "b")], out, jobs=1, progress=False)
    assert (again.scanned, again.skipped) == (0, 3)
    assert {p.name: p.stat().st_mtime_ns for p in (out / ".parts").iterdir()} == before
    assert again.summary == first.summary
    # a crash mid-run loses only the bundles not finished: they are redone, the rest skipped
    import shutil

    shutil.rmtree(out / ".parts" / "fsfreeze")
    resumed = run_batch([str(tmp_path / "b")], out, jobs=1, progress=False)
    assert (resumed.scanned, resumed.skipped) == (1, 2)
    assert resumed.summary == first.summary
    forced = run_batch([str(tmp_path / "b")], out, jobs=1, force=True, progress=False)
    assert (forced.scanned, forced.skipped) == (3, 0)


def test_events_dataset_is_partitioned_by_vm(tmp_path):
    build_good(tmp_path / "b")
    out = tmp_path / "out"
    run_batch([str(tmp_path / "b")], out, jobs=2, events=True, progress=False)
    assert sorted(p.name for p in (out / "events").iterdir()) == [f"vm={g}" for g in sorted(GOOD)]
    ev = read_batch(out).events().collect()
    assert set(ev["vm"].unique()) == set(GOOD)
    errors = ev.filter(pl.col("message").str.contains("Frobnicator"))
    assert errors.height == 3


# --- units ----------------------------------------------------------------------------------


def test_unexplained_lines_exclude_signature_hits():
    ev = pl.DataFrame(
        {
            "file": ["a", "a", "a", "b"],
            "line": [1, 2, 3, 1],
            "level": ["ERROR", "ERROR", "INFO", "WARNING"],
            "source": ["waagent_log"] * 4,
            "message": ["known failure", "odd thing 1\ntraceback", "fine", "odd thing 1"],
            "text": [None] * 4,
        }
    )
    hits = pl.DataFrame({"file": ["a"], "line": [1]})
    got = unexplained_lines(ev, hits)
    assert got.sort("level").to_dicts() == [
        {"level": "ERROR", "source": "waagent_log", "message": "odd thing 1", "count": 1},
        {"level": "WARNING", "source": "waagent_log", "message": "odd thing 1", "count": 1},
    ]


def test_mine_templates_groups_variants_across_vms():
    df = pl.DataFrame(
        {
            "vm": ["v1", "v2", "v3", "v3"],
            "level": ["ERROR"] * 4,
            "source": ["waagent_log"] * 4,
            "message": [
                "Disk sdc timed out after 30 seconds",
                "Disk sdd timed out after 45 seconds",
                "Disk sde timed out after 12 seconds",
                "Something completely different happened here today",
            ],
            "count": [2, 1, 1, 5],
        }
    )
    t = mine_templates(df)
    assert t[0]["vms"] == 3 and t[0]["lines"] == 4 and t[0]["vm_list"] == ["v1", "v2", "v3"]
    assert "timed out" in t[0]["template"] and "<NUM>" in t[0]["template"]
    assert t[1]["vms"] == 1 and t[1]["lines"] == 5
    assert mine_templates(df) == t  # deterministic


# --- CLI --------------------------------------------------------------------------------------


def test_cli_batch_plain_progress_and_table(tmp_path):
    from typer.testing import CliRunner

    from logscan.cli import app

    build_good(tmp_path / "b")
    args = ["batch", str(tmp_path / "b"), "--out", str(tmp_path / "out"), "--jobs", "2"]
    res = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "logscan batch: 3/3 bundles" in res.output  # plain line: not a terminal
    assert "Causes by number of VMs" in res.output and "linux-agent-config" in res.output
    assert read_batch(tmp_path / "out").vms.height == 3
    bad = CliRunner().invoke(app, ["batch", str(tmp_path / "b"), "--out", str(tmp_path / "o2"), "--error-code", "NoSuchCode"])
    assert bad.exit_code == 2


# --- Dask -------------------------------------------------------------------------------------


def test_dask_local_cluster_equals_local_executor(tmp_path):
    distributed = pytest.importorskip("distributed")
    bundles = tmp_path / "b"
    build_good(bundles)
    (bundles / "empty").mkdir()
    (bundles / "corrupt.zip").write_bytes(b"not a zip at all")
    local = run_batch([str(bundles)], tmp_path / "local", jobs=2, progress=False)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        remote = run_batch(
            [str(bundles)], tmp_path / "dask", executor="dask", scheduler=cluster.scheduler_address, timeout=120, progress=False
        )
    assert remote.scanned == local.scanned == 5
    a, b = read_batch(tmp_path / "local"), read_batch(tmp_path / "dask")
    assert _strip(a.vms).sort("vm").equals(_strip(b.vms).sort("vm"))
    assert a.findings.sort("vm", "rank").equals(b.findings.sort("vm", "rank"))
    assert a.ingest_errors.equals(b.ingest_errors)
    assert a.unexplained.equals(b.unexplained)
    assert a.summary == b.summary


def test_fsspec_urls_are_expanded_and_fetched():
    """Bundles behind an fsspec URL (what Dask workers read): listed, fetched, scanned."""
    fsspec = pytest.importorskip("fsspec")
    fs = fsspec.filesystem("memory")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for rel, text in _files(CONF_OK, 122).items():
            zf.writestr(rel, text)
    fs.pipe("/fleet-url-test/freeze-timeout.zip", buf.getvalue())
    fs.pipe("/fleet-url-test/.hidden", b"x")
    try:
        paths = expand_inputs(["memory://fleet-url-test"])
        assert len(paths) == 1 and paths[0].startswith("memory://") and paths[0].endswith("/fleet-url-test/freeze-timeout.zip")
        res = scan_bundle(make_tasks(paths)[0])
        assert res.status == STATUS_OK, res.reason
        assert res.key == "freeze-timeout" and res.vm["top_cause"] == "fs-freeze-timeout"
    finally:
        fs.rm("/fleet-url-test", recursive=True)
