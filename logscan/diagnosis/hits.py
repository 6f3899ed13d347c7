"""All evidence as one frame of hits: signatures over events, checks over facts, and the
correlations that attach related records."""

from __future__ import annotations

from datetime import datetime

import polars as pl

from ..rules.checks import HIT_SCHEMA, run_checks
from ..rules.signatures import evaluate, load_signatures
from .correlate import link_wer


def hits_for(bundle, at: datetime | None = None, signatures=None) -> pl.DataFrame:
    """One row per (hit, cause) with the signature's or check's weight (``HIT_SCHEMA``)."""
    sigs = signatures if signatures is not None else load_signatures()
    meta = pl.DataFrame(
        {
            "signature": [s.id for s in sigs],
            "cause": [list(s.causes) for s in sigs],
            "weight": [float(s.weight) for s in sigs],
        },
        schema={"signature": pl.String, "cause": pl.List(pl.String), "weight": pl.Float64},
    )
    raw = evaluate(sigs, bundle.events)
    if raw.height:
        sig_hits = raw.join(meta, on="signature", how="inner").explode("cause").with_columns(note=pl.lit(None, pl.String))
        sig_hits = sig_hits.select(list(HIT_SCHEMA)).cast(HIT_SCHEMA)  # type: ignore[arg-type]
    else:
        sig_hits = pl.DataFrame(schema=HIT_SCHEMA)
    chk = run_checks(bundle.facts, bundle.events, at)
    return link_wer(pl.concat([sig_hits, chk], how="vertical"), bundle.events)
