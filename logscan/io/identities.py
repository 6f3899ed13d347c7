"""Personal and tenant data replaced by stable pseudonyms (``--redact-identities``).

Host and computer names, user names, IP addresses, subscription, tenant and VM ids, resource
groups, storage account names and e-mail addresses become ``host-1``, ``user-2``,
``198.51.100.3``, ``00000000-0000-4000-8000-000000000004``, ``storage5``, ``person-6@example.invalid``.
The same value (in any letter case) always gets the same pseudonym within one run, so a
timeline still connects; pseudonyms are counters in order of discovery, so nothing in them
can be reversed without the mapping, which is written only to the file the user asks for.

Platform addresses are evidence and stay: the WireServer ``168.63.129.16``, IMDS
``169.254.169.254``, loopback and ``0.0.0.0`` (and netmasks). Dotted numbers that appear as
versions anywhere (``version 2.9.1.1``, ``WALinuxAgent-2.9.1.1``) are never taken for IPs.

Discovery is vectorised (``extract_all`` on the rows holding a cheap marker), and so is the
replacement: only rows containing one of the known values are rewritten.
"""

from __future__ import annotations

import csv
import dataclasses
import re
from pathlib import Path
from typing import Any

import polars as pl

from . import redact

PLATFORM_IPS = frozenset({"168.63.129.16", "169.254.169.254", "127.0.0.1", "0.0.0.0", "255.255.255.255"})
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = _OCTET + r"(?:\." + _OCTET + r"){3}"
_IPV4_RX = re.compile(_IPV4)
# The IP with what stands before and after it, so versions can be told apart.
_IP_CTX = r"(?i)(?:version[\s:=\"']{0,3}|v|[A-Za-z_-])?\b" + _IPV4 + r"\b(?:\.\d+)?"
_GUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_GUID_CTX = (
    r"(?i)(?:subscriptions?|tenant|tenant_?id|tid|vm_?id|vmid|subscription_?id|aad_?tenant)[\"']?\s*[/:=]?\s*[\"']?\s*\{?(" + _GUID + ")"
)
_EMAIL = r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24}"
_STORAGE = (
    r"(?i)(?:\b([a-z0-9]{3,24})\.(?:blob|table|queue|file|dfs)\.core\.windows\.net"
    r"|AccountName=([a-z0-9]{3,24})|\"storageAccountName\"\s*:\s*\"([a-z0-9]{3,24})\")"
)
_USER = (
    r"(?i)(?:/home/|\\Users\\|/Users/|\buser(?:name)?\s*[=:]\s*|(?:Accepted|Failed)\s+\S+\s+for\s+(?:invalid\s+user\s+)?"
    r"|session\s+(?:opened|closed)\s+for\s+user\s+|\bsudo:\s+)([A-Za-z_][A-Za-z0-9_.-]{1,31})"
)
#: Cheap literals: a row without any of them holds nothing the discovery regexes can find.
_MARKERS = [".", "@", "-"]
#: Values never pseudonymised: generic names that are not anyone's data, and evidence.
GENERIC = frozenset(
    {"root", "public", "default", "all", "system", "localhost", "administrator", "admin", "user", "users", "nobody",
     "guest", "unknown", "none", "null", "true", "false", "localsystem", "networkservice", "waagent", "azureuser"}
)
#: facts (subject vm) whose values are identities, and their kind.
FACT_KINDS = {"hostname": "host", "vm_name": "host", "computer": "host", "vm_id": "guid", "subscription_id": "guid",
              "tenant_id": "guid", "resource_group": "rg", "private_ip": "ip"}


class Pseudonymizer:
    """One run's mapping from real values to pseudonyms (see the module docstring)."""

    def __init__(self) -> None:
        self._map: dict[str, tuple[str, str, str]] = {}  # lower(value) -> (kind, value, pseudonym)
        self._count: dict[str, int] = {}
        self._versions: set[str] = set()
        self._rx_cache: list[tuple[str, str]] | None = None

    # -- learning ----------------------------------------------------------------------------
    def add(self, kind: str, value: str | None) -> str | None:
        """Register ``value`` as an identity of ``kind``; its pseudonym (None when kept)."""
        if value is None:
            return None
        v = value.strip().strip("{}")
        low = v.lower()
        if len(v) < 2 or low in GENERIC or v in PLATFORM_IPS or v.startswith("255.") or low in self._versions:
            return None
        if low in self._map:
            return self._map[low][2]
        if kind == "host" and "." in v and not re.fullmatch(_IPV4, v):
            self.add("host", v.split(".", 1)[0])  # the short name of an FQDN too
        n = self._count[kind] = self._count.get(kind, 0) + 1
        pseudo = _pseudonym(kind, n)
        self._map[low] = (kind, v, pseudo)
        self._rx_cache = None
        return pseudo

    def learn_frames(self, events: pl.DataFrame | None = None, facts: pl.DataFrame | None = None, *texts: pl.Series) -> None:
        """Learn from facts (VM identity keys), the events' computer column, and text columns."""
        if facts is not None and facts.height:
            vm = facts.filter(pl.col("subject") == "vm", pl.col("key").is_in(list(FACT_KINDS)))
            for key, value in vm.select("key", "value").unique(maintain_order=True).iter_rows():
                self.add(FACT_KINDS[key], value)
            versions = facts.filter(pl.col("key").str.contains("(?i)version"))["value"]
            self._versions.update(v.lower() for v in versions.drop_nulls().to_list())
        cols: list[pl.Series] = list(texts)
        if events is not None and events.height:
            for c in events["computer"].drop_nulls().unique(maintain_order=True).to_list():
                self.add("host", c)
            cols += [events["text"], events["message"]]
        if facts is not None and facts.height:
            cols.append(facts["value"])
        for s in cols:
            self.learn(s)

    def learn(self, s: pl.Series) -> None:
        """Find IPs, e-mails, ids, storage accounts and user names in a text column."""
        s = s.drop_nulls()
        if not len(s):
            return
        s = s.filter(s.str.contains_any(_MARKERS))
        if not len(s):
            return
        ips = _found(s, _IP_CTX)
        self._versions.update(_IPV4_RX.search(m).group(0) for m in ips if not _IPV4_RX.fullmatch(m))
        for ip in ips:
            if _IPV4_RX.fullmatch(ip) and ip.lower() not in self._versions:
                self.add("ip", ip)
        for email in _found(s, _EMAIL):
            self.add("email", email)
        for kind, rx in (("guid", _GUID_CTX), ("storage", _STORAGE), ("user", _USER)):
            for groups in _groups(s, rx):
                self.add(kind, next((g for g in groups if g), None))

    def learn_text(self, text: str) -> None:
        self.learn(pl.Series(text.split("\n"), dtype=pl.String))

    # -- applying ----------------------------------------------------------------------------
    def _patterns(self) -> list[tuple[str, str]]:
        if self._rx_cache is None:
            items = sorted(self._map.values(), key=lambda t: -len(t[1]))
            self._rx_cache = [(_boundary_rx(v), p) for _, v, p in items]
        return self._rx_cache

    def series(self, s: pl.Series) -> pl.Series:
        """Every known value in a string column replaced by its pseudonym."""
        if not self._map or s.dtype != pl.String or not len(s):
            return s
        hit = s.str.contains_any([v for _, v, _ in self._map.values()], ascii_case_insensitive=True).fill_null(False)
        if not hit.any():
            return s
        idx = hit.arg_true()
        sub = s.gather(idx)
        for rx, pseudo in self._patterns():
            sub = sub.str.replace_all(rx, pseudo.replace("$", "$$"))
        return s.clone().scatter(idx, sub)

    def text(self, s: str | None) -> str | None:
        if not s or not self._map:
            return s
        return self.series(pl.Series([s], dtype=pl.String))[0]

    def frame(self, df: pl.DataFrame, columns: tuple[str, ...]) -> pl.DataFrame:
        cols = [self.series(df[c]).alias(c) for c in columns if c in df.columns and df[c].dtype == pl.String]
        if "data" in columns and "data" in df.columns and df.height and df["data"].dtype != pl.Null:
            cols.append(self._data(df["data"]))
        return df.with_columns(cols) if cols else df

    def _data(self, col: pl.Series) -> pl.Series:
        return redact.map_data_values(col, lambda _names, values: self.series(values))

    def loaded(self, b: Any) -> Any:
        """A copy of a loaded bundle (``logscan.load``) with every identity pseudonymised."""
        self.learn_frames(b.events, b.facts, b.ingest_errors["detail"] if b.ingest_errors.height else pl.Series([], dtype=pl.String))
        return dataclasses.replace(
            b,
            name=self.text(b.name) or b.name,
            path=self.text(b.path) or b.path,
            events=self.frame(b.events, ("text", "message", "computer", "file", "data")),
            facts=self.frame(b.facts, ("value", "file")),
            ingest_errors=self.frame(b.ingest_errors, ("file", "detail")),
        )

    # -- the mapping -------------------------------------------------------------------------
    def mapping(self) -> list[tuple[str, str, str]]:
        """(kind, original, pseudonym) rows in order of discovery."""
        return list(self._map.values())

    def write_map(self, path: str | Path) -> Path:
        """Write the mapping as CSV (``kind,original,pseudonym``): the only file with real names."""
        p = Path(path)
        with open(p, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["kind", "original", "pseudonym"])
            w.writerows(self.mapping())
        return p


def _pseudonym(kind: str, n: int) -> str:
    if kind == "ip":
        nets = ("198.51.100", "203.0.113", "192.0.2")  # RFC 5737 documentation ranges
        block, host = divmod(n - 1, 254)
        return f"{nets[block]}.{host + 1}" if block < len(nets) else f"ip-{n}"
    if kind == "guid":
        return f"00000000-0000-4000-8000-{n:012d}"
    if kind == "storage":
        return f"storage{n}"
    if kind == "email":
        return f"person-{n}@example.invalid"
    return f"{kind}-{n}"


def _boundary_rx(value: str) -> str:
    """Case-insensitive, whole-token match of a literal value."""
    left = r"\b" if re.match(r"\w", value) else ""
    right = r"\b" if re.search(r"\w$", value) else ""
    return "(?i)" + left + re.escape(value) + right


def _found(s: pl.Series, rx: str) -> list[str]:
    return s.str.extract_all(rx).explode().drop_nulls().unique(maintain_order=True).to_list()


def _groups(s: pl.Series, rx: str) -> list[tuple[str | None, ...]]:
    """Capture groups of every match of ``rx`` (vectorised: matches first, then groups)."""
    matches = pl.Series(_found(s, rx), dtype=pl.String)
    if not len(matches):
        return []
    n = re.compile(rx).groups
    df = pl.DataFrame({"m": matches}).select([pl.col("m").str.extract(rx, i).alias(str(i)) for i in range(1, n + 1)])
    return list(df.iter_rows())
