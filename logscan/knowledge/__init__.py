"""What logscan knows about Azure Backup failures: causes and error codes, kept as data.

The knowledge lives in YAML files in ``logscan/content/knowledge/`` so that adding a cause
needs no Python (see docs/CONTRIBUTING.md):

``causes.yaml``
    One entry per cause id (the stable ids of ``docs/causes.md``): title, summary, the fix as
    structured steps (per platform, per distribution, each sourced or flagged heuristic: see
    :mod:`.fixes`), article anchor and link, the error codes it explains, whether the guest
    can show it at all, platforms, and the evidence that would confirm it.
``error_codes.yaml``
    One entry per backup error code: its meaning and its candidate causes *in the article's
    order* (the order a person checks them in), then causes real reports add.
``distros.yaml``
    The Linux agent's service, package and config file per distribution, which fills the
    placeholders of fix commands.
``thresholds.yaml``
    Every threshold, mapping and list the diagnosis relies on, with its source or a
    heuristic flag (reports call those "rule of thumb").

All are read once (:func:`load_knowledge` is cached) and checked against each other, so a
typo in a cause id fails loudly at load time, with ``file:line:col``, instead of silently
dropping a candidate or showing an unsourced step.

>>> k = load_knowledge()
>>> k.code("guestagentsnapshottaskstatuserror").candidates[0]
'win-agent-unresponsive'
>>> [s.command for s in k.fix_steps("agent-not-running", "linux", "rhel")][2]
'sudo systemctl status waagent'
"""

from __future__ import annotations

from .fixes import Distro, FixStep, LabelledCommand, render_fix_text
from .loader import (
    check_extension_codes,
    load_knowledge,
    load_knowledge_files,
    parse_knowledge,
)
from .model import ARTICLE_URL, PLATFORMS, Cause, ErrorCode, Knowledge, KnowledgeError, Threshold

__all__ = [
    "ARTICLE_URL",
    "PLATFORMS",
    "Cause",
    "Distro",
    "ErrorCode",
    "FixStep",
    "Knowledge",
    "KnowledgeError",
    "LabelledCommand",
    "Threshold",
    "check_extension_codes",
    "load_knowledge",
    "load_knowledge_files",
    "parse_knowledge",
    "render_fix_text",
]
