"""The incident summary the table starts with (`--top N`): the N most important findings, one line
each: what, where, and since when where the store saw it happen. Pure Report -> str."""

from __future__ import annotations

from collections.abc import Mapping

from drift.core.sanitize import clean
from drift.model.incident import Since
from drift.model.report import Finding, Kind, Report

WIDTH = 160  # one line each, even with the hosts and the time: a wide terminal, not a report


def pick(report: Report, n: int) -> list[Finding]:
    """Most severe first, blocking before not, waived last; otherwise in report order."""
    ranked = sorted(report.findings, key=lambda f: (f.waived is not None and not f.waived.expired,
                                                    -f.severity, not f.blocking))
    return ranked[:n]


def where(report: Report, f: Finding) -> list[str]:
    """The hosts to look at: an outlier's odd ones out, else the right side's (now) hosts."""
    if f.kind is Kind.outlier and f.odd:
        return list(f.odd)
    right = report.right.name if report.right is not None else report.left.name
    hosts = sorted({v.host for v in f.values if v.env == right}) or sorted({v.host for v in f.values})
    return hosts


def _hosts(names: list[str]) -> str:
    return " ".join(names[:3]) + (f" +{len(names) - 3}" if len(names) > 3 else "")


def _since(s: Since | None) -> str:
    if s is None:
        return ""
    end = s.before.replace("T", " ").removesuffix("Z")
    if s.after is None:
        return f"; since before {end}"
    start = s.after.replace("T", " ").removesuffix("Z")
    return f"; since {start} – {end[11:] if start[:10] == end[:10] else end}"


def render(report: Report, n: int, since: Mapping[str, Since] | None = None) -> str:
    """`since` maps a finding's id to when its hosts took their current values."""
    chosen = pick(report, n)
    if not chosen:
        return ""
    out = [f"top {len(chosen)} of {len(report.findings)} finding{'s' if len(report.findings) != 1 else ''}:"]
    for i, f in enumerate(chosen, 1):
        head = f"{i:>2}. {f.severity.name}{'*' if f.blocking else ''} {f.category}: "
        tail = f" — on {_hosts(where(report, f))}{_since((since or {}).get(f.id))}"
        room = WIDTH - len(head) - len(tail)
        what = clean(f.message)
        if len(what) > max(room, 30):
            what = what[:max(room, 30) - 1] + "…"
        out.append(head + what + tail)
    return "\n".join(out) + "\n\n"
