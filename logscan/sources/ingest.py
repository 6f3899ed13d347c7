"""Read a whole bundle into the event, facts and ingest-error frames.

This is the only place that connects :mod:`logscan.bundle` (where the files are) with
:mod:`logscan.sources` (how each kind is parsed). Every file goes through the same guarded
path: read, gunzip if needed, pick a parser, parse; anything that fails becomes a row of
``ingest_errors`` and the loop moves on, so one broken file never costs the others.
"""

from __future__ import annotations

import os
from collections import Counter, deque
from collections.abc import Collection, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import polars as pl

from ..errors import BundleError, IngestError
from ..frames import EVENT_SCHEMA, FACT_SCHEMA, INGEST_ERROR_SCHEMA, TimeBasis, concat, conform, empty
from ..io import redact
from ..io.bundle import Bundle, Limits
from . import Parsed, SourceFile, SourceSpec, reading, registry
from .grep import Grep


@dataclass
class LoadedBundle:
    """Everything logscan read from one bundle. Diagnosis and reports start from here."""

    name: str  # the bundle's own name (folder or archive name)
    path: str
    events: pl.DataFrame
    facts: pl.DataFrame
    ingest_errors: pl.DataFrame
    coverage: dict = field(default_factory=dict)
    #: Events of grep-first files counted but not parsed (``load(grep=...)``); 0 otherwise.
    unparsed_events: int = 0

    @property
    def vm(self) -> str:
        """The VM's best name: its VM name or hostname from the files, else the bundle's name."""
        ident = self.identity
        return ident.get("vm_name") or ident.get("hostname") or self.name

    @property
    def identity(self) -> dict[str, str]:
        """hostname / vm_name / vm_id / computer as the files state them (first seen wins)."""
        vm = self.facts.filter(pl.col("subject") == "vm")
        out: dict[str, str] = {"bundle": self.name}
        for key, value in vm.select("key", "value").iter_rows():
            if value and key not in out:
                out[key] = value
        return out


def load(
    path: str | os.PathLike | Bundle,
    *,
    limits: Limits | None = None,
    platform: str | None = None,
    grep: Mapping[str, Grep] | None = None,
    drop: Collection[str] = (),
) -> LoadedBundle:
    """Read the bundle at ``path`` into frames: a folder, an archive, a single file (its kind
    found by content), ``-`` for standard input, or an already open ``Bundle`` (``scan --live``).

    ``grep`` (source name → :class:`.grep.Grep`, made by :func:`logscan.rules.grep.grep_plan`)
    parses only the records of big logs a scan reads (issue 13's grep-first scan); the
    default parses everything, as ``timeline`` and the Python API need.

    ``drop`` names event columns left null: each file's are dropped as soon as it is parsed
    (before masking and concatenation). ``timeline`` without ``--all-columns`` drops ``text``
    (the record as written, as big as the bundle) and ``time_raw``, which it never writes.

    >>> b = load("samples/linux-healthy")          # doctest: +SKIP
    >>> b.events.select("time", "level", "message").head()  # doctest: +SKIP
    """
    if isinstance(path, Bundle):
        with path as bundle:
            return load_bundle(bundle, path=str(bundle.root), platform=platform, grep=grep, drop=drop)
    with Bundle.open(path, limits) as bundle:
        return load_bundle(bundle, path=str(path) if str(path) == "-" else str(Path(path)), platform=platform, grep=grep, drop=drop)


def load_bundle(
    bundle: Bundle, *, path: str = "", platform: str | None = None, grep: Mapping[str, Grep] | None = None, drop: Collection[str] = ()
) -> LoadedBundle:
    """Read an opened :class:`Bundle` (see :func:`load`)."""
    events: list[pl.DataFrame] = []
    facts: list[pl.DataFrame] = []
    errors: list[dict] = []
    files_per_source: Counter[str] = Counter()
    unparsed: Counter[str] = Counter()  # events of grep-first files left unparsed, per source
    unrecognised: list[str] = []
    files: list[dict] = []
    # Files are read one at a time (archives are not thread-safe) and parsed on a small
    # thread pool: parsing is polars work that releases the GIL, so the cores share the
    # files. At most a few files are in flight, which bounds memory; results are taken in
    # bundle order, so the output does not depend on timing.
    workers = _parse_workers()
    plans = grep or {}
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending: deque[Future] = deque()

        def collect(fut: Future) -> None:
            read, results = fut.result()
            errors.extend(read.errors)
            files.extend(read.coverage)
            if read.unrecognised:
                unrecognised.append(read.display)
            for job, (parsed, errs) in results:
                files_per_source[job.spec.name] += 1
                errors.extend(errs)
                if parsed is None:
                    continue
                shift = _shift(job.first)
                if parsed.total_events is not None:
                    unparsed[job.spec.name] += parsed.total_events - (parsed.events.height if parsed.events is not None else 0)
                if parsed.events is not None and parsed.events.height:
                    events.append(parsed.events.with_columns(shift) if job.first else parsed.events)
                if parsed.facts is not None and parsed.facts.height:
                    facts.append(parsed.facts.with_columns(shift) if job.first else parsed.facts)
                for e in parsed.errors:
                    line = e.get("line")
                    errors.append({"file": job.src.display, "source": job.spec.name, **e, "line": line + job.first if line else line})

        # Only reading touches the bundle (archives are not thread-safe); gunzip, decoding,
        # sniffing and parsing run on the pool, a few files at a time (bounded memory), and
        # results are taken in bundle order, so the output does not depend on timing.
        for member in bundle.members():
            raw = reading.read_member(bundle, member)
            if isinstance(raw, reading.Read):
                raw.display = member.display
                done: Future = Future()
                done.set_result((raw, []))
                pending.append(done)
            else:
                pending.append(pool.submit(_read_and_parse, bundle, member, raw, plans, drop))
            while len(pending) > workers:
                collect(pending.popleft())
        while pending:
            collect(pending.popleft())
        errors.extend(bundle.errors)
        name = bundle.name
    if bundle.single and not files_per_source:
        # One file that no kind claims: say what it looks like rather than report nothing.
        what = next((f.get("what") for f in files if f.get("what")), None) or next((e["detail"] for e in errors), "nothing readable")
        raise BundleError(f"{bundle.root.name}: not a folder, archive or log file logscan recognises ({what})")

    # Events were masked file by file (``_parse_one``): masking is row by row, so the result is
    # the same as masking the whole frame, without a second copy of every text column.
    ev = _order(events)
    fa = redact.facts(concat(facts, FACT_SCHEMA))
    err = pl.DataFrame(errors, schema=INGEST_ERROR_SCHEMA) if errors else empty(INGEST_ERROR_SCHEMA)
    err = err.with_columns(pl.col("detail").map_batches(redact.series, return_dtype=pl.String))
    cov = coverage(files_per_source, ev, platform or detect_platform(files_per_source), unrecognised, unparsed)
    cov["files"] = files
    return LoadedBundle(
        name=name, path=path or str(bundle.root), events=ev, facts=fa, ingest_errors=err, coverage=cov, unparsed_events=sum(unparsed.values())
    )


def _shift(first: int) -> pl.Expr:
    """Lines of a part of a pasted text, counted from the start of the whole text."""
    return pl.col("line") + first


def _parse_workers() -> int:
    env = os.environ.get("LOGSCAN_PARSE_THREADS")
    if env and env.isdigit() and int(env) > 0:
        return int(env)
    # One more than the cores: each file's parse mixes Python (holding the GIL) with polars
    # work (releasing it), so a third thread fills the gaps (bench bundle on 2 cores: 1.7 s
    # with 2 threads, 1.5 s with 3 or 4).
    return max(2, min(4, (os.cpu_count() or 1) + 1))


def _read_and_parse(
    bundle: Bundle, member, data: bytes, plans: Mapping[str, Grep], drop: Collection[str] = ()
) -> tuple[reading.Read, list]:
    """One member from its stored bytes to parsed frames (runs on the pool)."""
    read = reading.prepare_data(bundle, member, data)
    read.display = member.display
    return read, [
        (job, _parse_one(_dropping(job.spec, drop) if drop else job.spec, job.src, job.src.display, plans.get(job.spec.name)))
        for job in read.jobs
    ]


def _dropping(spec: SourceSpec, drop: Collection[str]) -> SourceSpec:
    """``spec`` whose parsers drop the ``drop`` columns from their events (``load(drop=...)``);
    facts are taken from the events before, so they are the same."""
    def without(parsed: Parsed) -> Parsed:
        if parsed.events is not None:
            parsed.events = parsed.events.drop(drop, strict=False)
        return parsed

    grep = spec.parse_grep
    return replace(spec, parse=lambda f: without(spec.parse(f)), parse_grep=grep and (lambda f, plan: without(grep(f, plan))))


def _parse_one(spec: SourceSpec, src: SourceFile, display: str, plan: Grep | None = None) -> tuple[Parsed | None, list[dict]]:
    """Run one parser (its grep-first form when there is a plan for its source); anything it
    raises becomes an ingest-error row, never an exception."""
    errs: list[dict] = []
    try:
        parsed = spec.parse_grep(src, plan) if plan is not None and spec.parse_grep is not None else spec.parse(src)
    except IngestError as exc:
        return None, [exc.as_row(display, spec.name)]
    except Exception as exc:  # a parser bug must not cost the rest of the bundle
        return None, [
            {"file": display, "source": spec.name, "kind": "parser-bug", "detail": f"{type(exc).__name__}: {exc}", "line": None}
        ]
    if parsed.events is not None and parsed.events.height:
        parsed.events = redact.events(conform(parsed.events, EVENT_SCHEMA))
        if plan is not None:
            # The kept records' strings are views into the whole file's buffers (polars keeps
            # a filtered string column's buffers alive): copy out what is kept, so a big log's
            # memory is released as soon as it is parsed (single-threaded load of the bench bundle: peak RSS 540 -> 503 MiB).
            parsed.events = parsed.events.shrink_to_fit()
    # Only a file the parser read as text says how it was decoded (NULs removed, Latin-1 bytes,
    # BOM-less UTF-16); asking ``src.decoded`` here would decode binaries such as .evtx.
    decoded = src.__dict__.get("decoded")
    if decoded is not None and decoded.notes:
        errs.append(
            {"file": display, "source": spec.name, "kind": "decoded", "detail": f"read as {decoded.encoding}; " + "; ".join(decoded.notes), "line": None}
        )
    # The file's text, lines and bytes are not needed once parsed (results wait in a queue).
    src.__dict__.pop("lines", None)
    src.__dict__.pop("decoded", None)
    src.data = b""
    return parsed, errs


def _order(ev: pl.DataFrame | list[pl.DataFrame]) -> pl.DataFrame:
    """Order events by time, keeping each file's own order for equal or missing times.

    Records without a time of their own take the time of the record before them in the same
    file (then after), marked ``inherited``, so they sort where they were written.

    Rotated logs usually do not overlap: when each file's run of rows is already in time order
    and the runs' spans are disjoint, the order is a permutation of whole runs (no row sort,
    no gather of every column); otherwise a stable sort on time. Both give the same frame.

    Given the list of the files' frames, it concatenates and empties it: the input is then
    held here only. When each frame is one file and no file has two frames (every bundle but
    a paste cut into parts of one kind), the times are filled frame by frame, before the
    concatenation: the same fill as one window over ``file``, without hashing every row's
    file name (bench bundle: 120 ms -> 2 ms).
    """
    unsorted = False
    if isinstance(ev, list):
        frames = ev
        if _one_file_each(frames):
            filled = [_fill_times(f) for f in frames]
            # A file out of order within is no run a permutation can move: skip the check.
            back = (pl.col("time").diff().dt.total_microseconds() < 0).any()
            unsorted = any(f.height > 1 and bool(f.select(back).item()) for f in filled)
            ev = concat(filled, EVENT_SCHEMA)
            filled.clear()
            frames.clear()
        else:
            ev = concat(frames, EVENT_SCHEMA)
            frames.clear()
            ev = _fill_times(ev, over=True)
    else:
        ev = _fill_times(ev, over=True)
    if not ev.height:
        return ev
    runs = None if unsorted else _runs_in_order(ev)
    if runs is not None:
        return ev if runs == sorted(runs) else pl.concat([ev.slice(a, n) for a, n in runs])
    # A stable sort on time alone keeps file order for ties: same result as sorting on
    # (time, _k), without the second key that makes polars' multi-column sort ~8x slower.
    idx = ev.select(pl.int_range(pl.len(), dtype=pl.UInt32).sort_by("time", nulls_last=True, maintain_order=True)).to_series()
    # Column by column, each freed as its sorted copy is made (the peak is a couple of columns
    # more, not a second copy of every event: one select of every gather is 25% faster but
    # +100 MiB of peak RSS on the bench bundle); string columns are views, so a gather copies
    # 16 bytes a row, not the text. Each column is made one chunk first: a gather across the
    # files' chunks costs twice the rechunk and a one-chunk gather together. Two threads
    # share the columns (polars releases the GIL).
    names = list(ev.columns)
    cols = {c.name: c for c in ev.get_columns()}
    del ev  # the columns are held in ``cols`` only (unless the caller holds the frame)

    def sorted_column(name: str) -> pl.Series:
        return cols.pop(name).rechunk().gather(idx)

    with ThreadPoolExecutor(max_workers=2) as pool:
        return pl.DataFrame(list(pool.map(sorted_column, names)))


def _one_file_each(frames: list[pl.DataFrame]) -> bool:
    """Whether every frame holds one file's rows and no two frames the same file."""
    names = []
    for f in frames:
        if not f.height:
            continue
        col = f["file"]
        first = col[0]
        if first is None or col.null_count() or not bool((col == first).all()):
            return False
        names.append(first)
    return len(set(names)) == len(names)


def _fill_times(ev: pl.DataFrame, *, over: bool = False) -> pl.DataFrame:
    """Untimed records take the time of the record before them in their file (then after),
    ``time_basis`` ``inherited``; ``over``: the frame holds several files (else one)."""
    if not ev.height or not ev["time"].null_count():
        return ev
    filled = pl.col("time").forward_fill().backward_fill()
    if over:
        ev = ev.with_columns(_k=pl.int_range(pl.len()))
        filled = filled.over("file", order_by="_k")
    ev = ev.with_columns(
        time_basis=pl.when(pl.col("time").is_null() & filled.is_not_null())
        .then(pl.lit(TimeBasis.INHERITED))
        .otherwise(pl.col("time_basis")),
        time=filled,
    )
    return ev.drop("_k") if over else ev


def _runs_in_order(ev: pl.DataFrame) -> list[tuple[int, int]] | None:
    """(offset, length) of the runs of rows of one file, in the order a stable sort on time
    (nulls last) would put them, when that sort moves whole runs only; else None.

    It does when every file is one run, sorted within, and each run ends before the next one
    (in time order) starts; equal times at a seam are fine when the runs keep their order.
    A file without any time (all null after filling) goes last, in bundle order."""
    t = pl.col("time")
    runs = (
        ev.select(_run=(pl.col("file") != pl.col("file").shift()).fill_null(True).cum_sum(), file=pl.col("file"), time=t,
                  _up=(t.diff().dt.total_microseconds() >= 0).fill_null(True) | t.is_null())
        .with_row_index("_i")
        .group_by("_run", maintain_order=True)
        .agg(pl.col("file").first(), pl.col("_i").first().alias("a"), pl.len().alias("n"), t.min().alias("lo"), t.max().alias("hi"),
             t.null_count().alias("nulls"), pl.col("_up").slice(1).all().alias("up"))
    )
    if runs["file"].n_unique() < runs.height or not runs["up"].all():
        return None
    if ((runs["nulls"] > 0) & (runs["nulls"] < runs["n"])).any():
        return None
    timed = runs.filter(pl.col("nulls") == 0).with_row_index("_o").sort("lo", "_o")
    seam = timed.select(prev_hi=pl.col("hi").shift(), prev_o=pl.col("_o").shift(), lo="lo", o="_o").slice(1)
    if seam.filter((pl.col("prev_hi") > pl.col("lo")) | ((pl.col("prev_hi") == pl.col("lo")) & (pl.col("prev_o") > pl.col("o")))).height:
        return None
    untimed = runs.filter(pl.col("nulls") > 0)
    return [*zip(timed["a"].to_list(), timed["n"].to_list(), strict=True), *zip(untimed["a"].to_list(), untimed["n"].to_list(), strict=True)]


def detect_platform(files_per_source: Counter[str]) -> str:
    specs = {s.name: s for s in registry()}
    win = sum(n for s, n in files_per_source.items() if specs.get(s) and specs[s].platform == "windows")
    lin = sum(n for s, n in files_per_source.items() if specs.get(s) and specs[s].platform == "linux")
    if win and not lin:
        return "windows"
    if lin and not win:
        return "linux"
    return "mixed" if win and lin else "unknown"


def coverage(
    files_per_source: Counter[str], events: pl.DataFrame, platform: str, unrecognised: list[str], unparsed: Counter[str] | None = None
) -> dict:
    """What was checked: sources present (files, events), expected sources missing.

    ``unparsed`` counts the events grep-first files hold beyond those parsed, so the counts
    are those of a full parse."""
    counts = dict(events.group_by("source").len().iter_rows()) if events.height else {}
    unparsed = unparsed or Counter()
    present = {s: {"files": n, "events": int(counts.get(s, 0)) + unparsed[s]} for s, n in sorted(files_per_source.items())}
    expected = [
        s.name
        for s in registry()
        if s.expected and (s.platform == platform or (platform in ("mixed", "unknown") and s.platform == "linux"))
    ]
    span = events.select(pl.col("time").min().alias("first"), pl.col("time").max().alias("last")).row(0) if events.height else (None, None)
    return {
        "platform": platform,
        "sources": present,
        "missing": [s for s in expected if s not in present],
        "unrecognised_files": len(unrecognised),
        "first_event": span[0].isoformat() if span[0] else None,
        "last_event": span[1].isoformat() if span[1] else None,
    }
