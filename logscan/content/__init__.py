"""Azure knowledge as data, shipped with the package and validated when loaded.

``knowledge/`` (causes, error codes, extension status codes), ``signatures/`` (families of log
messages with their examples). The engine reads these files; no Azure fact lives in Python.
"""

from __future__ import annotations

from importlib import resources
from importlib.abc import Traversable


def path(*parts: str) -> Traversable:
    """A shipped content file or folder (works from a checkout and from a wheel)."""
    node = resources.files(__name__)
    for p in parts:
        node = node / p
    return node
