"""Small bundles written on the fly, scanned through the real pipeline, for the report tests."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

#: Evidence text that must come out escaped and masked.
HOSTILE = "<script>alert(1)</script> https://acct.blob.core.windows.net/c/x?sv=2020-08-04&sig=SeCrEtSiG123%3D"


def write_bundle(root: Path, *, extensions_enabled: str = "n", hostile: bool = True, n: int = 400, errors: bool = True) -> Path:
    """A Linux bundle: waagent.conf plus a waagent.log of ``n`` records over ~10 hours."""
    (root / "etc").mkdir(parents=True, exist_ok=True)
    (root / "var/log").mkdir(parents=True, exist_ok=True)
    (root / "etc/waagent.conf").write_text(f"Extensions.Enabled={extensions_enabled}\nProvisioning.Agent=auto\n")
    t0 = datetime(2024, 5, 1, 10, 0, 0)
    lines = []
    for i in range(n):
        t = t0 + timedelta(seconds=90 * i)
        if errors and i % 40 == 7:
            msg = (
                "ERROR ExtHandler ExtHandler Extension 'Microsoft.Azure.RecoveryServices.VMSnapshotLinux' will not be "
                "processed since extension processing is disabled. To enable extension processing, set "
                "Extensions.Enabled=y in '/etc/waagent.conf'" + (f" {HOSTILE}" if hostile else "")
            )
        elif i % 25 == 3:
            msg = f"WARNING ExtHandler ExtHandler Slow goal state {i}"
        else:
            msg = f"INFO ExtHandler ExtHandler heartbeat {i}"
        lines.append(f"{t:%Y-%m-%dT%H:%M:%S}.000000Z {msg}")
    (root / "var/log/waagent.log").write_text("\n".join(lines) + "\n")
    return root


@pytest.fixture(scope="session")
def scanned_report(tmp_path_factory):
    """A VmReport diagnosed from :func:`write_bundle` (real ingest, signatures, timeline)."""
    from logscan.diagnosis import diagnose
    from logscan.sources.ingest import load

    root = write_bundle(tmp_path_factory.mktemp("bundle") / "vm-hostile")
    return diagnose(load(str(root)))
