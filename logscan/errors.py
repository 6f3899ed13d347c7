"""The project's own exception types.

Parsers raise :class:`IngestError` for anything wrong with *input*; the ingest loop turns it
into a row of the ingest-errors frame and moves on to the next file. Anything else escaping a
parser is a bug in logscan, and is still caught and recorded (kind ``parser-bug``) so one bad
file never costs the rest of the bundle.
"""

from __future__ import annotations


class LogscanError(Exception):
    """Base class: logscan could not do what was asked (bad option, unreadable bundle)."""


class IngestError(LogscanError):
    """A file (or part of it) could not be read, decoded or parsed."""

    def __init__(self, kind: str, detail: str, *, file: str | None = None, line: int | None = None):
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail
        self.file = file
        self.line = line

    def as_row(self, file: str | None = None, source: str | None = None) -> dict:
        return {
            "file": self.file or file,
            "source": source,
            "kind": self.kind,
            "detail": self.detail,
            "line": self.line,
        }


class BundleError(LogscanError):
    """The bundle as a whole cannot be opened (missing path, not a folder or archive)."""


class SignatureError(LogscanError):
    """A signature file is invalid; the message names file:line:col."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None, col: int | None = None):
        where = ":".join(str(p) for p in (file, line, col) if p is not None)
        super().__init__(f"{where}: {message}" if where else message)
        self.file, self.line, self.col = file, line, col
