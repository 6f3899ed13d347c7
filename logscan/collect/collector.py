"""Collect a live bundle: the plan's files, command outputs and a manifest, into one tar.

The layout is the one ``scan`` already reads: files keep their path under the root
(``var/log/waagent.log``), command output goes where a sosreport puts it
(``sos_commands/<plugin>/<command>``), and ``sos_commands/logscan/manifest.json`` records every
command (argv, exit code, start, duration, ok/failed/missing), every file that was collected,
cut or could not be read and why, the globs that matched nothing and the probes (does
``/usr/sbin/waagent`` exist?). The manifest is what lets ``scan`` say "not installed" rather
than "no evidence".
"""

from __future__ import annotations

import io
import json
import os
import platform
import socket
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import BinaryIO

from .. import __version__
from .commands import Connector, Outcome, connect_test, default_connector, run_command, utc_now
from .files import FileLimits, Finder, Skipped, resolve_within
from .mask import MaskError, mask_file
from .plan import Command, Plan, load_plan

MANIFEST_PATH = "sos_commands/logscan/manifest.json"
MANIFEST_FORMAT = 1
COMPRESSED = (".gz", ".zip", ".xz", ".bz2", ".zst")

Runner = Callable[[Command], Outcome]


@dataclass
class Options:
    """How to collect. The defaults collect ``/`` on the VM with every command."""

    root: Path = Path("/")
    plan: Plan | None = None
    commands: bool = True
    since: str = "7 days ago"
    limits: FileLimits = field(default_factory=FileLimits)
    run: Runner | None = None  # tests inject a fake; default runs the real command
    connect: Connector | None = None  # default: a real TCP connect (commands.tcp_connect)
    exclude: frozenset[str] = frozenset()  # real paths never read (the output file itself)


def collect(out: BinaryIO, options: Options | None = None, *, compress: bool = True) -> dict:
    """Write the bundle as a tar (gzip unless ``compress=False``) to ``out``; return the manifest."""
    opt = options or Options()
    plan = opt.plan or load_plan("linux")
    if not opt.commands:
        plan = plan.without_commands()
    manifest: dict = {
        "format": MANIFEST_FORMAT,
        "tool": f"logscan {__version__}",
        "platform": "linux",
        "root": str(opt.root),
        "live": str(opt.root) == "/",
        "host": socket.gethostname() if str(opt.root) == "/" else None,
        "kernel": platform.release() if str(opt.root) == "/" else None,
        "euid": os.geteuid() if hasattr(os, "geteuid") else None,
        "started": utc_now(),
        "commands_run": opt.commands,
    }
    with tarfile.open(fileobj=out, mode="w:gz" if compress else "w", format=tarfile.PAX_FORMAT) as tar:
        files, skipped, absent = _collect_files(tar, opt, plan)
        outcomes = _run_commands(tar, opt, plan)
        manifest.update(
            finished=utc_now(),
            probes=probe(opt.root, plan),
            commands=[o.as_dict() for o in outcomes],
            files=files,
            not_collected=[s.as_dict() for s in skipped],
            absent=absent,
            limits={"max_file_bytes": opt.limits.max_file_bytes, "max_total_bytes": opt.limits.max_total_bytes},
        )
        _add(tar, MANIFEST_PATH, json.dumps(manifest, indent=1).encode(), time.time())
    return manifest


def collect_to_file(path: str | os.PathLike, options: Options | None = None) -> dict:
    """Collect into ``path`` (.tar.gz), written next to it first and renamed when complete."""
    target = Path(path)
    opt = options or Options()
    tmp = target.with_name(target.name + ".partial")
    exclude = opt.exclude | {str(target.resolve()), str(tmp.resolve())}
    opt = replace(opt, exclude=frozenset(exclude))
    try:
        with open(tmp, "wb") as fh:
            manifest = collect(fh, opt)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
    return manifest


def collect_to_bytes(options: Options | None = None) -> bytes:
    """Collect into memory (``scan --live``): an uncompressed tar, nothing written to disk."""
    buf = io.BytesIO()
    collect(buf, options, compress=False)
    return buf.getvalue()


def _collect_files(tar: tarfile.TarFile, opt: Options, plan: Plan) -> tuple[list[dict], list[Skipped], list[str]]:
    finder = Finder(opt.root, plan.files, plan.follow)
    lim = opt.limits
    used = 0
    files: list[dict] = []
    for n, found in enumerate(finder.find()):
        if n >= lim.max_files:
            finder.skipped.append(Skipped(found.rel, "too-many-files", f"more than {lim.max_files:,} files; the rest skipped"))
            break
        if str((opt.root / found.real).resolve()) in opt.exclude:
            continue
        budget = lim.max_total_bytes - used
        if budget <= 0:
            finder.skipped.append(Skipped(found.rel, "too-large", "the bundle's size budget is used up; skipped"))
            continue
        limit = min(lim.max_file_bytes, budget)
        try:
            data, size = finder.read(found, limit)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            if isinstance(exc, PermissionError):
                reason += " (reading it needs more rights: run as root)"
            finder.skipped.append(Skipped(found.rel, "unreadable", reason))
            continue
        entry: dict = {"path": found.rel, "size": size}
        if found.real != found.rel:
            entry["link_to"] = found.real
        if size > limit:
            if found.rel.lower().endswith(COMPRESSED):
                finder.skipped.append(Skipped(found.rel, "too-large", f"{size:,} bytes, past the {limit:,}-byte limit; compressed, so not cut"))
                continue
            entry["cut_to_last_bytes"] = limit
        try:
            masked = mask_file(found.rel, data, lim.max_file_bytes)
        except MaskError as exc:
            finder.skipped.append(Skipped(found.rel, "unsafe", f"could not be checked for secrets ({exc}); not collected"))
            continue
        if masked != data:
            entry["masked"] = True
        used += len(masked)
        _add(tar, found.rel, masked, _mtime(opt.root / found.real))
        files.append(entry)
    absent = [p for p in plan.files if p not in finder.matched]
    return files, finder.skipped, absent


def _run_commands(tar: tarfile.TarFile, opt: Options, plan: Plan) -> list[Outcome]:
    run = opt.run or (lambda c: run_command(c, since=opt.since))
    outcomes: list[Outcome] = []
    for cmd in plan.commands:
        o = run(cmd)
        outcomes.append(o)
        if o.status != "missing":
            _add(tar, o.path, mask_file(o.path, o.output, len(o.output) + 1), time.time())
    for target in plan.targets:
        o = connect_test(target, plan.connect_timeout_s, opt.connect or default_connector())
        outcomes.append(o)
        _add(tar, o.path, o.output, time.time())
    return outcomes


def probe(root: Path, plan: Plan) -> dict[str, dict[str, bool]]:
    """For each probe group, whether each path exists (links resolved inside the root)."""
    out: dict[str, dict[str, bool]] = {}
    for group, paths in plan.probes.items():
        out[group] = {}
        for p in paths:
            real = resolve_within(root, p)
            out[group][p] = real is not None and os.path.lexists(root / real)
    return out


def _add(tar: tarfile.TarFile, name: str, data: bytes, mtime: float) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(mtime)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def _mtime(p: Path) -> float:
    try:
        return p.stat().st_mtime
    except OSError:
        return time.time()
