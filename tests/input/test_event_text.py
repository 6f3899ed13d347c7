"""Every pasted form of a Windows event, and Windows handler log forms."""

from __future__ import annotations

import io

from logscan.io.bundle import Bundle
from logscan.sources import SourceFile
from logscan.sources.event_exports import read_export
from logscan.sources.ingest import load_bundle
from logscan.sources.win_plugin_log import parse as parse_plugin


def _events(text: str):
    events, errors = read_export(text.encode(), "paste.txt")
    return events, errors


def test_copy_details_japanese_with_placeholder_date() -> None:
    text = "ログの名前:   System\nソース:       Service Control Manager\n日付:         yyyy/mm/dd hh:mm:ss\nイベント ID:  7034\nレベル:       エラー\n説明:\nWindowsAzureGuestAgent サービスは予期せず終了しました。\n"
    ev, _ = _events(text)
    row = ev.row(0, named=True)
    assert (row["provider"], row["event_id"], row["level"], row["channel"]) == ("Service Control Manager", 7034, "ERROR", "System")
    assert row["time"] is None and row["message"].startswith("WindowsAzureGuestAgent")


def test_copy_details_cut_short_and_event_xml_gives_time_not_evidence() -> None:
    text = (
        "Log Name:      Application\nSource:        VSS\nDate:          1/2/2024 3:04:05 PM\nEvent ID:      8229\nLevel:         Warning\n"
        "Description:\nA VSS writer has rejected an event with error 0x800423f4.\nEvent Xml:\n"
        '<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event">\n  <System>\n    <Provider Name="VSS" />\n'
        '    <TimeCreated SystemTime="2024-01-02T23:04:05.1234567Z" />\n  </System>\n  <EventData><Binary>2D20436F64653A</Binary></EventData>\n'
        "\nLog Name:      Application\nSource:        VSS\n"
    )
    ev, _ = _events(text)
    assert ev.height == 2
    a = ev.row(0, named=True)
    assert a["time"].hour == 23 and a["time_basis"] == "utc" and a["level"] == "WARNING"
    assert "<" not in a["text"] and "2D20436F" not in a["text"]
    assert ev.row(1, named=True)["provider"] == "VSS" and ev.row(1, named=True)["event_id"] is None


def test_description_alone_in_french_infers_provider_and_id() -> None:
    text = "Erreur du service de cliché instantané des volumes : erreur inattendue DeviceIoControl(\\\\?\\Volume{1},0x0053c008). hr = 0x80070015, Le périphérique n’est pas prêt.\n\nOpération :\n   Traitement de PostSnapshot\n"
    ev, _ = _events(text)
    row = ev.row(0, named=True)
    assert (row["provider"], row["event_id"], row["level"]) == ("VSS", 12289, "ERROR")
    assert row["data"][0]["name"] == "logscan.inferred" and "event_id=12289" in row["data"][0]["value"]


def test_description_alone_applocker_script() -> None:
    ev, _ = _events("%OSDRIVE%\\TOOLS\\SETUP\\RUN-ME.PS1 was prevented from running.\n")
    row = ev.row(0, named=True)
    assert (row["provider"], row["event_id"]) == ("Microsoft-Windows-AppLocker", 8007)


def test_reporters_own_header_lines_win_over_inference() -> None:
    ev, _ = _events("Source = VSS\nEvent ID = 8193\nLevel = Error\nVolume Shadow Copy Service error: Unexpected error calling routine X. hr = 0x80070005\n")
    row = ev.row(0, named=True)
    assert (row["provider"], row["event_id"], row["level"]) == ("VSS", 8193, "ERROR") and row["data"] == []


def test_get_eventlog_table_with_truncated_columns() -> None:
    text = (
        "\n   Index Time          EntryType   Source                 InstanceID Message\n"
        "   ----- ----          ---------   ------                 ---------- -------\n"
        "     512 Mar 01 10:02  Error       VSS                          8193 Volume Shadow Copy Service error: Unexpected...\n"
        "     511 Mar 01 10:01  Warning     Windows Error Rep...         1001 Fault bucket , type 0...\n"
    )
    ev, _ = _events(text)
    assert ev["event_id"].to_list() == [8193, 1001] and ev["record_id"].to_list() == [512, 511]
    assert ev["provider"].to_list() == ["VSS", "Windows Error Rep"] and ev["level"].to_list() == ["ERROR", "WARNING"]


def test_friendly_view_xml_not_well_formed_and_cut_off() -> None:
    text = (
        '- <Event xmlns=" http://schemas.microsoft.com/win/2004/08/events/event ">\n- <System>\n  <Provider Name="Schannel" /> \n'
        "  <EventID>36887</EventID> \n  <Level>2</Level> \n  <TimeCreated SystemTime=\"2021-02-03T04:05:06.0Z\" /> \n  </System>\n"
        "- <EventData>\n  <Data Name=\"AlertDesc\">46</Data> \n"
    )
    ev, errors = _events(text)
    row = ev.row(0, named=True)
    assert (row["provider"], row["event_id"], row["level"]) == ("Schannel", 36887, "ERROR")
    assert any(e["kind"] == "truncated" for e in errors) and "<" not in row["text"]


def test_tab_export_header_shorter_than_rows_with_quoted_multiline_description() -> None:
    text = (
        "Level\tDate and Time\tSource\tEvent ID\tTask Category\n"
        'Error\t5/6/2024 7:08:09 AM\tVSS\t8193\tNone\t"Volume Shadow Copy Service error: ""quoted""\n\nOperation:\n   Gathering Writer Data"\n'
        "Information\t5/6/2024 7:09:09 AM\tVSS\t8224\tNone\tThe VSS service is shutting down due to idle timeout.\n"
    )
    ev, _ = _events(text)
    assert ev["event_id"].to_list() == [8193, 8224]
    assert '"quoted"' in ev["message"][0] and "Gathering Writer Data" in ev["message"][0]


def test_german_description_read_from_stdin_as_event_text() -> None:
    text = "Fehler des Volumeschattenkopie-Dienstes: Unerwarteter Fehler beim Abfragen der Schnittstelle IVssWriterCallback. hr = 0x80070005\n"
    with Bundle.from_stream(io.BytesIO(text.encode())) as b:
        loaded = load_bundle(b)
    assert loaded.coverage["files"][0]["kind"] == "event_export"
    assert loaded.events.row(0, named=True)["event_id"] == 8194


def _plugin(text: str):
    f = SourceFile("WindowsAzure/Logs/Plugins/Pub.Ext/1.2.3/Handler.log", "h.log", text.encode())
    return parse_plugin(f).events


def test_command_execution_blocks_with_output_and_error() -> None:
    text = (
        "[01/02/2024 03:04:05.06] Executing: C:\\Packages\\Plugins\\Pub.Ext\\1.2.3\\enable.cmd\n"
        "[01/02/2024 03:09:05.10] Execution Complete.\n######\nExecution Output:\nstarting\nExecution Error:\naccess denied\n"
    )
    ev = _plugin(text)
    assert ev.height == 2 and ev["level"].to_list()[1] == "ERROR" and ev["time"][1].minute == 9
    assert ev["extension"].to_list() == ["Pub.Ext", "Pub.Ext"]


def test_tab_dsc_and_customscript_handler_forms() -> None:
    tab = _plugin("2024-01-02T03:04:05.1234567Z\t[Error]:\tJoin failed, errCode='1326'.\n2024-01-02T03:04:06.1234567Z\t[Info]:\tdone\n")
    assert tab["level"].to_list() == ["ERROR", "INFO"] and tab["time_basis"][0] == "utc"
    dsc = _plugin(
        "VERBOSE: [2024-01-02 03:04:05Z] [VERBOSE] [vm]:  [[Thing]Res] Error occured: 'Cannot find\n"
        "type [X]: verify that the assembly is loaded.'\nVERBOSE: [2024-01-02 03:04:06Z] Settings handler status to 'transitioning'\n"
    )
    assert dsc.height == 2 and dsc["level"][0] == "ERROR" and "verify that the assembly" in dsc["message"][0]
    cs = _plugin("[1234+00000001] [01/02/2024 03:04:05.06] [ERROR] Current sequence number, 2, is not greater than the last\n")
    assert cs["level"].to_list() == ["ERROR"] and cs["thread"].to_list() == ["00000001"]
