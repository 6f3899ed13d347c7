"""Source parsers, one module per file kind, found automatically.

To add a file kind, add a module here that defines ``SPEC = SourceSpec(...)`` (or a list
``SPECS``); :func:`registry` picks it up. See :mod:`logscan.sources.base` for the recipe.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from .base import Parsed, SourceFile, SourceSpec


@cache
def registry() -> tuple[SourceSpec, ...]:
    """Every registered source spec, ordered by priority then name."""
    specs: list[SourceSpec] = []
    for mod in pkgutil.iter_modules(__path__):
        if mod.name.startswith("_") or mod.name == "base":
            continue
        module = importlib.import_module(f"{__name__}.{mod.name}")
        found = getattr(module, "SPECS", None) or ([module.SPEC] if hasattr(module, "SPEC") else [])
        specs.extend(found)
    names = [s.name for s in specs]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise RuntimeError(f"source names registered twice: {sorted(dupes)}")
    return tuple(sorted(specs, key=lambda s: (s.priority, s.name)))


def spec_for(path: str, head: bytes = b"") -> SourceSpec | None:
    """The spec that reads ``path`` (by path pattern, else by sniffing ``head``)."""
    for spec in registry():
        if spec.matches(path):
            return spec
    if head:
        for spec in registry():
            if spec.sniff is not None and spec.sniff(head):
                return spec
    return None


__all__ = ["Parsed", "SourceFile", "SourceSpec", "registry", "spec_for"]
