"""``C:\\WindowsAzure\\Logs\\Plugins\\<ext>\\<version>\\*.log``: per-extension logs on Windows.

Two kinds of writer share this folder (docs/formats/vmsnapshot-extension.md §2.1, §2.4):
the agent (``CommandExecution*.log``, ``Install.log``, ``Update.log``, ``Heartbeat.log``) and
the extension itself, e.g. the VMSnapshot plugin's ``IaaSBcdrExtension<N>.log``. No line of
these files is documented, so nothing is assumed: a WaAppAgent header or any leading ISO /
``MM/DD/YYYY`` timestamp opens a record, other lines continue the record above (or stand
alone before the first one), **every line is kept**, and the level comes from keywords
(error|exception|failed|fault → ERROR, warn → WARNING) when the line states none. Signatures
match these files by keyword. The extension and its version come from the folder names.
"""

from __future__ import annotations

import polars as pl

from . import win_handler_log
from ._structured import plugin_from_path
from .base import Parsed, SourceFile, SourceSpec, finish_events
from .waappagent_log import agent_records

VMSNAPSHOT = "Microsoft.Azure.RecoveryServices.VMSnapshot"


def _parse(f: SourceFile, source: str, default_ext: str | None, process: str | None) -> Parsed:
    ext, ver = plugin_from_path(f.path)
    ext = ext or default_ext
    text = f.text
    # Handler forms (CommandExecution blocks, tab-separated, DSC, CustomScript) have their own
    # reader; anything else is read by the generic one.
    rec = win_handler_log.records(text) if win_handler_log.handles(text) else agent_records(text, generic=True, keyword_levels=True)
    # The folder names the extension the file belongs to; it beats a name seen in a message.
    rec = rec.with_columns(
        extension=pl.lit(ext, pl.String) if ext else pl.col("extension"),
        ext_version=pl.lit(ver, pl.String) if ver else pl.col("ext_version"),
        process=pl.lit(process, pl.String),
    )
    return Parsed(events=finish_events(rec, source, f))


def parse(f: SourceFile) -> Parsed:
    return _parse(f, SPEC.name, None, None)


def parse_vmsnapshot(f: SourceFile) -> Parsed:
    return _parse(f, VMSNAPSHOT_LOG.name, VMSNAPSHOT, "IaaSBcdrExtension")


SPEC = SourceSpec(
    name="win_plugin_log",
    patterns=(
        r"(^|/)Logs/Plugins/[^/]+/[^/]+/(?:[^/]+/)*[^/]+\.log(\.\d+)?$",
        # DSC handler logs carry a date instead of .log (DscExtensionHandler.0.20180622-063515).
        r"(^|/)Logs/Plugins/[^/]+/[^/]+/DscExtensionHandler[^/]*$",
        # Bundles that drop the Logs/ level (layout of CollectGuestLogs zips unverified).
        r"(^|/)Plugins/[^/]+/\d[^/]*/(CommandExecution[^/]*|Install|Update|Heartbeat|Enable|Disable|Uninstall)\.log$",
    ),
    parse=parse,
    description="Windows per-plugin logs (CommandExecution, Install, Update, Heartbeat, extension logs): every line kept",
    platform="windows",
    priority=25,
    example_path="WindowsAzure/Logs/Plugins/Microsoft.Compute.CustomScriptExtension/1.10.15/CommandExecution.log",
)

VMSNAPSHOT_LOG = SourceSpec(
    name="vmsnapshot_win_log",
    patterns=(r"(^|/)IaaSBcdrExtension[^/]*\.log(\.\d+)?$",),
    parse=parse_vmsnapshot,
    description="Windows VMSnapshot extension's own logs (IaaSBcdrExtension*.log; format unknown, every line kept)",
    platform="windows",
    priority=15,
    example_path="WindowsAzure/Logs/Plugins/Microsoft.Azure.RecoveryServices.VMSnapshot/1.0.75.0/IaaSBcdrExtension1.log",
)

SPECS = [SPEC, VMSNAPSHOT_LOG]
