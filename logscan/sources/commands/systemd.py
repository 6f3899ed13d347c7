"""``systemctl status <unit>`` (also ``--all``) blocks, with the journal lines they end with.

Each unit block becomes one event (level ERROR when the unit failed or is restarting after a
non-zero exit, WARNING when inactive or not found) and facts under ``service:<unit>`` (the
unit name without ``.service``): ``loaded`` (loaded/not-found/masked), ``enabled``
(enabled/disabled/static/...), ``active`` (active/inactive/failed/activating/...), ``sub``
(running/dead/auto-restart/...), ``result`` (exit-code, ...), ``exit_code`` (``status=1/FAILURE``
→ ``1``), ``exit_status`` (``FAILURE``), ``main_pid``, ``restarts`` (restart counter or count of
scheduled restarts in its journal lines). Journal lines under a block are read as syslog lines.
"""

from __future__ import annotations

import re

import polars as pl

from ...frames import EVENT_SCHEMA, concat
from ..base import Parsed, SourceFile, SourceSpec
from ._common import event, fact, line_of, parsed

UNIT = re.compile(r"^[ \t]*(?:[●*×○↻][ \t]*)?(?P<unit>[\w@.:\\-]+?)(?:\.(?P<type>service|socket|timer|mount|target))?[ \t]+-[ \t]+(?P<desc>.*)$", re.M)
LOADED = re.compile(r"^[ \t]+Loaded: (?P<loaded>[\w-]+)(?: \((?P<path>[^;)]*)(?:; (?P<enabled>[\w-]+))?(?:; (?:vendor )?pr\w*:? ?(?P<preset>[\w-]+))?)?", re.M)
ACTIVE = re.compile(r"^[ \t]+Active: (?P<active>[\w-]+)(?: \((?P<sub>[^)]*)\))?(?: \(Result: (?P<result>[\w-]+)\))?", re.M)
MAIN_PID = re.compile(r"^[ \t]+Main PID: (?P<pid>\d+)(?: \((?P<what>[^)]*)\))?", re.M)
STATUS = re.compile(r"status=(?P<code>\d+)(?:/(?P<name>\w+))?")
RESTART_COUNTER = re.compile(r"restart counter is at (\d+)")
SCHEDULED = re.compile(r"scheduling restart|Scheduled restart job", re.I)
JOURNAL_LINE = re.compile(r"^(?:[A-Z][a-z]{2} [ \d]?\d \d\d:\d\d:\d{1,2}|\d{4}-\d\d-\d\dT\S+) ", re.M)


def _blocks(text: str) -> list[tuple[int, str]]:
    """Unit blocks: from a ``unit - description`` line (or the first ``Loaded:``) to the next."""
    starts = [m.start() for m in UNIT.finditer(text) if LOADED.search(text, m.end(), m.end() + 400)]
    if not starts:
        m = LOADED.search(text)
        starts = [max(0, text.rfind("\n", 0, m.start()) + 1)] if m else []
    return [(a, text[a : (starts[i + 1] if i + 1 < len(starts) else len(text))]) for i, a in enumerate(starts)]


def parse(f: SourceFile) -> Parsed:
    text = f.text
    events, facts, journal = [], [], []
    for start, block in _blocks(text):
        u = UNIT.match(block)
        unit = (u["unit"] if u else "unknown").removesuffix(".service")
        subject = f"service:{unit}"
        line = line_of(text, start)
        ld, ac, mp = LOADED.search(block), ACTIVE.search(block), MAIN_PID.search(block)
        jstart = JOURNAL_LINE.search(block)
        head = block[: jstart.start()] if jstart else block
        st = [m for m in STATUS.finditer(head)]
        last = st[-1] if st else None
        restarts = RESTART_COUNTER.findall(block)
        n_sched = len(SCHEDULED.findall(block))
        sub = ac["sub"] if ac else None
        values = {
            "loaded": ld["loaded"] if ld else None,
            "enabled": ld["enabled"] if ld else None,
            "active": ac["active"] if ac else None,
            "sub": sub,
            "result": ac["result"] if ac else None,
            "exit_code": last["code"] if last else None,
            "exit_status": last["name"] if last else None,
            "main_pid": mp["pid"] if mp else None,
            "restarts": restarts[-1] if restarts else (str(n_sched) if n_sched else ("1" if sub and "auto-restart" in sub else None)),
        }
        facts += [fact(SPEC.name, f, line, subject, k, v) for k, v in values.items()]
        failed = (values["active"] == "failed") or (sub and "auto-restart" in sub) or (last is not None and last["code"] != "0")
        level = "ERROR" if failed else ("WARNING" if values["active"] in ("inactive",) or values["loaded"] in ("not-found", "masked") else "INFO")
        summary = ", ".join(f"{k}={v}" for k, v in values.items() if v)
        events.append(event(SPEC.name, f, line, f"{unit}: {summary}", head.rstrip(), level, process=unit))
        if jstart:
            journal.append((line_of(text, start + jstart.start()) - 1, block[jstart.start() :]))
    out = parsed(events, facts)
    extra = [_journal(f, first, body) for first, body in journal]
    if extra:
        out.events = concat([out.events, *extra], EVENT_SCHEMA)
    return out


def _journal(f: SourceFile, first: int, body: str) -> pl.DataFrame:
    """The unit's journal lines, read by the syslog parser (lines counted in the whole file)."""
    from .. import syslog

    sub = syslog.parse(SourceFile(f.path, f.display, body.encode("utf-8"), f.mtime, f.bundle_name))
    ev = sub.events
    if ev is None or not ev.height:
        return ev if ev is not None else pl.DataFrame(schema=EVENT_SCHEMA)
    return ev.with_columns(line=pl.col("line") + first, source=pl.lit(SPEC.name))


SPEC = SourceSpec(
    name="systemctl_status",
    patterns=(r"(^|/)sos_commands/systemd/systemctl_status[^/]*$", r"(^|/)systemctl[-_ ]status[^/]*$"),
    parse=parse,
    description="systemctl status output: unit loaded/enabled/active state, exit codes, restarts, journal tail",
    platform="linux",
    priority=20,
    example_path="sos_commands/systemd/systemctl_status_--all",
)
SPECS = [SPEC]
