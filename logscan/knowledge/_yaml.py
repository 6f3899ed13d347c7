"""YAML reading that remembers where each mapping starts, so data errors can say file:line:col.

A typo in the knowledge data is a bug a contributor fixes in a text editor; pointing at the
line and column of the offending entry saves them a search through a 1000-line file.
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


def _attach(node: yaml.Node | None, value: Any, origin: str) -> Any:
    """``value`` with every mapping replaced by a :class:`Located` carrying ``node``'s mark.

    Walks the composed node tree next to the safely loaded value; where the two do not line
    up (merge keys, duplicate keys) the value is kept as loaded, just without a position.
    """
    if isinstance(node, yaml.MappingNode) and isinstance(value, dict) and len(node.value) == len(value):
        out = Located()
        out.origin = origin
        out.line, out.col = node.start_mark.line + 1, node.start_mark.column + 1
        for (_, v_node), (key, item) in zip(node.value, value.items(), strict=True):
            out[key] = _attach(v_node, item, origin)
        return out
    if isinstance(node, yaml.SequenceNode) and isinstance(value, list) and len(node.value) == len(value):
        return [_attach(n, v, origin) for n, v in zip(node.value, value, strict=True)]
    return value


#: libyaml's safe parser when installed (about 20x faster: the knowledge is loaded in every
#: batch worker), else the pure-Python one. Both only build plain data.
_SAFE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_located(text: str, origin: str) -> Any:
    """``yaml.safe_load`` whose mappings are :class:`Located` (raises ``yaml.YAMLError``).

    The text is parsed once by the safe loader into nodes (which carry positions), and the
    nodes are turned into values by the safe constructor: no tag can run code.
    """
    node = yaml.compose(text, Loader=_SAFE)
    value = yaml.constructor.SafeConstructor().construct_document(node) if node is not None else None
    return _attach(node, value, origin)


def where(value: Any, fallback: str) -> str:
    """``file:line:col`` of ``value`` when it came from :func:`load_located`, else ``fallback``."""
    return value.where if isinstance(value, Located) else fallback
