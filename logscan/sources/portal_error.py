"""Error text copied from the Azure portal or an ARM deployment: the backup job's error
(``Error Code | ExtensionSnapshotFailedCOM``, ``Error Message | …``, ``Recommended Action | …``)
and ARM ``statusMessage`` JSON (``{"status":"Failed","error":{"code":…,"details":[…]}}``).

Facts ``backup_job`` keys ``error_code``, ``error_message``, ``recommended_action`` (the job
table) and ``deployment`` keys ``error_code``, ``message`` (the innermost ARM error); one ERROR
event per error, whose message names the code and the message, so signatures can match them.
"""

from __future__ import annotations

import json
import re

from ..errors import IngestError
from ..frames import TimeBasis, events_from_records, facts_from_records
from .base import Parsed, SourceFile, SourceSpec

TABLE = re.compile(r"^[ \t]*(?P<label>Error Code|Error Message|Recommended Action|Error code|Error message)[ \t]*[|:][ \t]*(?P<value>.*?)[ \t]*$", re.M)
KEYS = {"error code": "error_code", "error message": "error_message", "recommended action": "recommended_action"}


def _errors(node: object, out: list[tuple[str, str]], depth: int = 0) -> None:
    """(code, message) pairs of an ARM error tree, outermost first."""
    if depth > 30:
        return
    if isinstance(node, dict):
        if isinstance(node.get("code"), str):
            out.append((node["code"], str(node.get("message") or "")))
        for v in node.values():
            _errors(v, out, depth + 1)
    elif isinstance(node, list):
        for v in node:
            _errors(v, out, depth + 1)


def parse(f: SourceFile) -> Parsed:
    text = f.text
    events, facts = [], []

    def add(line: int, subject: str, key: str, value: str) -> None:
        facts.append({"source": SPEC.name, "file": f.display, "line": line, "subject": subject, "key": key, "value": value})

    table = list(TABLE.finditer(text))
    if table:
        line = text.count("\n", 0, table[0].start()) + 1
        found = {KEYS[m["label"].lower()]: m["value"] for m in table if m["value"]}
        for k, v in found.items():
            add(line, "backup_job", k, v)
        msg = f"{found.get('error_code', '?')}: {found.get('error_message', '')}".strip()
        block = text[table[0].start() : table[-1].end()]
        events.append({"line": line, "message": msg, "text": block, "event_name": found.get("error_code")})
    start = text.find("{")
    if start >= 0:
        try:
            doc = json.loads(text[start:].strip())
        except (ValueError, RecursionError):
            doc = None
        pairs: list[tuple[str, str]] = []
        _errors(doc, pairs)
        if pairs:
            line = text.count("\n", 0, start) + 1
            code, message = pairs[-1]
            add(line, "deployment", "error_code", code)
            add(line, "deployment", "message", message)
            chain = " > ".join(c for c, _ in pairs)
            events.append({"line": line, "message": f"{chain}: {message}", "text": text[start:].strip(), "event_name": code})
    if not events:
        raise IngestError("parse", "no portal or ARM error found")
    rows = [{**e, "source": SPEC.name, "file": f.display, "level": "ERROR", "time_basis": TimeBasis.NONE} for e in events]
    return Parsed(events=events_from_records(rows), facts=facts_from_records(facts))


SPEC = SourceSpec(
    name="portal_error",
    patterns=(r"(^|/)(?:backup[-_ ])?(?:job|deployment|portal|arm)[-_ ]?errors?(?:[-_.][^/]*)?\.txt$",),
    parse=parse,
    description="Backup job error and ARM deployment error text copied from the portal",
    platform="any",
    priority=30,
    example_path="job-error.txt",
)
