"""Fleets: many bundles scanned in parallel (local processes or Dask), stored as Parquet,
summarised, and read back (:func:`logscan.fleet.read.read_batch`)."""
