"""A fake VM root for ``collect --root``: agent files, a secret, hostile links, a huge file."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest

from logscan.collect.commands import Outcome, utc_now
from logscan.collect.plan import Command

SAS = "https://md.blob.core.windows.net/c/status?sv=2018-03-28&sr=b&sig=SECRETSIG123abc%3D&se=2024-06-01"
PROTECTED = "PROTECTEDSECRETVALUE"
OUTSIDE_SECRET = "shadow-content-must-not-leak"
HUGE_TAIL = "2024-05-30T13:20:00.000000Z ERROR ExtHandler ExtHandler last line of the huge log\n"

WAAGENT_LOG = f"""\
2024-05-30T13:00:00.000000Z INFO Daemon Daemon Azure Linux Agent Version: 2.9.1.1
2024-05-30T13:00:01.000000Z INFO ExtHandler ExtHandler Azure Linux Agent (Goal State Agent version 2.11.1.4)
2024-05-30T13:15:00.000000Z INFO ExtHandler ExtHandler Uploading status blob to {SAS}
"""


def _write(root: Path, rel: str, data: str | bytes) -> Path:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data.encode() if isinstance(data, str) else data)
    return p


@pytest.fixture
def fake_root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    outside = tmp_path / "outside"
    _write(outside, "shadow", OUTSIDE_SECRET)
    (outside / "dir").mkdir()
    _write(outside, "dir/x.log", OUTSIDE_SECRET)
    _write(root, "var/log/waagent.log", WAAGENT_LOG)
    _write(root, "etc/waagent.conf", "Extensions.Enabled=n\nProvisioning.Agent=auto\n")
    _write(root, "usr/lib/os-release", 'NAME="Ubuntu"\nVERSION_ID="22.04"\n')
    os.symlink("/usr/lib/os-release", root / "etc/os-release")  # absolute: re-anchored at the root
    _write(root, "usr/sbin/waagent", "#!/usr/bin/env python3\n")
    _write(root, "var/lib/waagent/ovf-env.xml", "<ns1:UserPassword>hunter2pass</ns1:UserPassword>")
    ext = "var/lib/waagent/Microsoft.Azure.RecoveryServices.VMSnapshotLinux-1.0.9220.0"
    _write(root, f"{ext}/config/HandlerState", "Enabled")
    _write(root, f"{ext}/config/0.settings", '{"runtimeSettings":[{"handlerSettings":{"protectedSettings":"' + PROTECTED + '"}}]}')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("ExtensionsConfig.xml", f"<protectedSettings>{PROTECTED}</protectedSettings>")
    _write(root, "var/lib/waagent/history/2024-05-30T13-15-40__3.zip", buf.getvalue())
    azure = root / "var/log/azure/Microsoft.Azure.RecoveryServices.VMSnapshotLinux"
    _write(azure, "extension.log", "2024-05-30 13:16:00 INFO snapshot started\n")
    # Hostile: links out of the tree (absolute and relative), to a non-collected file inside,
    # to a folder outside, a FIFO, a link loop.
    os.symlink(outside / "shadow", azure / "evil-abs.log")
    os.symlink("../../../../../outside/shadow", azure / "evil-rel.log")
    _write(root, "etc/shadow", "root:$6$notcollected")
    os.symlink("/etc/shadow", azure / "evil-inside.log")
    os.symlink(outside / "dir", azure / "linkdir")
    os.mkfifo(azure / "pipe.log")
    os.symlink("loop2.log", azure / "loop1.log")
    os.symlink("loop1.log", azure / "loop2.log")
    # Huge: 3 MiB of filler, the newest line last (limits in the tests: 1 MiB per file).
    _write(root, "var/log/waagent.log.1", "x" * 100 + "\n" + ("filler line\n" * (3 * 1024**2 // 12)) + HUGE_TAIL)
    return root


class FakeRunner:
    """Answers for some programs; every other one is 'missing' (as on a VM without it)."""

    def __init__(self, answers: dict[str, tuple[int, str]] | None = None):
        self.answers = answers or {
            "ps": (0, "UID PID PPID C STIME TTY TIME CMD\nroot 812 1 0 May30 ? 00:00:09 python3 -u /usr/sbin/waagent -daemon\n"),
            "mount": (0, "/dev/sda1 on / type ext4 (rw,relatime)\n/dev/sda2 on /var type ext4 (rw,noexec,relatime)\n"),
            "systemctl": (3, "● waagent.service - Azure Linux Agent\n   Active: inactive (dead)\n"),
            "df": (0, f"Filesystem Size Used Avail Use% Mounted on\n/dev/sda1 30G 30G 0 100% /\npassword=hunter2 {SAS}\n"),
        }
        self.calls: list[list[str]] = []

    def __call__(self, cmd: Command) -> Outcome:
        self.calls.append(list(cmd.argv))
        start = utc_now()
        if cmd.argv[0] not in self.answers:
            return Outcome(cmd.path, list(cmd.argv), "missing", None, start, 0.0, detail=f"{cmd.argv[0]}: command not found")
        code, out = self.answers[cmd.argv[0]]
        return Outcome(cmd.path, list(cmd.argv), "ok" if code == 0 else "failed", code, start, 0.01, out.encode())


def refuse_all(host: str, port: int, timeout_s: float) -> None:
    if port == 80:
        raise TimeoutError("timed out")
    raise ConnectionRefusedError(111, "Connection refused")
