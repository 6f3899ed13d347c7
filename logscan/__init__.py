"""logscan: find why Azure Backup failed from the logs collected on an Azure VM.

Python use::

    import logscan
    b = logscan.load("samples/linux-healthy")      # events, facts, ingest_errors frames
    report = logscan.scan("samples/linux-ext-disabled")  # ranked causes with evidence
"""

from __future__ import annotations

import os
import sys

# polars' allocator (jemalloc; polars' own defaults: dirty pages kept 500 ms, muzzy 1 s) holds
# pages the parse threads freed while the diagnosis allocates on other threads: a scan of the
# 110 MiB bench bundle peaked at ~780 MB, ~640 MB with 200 ms, at the same speed (bench/README.md).
# polars puts its defaults before this (the last option wins) when it loads; a value the user
# set is kept.
ALLOCATOR_CONF = "dirty_decay_ms:200,muzzy_decay_ms:200"
if "polars" not in sys.modules:
    os.environ.setdefault("_RJEM_MALLOC_CONF", ALLOCATOR_CONF)

from .sources.ingest import LoadedBundle, load  # noqa: E402

__version__ = "0.1.0"


def scan(path, **kwargs):
    """Load a bundle and diagnose it (see :func:`logscan.diagnose.diagnose`)."""
    from .diagnosis import diagnose
    from .rules.grep import grep_plan

    return diagnose(load(path, grep=grep_plan(kwargs.get("signatures"))), **kwargs)


__all__ = ["LoadedBundle", "__version__", "load", "scan"]
