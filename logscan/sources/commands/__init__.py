"""Parsers for command output that support asks for, one module per command family.

Each module defines ``SPECS``; this package gathers them for the source registry. Outputs are
found by the sosreport layout (``sos_commands/<plugin>/<command_with_spaces_as_underscores>``,
also what ``logscan collect`` writes), by a telling file name, or by content
(:mod:`logscan.sources.sniff`). Each produces events (one per meaningful record) and facts
with documented subjects and keys (``docs/CONTRIBUTING.md``, facts vocabulary).
"""

from __future__ import annotations

from . import agent, df, filesys, network, process, systemd, windows

SPECS = [*systemd.SPECS, *windows.SPECS, *process.SPECS, *network.SPECS, *filesys.SPECS, *df.SPECS, *agent.SPECS]
