"""All evidence as one frame of hits: signatures over events, checks over facts, and the
correlations that attach related records."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import polars as pl

from ..rules.checks import HIT_SCHEMA, run_checks
from ..rules.correlate import correlate
from ..rules.signatures import evaluate, load_signatures


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
    # Checks read facts (mostly Python); signatures are polars work that releases the GIL: the
    # checks run on a second thread meanwhile.
    pool = ThreadPoolExecutor(max_workers=1)
    checked = pool.submit(run_checks, bundle, at)
    pool.shutdown(wait=False)
    raw = evaluate(sigs, bundle.events)
    if raw.height:
        sig_hits = raw.join(meta, on="signature", how="inner").explode("cause").with_columns(note=pl.lit(None, pl.String))
        sig_hits = sig_hits.select(list(HIT_SCHEMA)).cast(HIT_SCHEMA)  # type: ignore[arg-type]
    else:
        sig_hits = pl.DataFrame(schema=HIT_SCHEMA)
    chk = checked.result()
    return correlate(pl.concat([sig_hits, chk], how="vertical"), bundle.events)
