"""EVTX records rendered as XML into event-frame columns with polars expressions.

Both engines go through it; split from :mod:`.evtx` (engines, errors, the one interface) so
that neither module outgrows the size limit. What a batch costs is polars' regex work per row
(~0.3 µs per System field, ~2.5 µs for the data items of a 1 KB record, on one core; the two
queries run side by side on two) plus a fixed ~3.5 ms (regex compilation, plan execution),
which is why batches are large: nothing is grouped or joined.

Why XML and not ``records_json()``: both engines render XML, so one vectorised polars pipeline
(anchored ``str.extract`` per System field, ``extract_all`` for ``<Data>``) serves both, and
the XML is what ``text`` quotes as evidence anyway. Values are read from the XML as text, so
string-typed System values (forwarded or re-rendered logs: ``"EventID":"1151"``) need no
special case, and ``EventID`` with ``Qualifiers`` is just the element text, masked to 16 bits.
"""

from __future__ import annotations

import functools

import polars as pl

from ..frames import DATA_STRUCT, EVENT_SCHEMA, TimeBasis, empty
from ._formats import format_facts
from .base import utc

# System/Level numbers → levels: content/formats/windows-events.yaml (shared with event_exports).
LEVEL_FORMAT = "windows_events"

# One pattern per System field, each with a literal prefix the regex engine jumps to: several
# small patterns are much faster in polars than one pattern with lazy gaps. Both engines write
# double-quoted attributes with Name first on <Provider>.
SYSTEM_FIELDS: dict[str, str] = {
    "_name": r'<Provider Name="([^"]*)"',
    "_esn": r'<Provider [^>]*EventSourceName="([^"]*)"',
    "_event_id": r"<EventID[^>]*>([^<]*)</EventID>",
    "_level": r"<Level>([^<]*)</Level>",
    "time_raw": r'<TimeCreated SystemTime="([^"]*)"',
    "_record_id": r"<EventRecordID>([^<]*)</EventRecordID>",
    "channel": r"<Channel>([^<]*)</Channel>",
    "computer": r"<Computer>([^<]*)</Computer>",
}
# <Data Name="x">v</Data>, <Data>v</Data>, <Data Name="x"/>: the whole item, then name and value.
DATA_ITEM = r'<Data(?: Name="[^"]*")?(?:/>|>[^<]*</Data>)'
DATA_NAME = r'^<Data Name="([^"]*)"'
# Leaf elements of UserData (no child elements): <param1>v</param1>, <x/>.
LEAF = r"<[A-Za-z_][A-Za-z0-9_.:-]*(?:[ \t\r\n][^>]*)?(?:/>|>[^<]*</[^>]+>)"
LEAF_NAME = r"^<([A-Za-z_][A-Za-z0-9_.:-]*)"
USER_OPEN, USER_CLOSE = "<UserData>", "</UserData>"
DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'
ENTITIES = (["&lt;", "&gt;", "&quot;", "&apos;", "&#39;", "&amp;"], ["<", ">", '"', "'", "'", "&"])


# ---------------------------------------------------------------------------------------
# XML records → event frame (vectorised)
# ---------------------------------------------------------------------------------------


def _python_evtx_arrays(items: pl.LazyFrame) -> pl.LazyFrame:
    """Split python-evtx's string-array ``<Data>`` (``&lt;string&gt;a&lt;/string&gt;``...) into items."""
    arr = pl.col("value").str.starts_with("&lt;string&gt;")
    split = (
        items.filter(arr)
        .with_columns(value=pl.col("value").str.extract_all(r"&lt;string&gt;[^<]*?&lt;/string&gt;"))
        .explode("value")
        .with_columns(value=pl.col("value").str.strip_prefix("&lt;string&gt;").str.strip_suffix("&lt;/string&gt;"))
    )
    return pl.concat([items.filter(~arr), split]).sort("_r", "_i", maintain_order=True)


def _items(df: pl.LazyFrame, column: str, whole: str, name: str, close: str | None) -> pl.LazyFrame:
    """Explode the ``whole`` matches of ``column`` into ``_r``, ``name``, ``value`` rows (in order).

    The value is the text after the first ``>`` up to the closing tag (``close``, or any
    ``</...>`` when None): a split is cheaper per item than a second regex. (A slice at
    ``str.find``'s offset would be wrong: ``find`` counts bytes and ``slice`` characters, so a
    non-ASCII name such as ``<Data Name="é">`` cut the value's first characters.)
    """
    m = df.select("_r", pl.col(column).str.extract_all(whole).alias("_m")).explode("_m").drop_nulls("_m")
    body = pl.col("_m").str.splitn(">", 2).struct.field("field_1")
    # Without ``close`` (UserData leaves) the value is the text before the closing tag: the
    # only "<" left after the start tag, as the leaf pattern allows none in the text.
    value = body.str.strip_suffix(close) if close else body.str.splitn("<", 2).struct.field("field_0")
    return m.select("_r", pl.col("_m").str.extract(name, 1).alias("name"), value.alias("value"))


def unescape(expr: pl.Expr) -> pl.Expr:
    """XML entities replaced.

    One Aho-Corasick pass leaves a value without ``&`` as it is; guarding it with a ``contains``
    test cost more, because ``when``/``then`` computes both branches on every row anyway.
    """
    return expr.str.replace_many(*ENTITIES)


def _user_data(xml: pl.Expr) -> pl.Expr:
    """The text inside the first ``<UserData>`` up to the next ``</UserData>``; null without both.

    What ``(?s)<UserData>(.*?)</UserData>`` extracts, at a tenth of its cost (the lazy ``.*?``
    capture runs in the regex crate's slowest engine): two literal finds and byte slices.
    ``str.find`` counts bytes, so the slicing is done on the bytes (``bin.slice``), never with
    ``str.slice``, which counts characters; both cuts fall next to ASCII markup, so the bytes
    between them are whole UTF-8.
    """
    tail = xml.cast(pl.Binary).bin.slice(xml.str.find(USER_OPEN, literal=True) + len(USER_OPEN)).cast(pl.String)
    return tail.cast(pl.Binary).bin.head(tail.str.find(USER_CLOSE, literal=True)).cast(pl.String)


def _data_items(xml: pl.LazyFrame, engine: str) -> pl.LazyFrame:
    """Long frame ``_r`` (record row), ``name``, ``value`` of every data item, in record order.

    Order within a record: EventData ``<Data>`` items (named or positional, empty ones kept in
    place), then UserData leaf elements (flattened, element name as ``name``), then a non-empty
    ``<Binary>`` as ``name="Binary"`` (hex; VSS writes readable ASCII there). A value of only
    whitespace is an empty element pretty-printed by the engine and reads as "".
    """
    data = _items(xml, "_x", DATA_ITEM, DATA_NAME, "</Data>")
    # A row without the element gives null here, and nulls cost nothing downstream.
    user = xml.select("_r", _user_data(pl.col("_x")).alias("_u"))
    binary = xml.select(
        "_r", pl.lit("Binary").alias("name"), pl.col("_x").str.extract(r"<Binary>([^<]+)</Binary>", 1).alias("value")
    )
    if engine == "python-evtx":  # base64 there, hex (as Windows shows it) from evtx
        binary = binary.with_columns(pl.col("value").str.decode("base64", strict=False).bin.encode("hex").str.to_uppercase())
    out = (
        pl.concat([data, _items(user, "_u", LEAF, LEAF_NAME, None), binary.drop_nulls("value")])
        .with_columns(_i=pl.int_range(pl.len(), dtype=pl.Int64))
        .sort("_r", maintain_order=True)
    )
    if engine == "python-evtx":
        out = _python_evtx_arrays(out)
    value = pl.col("value").str.replace(r"^[ \n]+$", "")  # anchored: fails at the first other character
    return out.select("_r", unescape(pl.col("name")).alias("name"), unescape(value).alias("value"))


def part(name: pl.Expr, value: pl.Expr) -> pl.Expr:
    """One data item as it reads in ``message``: ``value`` or ``Name=value``.

    Empty values and ``Binary`` are left out of the message (they stay in ``data``).
    """
    return (
        pl.when((value == "") | (name == "Binary"))
        .then(None)
        .when(name.is_null())
        .then(value)
        .otherwise(name + "=" + value)
    )


def _lists(offsets: pl.Series, values: pl.Series) -> pl.Series:
    """``values`` cut into one list per record at ``offsets``: no group-by, no join back."""
    import pyarrow as pa

    return pl.Series(values.name, pa.LargeListArray.from_arrays(offsets.to_arrow(), values.to_arrow()))


def _tidy(part: pl.Expr) -> pl.Expr:
    r"""One message part with whitespace runs made single spaces and a leading space dropped.

    Joined with ``"; "`` and right-trimmed, these give exactly the joined parts with ``\s+``
    collapsed and trimmed: ``;`` is not whitespace, so no run crosses a separator, and the
    separator's own space absorbs a part's leading one. Done per part, it runs in the items
    query, beside the System one, instead of after both. Only runs of two and lone tabs,
    newlines, no-break spaces... are replaced: the same result as ``\s+`` → ``" "``, without a
    match (and an allocation) at every single space between two words.
    """
    return part.str.replace_all(r"\s{2,}|[^\S ]", " ").str.strip_prefix(" ")


@functools.cache
def _system_exprs(engine: str) -> tuple[tuple[pl.Expr, ...], tuple[pl.Expr, ...]]:
    """The two selects of the System query, built once per engine (building them per batch cost
    about as much as running them on a small file)."""
    # Damaged records render missing System values as empty, padded elements: read them as null.
    fields = tuple(
        pl.col("_x").str.extract(p, 1).str.strip_chars().replace("", None).alias(c) for c, p in SYSTEM_FIELDS.items() if c != "_esn"
    )
    # evtx: 2016-08-18T20:11:24.000000Z (6, 7 or 9 digits); python-evtx: 2016-08-18 20:11:24+00:00.
    raw = pl.col("time_raw")
    if engine == "python-evtx":
        raw = raw.str.replace(r"^(\d{4}-\d\d-\d\d) ", "${1}T").str.replace(r"(?:Z|[+-]00:?00)$", "Z")
    ts = raw.str.strptime(pl.Datetime("us"), "%Y-%m-%dT%H:%M:%S%.fZ", strict=False)
    out = (
        pl.col("line"),
        pl.col("_name"),
        pl.col("time_raw"),
        # The XML declaration is noise in evidence. Empty elements stay as the engine wrote them
        # (evtx: "<Data>\n    </Data>"); rewriting every record to collapse them would cost more
        # than all System fields, and the data values are cleaned per item instead.
        pl.col("_x").str.strip_prefix(DECLARATION).str.strip_chars_end().alias("text"),
        utc(ts).alias("time"),
        pl.when(ts.is_not_null()).then(pl.lit(TimeBasis.UTC)).otherwise(pl.lit(TimeBasis.NONE)).alias("time_basis"),
        pl.col("_level").replace_strict(format_facts(LEVEL_FORMAT).level_numbers, default=None, return_dtype=pl.String).alias("level"),
        unescape(pl.col("_name")).alias("provider"),
        (pl.col("_event_id").cast(pl.Int64, strict=False) & 0xFFFF).alias("event_id"),
        unescape(pl.col("channel")).alias("channel"),
        unescape(pl.col("computer")).alias("computer"),
        pl.col("_record_id").cast(pl.Int64, strict=False).alias("record_id"),
    )
    return (pl.col("line"), pl.col("_x"), *fields), out


# The start of ``message``: "provider event_id", "?" for either missing.
HEAD = pl.concat_str([pl.col("provider").fill_null("?"), pl.col("event_id").cast(pl.String).fill_null("?")], separator=" ")


def _system(df: pl.LazyFrame, engine: str) -> pl.LazyFrame:
    """Every column read from ``<System>``, and ``text``; ``_name`` null where Name is missing."""
    fields, out = _system_exprs(engine)
    return df.select(fields).select(out).with_columns(_head=HEAD)


def xml_frame(numbers: list[int], xmls: list[str], engine: str = "evtx") -> pl.DataFrame:
    """One batch of records (header record number, rendered XML) as event-frame columns.

    Two queries run together on polars' threads (``collect_all``: polars runs the expressions
    of one query one after another, so the split in two is what lets a batch use two cores): the
    System columns, and the data items (already in record order, with each item's part of
    ``message``). The items are then cut back into one list per record at offsets found by
    binary search, rather than grouped and joined back. Both queries read the record as the
    engine gave it: the declaration before it and the space after it hold no element, and it is
    stripped for ``text`` only.
    """
    if not xmls:
        return empty(EVENT_SCHEMA)
    n = len(xmls)
    xml = pl.Series("_x", xmls, dtype=pl.String)
    df = pl.LazyFrame({"line": pl.Series(numbers, dtype=pl.Int64), "_x": xml})
    items = _data_items(df.select(pl.int_range(pl.len(), dtype=pl.UInt32).alias("_r"), "_x"), engine)
    items = items.select("_r", pl.struct("name", "value").alias("data"), _tidy(part(pl.col("name"), pl.col("value"))).alias("_p"))
    # The in-memory engine: polars 2's default streaming engine costs half as much again on
    # plans like these over a few thousand rows. (Not ``collect(background=True)``: no faster,
    # and a background query dropped unfetched, say on an exception, aborts the process.)
    system, items = pl.collect_all([_system(df, engine), items], engine="in-memory")
    if system["_name"].null_count():  # EventSourceName, read only where Name is missing (rare)
        nameless = system["_name"].is_null().arg_true()
        esn = xml.gather(nameless).to_frame("_x").select(
            unescape(pl.col("_x").str.extract(SYSTEM_FIELDS["_esn"], 1).str.strip_chars().replace("", None))
        )
        system = system.with_columns(system["provider"].scatter(nameless, esn.to_series())).with_columns(_head=HEAD)
    offsets = items["_r"].search_sorted(pl.int_range(n + 1, dtype=pl.UInt32, eager=True), side="left").cast(pl.Int64)
    body = _lists(offsets, items["_p"]).list.join("; ").str.strip_chars_end(" ")
    cols = {
        "data": pl.lit(_lists(offsets, items["data"])).cast(DATA_STRUCT),
        # "head: body", or the head alone where the body is empty (null, and skipped).
        "message": pl.concat_str([pl.col("_head"), pl.when(pl.lit(body) != "").then(pl.lit(body))], separator=": ", ignore_nulls=True),
    }
    # Straight into the event schema's order and types (what conform would do, without casts).
    return system.select(
        cols.get(c, pl.col(c)).alias(c) if c in cols or c in system.columns else pl.lit(None, dtype=t).alias(c)
        for c, t in EVENT_SCHEMA.items()
    )


