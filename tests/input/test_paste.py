"""Paste damage undone, and several pastes in one text split and read by their own parsers."""

from __future__ import annotations

import io

import polars as pl
import pytest

from logscan.io.bundle import Bundle
from logscan.sources import paste, sniff
from logscan.sources.ingest import load_bundle


def _load(text: str):
    with Bundle.from_stream(io.BytesIO(text.encode())) as b:
        return load_bundle(b)


def test_clean_text_is_returned_untouched() -> None:
    text = "2024-05-30T13:15:40.1Z INFO Daemon Daemon hello\n" * 50
    assert paste.clean(text) is text
    assert paste.segments(text) == [paste.Segment(text)]


def test_quote_markers_fences_bold_and_backticks_removed_line_for_line() -> None:
    text = (
        "```\n"
        "> 2019/03/04 10:11:12.123456 WARNING ExtHandler first warning\n"
        "> > 2019/03/04 10:11:13.123456 ERROR ExtHandler second one\n"
        "**2019/03/04 10:11:14.123456 INFO Daemon bolded line**\n"
        "`2019/03/04 10:11:15.123456 INFO Daemon ticked line`\n"
        "```\n"
    )
    out = paste.clean(text).split("\n")
    assert out[0] == "" and out[5] == ""
    assert out[1].startswith("2019/03/04 10:11:12") and out[2].startswith("2019/03/04 10:11:13")
    assert out[3].endswith("bolded line") and out[4].endswith("ticked line")
    b = _load(text)
    assert b.events.height == 4 and b.events["line"].to_list() == [2, 3, 4, 5]


def test_placeholder_and_removed_timestamps_still_count_without_a_time() -> None:
    text = (
        "yyyy/mm/dd hh:mm:ss.ffffff WARNING ExtHandler Dhcp client looks absent here\n"
        "WARNING ExtHandler Dhcp client looks absent here\n"
        "ERROR:glued level from an old agent\n"
        "....\n"
    )
    b = _load(text)
    assert b.events.height == 3
    assert b.events["time"].null_count() == 3 and set(b.events["level"]) == {"WARNING", "ERROR"}


def test_echoed_command_names_the_output() -> None:
    assert sniff.command_kind("systemctl status walinuxagent") == "systemctl_status"
    assert sniff.command_kind("sudo journalctl -u waagent --no-pager") == "syslog"
    assert sniff.command_kind("vssadmin list writers") == "vssadmin_writers"
    assert paste.command_of("admin@vm-7:~$ ip route") == "ip route"
    assert paste.command_of("PS C:\\Users\\me> Get-Service RdAgent") == "Get-Service RdAgent"
    assert paste.command_of("# a comment, not a command") is None


MULTI = """\
2022-11-02T08:01:02.000001Z ERROR ExtHandler ExtHandler Event: name=Microsoft.Foo.Bar, op=Enable, message=exit 3
2022-11-02T08:01:03.000001Z INFO ExtHandler ExtHandler next goal state

azureuser@vm-7:~$ systemctl status waagent
● walinuxagent.service - Azure Linux Agent
     Loaded: loaded (/lib/systemd/system/walinuxagent.service; enabled; vendor preset: enabled)
     Active: failed (Result: exit-code) since Wed 2022-11-02 08:05:00 UTC; 1h ago
    Process: 912 ExecStart=/usr/bin/python3 -u /usr/sbin/waagent -daemon (code=exited, status=1/FAILURE)
   Main PID: 912 (code=exited, status=1/FAILURE)

Nov 02 08:05:00 vm-7 systemd[1]: walinuxagent.service: Main process exited, code=exited, status=1/FAILURE

Log Name:      Application
Source:        VSS
Event ID:      8193
Level:         Error
Description:
Volume Shadow Copy Service error: Unexpected error calling routine Foo.  hr = 0x80070005, Access is denied.
"""


def test_multi_part_paste_is_split_and_each_part_read_by_its_parser() -> None:
    b = _load(MULTI)
    kinds = [(f["kind"], f["lines"][0]) for f in b.coverage["files"]]
    assert kinds == [("waagent_log", 1), ("systemctl_status", 5), ("event_export", 13)]
    ev = b.events
    unit = ev.filter(ev["source"] == "systemctl_status").row(0, named=True)
    assert unit["level"] == "ERROR" and unit["line"] == 5
    vss = ev.filter(ev["source"] == "event_export").row(0, named=True)
    assert (vss["provider"], vss["event_id"], vss["line"]) == ("VSS", 8193, 13)
    facts = {(r["subject"], r["key"]): r["value"] for r in b.facts.iter_rows(named=True)}
    assert facts[("service:walinuxagent", "active")] == "failed" and facts[("service:walinuxagent", "exit_code")] == "1"


def test_hard_wrapped_continuation_joins_the_record_above() -> None:
    text = (
        "2018/01/02 03:04:05.000006 ERROR Command: '/usr/bin/openssl cms -decrypt -in /var/lib/waagent/Certificat\n"
        "es.p7m -inkey key'\n"
        "2018/01/02 03:04:06.000006 ERROR Return code: 1\n"
    )
    b = _load(text)
    assert b.events.height == 2 and "Certificat\nes.p7m" in b.events["message"][0]


@pytest.mark.parametrize(
    "text",
    ["a\n> quoted\nb", "x\n```\ny", "**bold** line\nz", "line ends **  \nq", "line ** mid\n", "ok\n....\n",
     "PS C:\\> Get-Service x\n", "user@vm:~$ systemctl status waagent\n", "plain\nlog\n", "2024 yyyy/mm/dd\n",
     "ends with stars**\t\n", "  <... 40 lines ...>  \n", "`code` first\n", "no > marker here\n"],
)
def test_line_by_line_check_agrees_with_the_whole_text_one(text: str) -> None:
    """Big logs are checked for paste wrapping line by line (split by polars): same answer."""
    assert paste.lines_pasted(pl.Series(text.split("\n"))) == paste.is_pasted(text)


def test_a_big_named_log_with_paste_wrapping_is_cleaned_as_a_small_one(tmp_path) -> None:
    """Past ``BIG_TEXT`` a log named by its path is split by polars and checked line by line;
    quote markers are still found and removed, so it reads as its small copy does."""
    from logscan import load
    from logscan.sources import reading

    body = [f"2024-05-01T10:{i // 60:02d}:{i % 60:02d}.000000Z INFO ExtHandler ExtHandler step {i}" for i in range(1500)]
    body.append("2024-05-01T11:00:00.000000Z ERROR ExtHandler ExtHandler Event: name=X, op=Enable, message=failed, duration=0")
    quoted = "\n".join("> " + line for line in body) + "\n"
    assert len(quoted.encode()) > reading.BIG_TEXT
    for name, text in (("quoted", quoted), ("plain", "\n".join(body) + "\n")):
        log = tmp_path / name / "var" / "log" / "waagent.log"
        log.parent.mkdir(parents=True)
        log.write_text(text, encoding="utf-8")
    a, b = load(tmp_path / "quoted"), load(tmp_path / "plain")
    cols = ["line", "time", "level", "message"]
    assert a.events.select(cols).equals(b.events.select(cols))
    assert a.events.height == 1501 and a.events["level"].to_list()[-1] == "ERROR"
