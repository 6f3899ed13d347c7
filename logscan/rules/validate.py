"""Names content may use, checked at load so a typo fails there and not in a report.

Signatures, checks and correlations name cause ids (``knowledge/causes.yaml``), source
names (:func:`logscan.sources.registry`) and event fields (:data:`logscan.frames.EVENT_SCHEMA`;
fields inside conditions are checked by :mod:`.parse`). Each check here raises the reader's
file:line:col error with a "did you mean" when one name is close.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

import yaml

from ..frames import EVENT_SCHEMA
from .yamlpos import PositionedYaml

#: Where the names of each kind are defined (for errors when there are too many to list).
WHERE = {"cause id": "logscan/content/knowledge/causes.yaml", "source": "logscan.sources.registry()"}


def source_names() -> tuple[str, ...]:
    """Every source name the parsers register."""
    from ..sources import registry

    return tuple(s.name for s in registry())


def cause_ids() -> frozenset[str]:
    """Every cause id of the knowledge base."""
    from ..knowledge import load_knowledge

    return frozenset(load_knowledge().causes)


def known(reader: PositionedYaml, what: str, name: str, node: yaml.Node, names: Iterable[str]) -> str:
    """``name`` if it is one of ``names``; else a file:line:col error naming the closest."""
    names = list(names)
    if name in names:
        return name
    close = difflib.get_close_matches(str(name), names, n=1)
    listing = f"known: {', '.join(sorted(names))}" if len(names) <= 12 else f"{len(names)} known; see {WHERE.get(what, what)}"
    hint = f"did you mean {close[0]!r}?" if close else listing
    raise reader.error(f"unknown {what} {name!r} ({hint})", node)


def known_all(reader: PositionedYaml, what: str, names: Iterable[str], nodes: list[yaml.Node], allowed: Iterable[str]) -> None:
    allowed = list(allowed)
    for name, node in zip(names, nodes, strict=True):
        known(reader, what, name, node, allowed)


def event_field(reader: PositionedYaml, name: str, node: yaml.Node) -> str:
    """An event column name (``data`` included)."""
    return known(reader, "event field", name, node, EVENT_SCHEMA)
