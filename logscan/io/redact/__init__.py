"""Mask secrets before anything leaves the ingest step.

Bundles carry SAS tokens (status-upload and snapshot blob URLs, also percent- or
entity-encoded inside other URLs and JSON), ``protectedSettings``, passwords and keys in
extension settings, ARM parameters, YAML and PowerShell, bearer tokens and JWTs,
``Authorization`` headers, passwords in URLs and on command lines, private keys and
certificates, and storage account keys. Reports are pasted into support cases, so secrets are
masked in the frames themselves, right after parsing: no report, Parquet file or evidence line
can hold one. The patterns live in :mod:`.rules`; base64-wrapped JSON in :mod:`.encoded`.

Masking is vectorised: only rows that contain one of a few trigger words (a case-insensitive
literal search) go through the replacement regexes.

The one secret-key policy for parsers is here too: :func:`is_secret_key` says whether a
setting's *name* makes its value secret, :func:`mask_value` applies it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import polars as pl

from . import encoded
from .rules import B64_JSON_RX, MASK, RULE_NEEDS, RULES, SECRET_KEY_RX, TRIGGER_RX, TRIGGERS, py_replacement

__all__ = [
    "MASK", "RULES", "SECRET_KEY_RX", "TRIGGERS", "events", "expr", "facts", "is_secret_key", "mask_value", "secret_setting",
    "series", "text", "text_block",
]

#: Up to this many rows with a trigger word, :func:`series` masks them one by one with ``re``.
PER_VALUE_MAX = 400
#: Strings longer than this are masked by :func:`series` (one-row column) rather than by ``re``.
LONG_TEXT = 16_384

_PY = [(re.compile(p), py_replacement(r), frozenset(needs)) for (p, r), needs in zip(RULES, RULE_NEEDS, strict=True)]
_SECRET_KEY = re.compile(SECRET_KEY_RX)
_B64_JSON = re.compile(B64_JSON_RX)
# Only these rules can span lines; the others see one line at a time in text_block().
_MULTILINE = [(rx, rep) for rx, rep, _ in _PY if "BEGIN" in rx.pattern or r"\{\s*" in rx.pattern]


def text(s: str | None) -> str | None:
    """Mask secrets in one string (for small values: facts, JSON fields, errors, reports)."""
    if not s:
        return s
    if len(s) > LONG_TEXT:
        # A whole report: the same rules in polars' linear-time engine (Python's backtracking
        # one took 0.1 s over a 100 KB JSON report).
        return series(pl.Series([s], dtype=pl.String), per_value=False)[0]
    return _text_re(s)


def _text_re(s: str) -> str:
    """:func:`text` by Python's ``re``."""
    present = _present(s)
    if not present:
        return s
    # A rule runs when the string holds one of its words; which words it holds is worked out
    # once, and again only after a rule changed the string (same as testing each rule's words
    # on the current string, at a tenth of the cost).
    for rx, rep, needs in _PY:
        if needs & present:
            new = rx.sub(rep, s)
            if new != s:
                s, present = new, _present(new)
    return encoded.mask_b64_json(s, text) if _B64_JSON.search(s) else s


def _present(s: str) -> frozenset[str]:
    """The trigger words ``s`` holds, case-insensitively."""
    low = s.lower()
    return frozenset(t for t in TRIGGERS if t in low)


def is_secret_key(name: str | None, extension: str | None = None) -> bool:
    """True when a setting or field *named* ``name`` holds a secret whatever its value.

    The one policy for every parser (``publicSettings`` keys, status fields, facts): names
    with password/secret/credential/token, account/storage/shared/SAS keys, connection
    strings, ``commandToExecute`` (CustomScript's may hold passwords) and
    ``protectedSettings``. One exception: the VMSnapshot extension's ``commandToExecute`` is
    always the word ``snapshot`` and is evidence, so ``extension`` naming it keeps the value.
    """
    if not name:
        return False
    key = str(name)
    if extension and "vmsnapshot" in extension.lower() and key.rsplit(".", 1)[-1].lower() == "commandtoexecute":
        return False
    return bool(_SECRET_KEY.search(key))


def mask_value(name: str | None, value: object, extension: str | None = None) -> str | None:
    """The value to keep for a field: :data:`MASK` when :func:`is_secret_key` says the name is
    secret, otherwise the value as a string with any secret inside it masked (:func:`text`)."""
    if value is None:
        return None
    if is_secret_key(name, extension):
        return MASK
    return text(value if isinstance(value, str) else str(value))


def _rules(e: pl.Expr) -> pl.Expr:
    for pattern, rep in RULES:
        e = e.str.replace_all(pattern, rep)
    return e


def _apply_rules(sub: pl.Series) -> pl.Series:
    """Each rule over the rows that hold one of its own literals (most rules see no row)."""
    for (pattern, rep), needs in zip(RULES, RULE_NEEDS, strict=True):
        hit = sub.str.contains_any(list(needs), ascii_case_insensitive=True).fill_null(False)
        n = int(hit.sum())
        if not n:
            continue
        if n == len(sub):
            sub = sub.str.replace_all(pattern, rep)
        else:
            idx = hit.arg_true()
            sub = sub.scatter(idx, sub.gather(idx).str.replace_all(pattern, rep))
    return sub


def expr(e: pl.Expr) -> pl.Expr:
    """Vectorised masking of a string column: only rows with a trigger word are rewritten.

    (Base64-wrapped JSON needs decoding and is handled by :func:`series` only.)
    """
    hit = e.str.contains(TRIGGER_RX)
    return pl.when(hit).then(_rules(pl.when(hit).then(e))).otherwise(e)


def series(s: pl.Series, hit: pl.Series | None = None, *, per_value: bool = True) -> pl.Series:
    """Mask a whole string column; the rules run on the trigger rows only.

    An expression evaluates every branch over every row, so on a big events frame the
    replacement regexes would scan all text; here they see the few rows with a trigger word
    and the results are put back in place. ``hit`` (optional) marks the rows already known to
    hold a trigger word; the others are clean.
    """
    if s.dtype != pl.String or not len(s):
        return s
    if hit is None:
        hit = s.str.contains(TRIGGER_RX).fill_null(False)
    if not hit.any():
        return s
    idx = hit.arg_true()
    rows = s.gather(idx)
    # Logs repeat themselves (a certificate download or a status upload logged thousands of
    # times with the same text): each distinct value is masked once and the results handed
    # back to every row holding it. Masking is a function of the value alone, so this is the
    # same as masking every row (bench bundle: 30k trigger rows, 6 distinct values).
    # The engine is chosen on the rows as before (``re`` for a few short rows), so a value is
    # masked by the same rules in the same engine whether it repeats or not.
    by_re = per_value and len(idx) <= PER_VALUE_MAX and (rows.str.len_bytes().max() or 0) <= LONG_TEXT
    uniq = rows.unique()
    if len(uniq) < len(rows):
        return s.clone().scatter(idx, rows.replace_strict(uniq, _mask_rows(uniq.clone(), by_re), return_dtype=pl.String))
    return s.clone().scatter(idx, _mask_rows(rows, by_re))


def _mask_rows(rows: pl.Series, by_re: bool) -> pl.Series:
    """Masked ``rows`` (all holding a trigger word, none null): by ``re`` value by value, or
    by the rules in polars (which scatter into ``rows``: pass a copy)."""
    if by_re:
        # A few short rows: the rules per value in ``re`` cost less than two dozen polars calls
        # over a tiny column (each pays a fixed overhead). Long values stay in polars, whose
        # engine is linear-time whatever the input.
        return pl.Series([_text_re(v) for v in rows.to_list()], dtype=pl.String)
    masked = _apply_rules(rows)
    b64 = masked.str.contains(B64_JSON_RX).fill_null(False)
    if b64.any():  # rare: decode in Python, only these rows
        masked = masked.map_elements(lambda v: encoded.mask_b64_json(v, text), return_dtype=pl.String) if b64.all() else (
            masked.scatter(b64.arg_true(), [encoded.mask_b64_json(v, text) for v in masked.filter(b64).to_list()])
        )
    return masked


def text_block(s: str) -> str:
    """Mask a whole file's text: the multi-line rules (PEM blocks, ARM parameters) over the
    whole text, then every line through :func:`series` (vectorised)."""
    low_head = "-----BEGIN" in s or '"value"' in s
    if low_head:
        for rx, rep in _MULTILINE:
            s = rx.sub(rep, s)
    lines = pl.Series(s.split("\n"), dtype=pl.String)
    return "\n".join(series(lines).to_list())


def map_data_values(col: pl.Series, fn: Callable[[pl.Series, pl.Series], pl.Series]) -> pl.Series:
    """Windows event data (lists of name/value structs) with every value replaced by
    ``fn(names, values)``; the column itself when nothing changed.

    The lists are flattened once and rebuilt only if a value changed; rows whose list was
    empty (not null) stay empty. Masking and pseudonymising both go through here.
    """
    if not len(col) or col.null_count() == len(col):
        return col
    flat = pl.DataFrame({"_g": pl.int_range(len(col), eager=True), "d": col}).explode("d")
    valid = flat["d"].is_not_null()
    st = flat["d"].struct.unnest()
    before = st["value"]
    after = fn(st["name"], before)
    if not bool((after.ne_missing(before)).any()):
        return col
    rebuilt = pl.DataFrame({"_g": flat["_g"], "name": st["name"], "value": after}).filter(valid)
    lists = rebuilt.group_by("_g", maintain_order=True).agg(pl.struct("name", "value").alias("d"))
    whole = pl.DataFrame({"_g": pl.int_range(len(col), eager=True)}).join(lists, on="_g", how="left", maintain_order="left")
    out = whole["d"].cast(col.dtype)
    return pl.select(pl.when(col.is_not_null() & out.is_null()).then(col).otherwise(out)).to_series().alias(col.name)


def _mask_data_value(names: pl.Series, values: pl.Series) -> pl.Series:
    """Values through :func:`series` (trigger rows only); secret-named items masked whole."""
    secret = names.str.contains(SECRET_KEY_RX).fill_null(False) & values.is_not_null()
    return pl.select(pl.when(secret).then(pl.lit(MASK)).otherwise(series(values))).to_series()


def _data(col: pl.Series) -> pl.Series:
    """Windows event data values masked; untouched when clean."""
    return map_data_values(col, _mask_data_value)


def _trigger_rows(s: pl.Series, where: pl.Series) -> pl.Series:
    """Rows of ``s`` holding a trigger word, searched only where ``where`` holds."""
    if not where.any():
        return pl.repeat(False, len(s), eager=True)
    if where.all():
        return s.str.contains(TRIGGER_RX).fill_null(False)
    idx = where.arg_true()
    return pl.repeat(False, len(s), eager=True).scatter(idx, s.gather(idx).str.contains(TRIGGER_RX).fill_null(False))


def events(df: pl.DataFrame) -> pl.DataFrame:
    """Mask ``text``, ``message`` and Windows event data values of an events frame."""
    if not df.height:
        return df
    text, message = df["text"], df["message"]
    text_hit = text.str.contains(TRIGGER_RX).fill_null(False)
    # A record's message is nearly always the end of its text (the header stripped): where it
    # is, a text without a trigger word has a clean message, so each line is searched once.
    # Other messages (built from event fields) are searched on their own.
    own = ~text.str.ends_with(message).fill_null(False) & message.is_not_null()  # no text (dropped): search it
    msg_hit = _trigger_rows(message, text_hit | own)
    cols = [series(text, text_hit), series(message, msg_hit)]
    if "data" in df.columns and df["data"].dtype != pl.Null:
        cols.append(_data(df["data"]).alias("data"))
    return df.with_columns(cols)


def facts(df: pl.DataFrame) -> pl.DataFrame:
    """Mask fact values: text rules everywhere, and the whole value for secret-named keys
    (the :func:`is_secret_key` policy, vectorised)."""
    if not df.height:
        return df
    key = pl.col("key")
    snapshot_cmd = pl.col("subject").str.to_lowercase().str.contains("vmsnapshot") & key.str.to_lowercase().str.ends_with(
        "commandtoexecute"
    )
    secret_key = key.str.contains(SECRET_KEY_RX).fill_null(False) & ~snapshot_cmd.fill_null(False) & pl.col("value").is_not_null()
    return df.with_columns(series(df["value"])).with_columns(
        value=pl.when(secret_key).then(pl.lit(MASK)).otherwise(pl.col("value"))
    )


#: Public-setting names whose value is withheld whole: secret names (as ``SECRET_KEY_RX``) and
#: values that hold or point at a secret (URLs/URIs carry SAS tokens, ``objectStr`` is an
#: encoded list of snapshot SAS URIs, certificates, anything "protected").
SECRET_SETTING_RX = re.compile(
    r"(?i)pass(word|wd)?|pwd|secret|token|sas|credential|connection_?string|key|uri|url|blob|cert|protected|"
    r"objectstr|command_?to_?execute"
)
#: VMSnapshot's ``commandToExecute`` is the fixed word "snapshot", kept so the operation shows.
_PLAIN_COMMAND = re.compile(r"(?i)vmsnapshot")


def secret_setting(key: str, extension: str | None = None) -> bool:
    """Whether a public extension setting's value is replaced whole by :data:`MASK`.

    The one policy for ``settings.<key>`` facts on Linux and Windows (sources call it; the
    fact-key backstop in :func:`facts` still runs after them). A value withheld here is never
    partly shown: a URL with only its ``sig=`` masked still names the account and container.
    """
    if re.fullmatch(r"(?i)command_?to_?execute", key) and extension and _PLAIN_COMMAND.search(extension):
        return False
    return bool(SECRET_SETTING_RX.search(key))
