"""Windows event exports (windows-events.md §5): literal examples of each format, and
round trips of exports generated from the deepbluecli sample's first 50 events."""

from __future__ import annotations

import codecs
import re
from datetime import datetime, timezone
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import polars as pl
import pytest

import logscan
from logscan.frames import EVENT_SCHEMA
from logscan.sources import spec_for
from logscan.sources.event_exports import SPEC, detect, read_export
from logscan.sources.evtx import read_evtx

SAMPLES = Path(__file__).resolve().parents[2] / ".." / "shared" / "evtx-samples"
NS = "http://schemas.microsoft.com/win/2004/08/events/event"
LEVEL_NUM = {"CRITICAL": 1, "ERROR": 2, "WARNING": 3, "INFO": 4, "VERBOSE": 5}
LEVEL_NAME = {"CRITICAL": "Critical", "ERROR": "Error", "WARNING": "Warning", "INFO": "Information", "VERBOSE": "Verbose"}


def utf16(text: str) -> bytes:
    return codecs.BOM_UTF16_LE + text.encode("utf-16-le")


# ---------------------------------------------------------------------------------------
# Literal examples
# ---------------------------------------------------------------------------------------

EV_XML = """<?xml version="1.0" encoding="UTF-16"?>
<Events><Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='Application Error'/><EventID Qualifiers='0'>1000</EventID><Level>2</Level><Task>100</Task><Keywords>0x80000000000000</Keywords><TimeCreated SystemTime='2016-08-18T20:11:24.000000000Z'/><EventRecordID>1590</EventRecordID><Channel>Application</Channel><Computer>IE10Win7</Computer><Security/></System><EventData><Data>IaaSBcdrExtension.exe</Data><Data>1.0.0.0</Data><Data></Data><Data>KERNELBASE.dll</Data></EventData><RenderingInfo Culture='en-US'><Message>Faulting application name: IaaSBcdrExtension.exe, version: 1.0.0.0
Faulting module name: KERNELBASE.dll</Message><Level>Error</Level><Task>Application Crashing Events</Task><Keywords><Keyword>Classic</Keyword></Keywords></RenderingInfo></Event><Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='Microsoft-Windows-MSDTC 2' EventSourceName='MSDTC 2'/><EventID Qualifiers='16384'>4202</EventID><Level>4</Level><TimeCreated SystemTime='2016-08-18T20:12:00.5Z'/><EventRecordID>1591</EventRecordID><Channel>Application</Channel><Computer>IE10Win7</Computer></System><EventData><Data Name='param1'>a &amp; b</Data><Data Name='param2'/></EventData></Event></Events>
"""


def test_event_viewer_xml_utf16_with_rendering_info() -> None:
    events, errors = read_export(utf16(EV_XML), "exports/app.xml")
    assert errors == [] and events.height == 2
    assert events.schema == pl.Schema(EVENT_SCHEMA)
    ae, dtc = events.row(0, named=True), events.row(1, named=True)
    assert (ae["source"], ae["provider"], ae["event_id"], ae["record_id"], ae["level"]) == ("event_export", "Application Error", 1000, 1590, "ERROR")
    assert ae["time"] == datetime(2016, 8, 18, 20, 11, 24, tzinfo=timezone.utc) and ae["time_basis"] == "utc"
    assert [d["value"] for d in ae["data"]] == ["IaaSBcdrExtension.exe", "1.0.0.0", "", "KERNELBASE.dll"]
    assert ae["message"].startswith("Faulting application name: IaaSBcdrExtension.exe") and "\nFaulting module" in ae["message"]
    # Evidence is provider, id, level and message, never the raw XML.
    assert ae["line"] == 2 and ae["text"].startswith("Application Error 1000 | ERROR | Faulting application") and "<" not in ae["text"]
    assert dtc["event_id"] == 4202 and dtc["data"] == [{"name": "param1", "value": "a & b"}, {"name": "param2", "value": ""}]
    assert dtc["message"] == "Microsoft-Windows-MSDTC 2 4202: param1=a & b"  # no RenderingInfo: built from data
    assert dtc["time"].microsecond == 500000


WEVTUTIL_XML = (
    "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='Windows Error Reporting'/>"
    "<EventID Qualifiers='0'>1001</EventID><Level>4</Level><TimeCreated SystemTime='2019-11-13T19:24:36.4528386Z'/>"
    "<EventRecordID>10</EventRecordID><Channel>Application</Channel><Computer>vagrant</Computer></System>"
    "<EventData><Data></Data><Data>0</Data><Data>APPCRASH</Data></EventData></Event>\n"
    "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='VSS'/>"
    "<EventID Qualifiers='0'>8224</EventID><Level>4</Level><TimeCreated SystemTime='2019-11-13T19:30:00.0000000Z'/>"
    "<EventRecordID>11</EventRecordID><Channel>Application</Channel><Computer>vagrant</Computer></System>"
    "<EventData><Data>broken &undefined; entity</Data></EventData></Event>\n"
    "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='VSS'/>"
    "<EventID Qualifiers='0'>8224</EventID><Level>4</Level><TimeCreated SystemTime='2019-11-13T19:31:00Z'/>"
    "<EventRecordID>12</EventRecordID><Channel>Application</Channel><Computer>vagrant</Computer></System>"
    "<EventData><Data></Data></EventData></Event>\n"
)


def test_wevtutil_xml_without_root_keeps_good_events_around_a_bad_one() -> None:
    events, errors = read_export(WEVTUTIL_XML.encode(), "out.xml")
    assert events["record_id"].to_list() == [10, 12]
    assert events["line"].to_list() == [1, 3]
    assert events.row(0, named=True)["data"][:2] == [{"name": None, "value": ""}, {"name": None, "value": "0"}]
    assert len(errors) == 1 and errors[0]["line"] == 2 and errors[0]["kind"] == "parse"


def test_entity_expansion_is_refused_not_expanded() -> None:
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
        "<Events><Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='x'/>"
        "<EventID>1</EventID></System><EventData><Data>&lol2;</Data></EventData></Event></Events>"
    )
    events, errors = read_export(bomb.encode(), "bomb.xml")
    assert events.height == 0 and errors and "lol" not in str(events["data"].to_list())


WEVTUTIL_TEXT = """Event[0]:
  Log Name: Application
  Source: Application Error
  Date: 2024-03-07T10:25:59.123
  Event ID: 1000
  Task: Application Crashing Events
  Level: Error
  Opcode: Info
  Keyword: Classic
  User: N/A
  User Name: N/A
  Computer: vm372437823
  Description:
Faulting application name: IaaSBcdrExtension.exe, version: 1.0.0.0, time stamp: 0x5c2f8a1b
Exception code: 0xe0434352

Event[1]:
  Log Name: Application
  Source: VSS
  Date: 2024-03-07T10:26:00.000Z
  Event ID: 8193
  Task: N/A
  Level: Error
  Computer: vm372437823
  Description:
Volume Shadow Copy Service error: Unexpected error calling routine CoCreateInstance. hr = 0x80070005, Access is denied.
"""

COPY_DETAILS = """Log Name:      Application
Source:        .NET Runtime
Date:          3/7/2023 10:25:59 AM
Event ID:      1026
Task Category: None
Level:         Error
Keywords:      Classic
User:          N/A
Computer:      vm372437823
Description:
Application: WindowsAzureGuestAgent.exe
Framework Version: v4.0.30319
Description: The process was terminated due to an unhandled exception.
Exception Info: System.Configuration.ConfigurationErrorsException
"""


def test_wevtutil_text_blocks() -> None:
    events, errors = read_export(utf16(WEVTUTIL_TEXT), "events.txt")
    assert errors == [] and events.height == 2
    a, b = events.row(0, named=True), events.row(1, named=True)
    assert (a["provider"], a["event_id"], a["level"], a["channel"], a["computer"], a["line"]) == ("Application Error", 1000, "ERROR", "Application", "vm372437823", 1)
    assert a["time"] == datetime(2024, 3, 7, 10, 25, 59, 123000, tzinfo=timezone.utc) and a["time_basis"] == "local-assumed-utc"
    assert a["message"].startswith("Faulting application name: IaaSBcdrExtension.exe") and a["message"].endswith("0xe0434352")
    assert b["time_basis"] == "utc" and b["event_id"] == 8193 and "Access is denied" in b["message"]


def test_copy_details_as_text_block() -> None:
    events, _ = read_export(COPY_DETAILS.encode(), "ticket.txt")
    row = events.row(0, named=True)
    assert (row["provider"], row["event_id"], row["level"], row["computer"]) == (".NET Runtime", 1026, "ERROR", "vm372437823")
    assert row["time"] == datetime(2023, 3, 7, 10, 25, 59, tzinfo=timezone.utc)
    # The description's own "Description:" line stays in the message.
    assert row["message"].splitlines()[0] == "Application: WindowsAzureGuestAgent.exe"
    assert "Exception Info: System.Configuration.ConfigurationErrorsException" in row["message"]


EV_CSV = (
    "Level,Date and Time,Source,Event ID,Task Category\n"
    'Error,9/29/2026 10:01:02 AM,Application Error,1000,(100),"Faulting application name: IaaSBcdrExtension.exe, version: 1.0.0.0\n'
    'Exception code: 0xe0434352"\n'
    "Information,9/29/2026 1:05:00 PM,VSS,8224,None,The VSS service is shutting down due to idle timeout.\n"
    "Warning,9/30/2026 7:00:00 AM,Service Control Manager,7031,None\n"
)


def test_event_viewer_csv_with_unnamed_description_and_five_field_rows() -> None:
    events, errors = read_export(utf16(EV_CSV), "app.csv")
    assert errors == [] and events.height == 3
    assert events["event_id"].to_list() == [1000, 8224, 7031]
    assert events["level"].to_list() == ["ERROR", "INFO", "WARNING"]
    assert events["line"].to_list() == [2, 4, 5]  # the quoted two-line description pushes the rest down
    assert events["time"].to_list()[1] == datetime(2026, 9, 29, 13, 5, tzinfo=timezone.utc)
    assert events["time_basis"].unique().to_list() == ["local-assumed-utc"]
    assert events["message"][0].endswith("Exception code: 0xe0434352") and events["message"][2] is None
    assert events["record_id"].null_count() == 3 and events["event_name"][0] == "(100)"


def test_localized_csv_german_dates_and_levels() -> None:
    text = (
        "Ebene,Datum und Uhrzeit,Quelle,Ereignis-ID,Aufgabenkategorie\n"
        "Fehler,29.09.2026 10:01:02,VSS,8193,Keine,Volumeschattenkopie-Dienstfehler\n"
        "Informationen,01.10.2026 23:59:59,VSS,8224,Keine,Leerlauf\n"
    )
    events, _ = read_export(text.encode("utf-8-sig"), "export.csv")
    assert events["level"].to_list() == ["ERROR", "INFO"]
    assert events["time"].to_list() == [datetime(2026, 9, 29, 10, 1, 2, tzinfo=timezone.utc), datetime(2026, 10, 1, 23, 59, 59, tzinfo=timezone.utc)]


def test_day_first_slashes_are_chosen_when_only_they_parse() -> None:
    text = "Level,Date and Time,Source,Event ID,Task Category\nError,29/09/2026 10:01:02,VSS,8193,None,x\nError,05/10/2026 10:01:02,VSS,8193,None,y\n"
    events, _ = read_export(text.encode(), "x.csv")
    assert events["time"].dt.month().to_list() == [9, 10]


def test_event_viewer_tab_delimited_multiline_description() -> None:
    text = (
        "Level\tDate and Time\tSource\tEvent ID\tTask Category\n"
        "Error\t9/29/2026 10:01:02 AM\tApplication Error\t1000\t(100)\tFaulting application name: a.exe\n"
        "Faulting module name: b.dll\n"
        "Information\t9/29/2026 10:02:00 AM\tVSS\t8224\tNone\t\"The VSS service is shutting down.\"\n"
    )
    events, _ = read_export(utf16(text), "app.txt")
    assert events["event_id"].to_list() == [1000, 8224]
    assert events["message"].to_list() == ["Faulting application name: a.exe\nFaulting module name: b.dll", "The VSS service is shutting down."]
    assert events["line"].to_list() == [2, 4]


GET_WINEVENT = (
    "#TYPE System.Diagnostics.Eventing.Reader.EventLogRecord\n"
    '"Message","Id","Version","Qualifiers","Level","Task","Opcode","Keywords","RecordId","ProviderName","ProviderId","LogName",'
    '"ProcessId","ThreadId","MachineName","UserId","TimeCreated","ActivityId","RelatedActivityId","ContainerLog","MatchedQueryIds",'
    '"Bookmark","LevelDisplayName","OpcodeDisplayName","TaskDisplayName","KeywordsDisplayNames","Properties"\n'
    '"Application: WindowsAzureGuestAgent.exe\nFramework Version: v4.0.30319","1026",,"0","2","0","0","36028797018963968","4242",'
    '".NET Runtime",,"Application",,,"vm1.contoso.local",,"3/7/2023 10:25:59 AM",,,"Application","System.UInt32[]",'
    '"System.Diagnostics.Eventing.Reader.EventBookmark","Error",,"None","System.Collections.ObjectModel.ReadOnlyCollection`1[System.String]",'
    '"System.Collections.Generic.List`1[System.Diagnostics.Eventing.Reader.EventProperty]"\n'
)


def test_get_winevent_export_csv() -> None:
    events, errors = read_export(GET_WINEVENT.encode(), "winevent.csv")
    assert errors == [] and events.height == 1
    row = events.row(0, named=True)
    assert (row["provider"], row["event_id"], row["record_id"], row["channel"], row["computer"], row["level"]) == (
        ".NET Runtime", 1026, 4242, "Application", "vm1.contoso.local", "ERROR"
    )
    assert row["time"] == datetime(2023, 3, 7, 10, 25, 59, tzinfo=timezone.utc) and row["line"] == 3
    assert row["message"].startswith("Application: WindowsAzureGuestAgent.exe\nFramework")


def test_projected_get_winevent_csv() -> None:
    text = '"LevelDisplayName","TimeCreated","ProviderName","Id","TaskDisplayName","Message"\n"Warning","3/7/2023 1:00:00 PM","VSS","8229","None","A VSS writer has rejected an event"\n'
    events, _ = read_export(text.encode(), "p.csv")
    assert events.row(0, named=True)["level"] == "WARNING" and events["event_id"][0] == 8229


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (EV_XML, "xml"),
        (WEVTUTIL_XML, "xml"),
        (WEVTUTIL_TEXT, "wevtutil-text"),
        (COPY_DETAILS, "wevtutil-text"),
        (EV_CSV, "ev-csv"),
        ("Level\tDate and Time\tSource\tEvent ID\tTask Category\n", "ev-tsv"),
        (GET_WINEVENT, "get-winevent-csv"),
        ("Nivå,Datum och tid,Källa,Händelse-ID,Aktivitetskategori\nFel,2026-09-29 10:01:02,VSS,8193,Ingen,x\n", "ev-csv"),
        ("2021-05-28T01:17:40.683072Z INFO ExtHandler hello\n", None),
        ("name,value\na,1\n", None),
        ('<?xml version="1.0"?><Environment xmlns="http://schemas.dmtf.org/ovf/environment/1"/>', None),
    ],
)
def test_sniffed_by_content(text: str, kind: str | None) -> None:
    assert detect(text) == kind
    assert SPEC.sniff is not None and SPEC.sniff(utf16(text)[:4096]) is (kind is not None)


def test_never_claimed_by_name_alone() -> None:
    assert not SPEC.matches("exports/Application.xml") and not SPEC.matches("app.csv")
    assert spec_for("some/dir/whatever.log", utf16(WEVTUTIL_TEXT)[:4096]) is SPEC


# ---------------------------------------------------------------------------------------
# Round trips from the deepbluecli sample
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def source() -> pl.DataFrame:
    path = SAMPLES / "deepbluecli-many-events-application.evtx"
    if not path.exists():
        pytest.skip(f"{path} not present")
    events, _ = read_evtx(path.read_bytes())
    return events.head(50)


def _event_xml(row: dict, rendered: bool, quote: str = "'") -> str:
    q = (lambda v: quoteattr(v)) if quote == '"' else (lambda v: quoteattr(v).replace('"', "'") if "'" not in v else quoteattr(v))
    parts = [f"<Event xmlns={q(NS)}><System><Provider Name={q(row['provider'])}/>"]
    parts.append(f"<EventID Qualifiers='0'>{row['event_id']}</EventID><Level>{LEVEL_NUM[row['level']]}</Level>")
    parts.append(f"<TimeCreated SystemTime={q(row['time_raw'])}/><EventRecordID>{row['record_id']}</EventRecordID>")
    parts.append(f"<Channel>{escape(row['channel'])}</Channel><Computer>{escape(row['computer'])}</Computer></System><EventData>")
    for d in row["data"]:
        if d["name"] == "Binary":
            parts.append(f"<Binary>{escape(d['value'])}</Binary>")
        elif d["name"] is None:
            parts.append(f"<Data>{escape(d['value'])}</Data>")
        else:
            parts.append(f"<Data Name={q(d['name'])}>{escape(d['value'])}</Data>")
    parts.append("</EventData>")
    if rendered:
        parts.append(f"<RenderingInfo Culture='en-US'><Message>{escape(row['message'])}</Message></RenderingInfo>")
    return "".join(parts) + "</Event>"


KEY = ["provider", "event_id", "record_id", "time", "level", "channel", "computer"]


def test_round_trip_event_viewer_xml(source: pl.DataFrame) -> None:
    rows = source.to_dicts()
    text = '<?xml version="1.0" encoding="UTF-16"?>\n<Events>' + "".join(_event_xml(r, True) for r in rows) + "</Events>"
    events, errors = read_export(utf16(text), "saved.xml")
    assert errors == []
    assert events.select(KEY).equals(source.select(KEY))
    assert events["data"].to_list() == source["data"].to_list()
    assert events["message"].to_list() == source["message"].to_list()


def test_round_trip_wevtutil_xml(source: pl.DataFrame) -> None:
    text = "\n".join(_event_xml(r, False, '"') for r in source.to_dicts()) + "\n"
    events, errors = read_export(text.encode(), "qe.xml")
    # One event per line, but VSS data values span lines: each event's line is where it starts.
    starts = [m.start() for m in re.finditer("<Event xmlns", text)]
    assert errors == [] and events["line"].to_list() == [text.count("\n", 0, i) + 1 for i in starts]
    assert events["line"].to_list()[:5] == [1, 2, 3, 4, 5]
    assert events.select(KEY).equals(source.select(KEY))
    assert events["data"].to_list() == source["data"].to_list()
    assert events["message"].to_list() == source["message"].to_list()  # built the same way as from .evtx


def _us_date(t: datetime) -> str:
    return f"{t.month}/{t.day}/{t.year} {(t.hour % 12) or 12}:{t.minute:02d}:{t.second:02d} {'AM' if t.hour < 12 else 'PM'}"


def _csv_field(v: str) -> str:
    return '"' + v.replace('"', '""') + '"'


SHORT = ["provider", "event_id", "level"]


def _seconds(df: pl.DataFrame) -> list:
    return df["time"].dt.truncate("1s").to_list()


def test_round_trip_event_viewer_csv_utf16(source: pl.DataFrame) -> None:
    lines = ["Level,Date and Time,Source,Event ID,Task Category"]
    for r in source.to_dicts():
        desc = r["message"] + "\nSecond line, with a comma and \"quotes\""
        lines.append(",".join([LEVEL_NAME[r["level"]], _us_date(r["time"]), r["provider"], str(r["event_id"]), "None", _csv_field(desc)]))
    events, errors = read_export(utf16("\r\n".join(lines) + "\r\n"), "exported.csv")
    assert errors == [] and events.height == 50
    assert events.select(SHORT).equals(source.select(SHORT))
    assert _seconds(events) == _seconds(source)
    assert events["message"].to_list() == [m + '\nSecond line, with a comma and "quotes"' for m in source["message"]]
    assert events["line"].to_list() == list(range(2, 102, 2))


def test_round_trip_event_viewer_tsv(source: pl.DataFrame) -> None:
    lines = ["Level\tDate and Time\tSource\tEvent ID\tTask Category"]
    for r in source.to_dicts():
        lines.append("\t".join([LEVEL_NAME[r["level"]], _us_date(r["time"]), r["provider"], str(r["event_id"]), "None", r["message"]]))
    events, _ = read_export(utf16("\r\n".join(lines) + "\r\n"), "exported.txt")
    assert events.select(SHORT).equals(source.select(SHORT))
    assert _seconds(events) == _seconds(source)
    assert events["message"].to_list() == source["message"].to_list()


def test_round_trip_get_winevent_csv(source: pl.DataFrame) -> None:
    lines = [
        "#TYPE System.Diagnostics.Eventing.Reader.EventLogRecord",
        '"Message","Id","Level","RecordId","ProviderName","LogName","MachineName","TimeCreated","LevelDisplayName","Properties"',
    ]
    for r in source.to_dicts():
        fields = [r["message"], str(r["event_id"]), str(LEVEL_NUM[r["level"]]), str(r["record_id"]), r["provider"], r["channel"],
                  r["computer"], _us_date(r["time"]), LEVEL_NAME[r["level"]], "System.Collections.Generic.List`1[...]"]
        lines.append(",".join(_csv_field(v) for v in fields))
    events, _ = read_export("\n".join(lines).encode("ascii", "replace"), "winevent.csv")
    assert events.select([*KEY[:3], "level", "channel", "computer"]).equals(source.select([*KEY[:3], "level", "channel", "computer"]))
    assert _seconds(events) == _seconds(source)
    assert events["message"].to_list() == source["message"].to_list()


def test_round_trip_wevtutil_text(source: pl.DataFrame) -> None:
    blocks = []
    for i, r in enumerate(source.to_dicts()):
        blocks.append(
            f"Event[{i}]:\n  Log Name: {r['channel']}\n  Source: {r['provider']}\n  Date: {r['time'].strftime('%Y-%m-%dT%H:%M:%S.%f')[:-3]}\n"
            f"  Event ID: {r['event_id']}\n  Task: N/A\n  Level: {LEVEL_NAME[r['level']]}\n  Opcode: N/A\n  Keyword: Classic\n"
            f"  User: N/A\n  User Name: N/A\n  Computer: {r['computer']}\n  Description: \n{r['message']}\n"
        )
    events, _ = read_export(utf16("\n".join(blocks)), "qe.txt")
    assert events.select([*SHORT, "channel", "computer"]).equals(source.select([*SHORT, "channel", "computer"]))
    assert events["time"].dt.truncate("1ms").to_list() == source["time"].dt.truncate("1ms").to_list()
    assert events["message"].to_list() == source["message"].to_list()


def test_exports_through_ingest(tmp_path: Path) -> None:
    (tmp_path / "app_export.txt").write_bytes(utf16(WEVTUTIL_TEXT))
    (tmp_path / "not_events.csv").write_text("name,value\na,1\n")
    bundle = logscan.load(tmp_path)
    ev = bundle.events.filter(pl.col("source") == "event_export")
    assert ev.height == 2 and ev["file"].unique().to_list() == ["app_export.txt"]
