"""The JSON report: the contract other tools read.

``{"vms": [{"vm", "findings": [{"cause", "title", "score", "error_codes", "evidence":
[{"file", "line", "time", "text"}], "remediation", "doc"}], "ingest_errors", "coverage"}]}``,
findings ordered most likely first. Other keys may be added beside these; these never change.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timezone

from .. import __version__
from ..diagnosis import VmReport
from ..io.redact import text as redact_text


def document(reports: Sequence[VmReport]) -> dict:
    return {
        "logscan": __version__,
        "generated": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "vms": [r.as_dict() for r in reports],
    }


def render(reports: Sequence[VmReport]) -> str:
    # A last pass of masking over the serialised text: defence in depth for secrets.
    return redact_text(json.dumps(document(reports), indent=2, ensure_ascii=False, default=str)) + "\n"
