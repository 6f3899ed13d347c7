"""extension.log parsing: VMSnapshotLinux forms (vmsnapshot-extension.md §1.3) and other HandlerUtil logs."""

from __future__ import annotations

from datetime import datetime, timezone

import polars as pl
import pytest

from logscan.frames import EVENT_SCHEMA
from logscan.sources import spec_for
from logscan.sources.base import SourceFile
from logscan.sources.vmsnapshot_log import EXTENSION_LOG, SPEC

VMS = "Microsoft.Azure.RecoveryServices.VMSnapshotLinux"
PATH = f"var/log/azure/{VMS}/extension.log"


def parse(text: str, path: str = PATH) -> pl.DataFrame:
    spec = spec_for(path)
    assert spec is not None
    return spec.parse(SourceFile(path, path, text.encode())).events


def utc(*a: int) -> datetime:
    return datetime(*a, tzinfo=timezone.utc)


def test_py3_line_fields_and_utc_basis() -> None:
    ev = parse(f"2024-01-14 22:16:48.796446 [{VMS}-1.0]T:S freeze, timeout value 60\n")
    assert ev.schema == pl.Schema(EVENT_SCHEMA)
    row = ev.row(0, named=True)
    assert row["source"] == "vmsnapshot_log"
    assert row["time"] == utc(2024, 1, 14, 22, 16, 48, 796446)
    assert row["time_basis"] == "utc"
    assert row["time_raw"] == "2024-01-14 22:16:48.796446"
    assert row["extension"] == VMS and row["ext_version"] == "1.0"
    assert row["message"] == "T:S freeze, timeout value 60"  # no space after "]" is not kept
    assert row["level"] == "INFO"


def test_py3_before_utc_switch_is_local() -> None:
    ev = parse(f"2020-06-01 10:00:00.000001 [{VMS}-1.0]starting enable\n")
    assert ev["time_basis"][0] == "local-assumed-utc"


def test_py3_traceback_and_status_json_join_their_header() -> None:
    text = (
        f"2024-01-14 22:16:48.900000 [{VMS}-1.0]Unable to do the thing\n"
        "Traceback (most recent call last):\n"
        '  File "/var/lib/waagent/x/main/handle.py", line 1, in <module>\n'
        "ModuleNotFoundError: No module named 'imp'\n"
        f"2024-01-14 22:16:50.200000 [{VMS}-1.0]file status report message:\n"
        '[{"version": "1.0",\n'
        '  "status": {"code": "76"}}]\n'
        f"2024-01-14 22:16:51.000000 [{VMS}-1.0]next\n"
    )
    ev = parse(text)
    assert ev["line"].to_list() == [1, 5, 8]
    assert ev["message"][0].endswith("No module named 'imp'")
    assert ev["text"][0].count("\n") == 3
    assert '"code": "76"' in ev["message"][1]
    assert ev["message"][2] == "next"


def test_py2_error_continuations_fold_on_same_stamp_only() -> None:
    text = (
        f"2017/11/14 03:06:52 ERROR:[{VMS}-1.0]T:S snapshot result: errorcode: 409\n"
        "2017/11/14 03:06:52  StatusCode.FailedRetryableSnapshotFailedRestrictedNetwork,\n"
        "2017/11/14 03:06:53 a later unprefixed line\n"
        f"2017/11/14 03:06:53 WARNING:[{VMS}-1.0]warned\n"
    )
    ev = parse(text)
    assert ev.height == 3
    first = ev.row(0, named=True)
    assert first["level"] == "ERROR"
    assert first["time_basis"] == "local-assumed-utc"
    assert first["time"] == utc(2017, 11, 14, 3, 6, 52)
    # the folded line's repeated stamp is not part of the message, but stays in the text
    assert first["message"] == "T:S snapshot result: errorcode: 409\n StatusCode.FailedRetryableSnapshotFailedRestrictedNetwork,"
    assert first["text"].splitlines()[1].startswith("2017/11/14 03:06:52  StatusCode")
    assert ev["message"][1] == "a later unprefixed line"
    assert ev["level"].to_list()[1:] == ["INFO", "WARNING"]


def test_hutil_error_in_py3_log_is_local_time() -> None:
    text = (
        f"2024-05-29 05:45:42.000000 [{VMS}-1.0]try_parse_context : Sequence Number received 3\n"
        f"2024/05/29 07:45:43 ERROR:[{VMS}-1.0]Failed to decrypt protected settings\n"
    )
    ev = parse(text)
    assert ev["time_basis"].to_list() == ["utc", "local-assumed-utc"]
    assert ev["level"].to_list() == ["INFO", "ERROR"]
    assert ev["message"][1] == "Failed to decrypt protected settings"


def test_freeze_buffer_lines_are_own_events_with_own_time_and_level() -> None:
    text = (
        f"2024-01-14 22:16:50.000000 [{VMS}-1.0]T:S freeze, timeout value 60\n"
        "================== Logs during Freeze Start ==============\n"
        "2024/01/14 22:16:48.950001  Info  ****** 4. Freeze Completed (Signal=1 received) \n"
        "2024/01/14 22:16:49.120000  Warning  slow disk \n"
        "2024/01/14 22:16:49.500000  Error  freeze timed-out \n"
        "  continuation of the buffered error\n"
        "================== Logs during Freeze End ==============\n"
        f"2024-01-14 22:16:51.000000 [{VMS}-1.0]T:S thaw done\n"
    )
    ev = parse(text)
    assert ev["source"].unique().to_list() == ["vmsnapshot_log"]
    buf = ev.filter(pl.col("time_raw").str.contains("/"))
    assert buf["level"].to_list() == ["INFO", "WARNING", "ERROR"]
    assert buf["time"].to_list() == [
        utc(2024, 1, 14, 22, 16, 48, 950001),
        utc(2024, 1, 14, 22, 16, 49, 120000),
        utc(2024, 1, 14, 22, 16, 49, 500000),
    ]
    assert buf["message"][0] == "****** 4. Freeze Completed (Signal=1 received)"  # trailing space dropped
    assert buf["message"][2] == "freeze timed-out\n  continuation of the buffered error"
    markers = ev.filter(pl.col("message").str.contains("Logs during Freeze"))
    assert markers.height == 2
    assert markers["time_basis"].to_list() == ["inherited", "inherited"]
    assert markers["time"][0] == utc(2024, 1, 14, 22, 16, 50)  # from the record before it
    assert markers["time"][1] == utc(2024, 1, 14, 22, 16, 49, 500000)
    assert ev["extension"].null_count() == 0  # buffered lines are about the handler of the folder


def test_freeze_buffer_in_py2_log_is_not_folded() -> None:
    text = (
        f"2017/11/14 03:06:52 [{VMS}-1.0]================== Logs during Freeze Start ==============\n"
        "2017/11/14 03:06:52 2017-11-14 03:06:40.123456  Info  ****** 1. Starting Freeze Binary \n"
        "2017/11/14 03:06:52 2017-11-14 03:06:41.000000  Error  freeze failed for some mount \n"
        "2017/11/14 03:06:52 ================== Logs during Freeze End ==============\n"
    )
    ev = parse(text)
    assert ev.height == 4
    assert ev["level"].to_list() == ["INFO", "INFO", "ERROR", "INFO"]
    assert ev["time"][2] == utc(2017, 11, 14, 3, 6, 41)
    assert ev["time_basis"][2] == "utc"  # dashed Backuplogger stamp is utcnow()


def test_2016_double_stamp_uses_inner_stamp_and_level() -> None:
    text = (
        "2016/09/21 05:26:30 [MyBackupTestLinuxInt-0.0]2016-09-21 05:26:29.123456  Error  snapshot failed \n"
        "2016/09/21 05:26:30 \n"
    )
    ev = parse(text)
    assert ev.height == 1
    row = ev.row(0, named=True)
    assert row["time"] == utc(2016, 9, 21, 5, 26, 29, 123456)
    assert row["level"] == "ERROR"
    assert row["message"] == "snapshot failed"
    assert row["extension"] == VMS  # the build placeholder is replaced by the folder's handler


@pytest.mark.parametrize(
    ("msg", "level"),
    [
        ("T:S ###### Enable failed with error: freeze took longer than timeout StatusCode.FailedRetryableFsFreezeTimeout,", "ERROR"),
        ("T:S Enable failed with FailedRetryableSnapshotFailedNoNetwork error StatusCode.FailedRetryableSnapshotFailedNoNetwork,", "ERROR"),
        ("T:S Enable failed with FailedSnapshotLimitReached errror StatusCode.FailedSnapshotLimitReached,", "ERROR"),
        ("Enable,error,76,snapshot failed,True", "ERROR"),
        ("Enable,warning,0,partial,False", "WARNING"),
        ("Enable,success,1,Enable Succeeded,False", "INFO"),
        ("PreSnapshot: Status Code: 200", "INFO"),
        ("doFreezeSnapshot : run_result - 1 run_status - success all_failed - False unable_to_sleep - False is_inconsistent - False values post snapshot", "INFO"),
        ("Failed to open file or aquire lock: [Errno 11] Resource temporarily unavailable", "INFO"),
    ],
)
def test_py3_levels_from_text(msg: str, level: str) -> None:
    ev = parse(f"2024-05-29 05:45:42.000000 [{VMS}-1.0]{msg}\n")
    assert ev["level"][0] == level


def test_outcome_line_sets_op_and_status() -> None:
    ev = parse(f"2024-05-29 05:45:42.000000 [{VMS}-1.0]Enable,error,76,all failed,True\n")
    assert ev["event_op"][0] == "Enable" and ev["event_name"][0] == "status"
    assert "76" in ev["message"][0]


def test_lines_before_first_header_have_no_time() -> None:
    ev = parse(f"half a line\n2024-05-29 05:45:42.000000 [{VMS}-1.0]x\n")
    assert ev["time_basis"][0] == "none" and ev["time"][0] is None and ev["level"][0] is None
    assert ev["message"][0] == "half a line"


@pytest.mark.parametrize(
    ("path", "source"),
    [
        (f"var/log/azure/{VMS}/extension.log", "vmsnapshot_log"),
        (f"var/log/azure/{VMS}/1.0.9120.0/extension.log", "vmsnapshot_log"),
        (f"var/log/azure/{VMS}/host_based_extension.log", "vmsnapshot_log"),
        (f"bundle/var/log/azure/{VMS}/extension.log.1", "vmsnapshot_log"),
        (f"truncated__var_log_azure_{VMS}_extension.log", "vmsnapshot_log"),
        ("var/log/azure/Microsoft.OSTCExtensions.LinuxDiagnostic/2.3.9017/extension.log", "extension_log"),
        ("var/log/azure/Microsoft.EnterpriseCloud.Monitoring.OmsAgentForLinux/extension.log", "extension_log"),
    ],
)
def test_paths(path: str, source: str) -> None:
    spec = spec_for(path)
    assert spec is not None and spec.name == source


def test_example_paths_are_claimed() -> None:
    for spec in (SPEC, EXTENSION_LOG):
        assert spec_for(spec.example_path) is spec


def test_generic_handlerutil_log() -> None:
    path = "var/log/azure/Microsoft.EnterpriseCloud.Monitoring.OmsAgentForLinux/extension.log"
    text = (
        "2020/03/30 20:07:40 [Microsoft.EnterpriseCloud.Monitoring.OmsAgentForLinux-1.12.25] Install,failed,51,Unsupported operating system: x\n"
        "2020/03/30 20:07:41 ERROR:[Microsoft.EnterpriseCloud.Monitoring.OmsAgentForLinux-1.12.25] boom\n"
        "2020/03/30 20:07:41 second line of boom\n"
        "2020/03/30 20:07:42 [Microsoft.EnterpriseCloud.Monitoring.OmsAgentForLinux-1.12.25] cwd is /var/lib/waagent/x\n"
    )
    ev = parse(text, path)
    assert ev["source"].unique().to_list() == ["extension_log"]
    assert ev["extension"].unique().to_list() == ["Microsoft.EnterpriseCloud.Monitoring.OmsAgentForLinux"]
    assert ev["ext_version"][0] == "1.12.25"
    assert ev["message"][0].startswith("Install,failed,51")  # the trailing space after "]" is not kept
    assert ev["level"].to_list() == ["ERROR", "ERROR", "INFO"]
    assert ev["event_op"][0] == "Install"
    assert ev["message"][1] == "boom\nsecond line of boom"


def test_binary_output_block_stays_in_its_record() -> None:
    text = (
        f"2024-01-14 22:16:48.796446 [{VMS}-1.0]============== Binary output traces start =================\n"
        "2024-01-14 22:16:48 ****** 2. Binary Freeze Started\n"
        "2024-01-14 22:16:48 Failed to FIFREEZE: /data with error message: Operation not supported\n"
        "============== Binary output traces end =================\n"
    )
    ev = parse(text)
    assert ev.height == 1
    assert "Failed to FIFREEZE: /data" in ev["message"][0]


def test_big_file_is_linear(tmp_path) -> None:
    """Many records parse with one row each and keep their order (no per-line Python work)."""
    n = 20_000
    lines = [f"2024-01-14 22:{(i // 60) % 60:02d}:{i % 60:02d}.000001 [{VMS}-1.0]line {i}" for i in range(n)]
    ev = parse("\n".join(lines) + "\n")
    assert ev.height == n
    assert ev["message"][-1] == f"line {n - 1}"


@pytest.mark.parametrize(
    "stamp",
    ["2024-02-29 23:59:59.999999", "2023-02-29 10:00:00.000001", "2024-13-01 00:00:00.000000", "2024-01-01 24:00:00.000000",
     "2024-01-01 23:59:60.000000"],
)
def test_six_digit_stamps_read_as_the_variable_width_format_does(stamp: str) -> None:
    """The py3 and buffered stamps are read with a fixed-width "%6f": same values, and the same
    nulls for impossible dates, as the "%.f" reading it replaced."""
    reference = pl.Series([stamp]).str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S%.f", strict=False, exact=True)[0]
    ev = parse(f"{stamp} [{VMS}-1.0.9224.0]T:S enable\n{stamp.replace('-', '/', 2)}  Info  buffered line \n")
    got = ev["time"].to_list()
    want = None if reference is None else reference.replace(tzinfo=timezone.utc)
    assert got == [want, want]
