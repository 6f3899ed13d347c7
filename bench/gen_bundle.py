"""Generate a large, deterministic Linux log bundle for the ingest benchmark (issue 2).

Why synthetic: real bundles are a few MB; the benchmark needs hundreds of MB of
``waagent.log`` shaped like the real thing (linux-agent.md §1-3) so that the ratio against
``grep`` means something. The same generator, at 2 MB, feeds the ingest equivalence test.

What it writes under ``OUT_DIR/var/log/``:

* ``waagent.log`` plus rotated copies in both naming styles (``waagent.log.1``,
  ``waagent.log.N.gz``, ``waagent.log-YYYY-MM-DD-EPOCH.gz``), ~``--mb`` MB uncompressed in
  total, oldest files written by a 2.2.45 agent (local time, ``Daemon``/``ExtHandler``/
  ``[Name-Ver]`` prefixes), newer ones by a 2.2.47+ ExtHandler (UTC, thread + optional
  prefix) next to the still-2.2.45 daemon; ``Event:`` lines, waagent-2.0 HandlerUtil lines,
  a few syslog-wrapped copies, multi-line records (tracebacks, ``[stdout]``/``[stderr]``
  blocks, ``Inner error:``) ~2% of records, WARNING/ERROR ~5%, a few SAS URLs.
* ``azure/Microsoft.Azure.RecoveryServices.VMSnapshotLinux/extension.log`` of ~``--mb``/10 MB.

Lines are built column-wise with polars (template gather + ``concat_str``), never one Python
f-string per line, so 200 MB takes seconds. Same ``--seed`` and ``--mb`` give the same bytes.

    python bench/gen_bundle.py /tmp/bigbundle --mb 200
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import polars as pl

EXT = "Microsoft.Azure.RecoveryServices.VMSnapshotLinux"
EXT_VER = "1.0.9224.0"
GA = "2.11.1.4"
N_FILES = 10  # logrotate keeps 20 MB pieces; 10 pieces of --mb/10 each
LOCAL_OFFSET_US = -7 * 3600 * 1_000_000  # the VM's local zone for pre-2.2.46 lines (UTC-7)
MANIFEST = "bench-manifest.json"  # what was written; the benchmark greps exactly these files
START = datetime(2024, 4, 20, tzinfo=timezone.utc)
MEAN_GAP_US = 400_000  # mean time between records

# Heads: what follows the level. NEW = 2.2.47+ "<thread> <prefix> ", OLD = 2.2.45 "<prefix> ".
H_AGENT = ("ExtHandler ExtHandler ", "ExtHandler ")
H_EXT = (f"ExtHandler [{EXT}-{EXT_VER}] ", f"[{EXT}-{EXT_VER}] ")
H_NONE = ("ExtHandler ", "ExtHandler ")  # 2.8+ prefix-less goal-state lines / 2.2.46 shape
H_MON = ("MonitorHandler ExtHandler ", "ExtHandler ")
H_ENV = ("EnvHandler ExtHandler ", "ExtHandler ")
H_TEL = ("SendTelemetryHandler ExtHandler ", "ExtHandler ")
H_DAEMON = ("Daemon Daemon ", "Daemon ")

GUID = "5f0c2a9e-3b1d-4a7e-9c1f-2d8e6b4a7c30"

# (level, head, message). "{n}" is replaced by a random number per record.
INFO = [
    ("INFO", H_AGENT, f"[HEARTBEAT] Agent WALinuxAgent-{GA} is running as the goal state agent [DEBUG HeartbeatCounter: {{n}};HeartbeatId: {GUID};DroppedPackets: 0;UpdateGSErrors: 0;AutoUpdate: 1;UpdateMode: SelfUpdate;]"),
    ("INFO", H_AGENT, f"ProcessExtensionsGoalState started [incarnation_{{n}} channel: WireServer source: Fabric activity: {GUID} correlation 0a1b2c3d-4e5f-6789-abcd-ef0123456789 created: 2024-05-29T05:45:40.123456Z]"),
    ("INFO", H_AGENT, "ProcessExtensionsGoalState completed [incarnation_{n} 1377 ms]"),
    ("INFO", H_NONE, "Fetching full goal state from the WireServer [incarnation {n}]"),
    ("INFO", H_NONE, "Fetched a new incarnation for the WireServer goal state [incarnation {n}]"),
    ("INFO", H_AGENT, f"Extension status: [('{EXT}', 'success')]"),
    ("INFO", H_AGENT, f"All extensions in the goal state have reached a terminal state: [('{EXT}', 'success')]"),
    ("INFO", H_AGENT, "Goal State Period: 6 sec. This indicates how often the agent checks for new goal states and reports status."),
    ("INFO", H_AGENT, "Wire server endpoint:168.63.129.16"),
    ("INFO", H_AGENT, "Checking for agent updates (family: Prod)"),
    ("INFO", H_AGENT, "No requested version specified, auto-update to the latest version in the manifest: {n}"),
    ("INFO", H_NONE, "Downloaded certificate {'thumbprint': 'A1B2C3D4E5F60718293A4B5C6D7E8F9012345678', 'hasPrivateKey': True}"),
    ("INFO", H_EXT, "Target handler state: enabled [incarnation_{n}]"),
    ("INFO", H_EXT, "[Enable] current handler state is: enabled"),
    ("INFO", H_EXT, "Enable extension: [main/handle.sh enable]"),
    ("INFO", H_EXT, "Update settings file: {n}.settings"),
    ("INFO", H_EXT, f"Executing command: /var/lib/waagent/{EXT}-{EXT_VER}/main/handle.sh enable with environment variables: {{\"AZURE_GUEST_AGENT_UNINSTALL_CMD_EXIT_CODE\": \"NOT_RUN\", \"AZURE_GUEST_AGENT_EXTENSION_PATH\": \"/var/lib/waagent/{EXT}-{EXT_VER}\", \"AZURE_GUEST_AGENT_EXTENSION_VERSION\": \"{EXT_VER}\", \"ConfigSequenceNumber\": \"{{n}}\"}}"),
    ("INFO", H_EXT, f"Using existing extension package: /var/lib/waagent/{EXT}__{EXT_VER}.zip"),
    ("INFO", H_MON, "Cgroup monitoring is not supported on ['ubuntu', '22.04', 'jammy']"),
    ("INFO", H_ENV, "Hostname unchanged; current: vm-backup-{n}"),
    ("INFO", H_TEL, "Sent {n} telemetry events to the wireserver"),
    ("INFO", H_DAEMON, "Agent WALinuxAgent-2.2.45 launched with command 'python3 -u /usr/sbin/waagent -run-exthandlers' is successfully running"),
    ("INFO", H_DAEMON, "Determined Agent WALinuxAgent-{n} to be the latest agent"),
    ("INFO", H_DAEMON, "Azure Linux Agent Version:2.2.45"),
    ("INFO", H_DAEMON, "OS: ubuntu 18.04"),
    ("INFO", H_DAEMON, "Python: 3.6.9"),
    ("VERBOSE", H_AGENT, "Extension handling is disabled"),
]
WARNING = [
    ("WARNING", H_AGENT, "A new goal state was received, but not all the extensions in the previous goal state have completed: [('" + EXT + "', 'transitioning')]"),
    ("WARNING", H_AGENT, "[PERIODIC] This status is being reported by the Guest Agent since no status file was reported by extension " + EXT + ": [ExtensionStatusError] Status file /var/lib/waagent/" + EXT + "-" + EXT_VER + "/status/{n}.status does not exist"),
    ("WARNING", H_MON, "Error in SendTelemetryHandler: [HttpError] HTTP Failed. GET http://168.63.129.16/machine/ -- IOError timed out -- {n} attempts made"),
    ("WARNING", H_DAEMON, "Agent WALinuxAgent-2.2.45 did not terminate cleanly"),
    ("WARNING", H_AGENT, "[SelfUpdate]Unable to update Agent: [AgentUpdateError] Failed to download agent package {n} from all URIs"),
]
ERROR = [
    ("ERROR", H_AGENT, "Error fetching the goal state certificates: Cannot convert PFX to PEM"),
    ("ERROR", H_EXT, "[ExtensionError] Timeout(300): /var/lib/waagent/" + EXT + "-" + EXT_VER + "/main/handle.sh enable"),
    ("ERROR", H_AGENT, "ProcessExtensionsGoalState failed [incarnation_{n} 90013 ms]"),
    ("ERROR", H_DAEMON, "ExtHandler process WALinuxAgent-" + GA + " launched with command 'python3 -u bin/WALinuxAgent-" + GA + "-py3.8.egg -run-exthandlers' exited with return code: {n}"),
]
EVENT_INFO = [
    ("INFO", H_AGENT, "Event: name=WALinuxAgent, op=HeartBeat, message=HeartbeatCounter: {n}, duration=0"),
    ("INFO", H_EXT, "Event: name=" + EXT + ", op=Enable, message=Launch command succeeded: handle.sh enable, duration={n}"),
    ("INFO", H_AGENT, "Event: name=WALinuxAgent, op=ProcessGoalState, message=Incarnation {n}, duration=134"),
    ("INFO", H_DAEMON, "Event: name=WALA, op=HeartBeat, message="),
]
EVENT_ERROR = [
    ("ERROR", H_EXT, "Event: name=" + EXT + ", op=Install, message=[ExtensionError] Non-zero exit code: 127, main/handle.sh install, duration=0"),
    ("ERROR", H_AGENT, "Event: name=WALinuxAgent, op=FetchGoalState, message=[ProtocolError] Failed to fetch goal state {n}, duration=0"),
    ("ERROR", H_EXT, "Event: name=" + EXT + ", op=ExtensionProcessing, message=Extension '" + EXT + "' will not be processed since extension processing is disabled. To enable extension processing, set Extensions.Enabled=y in '/etc/waagent.conf', duration=0"),
]
MULTI = [
    ("WARNING", H_AGENT, "Agent WALinuxAgent-" + GA + " failed with exception: [Errno 28] No space left on device\nTraceback (most recent call last):\n  File \"bin/WALinuxAgent-" + GA + "-py3.8.egg/azurelinuxagent/ga/update.py\", line 456, in run\n    self._process_goal_state(exthandlers_handler, remote_access_handler, agent_update_handler)\n  File \"bin/WALinuxAgent-" + GA + "-py3.8.egg/azurelinuxagent/common/utils/fileutil.py\", line {n}, in write_file\n    f.write(data)\nOSError: [Errno 28] No space left on device"),
    ("ERROR", H_EXT, "[ExtensionOperationError] Non-zero exit code: 3, /var/lib/waagent/" + EXT + "-" + EXT_VER + "/main/handle.sh install\n[stdout]\nConfigSequenceNumber from environment variable seqNo:{n}\npython version unknown\n\n[stderr]\n/var/lib/waagent/" + EXT + "-" + EXT_VER + "/main/handle.sh: line 12: python: command not found\n"),
    ("INFO", H_EXT, "Command: main/handle.sh enable\n[stdout]\n{n} returned from handle.py\n\n[stderr]\n"),
    ("ERROR", H_AGENT, "[ProtocolError] Error fetching goal state\nInner error: [ResourceGoneError] [HTTP Failed] [410: Gone] The page you requested was removed. ({n})"),
    ("INFO", H_AGENT, "ProcessExtensionsGoalState completed [incarnation_{n} 1377 ms]\n"),
    ("ERROR", H_EXT, "Event: name=" + EXT + ", op=Enable, message=[ExtensionOperationError] Non-zero exit code: 1, main/handle.sh enable\n[stdout]\nsnapshot failed {n}\n\n[stderr]\nTraceback (most recent call last):\n  File \"main/handle.py\", line 12, in <module>\nImportError: No module named ssl, duration=0"),
]
SECRET = [
    ("INFO", H_AGENT, "HostGAPlugin: Put VM status to https://md-hdd-abc123.z1.blob.storage.azure.net/$system/vm-backup.status?sv=2018-03-28&sr=b&sk=system-1&sig=Zm9vYmFy{n}YmF6%3d&se=9999-01-01T00%3a00%3a00Z&sp=rw"),
    ("INFO", H_EXT, "Settings: {\"protectedSettings\": \"MIIB{n}dGhpcyBpcyBub3QgYSByZWFsIHNlY3JldA==\", \"publicSettings\": {\"locale\": \"en-us\"}}"),
]
# waagent-2.0 HandlerUtil lines: seconds only, level glued on, [Name-Ver] with or without space.
V20 = [
    ("", "[Microsoft.OSTCExtensions.VMAccessForLinux-1.5.2] cwd is /var/lib/waagent/Microsoft.OSTCExtensions.VMAccessForLinux-1.5.2"),
    ("", "[Microsoft.OSTCExtensions.VMAccessForLinux-1.5.2] Enable,success,0,Enable succeeded"),
    ("ERROR:", "[" + EXT + "-1.0]Failed to decrypt protected settings {n}"),
    ("WARNING:", "timed out waiting for {n}"),
]
CONTINUATION_HEAD = ["  File \"/usr/lib/python3/dist-packages/azurelinuxagent/ga/exthandlers.py\", line 1021, in run", "OSError: [Errno 5] Input/output error"]

# Record categories and their share of records.
CATEGORIES = [
    ("info", INFO, 0.8775),
    ("warning", WARNING, 0.025),
    ("error", ERROR, 0.012),
    ("event_info", EVENT_INFO, 0.03),
    ("event_error", EVENT_ERROR, 0.006),
    ("multi", MULTI, 0.02),
    ("secret", SECRET, 0.003),
    ("v20", V20, 0.025),
    ("syslog", INFO, 0.0015),
]

EXT_LOG = [
    "T:S try_parse_context : Sequence Number received {n}",
    "T:S waagent new path is used",
    "T:S starting enable",
    "T:S patch_class_name: UbuntuPatching and orig_distro: Ubuntu",
    "T:S taskId: " + GUID,
    "T:S Sleeping for milliseconds: {n}",
    "T:S starting daemon initially",
    "T:S safeFreezeBinary exists True",
    "T:S final thread timeout60",
    "T:S commandToExecute for backup is snapshot",
    "T:S FreezeSnapshotter : takeCrashConsistentSnapshot = False",
    "T:S hostIp : 168.63.129.16",
    "T:S PreSnapshot: Status Code: 200",
    "T:S freeze, timeout value 60",
    "T:S doFreezeSnapshot : run_result - 0",
    "T:S IsSuccessful:True, SnapshotUri:https://md-abc.blob.core.windows.net/disk{n}?snapshot=2024-05-30T13:15:40.1234567Z, ErrorMessage:None",
    "T:S Enable,success,1,Enable Succeeded,False",
    "T:S file status report message: [{\"version\": \"1.0\", \"status\": {\"status\": \"success\", \"code\": \"1\"}}]",
    "T:S lsblk mount point /boot, device sda{n}",
    "T:S mounts list item added, mount point /, file system ext4",
]
EXT_LOG_MULTI = [
    "================== Logs during Freeze Start ==============\n2024/05/30 13:15:40.123456  Info  T:S freezing {n} \n2024/05/30 13:15:41.223456  Info  T:S thaw \n================== Logs during Freeze End ==============",
    "T:S Unable to take snapshot\nTraceback (most recent call last):\n  File \"main/handle.py\", line {n}, in daemon\nException: snapshot failed",
]


@dataclass
class FileSpec:
    name: str
    gz: bool
    nbytes: int
    new_from: float  # fraction of the file from which the ExtHandler writes 2.2.47+ lines
    cut_head: bool  # file starts mid-record (continuation lines before the first header)


def _pool(entries: list[tuple[str, tuple[str, str], str]]) -> pl.DataFrame:
    """Templates as columns, the message split at ``{n}`` so filling is a concat."""
    pre, post, has = [], [], []
    for _, _, msg in entries:
        a, sep, b = msg.partition("{n}")
        pre.append(a)
        post.append(b)
        has.append(bool(sep))
    return pl.DataFrame(
        {
            "level": [e[0] for e in entries],
            "head_new": [e[1][0] for e in entries],
            "head_old": [e[1][1] for e in entries],
            "pre": pre,
            "post": post,
            "has_n": has,
        }
    )


class Rng:
    """Seeded draws as polars Series (stdlib ``random`` is stable across Python versions)."""

    def __init__(self, *seed: int):
        self._r = random.Random(":".join(map(str, seed)))

    def ints(self, lo: int, hi: int, n: int) -> pl.Series:
        return pl.Series(self._r.choices(range(lo, hi), k=n), dtype=pl.Int64)

    def pick(self, weights: list[float], n: int) -> pl.Series:
        return pl.Series(self._r.choices(range(len(weights)), weights=weights, k=n), dtype=pl.Int64)

    def chance(self, p: float, n: int) -> pl.Series:
        r = self._r.random
        return pl.Series([r() < p for _ in range(n)], dtype=pl.Boolean)

    def times(self, n: int, start_us: int) -> pl.Series:
        """Increasing microsecond stamps, exponential gaps around ``MEAN_GAP_US``."""
        e = self._r.expovariate
        gaps = pl.Series([int(e(1.0 / MEAN_GAP_US)) + 1 for _ in range(n)], dtype=pl.Int64)
        return gaps.cum_sum() + start_us


def _fill(pre: str = "pre", post: str = "post") -> pl.Expr:
    return pl.concat_str(pre, pl.when("has_n").then("num").otherwise(pl.lit("")), post)


def _agent_lines(rng: Rng, n: int, start_us: int, new_from: float) -> tuple[pl.Series, int]:
    """``n`` records of waagent.log as one string column (a record may hold several lines)."""
    t = rng.times(n, start_us)
    base = pl.DataFrame(
        {
            "_i": pl.int_range(n, eager=True),
            "t": t.cast(pl.Datetime("us")),
            "cat": rng.pick([c[2] for c in CATEGORIES], n),
            "num": rng.ints(1, 5000, n).cast(pl.String),
            "r": rng.ints(0, 1 << 30, n),
        }
    )
    # The ExtHandler switches to 2.2.47+ at ``new_from`` of the file; the daemon stays 2.2.45.
    base = base.with_columns(new_era=pl.col("_i") >= int(new_from * n))
    new_ts = pl.col("t").dt.strftime("%Y-%m-%dT%H:%M:%S%.6fZ")
    local = pl.col("t") + pl.duration(microseconds=LOCAL_OFFSET_US)
    old_ts = local.dt.strftime("%Y/%m/%d %H:%M:%S%.6f")
    frames = []
    for ci, (cname, entries, _) in enumerate(CATEGORIES):
        rows = base.filter(pl.col("cat") == ci)
        if not rows.height:
            continue
        if cname == "v20":
            pool = pl.DataFrame(
                {"lvl": [e[0] for e in V20], "pre": [e[1].partition("{n}")[0] for e in V20],
                 "post": [e[1].partition("{n}")[2] for e in V20], "has_n": ["{n}" in e[1] for e in V20]}
            )
            df = pl.concat([rows, pool[(rows["r"] % pool.height)]], how="horizontal")
            line = pl.concat_str(local.dt.strftime("%Y/%m/%d %H:%M:%S"), pl.lit(" "), "lvl", _fill())
            frames.append(df.select("_i", line.alias("rec")))
            continue
        pool = _pool(entries)
        df = pl.concat([rows, pool[(rows["r"] % pool.height)]], how="horizontal")
        new = pl.col("new_era") & ~pl.col("head_old").str.starts_with("Daemon")
        new_line = pl.concat_str(new_ts, pl.lit(" "), "level", pl.lit(" "), "head_new", _fill())
        old_line = pl.concat_str(old_ts, pl.lit(" "), "level", pl.lit(" "), "head_old", _fill())
        line = pl.when(new).then(new_line).otherwise(old_line)
        if cname == "syslog":
            # A copy out of syslog: "Mon DD HH:MM:SS host python3[pid]: <agent line>".
            line = pl.concat_str(pl.col("t").dt.strftime("%b %e %H:%M:%S"), pl.lit(" vm-backup-01 python3[812]: "), new_line)
        frames.append(df.select("_i", line.alias("rec")))
    out = pl.concat(frames).sort("_i")
    return out["rec"], int(t[-1]) if n else start_us


def _ext_lines(rng: Rng, n: int, start_us: int) -> tuple[pl.Series, int]:
    """VMSnapshotLinux extension.log (py3 HandlerUtil format, a few py2 ERROR: lines)."""
    t = rng.times(n, start_us)
    single = pl.Series(EXT_LOG).gather(rng.ints(0, len(EXT_LOG), n))
    multi = pl.Series(EXT_LOG_MULTI).gather(rng.ints(0, len(EXT_LOG_MULTI), n))
    df = pl.DataFrame(
        {
            "t": t.cast(pl.Datetime("us")),
            "single": single,
            "multi": multi,
            "is_multi": rng.chance(0.02, n),
            "py2": rng.chance(0.01, n),
            "num": rng.ints(1, 5000, n).cast(pl.String),
        }
    )
    tpl = pl.when("is_multi").then("multi").otherwise("single")
    msg = tpl.str.replace("{n}", pl.col("num"), literal=True)
    head = f"[{EXT}-1.0]"
    py3 = pl.concat_str(pl.col("t").dt.strftime("%Y-%m-%d %H:%M:%S%.6f"), pl.lit(" " + head), msg)
    py2 = pl.concat_str(pl.col("t").dt.strftime("%Y/%m/%d %H:%M:%S"), pl.lit(" ERROR:" + head), msg)
    return df.select(pl.when("py2").then(py2).otherwise(py3).alias("rec"))["rec"], int(t[-1]) if n else start_us


def file_plan(total_mb: float) -> list[FileSpec]:
    """Oldest first: dateext .gz, numbered .gz, waagent.log.1, waagent.log (both styles)."""
    per = int(total_mb * 1024 * 1024 / N_FILES) + 1
    names: list[tuple[str, bool]] = []
    n_date = 4
    n_num = N_FILES - 2 - n_date
    names += [("", True)] * n_date  # dateext names are filled in once times are known
    names += [(f"waagent.log.{i}", True) for i in range(n_num + 1, 1, -1)]
    names += [("waagent.log.1", False), ("waagent.log", False)]
    switch = int(N_FILES * 0.4)  # the auto-update to 2.2.47+ happens inside this file
    plan = []
    for i, (name, gz) in enumerate(names):
        new_from = 1.0 if i < switch else (0.5 if i == switch else 0.0)
        plan.append(FileSpec(name, gz, per, new_from, cut_head=(i % 3 == 1)))
    return plan


def _take_bytes(make, nbytes: int, start_us: int) -> tuple[pl.Series, int]:
    """Generate records until ``nbytes`` are reached, then cut to fit (deterministic)."""
    est = max(nbytes // 140, 16)
    while True:
        recs, end = make(est, start_us)
        if recs.str.len_bytes().sum() + recs.len() >= nbytes or est > nbytes:
            break
        est = int(est * nbytes / (recs.str.len_bytes().sum() + recs.len()) * 1.05) + 16
    cum = (recs.str.len_bytes() + 1).cum_sum()
    keep = int((cum <= nbytes).sum()) or 1
    return recs.head(keep), end


def generate(out: Path, mb: float = 200.0, seed: int = 20240530) -> dict:
    """Write the bundle; returns a manifest (files, bytes, records) also saved as JSON."""
    logdir = out / "var" / "log"
    logdir.mkdir(parents=True, exist_ok=True)
    start_us = int(START.timestamp() * 1_000_000)
    files = []
    for i, spec in enumerate(file_plan(mb)):

        def make(n: int, s: int, i: int = i, new_from: float = spec.new_from) -> tuple[pl.Series, int]:
            # A fresh generator per attempt: the output depends only on (seed, file, n).
            return _agent_lines(Rng(seed, i, n), n, s, new_from)

        recs, end_us = _take_bytes(make, spec.nbytes, start_us)
        text = recs.str.join("\n").item() + "\n"
        if spec.cut_head:
            text = "\n".join(CONTINUATION_HEAD) + "\n" + text
        name = spec.name
        if not name:
            # logrotate's "dateformat -%Y-%m-%d-%s": the rotation day and its epoch second.
            when = datetime.fromtimestamp(end_us // 1_000_000 + 1, timezone.utc)
            name = f"waagent.log-{when:%Y-%m-%d}-{int(when.timestamp())}"
        data = text.encode("ascii")
        path = logdir / (name + (".gz" if spec.gz else ""))
        # mtime=0 keeps the gzip bytes identical run to run.
        path.write_bytes(gzip.compress(data, compresslevel=6, mtime=0) if spec.gz else data)
        files.append({"path": str(path.relative_to(out)), "bytes": len(data), "records": recs.len(), "gz": spec.gz})
        start_us = end_us + 1_000_000

    ext_dir = logdir / "azure" / EXT
    ext_dir.mkdir(parents=True, exist_ok=True)

    def make_ext(n: int, s: int) -> tuple[pl.Series, int]:
        return _ext_lines(Rng(seed, 999, n), n, s)

    recs, _ = _take_bytes(make_ext, int(mb * 1024 * 1024 / 10), int(START.timestamp() * 1_000_000))
    data = (recs.str.join("\n").item() + "\n").encode("ascii")
    (ext_dir / "extension.log").write_bytes(data)
    files.append({"path": f"var/log/azure/{EXT}/extension.log", "bytes": len(data), "records": recs.len(), "gz": False})
    manifest = {"seed": seed, "mb": mb, "files": files, "bytes": sum(f["bytes"] for f in files)}
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1))
    return manifest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path, help="folder to write the bundle into (created)")
    ap.add_argument("--mb", type=float, default=200.0, help="MiB of waagent.log in total, uncompressed (extension.log adds a tenth)")
    ap.add_argument("--seed", type=int, default=20240530)
    a = ap.parse_args(argv)
    m = generate(a.out, a.mb, a.seed)
    for f in m["files"]:
        print(f"{f['bytes'] / 1e6:9.1f} MB  {f['records']:>9,} records  {f['path']}")
    print(f"{m['bytes'] / 1e6:9.1f} MB  total (uncompressed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
