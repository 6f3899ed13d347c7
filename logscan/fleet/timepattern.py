"""The fleet-wide time pattern: many VMs failing with the same cause within one window.

One VM failing is a guest fault until shown otherwise; twenty VMs failing with the same cause
within the same hour point at something they share (a platform or network event, a policy
push, an update wave). For each cause, the VMs' failure times (the jobs' time, else the top
cause's latest evidence) are swept with a window of :data:`WINDOW`; the densest window with at
least :data:`MIN_VMS` VMs *and* at least :data:`MIN_SHARE` of that cause's timed VMs is
reported, with its start, end and VMs.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl

#: Width of the window VMs must fail within.
WINDOW = timedelta(minutes=60)
#: Fewest VMs that make a pattern (two VMs failing close together is coincidence enough).
MIN_VMS = 3
#: Least share of the cause's VMs (with a time) the window must hold.
MIN_SHARE = 0.5


def _parse(t: str | None) -> datetime | None:
    if not t:
        return None
    try:
        return datetime.fromisoformat(t.replace("Z", "+00:00"))
    except ValueError:
        return None


def densest_window(times: list[tuple[datetime, str]], window: timedelta) -> tuple[int, int]:
    """Indices [i, j) of the window holding the most of ``times`` (sorted); two pointers."""
    best = (0, 0)
    j = 0
    for i in range(len(times)):
        j = max(j, i)
        while j < len(times) and times[j][0] - times[i][0] <= window:
            j += 1
        if j - i > best[1] - best[0]:
            best = (i, j)
    return best


def time_patterns(
    vms: pl.DataFrame, *, window: timedelta = WINDOW, min_vms: int = MIN_VMS, min_share: float = MIN_SHARE
) -> list[dict]:
    """One entry per cause whose failures cluster in time (see the module docstring)."""
    if not vms.height or "cause_time" not in vms.columns:
        return []
    rows = vms.filter(pl.col("top_cause").is_not_null() & pl.col("cause_time").is_not_null())
    out = []
    for (cause,), g in sorted(rows.partition_by("top_cause", as_dict=True).items()):
        times = sorted((t, v) for v, s in g.select("vm", "cause_time").iter_rows() if (t := _parse(s)) is not None)
        i, j = densest_window(times, window)
        n = j - i
        if n >= min_vms and n >= min_share * len(times):
            out.append(
                {
                    "cause": cause,
                    "vms": n,
                    "of": len(times),
                    "start": times[i][0].isoformat().replace("+00:00", "Z"),
                    "end": times[j - 1][0].isoformat().replace("+00:00", "Z"),
                    "window_minutes": int(window.total_seconds() // 60),
                    "vm_list": sorted(v for _, v in times[i:j]),
                }
            )
    out.sort(key=lambda r: (-r["vms"], r["cause"]))
    return out


def render_time_patterns(patterns: list[dict]) -> list[str]:
    """The Markdown section (lines) for :func:`time_patterns`."""
    lines = ["", "## Failures together in time", ""]
    if not patterns:
        return [*lines, f"No cause has {MIN_VMS} or more VMs failing within {int(WINDOW.total_seconds() // 60)} minutes of each other."]
    lines.append(
        "Many VMs failing with the same cause within one window: a platform or network event is "
        "more likely than as many separate guest faults. Check Azure service health for the window."
    )
    lines += ["", "| cause | VMs | of | from | to | VMs |", "|---|---:|---:|---|---|---|"]
    lines += [
        f"| {p['cause']} | {p['vms']} | {p['of']} | {p['start']} | {p['end']} | {', '.join(p['vm_list'])} |" for p in patterns
    ]
    return lines
