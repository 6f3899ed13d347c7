"""YAML read with its nodes kept, so every content error can point to file:line:col.

Signatures, checks and correlations are all validated this way: :class:`PositionedYaml`
yields each top-level item with its node, and :meth:`PositionedYaml.error` turns a node (or
an index into the text) into a :class:`~logscan.errors.SignatureError` whose message starts
with ``file:line:col``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import yaml

from ..errors import SignatureError

KeyNodes = dict[Any, tuple[yaml.Node, yaml.Node]]


class PositionedYaml:
    """One YAML text and its file name; errors carry file:line:col."""

    def __init__(self, text: str, file: str):
        self.text, self.file = text, file

    def error(self, message: str, node: yaml.Node | None = None, index: int | None = None) -> SignatureError:
        if index is None and node is not None:
            index = node.start_mark.index
        if index is None:
            return SignatureError(message, file=self.file)
        line = self.text.count("\n", 0, index) + 1
        col = index - (self.text.rfind("\n", 0, index) + 1) + 1
        return SignatureError(message, file=self.file, line=line, col=col)

    def items(self) -> Iterator[tuple[Any, yaml.Node]]:
        """Every top-level item with its node: a document, or each entry of a list document."""
        loader = None
        try:
            loader = yaml.SafeLoader(self.text)  # raises on characters YAML does not allow
            while loader.check_node():
                node = loader.get_node()
                data = loader.construct_document(node)
                if data is None:
                    continue
                if isinstance(data, list):
                    yield from zip(data, node.value, strict=True)
                else:
                    yield data, node
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            idx = mark.index if mark is not None else None
            raise self.error(f"YAML: {exc.problem or exc.context}", index=idx) from None
        except yaml.YAMLError as exc:
            raise self.error(f"YAML: {exc}") from None
        finally:
            if loader is not None:
                loader.dispose()

    @staticmethod
    def keys(node: yaml.MappingNode) -> KeyNodes:
        """``{key: (key node, value node)}``; a missing key points at the mapping itself."""
        # Keys with no node of their own (a null key ``?``, keys merged in by ``<<``) point at
        # the mapping itself, so an error about them still has a position.
        keys: KeyNodes = defaultdict(lambda: (node, node))
        keys.update({k.value: (k, v) for k, v in node.value})
        return keys

    def string(self, data: dict, keys: KeyNodes, name: str, default: str | None = None) -> str:
        if name not in data:
            return default or ""
        v = data[name]
        if not isinstance(v, str) or not v.strip():
            raise self.error(f"{name} must be a non-empty string", keys[name][1])
        return v

    def strings(self, data: dict, keys: KeyNodes, name: str, allow_scalar: bool = False) -> tuple[str, ...]:
        if name not in data or data[name] is None:
            return ()
        v, node = data[name], keys[name][1]
        if allow_scalar and isinstance(v, (str, int)):
            return (str(v),)
        if not isinstance(v, list):
            raise self.error(f"{name} must be a list", node)
        out = []
        for item, item_node in zip(v, node.value, strict=True):
            if isinstance(item, bool) or not isinstance(item, (str, int)) or str(item).strip() == "":
                raise self.error(f"{name} items must be non-empty strings", item_node)
            out.append(str(item))
        return tuple(out)

    def item_nodes(self, keys: KeyNodes, name: str) -> list[yaml.Node]:
        """The node of each item of list ``name`` (a scalar counts as a list of one)."""
        node = keys[name][1]
        return list(node.value) if isinstance(node, yaml.SequenceNode) else [node]

    def scalar_index(self, node: yaml.ScalarNode, offset: int) -> int:
        """Index in the file of character ``offset`` of a scalar's value.

        The value is aligned with the raw text between the node's marks: every non-blank
        character of the value appears there in order (quotes, escapes, block indentation
        and folded line breaks are what is skipped), which handles plain, quoted, literal
        (``|``) and folded (``>``) scalars alike.
        """
        value, raw = node.value, self.text
        start, end = node.start_mark.index, node.end_mark.index
        p = start
        if node.style in ("|", ">"):
            nl = raw.find("\n", start, end)
            p = nl + 1 if nl >= 0 else end
        elif node.style in ("'", '"'):
            p = start + 1
        pos = p
        for c in value[: max(0, offset) + 1]:
            if c.isspace():
                pos = p
                if p < end and raw[p].isspace():
                    p += 1
            else:
                q = raw.find(c, p, end)
                if q >= 0:
                    pos, p = q, q + 1
                else:
                    pos = p
        if offset >= len(value):  # the end of the condition: just after its last character
            pos = max(start, min(p, end))
        return pos
