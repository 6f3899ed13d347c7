"""Undo what tickets, chat and terminals do to log text before a parser sees it.

Support rarely gets a file as the VM wrote it: lines arrive with Markdown quote markers
(``> ``), code fences, ``**bold**`` around a heading or a whole paste, a stray backtick, the
shell prompt and the command that was run, placeholder or removed timestamps and elided rows
(``....``). :func:`clean` removes that wrapping line by line, keeping one line per line so
evidence line numbers still point into the text as it was given. :func:`segments` cuts a text
holding several pastes (an agent log, then ``systemctl status`` output, then event text) into
parts at echoed commands and, for text whose kind is found by content, where the kind of the
blank-line separated blocks changes; each part is then sniffed and parsed on its own.

Clean logs cost one regex search: when no paste marker is found the text is returned as is.
Nothing in a paste is ever run: an echoed command is only read as a hint of what follows.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import polars as pl

#: Commands whose echo in a paste says what the following output is.
KNOWN_COMMANDS = (
    r"(?:sudo\s+)?(?:systemctl|journalctl|cat|tail|head|less|more|grep|egrep|zcat|zgrep|ps|ip|iptables|ip6tables|nft|"
    r"mount|findmnt|waagent|vssadmin|sc(?:\.exe)?|tasklist|service|dmesg|uname|hostnamectl|hostname|route|netstat|ss|"
    r"curl|wget|Get-\w+|get-\w+|wevtutil|type|az)\b"
)
#: A shell prompt and the command echoed after it. ``$``/``#`` alone need a known command
#: (``# `` also starts comments); ``user@host``, ``PS C:\\>`` and ``C:\\...>`` prompts do not.
PROMPT = (
    r"^[ \t]*(?:"
    r"(?:\[[^\]\n]+\]:[ \t]*)?PS [^>\n]*>[ \t]?(?P<ps>\S.*)"
    rf"|[A-Za-z]:\\[^>\n]*>[ \t]?(?P<win>{KNOWN_COMMANDS}.*)"
    r"|[\w.-]+@[\w.-]+(?:[ \t]+|:)[^\n$#]*[$#][ \t]?(?P<user>\S.*)"
    rf"|[$#][ \t]?(?P<bare>{KNOWN_COMMANDS}.*)"
    r")$"
)
_PROMPT_RE = re.compile(PROMPT)
_PROMPT_LINES = re.compile(PROMPT, re.MULTILINE)
#: Any of these anywhere means the text was pasted; otherwise :func:`clean` does nothing.
MARKERS = re.compile(
    r"(?m)^(?:[ \t]*>|[ \t]*```|\*\*|`|[ \t]*\.{4,}[ \t]*$|[ \t]*<\.\.\..*>[ \t]*$|yyyy|hh:mm:ss)|\*\*[ \t]*$|" + PROMPT
)
PLACEHOLDER_TIME = r"^(?:yyyy[-/]mm[-/]dd[ T]hh:mm:ss(?:[.,]f+)?Z?|hh:mm:ss(?:[.,]f+)?)\s+"
ELIDED = r"^\s*(?:\.{4,}|…+|<\.\.\..*\.\.\.>|\[\.\.\.\]|\.\.\.\s*more\s*\.\.\.)\s*$"


@dataclass(frozen=True)
class Segment:
    """One part of a text: its lines (``first`` is the 0-based line where it starts in the
    whole text) and the command echoed before it, when there was one."""

    text: str
    first: int = 0
    command: str | None = None
    kind: str | None = None


#: :data:`MARKERS` for one line at a time, without its one unanchored form (``**`` at a
#: line's end), which :func:`lines_pasted` tests by string ends instead.
LINE_MARKERS = MARKERS.pattern.replace("(?m)", "", 1).replace(r"|\*\*[ \t]*$", "", 1)


def lines_pasted(lines: pl.Series) -> bool:
    """:func:`is_pasted` of a text already split into lines (a big log read by polars): the
    anchored forms per line, ``**`` at a line's end by string ends, several times cheaper
    than one multi-line regex over the whole text."""
    if lines.str.contains(LINE_MARKERS).any():
        return True
    starred = lines.filter(lines.str.contains("**", literal=True))
    return bool(len(starred)) and bool(starred.str.strip_chars_end(" \t").str.ends_with("**").any())


def is_pasted(text: str) -> bool:
    """True when the text carries any paste wrapping (quote markers, fences, prompts, ...)."""
    if len(text) < 65536:
        return MARKERS.search(text) is not None
    # Big texts: the same search in polars' regex engine (Rust), which skips non-line-starts fast.
    return bool(pl.Series([text]).str.contains(MARKERS.pattern).item())


def clean(text: str) -> str:
    """The text without Markdown/terminal wrapping, one output line per input line.

    Quote markers (also nested ``> >``), fence lines, ``**`` at the start or end of a line,
    a stray leading or trailing backtick, placeholder timestamps (``yyyy/mm/dd hh:mm:ss``,
    which leave the line without a time) and elided rows (``....``) are removed.
    """
    if not is_pasted(text):
        return text
    trailing_nl = text.endswith("\n")
    s = pl.Series("raw", [text]).str.split("\n").explode()
    if trailing_nl:
        s = s.slice(0, len(s) - 1)
    s = (
        s.str.strip_suffix("\r")
        .str.replace(r"^(?:\s{0,3}>[ \t]?)+", "")
        .str.replace(r"^\s*```.*$", "")
        .str.replace(r"^\*\*", "")
        .str.replace(r"\*\*\s*$", "")
        .str.replace(r"^`+(\S)", "$1")
        .str.replace(r"(\S)`+\s*$", "$1")
        .str.replace(PLACEHOLDER_TIME, "")
        .str.replace(ELIDED, "")
    )
    out = "\n".join(s.to_list())
    return out + "\n" if trailing_nl else out


def command_of(line: str) -> str | None:
    """The command echoed on a prompt line (``core@vm ~ $ systemctl status waagent``)."""
    m = _PROMPT_RE.match(line)
    if not m:
        return None
    cmd = next(g for g in m.groups() if g is not None).strip()
    return cmd or None


def segments(
    text: str,
    sniff: Callable[[str], str | None] | None = None,
    *,
    command_kind: Callable[[str], str | None] | None = None,
    absorbs: Mapping[str, Iterable[str]] | None = None,
    max_blocks: int = 400,
) -> list[Segment]:
    """Cut ``text`` (already :func:`clean`) into parts at echoed commands and, when ``sniff``
    is given, where the sniffed kind of blank-line separated blocks changes.

    A part's kind starts as the kind its echoed command implies (``command_kind``). A block
    whose kind cannot be told, is one the part already holds, or is one the part's kind
    ``absorbs`` (``systemctl status`` ends with journal lines) stays with the part before it.
    Prompt lines belong to no part. Texts of more than ``max_blocks`` blocks are split at
    prompts only (a real log, not a paste).
    """
    pasted = is_pasted(text)
    if not pasted and sniff is None:
        return [Segment(text)]
    parts: list[Segment] = []
    start, cmd, line_no, pos = 0, None, 0, 0
    lines = text.split("\n")
    if pasted:
        for m in _PROMPT_LINES.finditer(text):
            line_no += text.count("\n", pos, m.start())
            pos = m.start()
            c = next(g for g in m.groups() if g is not None).strip()
            if line_no > start:
                parts.append(Segment("\n".join(lines[start:line_no]), start, cmd))
            start, cmd = line_no + 1, c
    parts.append(Segment("\n".join(lines[start:]), start, cmd))
    parts = [p for p in parts if p.text.strip()]
    if sniff is None:
        return parts or [Segment(text)]
    out: list[Segment] = []
    for p in parts:
        first = command_kind(p.command) if command_kind and p.command else None
        out.extend(_split_blocks(p, sniff, first, absorbs or {}, max_blocks))
    return out or [Segment(text)]


def _split_blocks(
    part: Segment, sniff: Callable[[str], str | None], first: str | None, absorbs: Mapping[str, Iterable[str]], max_blocks: int
) -> list[Segment]:
    lines = part.text.split("\n")
    blocks: list[tuple[int, int]] = []  # [start, end) line ranges of non-blank runs
    i = 0
    while i < len(lines):
        if not lines[i].strip():
            i += 1
            continue
        j = i
        while j < len(lines) and lines[j].strip():
            j += 1
        blocks.append((i, j))
        i = j
        if len(blocks) > max_blocks:
            return [Segment(part.text, part.first, part.command, first)]
    kinds = [sniff("\n".join(lines[a:b])) for a, b in blocks]
    out: list[Segment] = []
    cur_start, cur = 0, ({first} if first else set()) | ({kinds[0]} - {None} if kinds else set())

    def joins(k: str | None) -> bool:
        return k is None or not cur or k in cur or any(k in absorbs.get(c, ()) for c in cur)

    def kind_of(kinds_seen: set[str]) -> str | None:
        return first if first else (next(iter(kinds_seen)) if len(kinds_seen) == 1 else None)

    for (a, _b), k in zip(blocks[1:], kinds[1:], strict=True):
        if joins(k):
            if k is not None and not any(k in absorbs.get(c, ()) for c in cur):
                cur.add(k)
            continue
        out.append(Segment("\n".join(lines[cur_start:a]), part.first + cur_start, part.command if not out else None, kind_of(cur)))
        cur_start, cur, first = a, {k}, None
    out.append(Segment("\n".join(lines[cur_start:]), part.first + cur_start, part.command if not out else None, kind_of(cur)))
    return out
