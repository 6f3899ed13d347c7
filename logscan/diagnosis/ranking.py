"""``--error-code`` re-ranks, never hides.

The code's candidate causes (as ``explain`` lists them, plus every cause the knowledge base
links to the code) come first, by score (the article's order on ties); every other finding
with evidence stays in the ranking below them, marked ``in_error_code = False``; candidates
the guest cannot show are listed last as "check in the portal"; visible candidates with no
evidence are named in ``not_found``.
"""

from __future__ import annotations

from .model import Finding


def candidate_causes(code, kb) -> list[str]:
    """The code's candidates in the article's order, then causes linked to the code, then
    the specific causes under any of them (their children)."""
    out = list(code.all_candidates)
    out += [c.id for c in kb.causes.values() if code.code in c.error_codes and c.id not in out]
    out += [c.id for c in kb.causes.values() if c.parent in out and c.id not in out]
    return out


def apply_error_code(findings: list[Finding], code, kb) -> tuple[list[Finding], list[Finding], list[str]]:
    """(ranked findings, the ones outside the code, visible candidates without evidence)."""
    order = {c: i for i, c in enumerate(candidate_causes(code, kb))}
    inside = [f for f in findings if f.cause in order]
    outside = [f for f in findings if f.cause not in order]
    inside.sort(key=lambda f: (-round(f.score, 3), order[f.cause]))
    for f in inside:
        f.in_error_code = True
    for f in outside:
        f.in_error_code = False
    shown = {f.cause for f in findings}
    portal: list[Finding] = []
    not_found: list[str] = []
    for cid in code.candidates:
        if cid in shown:
            continue
        cause = kb.causes[cid]
        if cause.guest_visible:
            not_found.append(cid)
        else:
            portal.append(portal_finding(cause, in_code=True))
    return inside + outside + portal, outside, not_found


def portal_finding(cause, *, in_code: bool | None = None) -> Finding:
    """A candidate the guest's logs cannot show (checked in the portal, not here)."""
    return Finding(
        cause=cause.id,
        title=cause.title,
        score=0.0,
        error_codes=list(cause.error_codes),
        evidence=[],
        remediation=cause.remediation,
        doc=cause.doc,
        status="check-in-portal",
        summary=cause.summary,
        guest_visible=False,
        confidence="possible",
        in_error_code=in_code,
    )
