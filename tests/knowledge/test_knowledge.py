"""The knowledge base agrees with docs/causes.md, validates itself, and `explain` shows it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from logscan.cli import app
from logscan.knowledge import KnowledgeError, load_knowledge, load_knowledge_files, parse_knowledge

CAUSES_MD = Path(__file__).resolve().parents[2] / ".." / "shared" / "docs" / "causes.md"
KNOWLEDGE_DIR = Path(__file__).resolve().parents[2] / "logscan" / "content" / "knowledge"
CAUSE_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)+")


def _tables(md: str) -> list[list[list[str]]]:
    """Every markdown table of ``md`` as rows of cells (header row first, separator dropped)."""
    tables: list[list[list[str]]] = []
    current: list[list[str]] = []
    for line in md.splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not all(set(c) <= set("-: ") for c in cells):
                current.append(cells)
        elif current:
            tables.append(current)
            current = []
    if current:
        tables.append(current)
    return tables


@pytest.fixture(scope="module")
def causes_md() -> str:
    if not CAUSES_MD.is_file():
        pytest.skip("../shared/docs/causes.md not present")
    return CAUSES_MD.read_text(encoding="utf-8")


def _code_rows(md: str) -> list[tuple[str, list[str]]]:
    table = next(t for t in _tables(md) if t[0][0] == "error code")
    out = []
    for row in table[1:]:
        for code in (c.strip() for c in row[0].split(",")):
            out.append((code, CAUSE_ID.findall(row[2])))
    return out


def test_every_cause_in_causes_md_is_known(causes_md: str) -> None:
    tables = [t for t in _tables(causes_md) if t[0][0] == "cause id"]
    assert len(tables) == 2, "expected the article's table and the 'beyond the article' table"
    ids = [row[0] for t in tables for row in t[1:]]
    assert len(ids) > 30
    k = load_knowledge()
    missing = [i for i in ids if i not in k.causes]
    assert not missing
    extra = set(k.causes) - set(ids)
    assert not extra, f"causes not in causes.md: {sorted(extra)}"


def test_anchors_of_article_causes_match(causes_md: str) -> None:
    table = next(t for t in _tables(causes_md) if t[0][0] == "cause id" and t[0][-1] == "article anchor")
    k = load_knowledge()
    for row in table[1:]:
        cause = k.causes[row[0]]
        assert cause.anchor == row[-1], row[0]
        assert cause.doc.endswith("#" + row[-1])


#: Where causes.md (from the 2021 translation) is behind the current article (issue #17): the
#: candidates the knowledge base must have instead, with the reason.
CORRECTED = {
    # the section checks the VM is Running and Agent status Ready, then Windows before Linux
    "UserErrorGuestAgentStatusUnavailable": [
        "vm-not-running", "agent-not-running", "win-agent-unresponsive", "linux-agent-outdated", "extension-failed-provisioning",
    ],
    # the snapshot section's rows are an RDP guest shutdown, then DHCP; step 4's network checks follow
    "ExtensionSnapshotFailedNoNetwork": [
        "snapshot-status-unavailable", "guest-shutdown", "dhcp-disabled", "wireserver-blocked", "storage-unreachable",
    ],
    # the current article adds iaasvmprovider.dll / VC++ redistributable as a fifth cause
    "BackUpOperationFailed": [
        "win-agent-unresponsive", "linux-agent-outdated", "snapshot-status-unavailable", "restore-point-lock", "vcredist-install-failed",
    ],
    "BackUpOperationFailedV2": [
        "win-agent-unresponsive", "linux-agent-outdated", "snapshot-status-unavailable", "restore-point-lock", "vcredist-install-failed",
    ],
}


def test_article_codes_map_to_candidates_in_article_order(causes_md: str) -> None:
    rows = _code_rows(causes_md)
    assert {"BackUpOperationFailed", "BackUpOperationFailedV2"} <= {c for c, _ in rows}
    k = load_knowledge()
    for code, expected in rows:
        expected = CORRECTED.get(code, expected)
        ec = k.code(code)
        assert ec is not None, code
        assert list(ec.candidates) == expected, code
        assert list(ec.all_candidates[: len(expected)]) == expected


def test_windows_only_and_usual_codes_are_known(causes_md: str) -> None:
    section = causes_md.split("Windows-only backup codes", 1)[1].split("\n\n", 1)[0]
    k = load_knowledge()
    pairs = [part.split("→") for part in section.split(";") if "→" in part]
    assert len(pairs) >= 7
    for codes, causes in pairs:
        ids = CAUSE_ID.findall(causes)
        for code in re.findall(r"\b[A-Z][A-Za-z]{8,}\b", codes):
            ec = k.code(code)
            assert ec is not None, code
            assert set(ids) <= set(ec.all_candidates), code
    beyond = next(t for t in _tables(causes_md) if t[0][-1] == "usual backup code")
    for row in beyond[1:]:
        for code in re.findall(r"\b[A-Z][A-Za-z0-9]{8,}\b", row[-1]):
            ec = k.code(code)
            assert ec is not None, code
            assert row[0] in ec.all_candidates, (code, row[0])


def test_not_in_guest_causes_are_not_guest_visible() -> None:
    k = load_knowledge()
    hidden = {c.id for c in k.causes.values() if not c.guest_visible}
    assert hidden == {
        "restore-point-lock",
        "too-many-backups",
        "keyvault-permissions",
        "crp-reported-error",
        "datasource-not-protected",
    }
    assert {k.causes[c].parent for c in ("dhcp-disabled", "wireserver-blocked", "storage-unreachable")} == {
        "snapshot-status-unavailable"
    }


def test_code_lookup_ignores_case() -> None:
    k = load_knowledge()
    assert k.code("  userERRORfsfreezefailed ").code == "UserErrorFsFreezeFailed"
    assert k.code("NoSuchCode") is None


def _copy(tmp_path: Path, edit) -> tuple[Path, Path]:
    causes = (KNOWLEDGE_DIR / "causes.yaml").read_text(encoding="utf-8")
    codes = (KNOWLEDGE_DIR / "error_codes.yaml").read_text(encoding="utf-8")
    causes, codes = edit(causes, codes)
    cp, kp = tmp_path / "causes.yaml", tmp_path / "error_codes.yaml"
    cp.write_text(causes, encoding="utf-8")
    kp.write_text(codes, encoding="utf-8")
    return cp, kp


def test_loader_accepts_the_packaged_files_from_disk(tmp_path: Path) -> None:
    k = load_knowledge_files(*_copy(tmp_path, lambda a, b: (a, b)))
    assert k.causes.keys() == load_knowledge().causes.keys()


def test_loader_rejects_unknown_candidate(tmp_path: Path) -> None:
    cp, kp = _copy(
        tmp_path,
        lambda a, b: (
            a,
            b.replace("[restore-point-lock, too-many-backups]", "[restore-point-lock, too-many-backupz]"),
        ),
    )
    with pytest.raises(
        KnowledgeError, match=r"unknown cause 'too-many-backupz'.*did you mean 'too-many-backups'"
    ):
        load_knowledge_files(cp, kp)


def test_loader_rejects_duplicate_id_and_unknown_code() -> None:
    one = "- {id: a-b, title: t, summary: s, fix: [{text: x, heuristic: true, why: y}], anchor: x, guest_visible: true, platforms: [linux], error_codes: [C1]}\n"
    codes = "- {code: C1, meaning: m, candidates: [a-b]}\n"
    assert parse_knowledge(one, codes).code("c1").candidates == ("a-b",)
    with pytest.raises(KnowledgeError, match="defined twice"):
        parse_knowledge(one + one, codes)
    with pytest.raises(KnowledgeError, match="unknown error code 'C2'"):
        parse_knowledge(one.replace("[C1]", "[C1, C2]"), codes)
    with pytest.raises(KnowledgeError, match="does not list the code"):
        parse_knowledge(one.replace("[C1]", "[]"), codes)
    with pytest.raises(KnowledgeError, match="guest_visible"):
        parse_knowledge(one.replace("guest_visible: true", "guest_visible: maybe"), codes)


runner = CliRunner()


def test_explain_code_lists_candidates_in_order() -> None:
    res = runner.invoke(app, ["explain", "usererrorrpcollectionlimitreached"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    out = res.output
    assert "UserErrorRpCollectionLimitReached" in out
    assert out.index("restore-point-lock") < out.index("too-many-backups")
    assert "check in the portal" in out


def test_explain_code_shows_guest_evidence() -> None:
    res = runner.invoke(app, ["explain", "GuestAgentSnapshotTaskStatusError"], env={"COLUMNS": "200"})
    assert res.exit_code == 0
    order = [
        res.output.index(c) for c in load_knowledge().code("GuestAgentSnapshotTaskStatusError").all_candidates
    ]
    assert order == sorted(order)
    assert "Extensions.Enabled=n" in res.output


def test_explain_cause() -> None:
    res = runner.invoke(app, ["explain", "linux-agent-config"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    cause = load_knowledge().causes["linux-agent-config"]
    assert cause.title in res.output
    assert "GuestAgentSnapshotTaskStatusError" in res.output
    assert cause.anchor in res.output.replace("\n", "").replace("│", "").replace(" ", "")
    assert "systemctl restart walinuxagent" in res.output
    assert "systemctl restart waagent" in res.output  # unknown distribution: both, labelled
    assert "Ubuntu, Debian" in res.output


def test_explain_labels_rule_of_thumb() -> None:
    res = runner.invoke(app, ["explain", "snapshot-rate-exceeded"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "rule of thumb" in res.output


def test_explain_shows_one_runbook_per_platform() -> None:
    res = runner.invoke(app, ["explain", "wireserver-blocked"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    out = res.output
    assert out.index("Linux") < out.index("sudo curl") < out.index("Windows") < out.index("Test-NetConnection")


def test_explain_unknown_term_suggests() -> None:
    res = runner.invoke(app, ["explain", "UserErrorFsFreezeFailure"])
    assert res.exit_code == 2
    assert "UserErrorFsFreezeFailed" in res.output
