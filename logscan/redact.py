"""Mask secrets before anything leaves the ingest step.

Bundles carry SAS tokens (status-upload and snapshot blob URLs), ``protectedSettings``,
passwords and keys in extension settings, private keys and certificates, and storage account
keys. Reports are pasted into support cases, so secrets are masked in the frames themselves,
right after parsing: no report, Parquet file or evidence line can hold one.

Masking is vectorised: only rows that contain one of a few trigger words go through the
replacement regexes.
"""

from __future__ import annotations

import re

import polars as pl

MASK = "***"

# (regex, replacement). Order matters: PEM blocks first, then key=value shapes.
RULES: list[tuple[str, str]] = [
    # PEM private keys and certificates (possibly with \n escaped inside JSON).
    (r"-----BEGIN ([A-Z0-9 ]*)-----[\s\S]*?-----END [A-Z0-9 ]*-----", r"-----BEGIN $1-----" + MASK + r"-----END $1-----"),
    # SAS query parameters: the signature and everything that identifies the grant.
    (r"(?i)([?&]|&amp;)(sig|se|st|sv|sp|spr|srt|ss|sr|skoid|sktid|skt|ske|sks|skv|sdd|sip|si)=([^&\s\"'<>\\]+)", r"$1$2=" + MASK),
    # protectedSettings in JSON (plain or escaped quotes) and in XML attributes/elements.
    (r"(?i)(\\?\"protectedSettings\\?\"\s*:\s*\\?\")[^\"\\]*(\\?\")", r"${1}" + MASK + r"${2}"),
    (r"(?i)(<protectedSettings>)[^<]*(</protectedSettings>)", r"${1}" + MASK + r"${2}"),
    # Secret-named JSON keys: "password": "...", "storageAccountKey": "...".
    (
        r"(?i)(\\?\"(?:[a-z_]*password|passwd|pwd|[a-z_]*secret|storageaccountkey|accountkey|sharedkey|privatekey|"
        r"sastoken|token|connectionstring|commandtoexecute)\\?\"\s*:\s*\\?\")[^\"\\]*(\\?\")",
        r"${1}" + MASK + r"${2}",
    ),
    # key=value forms (connection strings, conf files, command lines).
    (r"(?i)\b(AccountKey|SharedAccessKey|SharedAccessSignature|password|passwd|pwd|client_secret)=([^;&\s\"']+)", r"$1=" + MASK),
    # Bare storage account keys (64 random bytes, base64: 86 chars + "==").
    (r"\b[A-Za-z0-9+/]{86}==", MASK),
]

TRIGGERS = [
    "-----BEGIN",
    "sig=",
    "se=",
    "sv=",
    "rotectedSettings",
    "assword",
    "ASSWORD",
    "ecret",
    "ccountKey",
    "ccountkey",
    "haredAccess",
    "haredKey",
    "rivateKey",
    "oken",
    "onnectionString",
    "ommandToExecute",
    "pwd=",
    "passwd",
    "==",
]

def _py_repl(r: str) -> str:
    # polars uses $1 / ${1}; Python's re uses \g<1>.
    return re.sub(r"\$\{(\d+)\}|\$(\d+)", lambda m: "\\g<" + (m.group(1) or m.group(2)) + ">", r)


_PY = [(re.compile(p), _py_repl(r)) for p, r in RULES]


def text(s: str | None) -> str | None:
    """Mask secrets in one string (for small values: facts, JSON fields, errors)."""
    if not s:
        return s
    if not any(t in s for t in TRIGGERS):
        return s
    for rx, rep in _PY:
        s = rx.sub(rep, s)
    return s


def expr(e: pl.Expr) -> pl.Expr:
    """Vectorised masking of a string column: only rows with a trigger word are rewritten."""
    out = e
    for pattern, rep in RULES:
        out = out.str.replace_all(pattern, rep)
    return pl.when(e.str.contains_any(TRIGGERS)).then(out).otherwise(e)


def series(s: pl.Series) -> pl.Series:
    return pl.select(expr(pl.lit(s))).to_series().alias(s.name)


def events(df: pl.DataFrame) -> pl.DataFrame:
    if not df.height:
        return df
    return df.with_columns(expr(pl.col("text")).alias("text"), expr(pl.col("message")).alias("message"))


def facts(df: pl.DataFrame) -> pl.DataFrame:
    if not df.height:
        return df
    return df.with_columns(expr(pl.col("value")).alias("value"))
