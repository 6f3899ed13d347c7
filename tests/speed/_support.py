"""What the speed tests share: the samples and a way to import a bench/ script."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = sorted(p for p in (ROOT / "samples").iterdir() if not p.name.startswith(("_", ".")) and p.suffix not in (".toml", ".py"))


def bench_module(name: str):
    """Import ``bench/<name>.py`` (not a package) as module ``name``."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod  # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod
