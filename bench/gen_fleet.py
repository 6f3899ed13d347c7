"""Generate a synthetic fleet for the batch benchmark (issue 5): N bundles, one known fault each.

Why synthetic: the batch benchmark needs hundreds to thousands of bundles whose fault is known,
so that throughput, peak memory and per-VM accuracy can be measured together. Every evidence
line is taken from the format docs (``shared/docs/formats/linux-agent.md`` §2-3.8 and
``vmsnapshot-extension.md`` §1.3-1.5), never invented.

Each bundle is a ``waagent -collect-logs``-shaped tree (linux-agent.md §7):

* ``var/log/waagent.log``: a normal agent life (daemon start, goal-state agent start,
  heartbeats, goal states, a few harmless WARNINGs) in one of two **eras**: 2.2.45 (local
  time ``2021/03/30 19:35:35.971742``, ``Daemon``/``ExtHandler`` prefixes) or 2.11 (UTC ISO,
  ``<thread> <prefix>``);
* ``etc/waagent.conf``;
* the VMSnapshotLinux ``extension.log``/``shell.log`` and ``status/<N>.status``;
* plus the fault's own lines or files.

Bundles are written as folders, ``.zip`` and ``.tar.gz`` in turn. The fault of each is written
to ``truth.json`` beside the fleet folder (``{bundle name: expected cause id}``).

    python bench/gen_fleet.py /tmp/fleet --n 100          # -> /tmp/fleet/bundles/, /tmp/fleet/truth.json
"""

from __future__ import annotations

import argparse
import io
import json
import random
import tarfile
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

EXT = "Microsoft.Azure.RecoveryServices.VMSnapshotLinux"
EXT_VER = "1.0.9224.0"
OLD_GA = "2.2.45"
NEW_GA = "2.11.1.4"
GUID = "5f0c2a9e-3b1d-4a7e-9c1f-2d8e6b4a7c30"
START = datetime(2024, 5, 28, tzinfo=timezone.utc)

#: fault -> expected cause id (logscan/knowledge/causes.yaml)
FAULTS: dict[str, str] = {
    "extensions-disabled": "linux-agent-config",
    "wireserver-timeout": "wireserver-blocked",
    "dhcp-failure": "dhcp-disabled",
    "fsfreeze-121": "fs-freeze-failed",
    "fsfreeze-timeout-122": "fs-freeze-timeout",
    "snapshot-limit-85": "snapshot-limit-reached",
    "too-late-402": "command-too-late",
    "no-network-76": "snapshot-status-unavailable",
    "python-unknown": "extension-python-missing",
    "crash-loop": "agent-crash-loop",
}

#: status code and name per status-file fault (vmsnapshot-extension.md §1.5)
STATUS_FAULTS = {
    "fsfreeze-121": (121, "FailedRetryableFsFreezeFailed", "Enable failed with error: freeze failed for some mount"),
    "fsfreeze-timeout-122": (122, "FailedRetryableFsFreezeTimeout", "Enable failed with error: freeze timed-out"),
    "snapshot-limit-85": (85, "FailedSnapshotLimitReached", "The snapshot count against this blob has been exceeded"),
    "too-late-402": (402, "FailedGuestAgentInvokedCommandTooLate", "CRP timeout limit has reached, will not take snapshot."),
    "no-network-76": (76, "FailedRetryableSnapshotFailedNoNetwork", "Snapshots failed: no blob snapshot was taken"),
}


class Clock:
    """Writes timestamps in the era's format (old: local wall time; new: UTC ISO)."""

    def __init__(self, start: datetime, old: bool, rng: random.Random):
        self.t = start
        self.old = old
        self.rng = rng

    def tick(self, seconds: float | None = None) -> str:
        self.t += timedelta(seconds=seconds if seconds is not None else self.rng.uniform(1, 90))
        if self.old:
            local = self.t - timedelta(hours=7)
            return local.strftime("%Y/%m/%d %H:%M:%S.%f")
        return self.t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _head(old: bool, level: str, thread: str, prefix: str | None) -> str:
    """The part after the timestamp (linux-agent.md §1.1)."""
    if old:
        return f"{level} {prefix or thread} "
    return f"{level} {thread} {prefix + ' ' if prefix else ''}"


def agent_log(rng: random.Random, old: bool, fault: str, lines: int) -> tuple[str, datetime]:
    """The agent log, and the UTC time of its last record (the other files are written near it)."""
    ga = OLD_GA if old else NEW_GA
    c = Clock(START + timedelta(minutes=rng.randint(0, 600)), old, rng)
    out: list[str] = []

    def w(level: str, thread: str, prefix: str | None, msg: str, dt: float | None = None) -> None:
        out.append(f"{c.tick(dt)} {_head(old, level, thread, prefix)}{msg}")

    # Start-up (linux-agent.md §2)
    w("INFO", "Daemon", "Daemon", f"Azure Linux Agent Version:{ga}" if old else f"Azure Linux Agent Version: {ga}")
    w("INFO", "Daemon", "Daemon", "OS: ubuntu 20.04")
    w("INFO", "Daemon", "Daemon", "Python: 3.8.10")
    w("INFO", "Daemon", "Daemon", "Run daemon")
    if fault == "dhcp-failure":
        w("INFO", "Daemon", "Daemon", "Test for route to 168.63.129.16")
        w("WARNING", "Daemon", "Daemon", "No route exists to 168.63.129.16")
        w("INFO", "Daemon", "Daemon", "Send dhcp request")
        for _ in range(3):
            w("ERROR", "Daemon", "Daemon", "Failed to send DHCP request: [DhcpError] timed out", 10)
        w("ERROR", "Daemon", "Daemon", "[DhcpError] Failed to receive dhcp response.", 60)
        w("INFO", "Daemon", "Daemon", "WireServer endpoint is not found. Rerun dhcp handler")
        w("INFO", "Daemon", "Daemon", "_detect_protocol: DHCP not available")
    if old:
        w("INFO", "ExtHandler", "ExtHandler", f"Agent WALinuxAgent-{ga} is running as the goal state agent")
    else:
        w("INFO", "ExtHandler", "ExtHandler", f"Azure Linux Agent (Goal State Agent version {ga})")
        w("INFO", "ExtHandler", "ExtHandler", "OS: ubuntu 20.04")
        w("INFO", "ExtHandler", "ExtHandler", "Python: 3.8.10")
    if fault == "extensions-disabled" and not old:
        w("INFO", "ExtHandler", "ExtHandler", "******** Extensions.Enabled is set to False, not processing the operation ********")

    # Background: heartbeats, goal states, harmless warnings; the fault's lines spread in.
    incarnation = rng.randint(2, 40)
    fault_every = max(20, lines // 6)
    for i in range(lines):
        r = rng.random()
        if i and i % fault_every == 0:
            _fault_lines(w, fault, old, ga)
        elif r < 0.55:
            if old:
                w("INFO", "ExtHandler", "ExtHandler", f"Event: name=WALinuxAgent, op=HeartBeat, message=HeartbeatCounter: {i}, duration=0")
            else:
                w(
                    "INFO",
                    "ExtHandler",
                    "ExtHandler",
                    f"[HEARTBEAT] Agent WALinuxAgent-{ga} is running as the goal state agent [DEBUG HeartbeatCounter: {i};"
                    f"HeartbeatId: {GUID};DroppedPackets: 0;UpdateGSErrors: 0;AutoUpdate: 1;UpdateMode: SelfUpdate;]",
                )
        elif r < 0.85:
            incarnation += 1
            if old:
                w("INFO", "ExtHandler", "ExtHandler", f"ProcessGoalState completed [incarnation {incarnation}; {rng.randint(80, 2000)} ms]")
            else:
                w(
                    "INFO",
                    "ExtHandler",
                    None,
                    f"ProcessExtensionsGoalState started [incarnation_{incarnation} channel: WireServer source: Fabric "
                    f"activity: {GUID} correlation {GUID} created: 2024-05-29T05:45:40.123456Z]",
                )
                w("INFO", "ExtHandler", f"[{EXT}-{EXT_VER}]", f"Target handler state: enabled [incarnation_{incarnation}]", 0.2)
                w("INFO", "ExtHandler", None, f"ProcessExtensionsGoalState completed [incarnation_{incarnation} {rng.randint(80, 2000)} ms]", 1)
        elif r < 0.95:
            # Harmless noise every real log has (linux-agent.md §3.5: on the agent team's ignore list)
            w("WARNING", "EnvHandler", "ExtHandler", "Dhcp client is not running.")
        else:
            w(
                "WARNING",
                "ExtHandler",
                "ExtHandler",
                f"Fetch failed from [http://168.63.129.16:32526/extensionArtifact]: [HTTP Failed] [{rng.choice([404, 410])}: Not Found] ",
            )
    _fault_lines(w, fault, old, ga)
    return "\n".join(out) + "\n", c.t


def _fault_lines(w, fault: str, old: bool, ga: str) -> None:
    """The fault's evidence as the docs quote it (linux-agent.md §3.1, §3.4, §3.7)."""
    if fault == "wireserver-timeout":
        # A blocked WireServer fails every request, not one: the agent logs its goal-state
        # fetch failures (2.8+: the first three, then "still failing" every 6 h; 2.2.x: every
        # attempt), status reports and HostGAPlugin calls (linux-agent.md §3.4). A single
        # failure is what the agent team lists as benign (§9.13), so one line is not this fault.
        io = "-- IOError timed out -- 6 attempts made"
        if old:
            for _ in range(6):
                w("WARNING", "ExtHandler", "ExtHandler", f"Fetch failed: [HttpError] [HTTP Failed] GET http://168.63.129.16/machine/?comp=goalstate {io}", 60)
        else:
            for _ in range(3):
                w(
                    "ERROR",
                    "ExtHandler",
                    "ExtHandler",
                    "Error fetching the goal state: [ProtocolError] [Wireserver Exception] [HttpError] [HTTP Failed] "
                    f"GET http://168.63.129.16/machine/ {io}",
                    60,
                )
            w("WARNING", "ExtHandler", "ExtHandler", f"HostGAPlugin: Exception Get API versions: [HttpError] [HTTP Failed] GET http://168.63.129.16:32526/versions {io}", 60)
            for _ in range(2):
                w(
                    "WARNING",
                    "ExtHandler",
                    "ExtHandler",
                    "Failed to report vm agent status: [ProtocolError] [Wireserver Exception] [HttpError] [HTTP Failed] "
                    f"POST http://168.63.129.16/machine/?comp=health {io}",
                    60,
                )
    elif fault == "extensions-disabled" and not old:
        w(
            "ERROR",
            "ExtHandler",
            "ExtHandler",
            f"Event: name={EXT}, op=ExtensionProcessing, message=Extension '{EXT}' will not be processed since extension "
            "processing is disabled. To enable extension processing, set Extensions.Enabled=y in '/etc/waagent.conf', duration=0",
        )
    elif fault == "crash-loop":
        w("INFO", "ExtHandler", "ExtHandler", f"Agent WALinuxAgent-{ga} failed with exception: [Errno 28] No space left on device")
        w("WARNING", "Daemon", "Daemon", f"Agent did not terminate cleanly: [WALinuxAgent-{ga}] [[Errno 28] No space left on device]", 5)
        w("WARNING", "Daemon", "Daemon", f"Agent WALinuxAgent-{ga} restarted more than 3 times in 300 seconds", 5)
        w("WARNING", "Daemon", "Daemon", f"Agent WALinuxAgent-{ga} is permanently {'blacklisted' if old else 'disabled'}", 1)


def waagent_conf(fault: str) -> str:
    enabled = "n" if fault == "extensions-disabled" else "y"
    return (
        "# Microsoft Azure Linux Agent Configuration\n"
        f"Extensions.Enabled={enabled}\n"
        "Provisioning.Agent=auto\n"
        "Logs.Verbose=n\n"
        "OS.EnableFirewall=y\n"
        "AutoUpdate.Enabled=y\n"
    )


def status_file(rng: random.Random, fault: str, end: datetime) -> str:
    """status/<N>.status in the shape of vmsnapshot-extension.md §1.4."""
    code, name, text = STATUS_FAULTS.get(fault, (1, "success", "Enable Succeeded"))
    st = "error" if fault in STATUS_FAULTS else "success"
    inner = {
        "status": st,
        "code": str(code),
        "vmHealthInfo": {"vmHealthState": 256 if st == "error" else 0, "vmHealthStatusCode": code},
        "telemetryData": [{"Key": "extErrorCode", "Value": name}, {"Key": "guestAgentVersion", "Value": NEW_GA}],
    }
    msg = {"messageStr": f"{text} snapshotCreator=backupHostService, hostStatusCodePreSnapshot=200, ", "snapshotConsistency": 0, "jobMessage": "", "isSizeComputationFailed": False}
    doc = [
        {
            "version": "1.0",
            "timestampUTC": (end - timedelta(minutes=rng.randint(1, 30))).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "status": {
                "name": EXT,
                "operation": "Enable",
                "status": "success",  # forced to success for ARM VMs: the code is the truth
                "substatus": [{"code": "0", "name": json.dumps(inner), "status": st, "formattedMessage": None}],
                "code": str(code),
                "taskId": GUID,
                "formattedMessage": {"lang": "en-US", "message": json.dumps(msg)},
            },
        }
    ]
    return json.dumps(doc)


def shell_log(rng: random.Random, fault: str, end: datetime) -> str:
    """shell.log lines (vmsnapshot-extension.md §1.3.4)."""
    t = end - timedelta(minutes=rng.randint(1, 30))
    stamp = t.strftime("%a %b ") + f"{t.day:2d}" + t.strftime(" %H:%M:%S UTC %Y")
    lines = [f"{stamp}- ConfigSequenceNumber from environment variable seqNo:{rng.randint(1, 40)}"]
    if fault == "python-unknown":
        lines += [f"{stamp}- python version unknown", f"{stamp}- 3 returned from handle.py"]
    else:
        lines += [f"{stamp}- python3.8 path exists", f"{stamp}- 0 returned from handle.py"]
    return "\n".join(lines) + "\n"


def extension_log(rng: random.Random, fault: str, end: datetime) -> str:
    """A few extension.log lines in the Python 3 format (vmsnapshot-extension.md §1.3.1, §1.4)."""
    t = end - timedelta(minutes=rng.randint(1, 30))
    ts = t.strftime("%Y-%m-%d %H:%M:%S")
    code, _name, text = STATUS_FAULTS.get(fault, (1, "success", "Enable Succeeded"))
    st = "error" if fault in STATUS_FAULTS else "success"
    return (
        f"{ts} [Microsoft.Azure.RecoveryServices.VMSnapshotLinux-{EXT_VER}] T:S Enable,{st},{code},{text},{st == 'error'}\n"
    )


def bundle_files(rng: random.Random, fault: str, old: bool, lines: int) -> dict[str, str]:
    log, end = agent_log(rng, old, fault, lines)
    files = {
        "var/log/waagent.log": log,
        "etc/waagent.conf": waagent_conf(fault),
        f"var/lib/waagent/{EXT}-{EXT_VER}/status/{rng.randint(1, 40)}.status": status_file(rng, fault, end),
        f"var/log/azure/{EXT}/shell.log": shell_log(rng, fault, end),
        f"var/log/azure/{EXT}/extension.log": extension_log(rng, fault, end),
    }
    return files


def write_bundle(root: Path, name: str, form: str, files: dict[str, str]) -> Path:
    if form == "folder":
        d = root / name
        for rel, text in files.items():
            p = d / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(text, encoding="utf-8")
        return d
    if form == "zip":
        p = root / f"{name}.zip"
        with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as zf:
            for rel, text in files.items():
                zf.writestr(rel, text)
        return p
    p = root / f"{name}.tar.gz"
    with tarfile.open(p, "w:gz") as tf:
        for rel, text in files.items():
            data = text.encode("utf-8")
            ti = tarfile.TarInfo(rel)
            ti.size = len(data)
            ti.mtime = int(START.timestamp())
            tf.addfile(ti, io.BytesIO(data))
    return p


def generate(out: Path, n: int, *, seed: int = 5, lines: int = 1500) -> dict[str, str]:
    """Write ``n`` bundles under ``out/bundles`` and ``out/truth.json``; return the truth."""
    rng = random.Random(seed)
    bundles = out / "bundles"
    bundles.mkdir(parents=True, exist_ok=True)
    faults = list(FAULTS)
    forms = ("folder", "zip", "tar.gz")
    truth: dict[str, str] = {}
    raw_bytes = 0
    for i in range(n):
        fault = faults[i % len(faults)]
        old = rng.random() < 0.35
        name = f"vm{i:05d}-{fault}"
        files = bundle_files(rng, fault, old, lines)
        write_bundle(bundles, name, forms[i % 3], files)
        truth[name] = FAULTS[fault]
        raw_bytes += sum(len(t.encode("utf-8")) for t in files.values())
    manifest = {"n": n, "seed": seed, "lines": lines, "uncompressed_bytes": raw_bytes, "faults": FAULTS}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    (out / "truth.json").write_text(json.dumps(truth, indent=1, sort_keys=True), encoding="utf-8")
    return truth


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path)
    ap.add_argument("--n", type=int, default=100, help="number of bundles")
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--lines", type=int, default=1500, help="background records per waagent.log")
    a = ap.parse_args()
    truth = generate(a.out, a.n, seed=a.seed, lines=a.lines)
    print(f"{len(truth)} bundles in {a.out / 'bundles'}; truth in {a.out / 'truth.json'}")


if __name__ == "__main__":
    main()
