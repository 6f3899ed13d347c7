"""The PowerShell collector for Windows VMs, shipped as data and written out on request.

logscan does not run on the Windows VM; the script does the gathering there and the zip is
scanned anywhere. Its layout is documented next to it (``windows-layout.md``).
"""

from __future__ import annotations

from pathlib import Path

from .. import content

SCRIPT = ("collect", "windows.ps1")
LAYOUT = ("collect", "windows-layout.md")


def script_text() -> str:
    return content.path(*SCRIPT).read_text(encoding="utf-8")


def write_script(dest: str | Path) -> Path:
    """Write the script to ``dest`` (a file, or a folder to put ``logscan-collect.ps1`` in).

    CRLF line ends and a UTF-8 BOM, so Windows PowerShell 5.1 reads it as UTF-8.
    """
    p = Path(dest)
    if p.is_dir():
        p = p / "logscan-collect.ps1"
    text = script_text().replace("\r\n", "\n").replace("\n", "\r\n")
    p.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    return p
