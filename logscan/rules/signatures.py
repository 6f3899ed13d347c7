"""Signatures: YAML data files naming a condition over events and the causes it supports.

A facade: the model is in :mod:`.model` (the file format is documented there), loading and
validation in :mod:`.loader` / :mod:`.validate` / :mod:`.yamlpos`, the condition language in
:mod:`.language`, evaluation in :mod:`.evaluate` (with :mod:`.cost` and :mod:`.temporal`) and
the self-test of each signature's examples in :mod:`.selftest`. Code elsewhere imports from
here so the split stays an implementation detail.
"""

from __future__ import annotations

from ..errors import SignatureError
from .evaluate import evaluate
from .loader import PACKAGE_DIR, load_signatures, parse_signatures
from .model import HIT_SCHEMA, LEVEL_WEIGHTS, Example, Signature
from .selftest import example_events, run_tests

__all__ = [
    "HIT_SCHEMA",
    "LEVEL_WEIGHTS",
    "PACKAGE_DIR",
    "Example",
    "Signature",
    "SignatureError",
    "evaluate",
    "example_events",
    "load_signatures",
    "parse_signatures",
    "run_tests",
]
