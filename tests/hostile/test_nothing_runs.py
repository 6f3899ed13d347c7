"""Nothing from a bundle is executed, imported, unpickled or evaluated.

A bundle carries Python source, compiled bytecode, a pickle, a YAML file with Python tags, a
HandlerManifest.json whose commands would run, and shell scripts (executable bit set, some
named like the logs logscan reads). Each would create a marker file if anything ran it. The
test reads the bundle through ``load()`` and every ``scan`` format, watches the process for
any attempt to spawn, unpickle or evaluate, then checks no marker exists. A source scan of the
package makes sure no such call is ever introduced on bundle data.
"""

from __future__ import annotations

import builtins
import importlib.util
import json
import marshal
import os
import pickle
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import logscan

from .conftest import assert_cause_found, evidence_loaded, write_evidence

PACKAGE = Path(logscan.__file__).resolve().parent


class _Boom:
    """Pickles to a call that would create the marker when unpickled."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def hostile_bundle(root: Path, marker: Path) -> Path:
    write_evidence(root)
    m = str(marker)
    code = f"open({m!r}, 'w').write('ran')\n"
    files: dict[str, bytes] = {
        "sitecustomize.py": code.encode(),
        "usercustomize.py": code.encode(),
        "logscan/__init__.py": code.encode(),  # shadowing the package would need the bundle on sys.path
        "var/lib/waagent/Microsoft.Azure.Extensions.CustomScript-2.1.10/bin/handle.py": code.encode(),
        "var/lib/waagent/Microsoft.Azure.Extensions.CustomScript-2.1.10/HandlerManifest.json": json.dumps(
            [{"version": 1.0, "handlerManifest": {"installCommand": f"touch {m}", "enableCommand": f"touch {m}",
                                                  "updateCommand": f"sh -c 'touch {m}'", "reportHeartbeat": False}}]
        ).encode(),
        "var/lib/waagent/Microsoft.Azure.Extensions.CustomScript-2.1.10/install.sh": f"#!/bin/sh\ntouch {m}\n".encode(),
        "var/lib/waagent/Microsoft.Azure.Extensions.CustomScript-2.1.10/status/0.status": f"#!/bin/sh\ntouch {m}\n".encode(),
        "var/log/waagent.log.1": f"#!/bin/sh\ntouch {m}\n$(touch {m})\n`touch {m}`\n".encode(),
        "var/lib/waagent/waagent_status.json": pickle.dumps(_Boom(m)),  # a pickle where JSON is expected
        "var/lib/waagent/state.pkl": pickle.dumps(_Boom(m)),
        "var/lib/waagent/history/x/VmSettings.json": pickle.dumps(_Boom(m), protocol=0),
        "var/lib/waagent/module.pyc": b"\xa7\r\r\n" + bytes(12) + marshal.dumps(compile(code, "x", "exec")),
        "etc/azure/config.yaml": f"a: !!python/object/apply:os.system ['touch {m}']\n".encode(),
        "WindowsAzure/Logs/evil.ps1": f"New-Item {m}\n".encode(),
        "var/log/azure/x/extension.log": f"{{{{ __import__('os').system('touch {m}') }}}}\n__import__('os').system('touch {m}')\n".encode(),
    }
    for rel, data in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        if rel.endswith((".sh", ".py", ".status", ".1")):
            p.chmod(p.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return root


NEEDLE = "-".join(("MARKER", "ran"))  # not literally in this source: pytest compiles it for tracebacks


def watch(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record (and refuse) every way the process could run or deserialise something.

    Spawning, unpickling and unmarshalling are refused outright; exec/eval/compile are
    refused on text that holds the marker path (libraries compile their own code).
    """
    calls: list[str] = []

    def refuse(name):
        def f(*a, **k):
            calls.append(f"{name}{a[:2]!r}")
            raise AssertionError(f"logscan called {name} while reading a bundle")

        return f

    for mod, names in ((subprocess, ("Popen", "run", "call", "check_call", "check_output")), (os, ("system", "popen", "execv", "execve", "execvp", "fork", "posix_spawn", "posix_spawnp", "startfile")),
                       (pickle, ("load", "loads", "Unpickler"))):  # (marshal: the import system itself uses it)
        for n in names:
            if hasattr(mod, n):
                monkeypatch.setattr(mod, n, refuse(f"{mod.__name__}.{n}"))
    real_exec, real_eval, real_compile = builtins.exec, builtins.eval, builtins.compile

    def spy(fn, name):
        def f(src, *a, **k):
            text = src.decode("utf-8", "replace") if isinstance(src, (bytes, bytearray)) else str(src)
            if NEEDLE in text:
                calls.append(f"{name}({text[:80]!r})")
                raise AssertionError(f"{name} on bundle content")
            return fn(src, *a, **k)

        return f

    monkeypatch.setattr(builtins, "exec", spy(real_exec, "exec"))
    monkeypatch.setattr(builtins, "eval", spy(real_eval, "eval"))
    monkeypatch.setattr(builtins, "compile", spy(real_compile, "compile"))
    return calls


def test_nothing_in_the_bundle_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    marker = tmp_path / NEEDLE
    root = hostile_bundle(tmp_path / "vm1", marker)
    calls = watch(monkeypatch)  # from here on, spawning/unpickling is refused and recorded
    before = set(sys.modules)
    b = logscan.load(root)
    assert evidence_loaded(b)
    from typer.testing import CliRunner

    from logscan.cli import app

    formats = ["table", "json", "markdown"] + (["html"] if importlib.util.find_spec("logscan.reports.html") else [])
    for fmt in formats:
        res = CliRunner().invoke(app, ["scan", str(root), "--format", fmt], catch_exceptions=False)
        assert res.exit_code == 0, res.output
    assert_cause_found(root)
    monkeypatch.undo()  # stop watching before pytest formats anything
    assert calls == []
    assert not marker.exists(), "something from the bundle ran"
    new = set(sys.modules) - before
    for name in new:
        f = getattr(sys.modules[name], "__file__", None) or ""
        assert str(root) not in f, f"module {name} imported from the bundle"
    assert not any(str(root) in p for p in sys.path)


# ---------------------------------------------------------------------------------------
# The package source never calls anything that runs or deserialises data
# ---------------------------------------------------------------------------------------
FORBIDDEN = {
    "pickle": r"\bpickle\.(load|loads|Unpickler)\b|\bimport (c?pickle|dill|cloudpickle)\b",
    "marshal": r"\bmarshal\.loads?\b",
    "eval": r"(?<![\w.])eval\(",
    "exec": r"(?<![\w.])exec\(",
    "compile": r"(?<![\w.])compile\(",
    "subprocess": r"\bsubprocess\b",
    "os.system": r"\bos\.(system|popen|exec\w*|spawn\w*|posix_spawn\w*|startfile)\b",
    "yaml.load": r"\byaml\.(load|load_all|unsafe_load|full_load|unsafe_load_all|full_load_all)\(|\byaml\.(Unsafe|Full)?Loader\b",
    "__import__": r"\b__import__\(",
    "import_module": r"\bimport_module\(",
    "runpy": r"\brunpy\b",
    "shelve": r"\bshelve\b",
    "ctypes": r"\bctypes\b",
}
#: Legitimate uses, each on logscan's own code or data, never on a bundle's.
ALLOWED = {
    # The source registry imports logscan's own parser modules, by names from pkgutil over
    # logscan/sources/, never a name or path from a bundle.
    ("sources/__init__.py", "import_module"),
    # `logscan collect` runs the fixed argv lists of logscan's own plan (content/collect/
    # linux.yaml) on the VM it collects, without a shell; nothing it runs comes from a bundle.
    ("collect/commands.py", "subprocess"),
}


def test_package_source_has_no_code_execution_on_data() -> None:
    found = []
    for py in sorted(PACKAGE.rglob("*.py")):
        rel = py.relative_to(PACKAGE).as_posix()
        for lineno, line in enumerate(py.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if not code.strip() or code.strip().startswith(('"', "'")):
                continue
            for what, rx in FORBIDDEN.items():
                if re.search(rx, code) and (rel, what) not in ALLOWED:
                    found.append(f"{rel}:{lineno}: {what}: {line.strip()}")
    assert found == [], "\n".join(found)


def test_yaml_is_only_ever_read_safely() -> None:
    """Every yaml reader in the package is the safe one (SafeLoader / safe_load)."""
    for py in PACKAGE.rglob("*.py"):
        for m in re.finditer(r"yaml\.(\w+)\(", py.read_text(encoding="utf-8")):
            assert m.group(1) in {"safe_load", "safe_load_all", "SafeLoader", "compose", "safe_dump", "dump", "YAMLError"} or m.group(1).startswith("safe"), (py, m.group(0))
