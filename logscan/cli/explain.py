"""``logscan explain``: what an error code or a cause means."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer

from .common import fail


class Platform(str, Enum):
    linux = "linux"
    windows = "windows"


def explain(
    term: Annotated[str, typer.Argument(help="A backup error code (any case) or a cause id")],
    platform: Annotated[
        Platform | None, typer.Option("--platform", help="Show a cause's fix for this platform only [default: both]")
    ] = None,
    distro: Annotated[
        str | None,
        typer.Option("--distro", metavar="NAME", help="Linux distribution or family for the fix commands (ubuntu, rhel, suse, ...)"),
    ] = None,
) -> None:
    """What an error code or cause means: candidate causes, evidence, remediation."""
    from rich.console import Console

    from ..knowledge import load_knowledge
    from ..knowledge.explain import UnknownTerm, render_explain

    if distro is not None and platform is Platform.windows:
        fail("--distro applies to Linux; leave it out with --platform windows")
    knowledge = load_knowledge()
    if distro is not None:
        distro = _distro_name(distro, knowledge.distros)
    # A distribution says the VM runs Linux: its steps, not both platforms'.
    plat = platform.value if platform else ("linux" if distro else "unknown")
    try:
        renderable = render_explain(term, knowledge, platform=plat, distro=distro)
    except UnknownTerm as exc:
        fail(exc)
    Console().print(renderable)


def _distro_name(name: str, distros: dict) -> str:
    """A distros.yaml key or family (any case); anything else is a usage error naming the valid
    ones, rather than silently showing every distribution's commands."""
    wanted = name.strip().lower()
    valid = list(distros) + sorted({getattr(d, "family", None) for d in distros.values()} - set(distros) - {None})
    if wanted not in valid:
        fail(f"--distro {name}: not a known distribution; use one of {', '.join(valid)}")
    return wanted
