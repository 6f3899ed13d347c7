"""``logscan collect``: gather, on the VM itself, what agent bundles lack.

The agent's own log collector keeps history but no live state; Microsoft's live checker reads
state but no history. This package does both, read-only: the files the article and the
agent's collector name, the output of the commands the article tells a person to run
(``systemctl``, ``ps``, ``ip``, ``iptables``, ``mount``, ``df`` ...), a TCP test to the
WireServer, and a manifest of what ran, what failed and what could not be read, in a tar that
``scan`` reads. Secrets are masked before anything is written.

Modules: ``plan`` (the list, as data), ``files`` (finding and reading files inside a root),
``commands`` (running commands and connect tests), ``mask`` (secrets), ``collector`` (the
tar and manifest), ``live`` (``scan --live``), ``evidence`` (manifest → facts, checks),
``windows`` (the PowerShell script for Windows VMs).
"""

from __future__ import annotations

from .collector import MANIFEST_PATH, Options, collect, collect_to_bytes, collect_to_file
from .files import FileLimits
from .plan import Plan, load_plan

__all__ = ["MANIFEST_PATH", "FileLimits", "Options", "Plan", "collect", "collect_to_bytes", "collect_to_file", "load_plan"]
