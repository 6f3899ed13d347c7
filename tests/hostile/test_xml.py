"""Hostile XML: entity expansion, external entities, DTD fetches, malformed and deep documents.

Every XML-reading source gets each case: the agent's goal-state files (Linux), the Windows
agent's config XML, and a sniffed Windows event export. Nothing may expand, fetch or read a
file; each case is an ingest error and the rest of the bundle is still diagnosed.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

import logscan

from .conftest import assert_cause_found, errors_of, evidence_loaded, has_error

LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE {root} [\n <!ENTITY lol "lol">\n'
    + "".join(f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n' for i in range(1, 10))
    + "]>\n<{root}>&lol9;</{root}>\n"
)
XXE = '<?xml version="1.0"?>\n<!DOCTYPE {root} [<!ENTITY xxe SYSTEM "file://{secret}">]>\n<{root}>&xxe;</{root}>\n'
PARAM = '<?xml version="1.0"?>\n<!DOCTYPE {root} [<!ENTITY % p SYSTEM "file://{secret}"> %p;]>\n<{root}/>\n'
DTD_FETCH = '<?xml version="1.0"?>\n<!DOCTYPE {root} SYSTEM "http://127.0.0.1:9/evil.dtd">\n<{root}><x>1</x></{root}>\n'
XINCLUDE = '<{root} xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="file://{secret}" parse="text"/></{root}>\n'
MALFORMED = "<{root}><Incarnation>3</Incarnation><unclosed>\n"

#: (path inside the bundle, root element) for each XML-reading source.
TARGETS = [
    ("var/lib/waagent/GoalState.1.xml", "GoalState"),
    ("var/lib/waagent/ExtensionsConfig.1.xml", "Extensions"),
    ("WindowsAzure/config/WireServerRoleExtensionsConfig_x._vm1.xml", "Extensions"),
    ("exports/Application.xml", "Events"),
]
SECRET_TEXT = "XXE-SECRET-CONTENT-4711"


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list:
    """Every socket connect is recorded and refused: a DTD fetch would show up here."""
    attempts: list = []

    def refuse(self, addr, *a, **k):
        attempts.append(addr)
        raise OSError("network disabled in hostile tests")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: refuse(None, a))
    return attempts


def _event_wrap(doc: str, root: str) -> str:
    """Event exports are parsed per <Event>: put the payload inside one."""
    if root != "Events":
        return doc
    return doc.replace("<Events>", "<Events><Event><System><Provider Name='x'/><EventID>1</EventID></System><EventData><Data>").replace(
        "</Events>", "</Data></EventData></Event></Events>"
    )


@pytest.mark.parametrize("template", [LAUGHS, XXE, PARAM, DTD_FETCH, XINCLUDE, MALFORMED], ids=["laughs", "xxe", "param-entity", "dtd-fetch", "xinclude", "malformed"])
@pytest.mark.parametrize("target", TARGETS, ids=[t[1] + ":" + t[0].split("/")[0] for t in TARGETS])
def test_hostile_xml(tmp_path: Path, bundle_dir: Path, no_network: list, untouched, template: str, target: tuple[str, str]) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET_TEXT)
    path, root = target
    doc = _event_wrap(template.format(root=root, secret=secret), root)
    p = bundle_dir / path
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(doc)
    untouched(bundle_dir)
    t0 = time.monotonic()
    b = logscan.load(bundle_dir)
    assert time.monotonic() - t0 < 30
    errs = errors_of(b)
    if template is XINCLUDE:
        pass  # well-formed XML: read as data, the include is never followed
    elif root == "Events" and template in (PARAM, DTD_FETCH):
        pass  # exports are parsed one <Event> at a time: a DTD before them is never parsed at all
    else:
        assert has_error(errs, path, ("unsafe-xml", "parse")), errs
    everything = b.events.write_json() + b.facts.write_json() + b.ingest_errors.write_json()
    assert SECRET_TEXT not in everything
    assert "lollollollollol" not in everything  # no expansion happened
    assert no_network == []
    assert evidence_loaded(b)
    if template is LAUGHS and root == "GoalState":  # the CLI end to end, once
        assert_cause_found(bundle_dir)


def test_deeply_nested_xml_is_an_ingest_error_or_read(bundle_dir: Path) -> None:
    depth = 200_000
    for path, root in TARGETS:
        p = bundle_dir / path
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(_event_wrap(f"<{root}>" + "<a>" * depth + "x" + "</a>" * depth + f"</{root}>", root))
    b = logscan.load(bundle_dir)
    assert not any(e["kind"] == "parser-bug" for e in errors_of(b)), errors_of(b)
    assert evidence_loaded(b)


def test_xml_with_wrong_declared_encoding_and_garbage(bundle_dir: Path) -> None:
    p = bundle_dir / "var/lib/waagent/GoalState.1.xml"
    p.parent.mkdir(parents=True)
    p.write_bytes(b'<?xml version="1.0" encoding="utf-16"?><GoalState><Incarnation>\xff\xfe\x00</Incarnation></GoalState>')
    q = bundle_dir / "var/lib/waagent/ExtensionsConfig.2.xml"
    q.write_bytes(b"<Extensions>" + bytes(range(1, 32)) * 50 + b"</Extensions>")
    b = logscan.load(bundle_dir)
    assert not any(e["kind"] == "parser-bug" for e in errors_of(b)), errors_of(b)
    assert has_error(errors_of(b), "ExtensionsConfig.2.xml", ("parse", "binary"))
    assert evidence_loaded(b)
