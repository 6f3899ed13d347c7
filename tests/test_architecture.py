"""The tree reads as the data flows: imports run one way, no cycles, small modules.

Layers, lowest first. A module may import its own layer and any layer below it, never one
above: ``cli`` → ``fleet`` → ``reports`` → ``diagnosis`` → ``rules`` → ``facts`` → ``sources``
→ ``io`` → foundation (``errors``, ``frames``, ``content``).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "logscan"
MAX_LINES = 420

LAYERS = ["foundation", "io", "sources", "facts", "knowledge", "rules", "diagnosis", "collect", "sharing", "reports", "fleet", "cli"]
FOUNDATION = {"errors", "frames", "content", "grammars", "__init__", "__main__"}


def layer_of(module: str) -> str:
    """``logscan.rules.checks`` → ``rules``; top-level foundation modules → ``foundation``."""
    parts = module.split(".")
    head = parts[1] if len(parts) > 1 else "__init__"
    return "foundation" if head in FOUNDATION else head


def modules() -> dict[str, Path]:
    out = {}
    for p in PKG.rglob("*.py"):
        rel = p.relative_to(PKG.parent).with_suffix("")
        name = ".".join(rel.parts)
        out[name.removesuffix(".__init__")] = p
    return out


def imports_of(name: str, path: Path) -> set[str]:
    """logscan modules imported by ``name`` (relative imports resolved), at any depth."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_pkg = path.name == "__init__.py"
    base = name.split(".") if is_pkg else name.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("logscan"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                root = base[: len(base) - (node.level - 1)]
                mod = ".".join(root + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod.startswith("logscan"):
                found.add(mod)
                found.update(f"{mod}.{a.name}" for a in node.names)
    return found


def graph() -> dict[str, set[str]]:
    mods = modules()
    return {n: {m for m in imports_of(n, p) if m in mods and m != n} for n, p in mods.items()}


def test_no_module_over_the_size_limit() -> None:
    big = {str(p.relative_to(PKG.parent)): n for p in PKG.rglob("*.py") if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not big, f"modules over {MAX_LINES} lines: {big}"


def test_imports_run_one_way() -> None:
    bad = []
    for mod, deps in graph().items():
        lm = layer_of(mod)
        if lm == "foundation" and mod != "logscan":
            continue
        for dep in deps:
            ld = layer_of(dep)
            if mod == "logscan" or ld == "foundation" or ld == lm:
                continue
            if LAYERS.index(ld) > LAYERS.index(lm):
                bad.append(f"{mod} ({lm}) imports {dep} ({ld})")
    assert not bad, "\n".join(sorted(bad))


def test_no_import_cycles() -> None:
    g = graph()
    g.pop("logscan", None)  # the package facade re-exports; it is nobody's dependency
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(n: str, stack: list[str]) -> None:
        state[n] = 1
        stack.append(n)
        for d in sorted(g.get(n, ())):
            if d == "logscan":
                continue
            if state.get(d) == 1:
                # A package importing its own submodules is not a cycle when the submodule
                # does not import the package back.
                cycles.append([*stack[stack.index(d) :], d])
            elif d not in state:
                visit(d, stack)
        stack.pop()
        state[n] = 2

    for n in sorted(g):
        if n not in state:
            visit(n, [])
    assert not cycles, "\n".join(" -> ".join(c) for c in cycles[:10])


@pytest.mark.parametrize("layer", LAYERS[1:])
def test_layers_exist_or_are_optional(layer: str) -> None:
    # A layer named here either exists as a package or is optional (collect, sharing).
    assert (PKG / layer).is_dir() or layer in {"collect", "sharing"}


def test_every_package_is_installed() -> None:
    """A non-editable install ships only the packages pyproject lists: a new sub-package
    missing from that list would work from a checkout and break for users."""
    import tomllib

    listed = set(tomllib.loads((PKG.parent / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    present = {".".join(p.parent.relative_to(PKG.parent).parts) for p in PKG.rglob("__init__.py")}
    assert present <= listed, f"not in pyproject's packages: {sorted(present - listed)}"
