"""Each secret form of issue #16 is masked, keeps its key and shape, and the vectorised and
per-string paths agree; the secret-key policy; identities are stable and keep platform IPs."""

from __future__ import annotations

import base64
import json

import polars as pl
import pytest

from logscan.io import redact
from logscan.io.identities import Pseudonymizer

CASES = [
    ("u=https%3A%2F%2Fa.blob.core.windows.net%2Fc%3Fsv%3D2019%26sig%3DS1%252B%26sp%3Dr", "S1", "%26sig%3D***"),
    ("x &#38;sig&#61;S2 y", "S2", "sig&#61;***"),
    ('{"u":"https://a/b?sv=1\\u0026sig=S3\\u0026se=2"}', "S3", "\\u0026sig=***"),
    ("Authorization: Bearer S4abcdefgh", "S4abcdefgh", "Authorization: "),
    ("call with bearer S5abcdefghij ok", "S5abcdefghij", "bearer ***"),
    ('{"adminPassword": {\n  "value": "S6"\n}}', "S6", '"value": "***"'),
    ('{"clientSecret": "S7"}', "S7", '"clientSecret": "***"'),
    ("  client_secret: S8 with words", "S8", "client_secret: ***"),
    ('New-LocalUser -Password "S9"', "S9", '-Password "***"'),
    ('ConvertTo-SecureString "S10" -AsPlainText -Force', "S10", 'ConvertTo-SecureString "***"'),
    ("https://bob:S11@host/x", "S11", "https://bob:***@host"),
    ("app --db-password=S12 --token S13x", "S12", "--db-password=***"),
    ("app --db-password=S12 --token S13x", "S13x", "--token ***"),
    ("cmd /c setup.exe /password:S14", "S14", "/password:***"),
    ("DB_PASSWORD=S15 app", "S15", "DB_PASSWORD=***"),
    ("ACCOUNTKEY=S16;", "S16", "ACCOUNTKEY=***"),
    ("<Password>S17</Password>", "S17", "<Password>***</Password>"),
    ("&quot;password&quot;: &quot;S18&quot;", "S18", "&quot;password&quot;: &quot;***"),
    ("curl -u bob:S19 https://x", "S19", "bob:***"),
    ("t eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.S20sig", "S20sig", "t ***"),
]


@pytest.mark.parametrize(("line", "secret", "kept"), CASES)
def test_form_is_masked_and_keeps_its_shape(line: str, secret: str, kept: str) -> None:
    out = redact.text(line)
    assert secret not in out
    assert kept in out
    assert redact.series(pl.Series([line, "nothing here"])).to_list() == [out, "nothing here"]


def test_a_long_text_is_masked_as_a_short_one_would_be(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past ``LONG_TEXT`` a string is masked in polars: the same result as ``re``, every form."""
    doc = "\n".join(f"{n}: {line}" for n in range(60) for line, _, _ in CASES)
    assert len(doc) > redact.LONG_TEXT
    fast = redact.text(doc)
    monkeypatch.setattr(redact, "LONG_TEXT", 10**9)
    assert redact.text(doc) == fast
    assert not any(secret in fast for _, secret, _ in CASES)


def test_base64_json_is_masked_inside_and_still_decodes() -> None:
    blob = base64.b64encode(json.dumps({"name": "diag", "storageAccountKey": "InnerSecret1"}).encode()).decode()
    out = redact.text(f"settings {blob} end")
    masked = out.split()[1]
    doc = json.loads(base64.b64decode(masked))
    assert doc == {"name": "diag", "storageAccountKey": "***"}
    assert redact.series(pl.Series([f"settings {blob} end"]))[0] == out


def test_clean_text_is_untouched_and_masking_is_stable() -> None:
    line = "2024-05-30T13:10:00Z INFO ExtHandler Could not create key: Software\\Classes; invalid token): line 1"
    assert redact.text(line) == line
    once = redact.text("password=abc sig=def")
    assert redact.text(once) == once


def test_secret_key_policy() -> None:
    for name in ("password", "adminPassword", "storageAccountKey", "storageKey2", "client_secret", "sasToken",
                 "connectionString", "commandToExecute", "protectedSettings", "settings.password"):
        assert redact.is_secret_key(name), name
    for name in ("fileUris", "storageAccountName", "timestamp", "protectedSettingsCertThumbprint", "keyVaultName"):
        assert not redact.is_secret_key(name), name
    assert not redact.is_secret_key("commandToExecute", "Microsoft.Azure.RecoveryServices.VMSnapshot")
    assert redact.mask_value("password", "x") == redact.MASK
    assert redact.mask_value("uri", "https://a?sv=1&sig=abc") == "https://a?sv=***&sig=***"
    assert redact.mask_value("uri", None) is None


def test_event_data_values_are_masked() -> None:
    dtype = pl.List(pl.Struct({"name": pl.String, "value": pl.String}))
    df = pl.DataFrame(
        {"text": ["a", "b", "c"], "message": ["a", "b", "c"],
         "data": [[{"name": "Password", "value": "P1"}, {"name": "x", "value": "sig=abc"}], [], None]},
        schema={"text": pl.String, "message": pl.String, "data": dtype},
    )
    out = redact.events(df)["data"].to_list()
    assert out[0] == [{"name": "Password", "value": "***"}, {"name": "x", "value": "sig=***"}]
    assert out[1] == [] and out[2] is None


def test_identities_stable_platform_kept_versions_kept() -> None:
    pz = Pseudonymizer()
    pz.add("host", "MyVm01")
    text = ("MYVM01 from 10.1.2.3 to 168.63.129.16 and 169.254.169.254, 127.0.0.1, 0.0.0.0; agent version 2.9.1.1; "
            "alice@contoso.com /home/alice /subscriptions/1b2c3d4e-1111-2222-3333-444455556666/x "
            "https://acct1.blob.core.windows.net/c myvm01")
    pz.learn(pl.Series([text]))
    out = pz.text(text)
    for real in ("MYVM01", "myvm01", "10.1.2.3", "alice", "1b2c3d4e-1111", "acct1"):
        assert real not in out, real
    for kept in ("168.63.129.16", "169.254.169.254", "127.0.0.1", "0.0.0.0", "version 2.9.1.1"):
        assert kept in out
    assert out.count("host-1") == 2  # the same host in any case: one pseudonym
    assert pz.text("again 10.1.2.3") == "again 198.51.100.1"
    kinds = {k for k, _, _ in pz.mapping()}
    assert {"host", "ip", "email", "guid", "storage", "user"} <= kinds


def test_events_mask_the_message_when_the_text_is_dropped_or_differs() -> None:
    """The message is searched on its own where it is not the end of the text: a timeline
    that dropped ``text`` (null) and messages built from other fields still get masked."""
    df = pl.DataFrame(
        {"text": [None, "2024 INFO a b", "2024 INFO x password=P2", "other text"],
         "message": ["u?sv=1&sig=P1", "a b", "x password=P2", "token=P3abc"]},
        schema={"text": pl.String, "message": pl.String},
    )
    out = redact.events(df)
    joined = " ".join(v for v in out["message"].to_list() + out["text"].to_list() if v)
    assert not any(p in joined for p in ("P1", "P2", "P3abc"))
    assert out["message"][1] == "a b"


def test_many_rows_are_masked_as_few_are(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past ``PER_VALUE_MAX`` trigger rows a column is masked by polars' rules, below it row by
    row with ``re``: both give the same column."""
    lines = [line for line, _, _ in CASES] * 25
    col = pl.Series(lines + ["nothing here"] * 10)
    assert len(lines) > redact.PER_VALUE_MAX
    by_polars = redact.series(col)
    monkeypatch.setattr(redact, "PER_VALUE_MAX", 10**9)
    assert redact.series(col).to_list() == by_polars.to_list()
    assert not any(secret in " ".join(by_polars.to_list()) for _, secret, _ in CASES)


@pytest.mark.parametrize("repeat", [1, 3, 40])
def test_repeated_values_are_masked_as_each_row_would_be(repeat: int) -> None:
    """Each distinct trigger value is masked once and handed to every row holding it: the
    column equals masking every row on its own, in both engines (rows past and below
    ``PER_VALUE_MAX``), with clean rows and nulls in between."""
    lines = [line for line, _, _ in CASES] * repeat + ["nothing here", None] * 5
    col = pl.Series(lines, dtype=pl.String).sample(fraction=1.0, shuffle=True, seed=repeat)
    got = redact.series(col).to_list()
    assert got == [None if v is None else redact.series(pl.Series([v], dtype=pl.String))[0] for v in col.to_list()]
    assert not any(secret in " ".join(filter(None, got)) for _, secret, _ in CASES)
    assert col.to_list() == pl.Series(lines, dtype=pl.String).sample(fraction=1.0, shuffle=True, seed=repeat).to_list()  # input untouched
