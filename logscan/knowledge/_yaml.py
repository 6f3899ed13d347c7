"""YAML reading that remembers where each mapping starts, so data errors can say file:line:col.

A typo in the knowledge data is a bug a contributor fixes in a text editor; pointing at the
line and column of the offending entry saves them a search through an 800-line file.
"""

from __future__ import annotations

from typing import Any

import yaml


class Located(dict):
    """A mapping from YAML that knows its 1-based line and column in ``origin``."""

    origin: str = "?"
    line: int = 0
    col: int = 0

    @property
    def where(self) -> str:
        """``file:line:col`` of the mapping's first key."""
        return f"{self.origin}:{self.line}:{self.col}"


def _loader(origin: str) -> type[yaml.SafeLoader]:
    class _Loader(yaml.SafeLoader):
        pass

    def construct(loader: yaml.SafeLoader, node: yaml.MappingNode) -> Located:
        out = Located()
        out.origin = origin
        out.line, out.col = node.start_mark.line + 1, node.start_mark.column + 1
        yield out  # two-step construction so recursive structures still resolve
        out.update(loader.construct_mapping(node, deep=True))

    _Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct)
    return _Loader


def load_located(text: str, origin: str) -> Any:
    """``yaml.safe_load`` whose mappings are :class:`Located` (raises ``yaml.YAMLError``)."""
    return yaml.load(text, Loader=_loader(origin))


def where(value: Any, fallback: str) -> str:
    """``file:line:col`` of ``value`` when it came from :func:`load_located`, else ``fallback``."""
    return value.where if isinstance(value, Located) else fallback
