"""Columns every Windows event form shares: the source name, levels and export dates.

The exports (:mod:`event_exports <logscan.sources.event_exports>`), the pasted forms
(:mod:`event_text <logscan.sources.event_text>`) and the XML reader both use
(:mod:`_event_xml <logscan.sources._event_xml>`) read levels and dates the same way; keeping
those rules here lets each of them import this module instead of one another.
"""

from __future__ import annotations

import polars as pl

from ..frames import TimeBasis, normalise_level
from .base import utc

#: The source name of every event read from an export or a paste (signatures scope to it).
NAME = "event_export"
LEVEL_NUMBERS = {"0": "INFO", "1": "CRITICAL", "2": "ERROR", "3": "WARNING", "4": "INFO", "5": "VERBOSE"}
# Localized level names seen in Event Viewer exports (en, de, fr, es, it, nl, pt).
LEVEL_NAMES = {
    "INFORMATION": "INFO", "INFORMATIONEN": "INFO", "INFORMACIÓN": "INFO", "INFORMAZIONI": "INFO",
    "INFORMATIE": "INFO", "INFORMAÇÕES": "INFO", "WARNUNG": "WARNING", "AVERTISSEMENT": "WARNING",
    "ADVERTENCIA": "WARNING", "AVVISO": "WARNING", "WAARSCHUWING": "WARNING", "AVISO": "WARNING",
    "FEHLER": "ERROR", "ERREUR": "ERROR", "ERRORE": "ERROR", "FOUT": "ERROR", "ERRO": "ERROR",
    "KRITISCH": "CRITICAL", "CRITIQUE": "CRITICAL", "CRÍTICO": "CRITICAL", "CRITICO": "CRITICAL",
    "KRITIEK": "CRITICAL", "AUSFÜHRLICH": "VERBOSE", "COMMENTAIRES": "VERBOSE", "DETALLADO": "VERBOSE",
    "DETTAGLIATO": "VERBOSE", "UITGEBREID": "VERBOSE", "DETALHADO": "VERBOSE",
}
DATE_FORMATS = (
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%d/%m/%Y %H:%M:%S",
    "%d.%m.%Y %H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y/%m/%d %H:%M:%S",
    "%m/%d/%Y %H:%M:%S",
    "%d-%m-%Y %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
)


def event_level(expr: pl.Expr) -> pl.Expr:
    """Numeric (System/Level) or localized level names onto logscan's levels."""
    s = expr.cast(pl.String).str.strip_chars()
    return (
        pl.when(s.str.contains(r"^\d+$"))
        .then(s.replace_strict(LEVEL_NUMBERS, default=None, return_dtype=pl.String))
        .otherwise(normalise_level(s.str.to_uppercase().replace(LEVEL_NAMES)))
    )


def event_times(raw: pl.Expr, frame: pl.DataFrame, column: str) -> list[pl.Expr]:
    """``time`` and ``time_basis`` from export dates: zone-marked → UTC, otherwise the file's
    best-parsing local format, marked local-assumed-utc."""
    s = raw.str.strip_chars()
    zoned = s.str.contains(r"(?:Z|[+-]\d\d:?\d\d)$")
    bare = s.str.replace(r"(?:Z|[+-]\d\d:?\d\d)$", "").str.replace(r"(\.\d{1,9})\d*$", "$1")
    candidates = [bare.str.strptime(pl.Datetime("us"), f, strict=False, exact=True) for f in DATE_FORMATS]
    counts = frame.select([c.is_not_null().sum().alias(str(i)) for i, c in enumerate(candidates)]).row(0) if frame.height else ()
    best = max(range(len(candidates)), key=lambda i: (counts[i], -i)) if counts else 0
    # Zone-marked times: offsets other than UTC are applied.
    offset = s.str.extract(r"([+-]\d\d):?(\d\d)$", 1).cast(pl.Int64, strict=False)
    minutes = s.str.extract(r"[+-]\d\d:?(\d\d)$", 1).cast(pl.Int64, strict=False)
    shift = pl.duration(minutes=(offset * 60 + offset.sign() * minutes).fill_null(0))
    iso = bare.str.replace("T", " ").str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S%.f", strict=False)
    time = pl.when(zoned).then(iso - shift).otherwise(candidates[best])
    basis = (
        pl.when(time.is_null())
        .then(pl.lit(TimeBasis.NONE))
        .when(zoned)
        .then(pl.lit(TimeBasis.UTC))
        .otherwise(pl.lit(TimeBasis.LOCAL_ASSUMED_UTC))
    )
    return [utc(time).alias("time"), basis.alias("time_basis"), raw.alias("time_raw")]
