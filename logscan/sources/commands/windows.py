"""Windows command output: ``vssadmin list writers`` and ``sc query`` / ``Get-Service``.

``vssadmin_writers``: one event per writer (ERROR when its state is Failed or its last error is
not "No error"), facts ``vss_writer:<name>`` keys ``state`` (``Failed``), ``state_code`` (``8``),
``last_error``, ``writer_id``.

``service_query``: ``sc query``/``sc queryex`` blocks and ``Get-Service`` tables; one event per
service, facts ``service:<name>`` keys ``state`` as written (RUNNING, Stopped), ``active``
(active/inactive/activating/deactivating, the same words as ``systemctl``), ``exit_code``
(``WIN32_EXIT_CODE``), ``service_exit_code``, ``display_name``.
"""

from __future__ import annotations

import re

from ..base import Parsed, SourceFile, SourceSpec
from ._common import event, fact, line_of, parsed

WRITER = re.compile(r"^[ \t]*Writer name: ['\"]?(?P<name>[^'\"\n]+?)['\"]?[ \t]*$", re.M)
FIELD = r"^[ \t]+{label}:[ \t]*(?P<v>.*?)[ \t]*$"
STATE = re.compile(r"^[ \t]+State:[ \t]*\[(?P<code>\d+)\][ \t]*(?P<state>.*?)[ \t]*$", re.M)
ACTIVE_WORDS = {
    "RUNNING": "active", "STOPPED": "inactive", "START_PENDING": "activating", "STOP_PENDING": "deactivating",
    "STARTPENDING": "activating", "STOPPENDING": "deactivating", "PAUSED": "inactive",
}


def parse_vssadmin(f: SourceFile) -> Parsed:
    text = f.text
    events, facts = [], []
    starts = list(WRITER.finditer(text))
    for i, m in enumerate(starts):
        block = text[m.start() : starts[i + 1].start() if i + 1 < len(starts) else len(text)].rstrip()
        name, line = m["name"].strip(), line_of(text, m.start())
        st = STATE.search(block)
        err = re.search(FIELD.format(label="Last error"), block, re.M)
        wid = re.search(FIELD.format(label="Writer Id"), block, re.M)
        state, last_error = (st["state"] if st else None), (err["v"] if err else None)
        subject = f"vss_writer:{name}"
        facts += [
            fact(SPEC_VSS.name, f, line, subject, "state", state),
            fact(SPEC_VSS.name, f, line, subject, "state_code", st["code"] if st else None),
            fact(SPEC_VSS.name, f, line, subject, "last_error", last_error),
            fact(SPEC_VSS.name, f, line, subject, "writer_id", wid["v"] if wid else None),
        ]
        bad = (state or "").lower().startswith("failed") or (last_error not in (None, "", "No error"))
        level = "ERROR" if bad else "INFO"
        msg = f"VSS writer '{name}': state [{st['code'] if st else '?'}] {state or '?'}; last error: {last_error or '?'}"
        events.append(event(SPEC_VSS.name, f, line, msg, block, level, provider="VSS", process=name))
    return parsed(events, facts)


SC_BLOCK = re.compile(r"^[ \t]*SERVICE_NAME:[ \t]*(?P<name>\S+)", re.M)
GET_SERVICE_ROW = re.compile(r"^[ \t]*(?P<state>Running|Stopped|StartPending|StopPending|Paused|ContinuePending|PausePending)[ \t]+(?P<name>\S+)[ \t]+(?P<display>.*?)[ \t]*$", re.M)


def parse_services(f: SourceFile) -> Parsed:
    text = f.text
    events, facts = [], []
    blocks = list(SC_BLOCK.finditer(text))
    rows: list[tuple[int, str, str, str, dict, str]] = []
    for i, m in enumerate(blocks):
        block = text[m.start() : blocks[i + 1].start() if i + 1 < len(blocks) else len(text)].rstrip()
        st = re.search(r"^[ \t]+STATE[ \t]*:[ \t]*\d+[ \t]+(\w+)", block, re.M)
        codes = {
            "exit_code": re.search(r"WIN32_EXIT_CODE[ \t]*:[ \t]*(\d+)", block),
            "service_exit_code": re.search(r"SERVICE_EXIT_CODE[ \t]*:[ \t]*(\d+)", block),
            "display_name": re.search(r"DISPLAY_NAME[ \t]*:[ \t]*(.+)", block),
        }
        extra = {k: (v.group(1).strip() if v else None) for k, v in codes.items()}
        rows.append((line_of(text, m.start()), m["name"], st.group(1) if st else "", block, extra, "sc"))
    for m in GET_SERVICE_ROW.finditer(text):
        rows.append((line_of(text, m.start()), m["name"], m["state"], m.group(0).strip(), {"display_name": m["display"]}, "ps"))
    for line, name, state, block, extra, _form in rows:
        subject = f"service:{name}"
        active = ACTIVE_WORDS.get(state.upper())
        facts += [fact(SPEC_SVC.name, f, line, subject, "state", state), fact(SPEC_SVC.name, f, line, subject, "active", active)]
        facts += [fact(SPEC_SVC.name, f, line, subject, k, v) for k, v in extra.items()]
        code = extra.get("exit_code")
        level = "ERROR" if code not in (None, "0") else ("WARNING" if active == "inactive" else "INFO")
        msg = f"service {name}: {state or '?'}" + (f", exit code {code}" if code not in (None, "0") else "")
        events.append(event(SPEC_SVC.name, f, line, msg, block, level, process=name))
    return parsed(events, facts)


SPEC_VSS = SourceSpec(
    name="vssadmin_writers",
    patterns=(r"(^|/)vssadmin[-_ ]list[-_ ]writers[^/]*$",),
    parse=parse_vssadmin,
    description="vssadmin list writers: each VSS writer's state and last error",
    platform="windows",
    priority=20,
    example_path="vssadmin_list_writers.txt",
)
SPEC_SVC = SourceSpec(
    name="service_query",
    patterns=(r"(^|/)(?:sc[-_ ]query(?:ex)?|get[-_ ]service)[^/]*$",),
    parse=parse_services,
    description="sc query / Get-Service output: Windows service states (WindowsAzureGuestAgent, RdAgent, ...)",
    platform="windows",
    priority=20,
    example_path="sc_query.txt",
)
SPECS = [SPEC_VSS, SPEC_SVC]
