"""Lines that are ERROR/WARNING by level but known to be harmless for backups.

They are kept out of the *unexplained* lines (and so out of the summary's templates): a line
every VM shows, such as waagent's "Dhcp client is not running.", buries the lines that need a signature. Patterns are matched
case-insensitively against the record's message; add one only with a reason beside it.
"""

from __future__ import annotations

import polars as pl

#: (regex, why it is harmless).
BENIGN: tuple[tuple[str, str], ...] = (
    (r"^Dhcp client is not running\.?", "waagent's dhclient probe; logged on healthy VMs (corpus: healthy-agent21-...-dhclient-spam)"),
)

_PATTERN = "(?i)(" + "|".join(p for p, _ in BENIGN) + ")"


def is_benign(message: pl.Expr) -> pl.Expr:
    """True for known-harmless lines (vectorised; null messages are not benign)."""
    return message.str.contains(_PATTERN).fill_null(False)
