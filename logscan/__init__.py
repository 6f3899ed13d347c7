"""logscan: find why Azure Backup failed from the logs collected on an Azure VM.

Python use::

    import logscan
    b = logscan.load("samples/linux-healthy")      # events, facts, ingest_errors frames
    report = logscan.scan("samples/linux-ext-disabled")  # ranked causes with evidence
"""

from __future__ import annotations

from .sources.ingest import LoadedBundle, load

__version__ = "0.1.0"


def scan(path, **kwargs):
    """Load a bundle and diagnose it (see :func:`logscan.diagnose.diagnose`)."""
    from .diagnosis import diagnose
    from .rules.grep import grep_plan

    return diagnose(load(path, grep=grep_plan(kwargs.get("signatures"))), **kwargs)


__all__ = ["LoadedBundle", "__version__", "load", "scan"]
