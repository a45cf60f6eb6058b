"""Outliers at scale, summarised: which subjects have odd hosts, which hosts are odd, counts first.

1,000 hosts each with an outlier of its own make 1,000 findings; read one by one they hide the
shape (one bad host with 40 odd packages, or one package odd on 300 hosts). This pure step turns
a report's outlier findings into two tallies the human formats print before the rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from drift.model.report import Finding, Kind, Report

SUMMARY_FROM = 10  # outlier findings in a report from which the human formats lead with a summary
TOP = 10  # lines per tally; the rest is counted


@dataclass(frozen=True)
class Tally:
    name: str  # a subject, or a host
    count: int  # hosts odd on this subject, or subjects this host is odd on
    items: tuple[str, ...]  # those hosts or subjects, sorted


@dataclass(frozen=True)
class OutlierSummary:
    findings: int
    hosts: int
    subjects: int
    by_subject: tuple[Tally, ...]  # most odd hosts first
    by_host: tuple[Tally, ...]  # most odd subjects first


def odd_hosts(f: Finding) -> tuple[str, ...]:
    """The hosts an outlier finding is about: those that disagree with their peers, as analysis set them."""
    return f.odd


def summarize(findings: Iterable[Finding]) -> OutlierSummary:
    subjects: dict[str, set[str]] = {}
    hosts: dict[str, set[str]] = {}
    count = 0
    for f in findings:
        if f.kind is not Kind.outlier:
            continue
        count += 1
        label = f"{f.subject} ({f.role})"
        for h in odd_hosts(f):
            subjects.setdefault(label, set()).add(h)
            hosts.setdefault(h, set()).add(label)
    return OutlierSummary(count, len(hosts), len(subjects), _tallies(subjects), _tallies(hosts))


def _tallies(groups: dict[str, set[str]]) -> tuple[Tally, ...]:
    rows = (Tally(name, len(items), tuple(sorted(items))) for name, items in groups.items())
    return tuple(sorted(rows, key=lambda t: (-t.count, t.name)))


def lines(report: Report, top: int = TOP) -> list[str]:
    """The summary as plain lines, or none while the report has few outliers."""
    s = summarize(report.findings)
    if s.findings < SUMMARY_FROM:
        return []
    out = [f"outliers: {s.findings} findings, {s.hosts} host{'s' if s.hosts != 1 else ''} "
           f"odd on {s.subjects} subject{'s' if s.subjects != 1 else ''}"]
    for heading, tallies, noun in (("by subject (odd hosts)", s.by_subject, "host"),
                                   ("by host (odd subjects)", s.by_host, "subject")):
        out.append(f"  {heading}:")
        for t in tallies[:top]:
            shown = ", ".join(t.items[:5]) + (f", +{t.count - 5} more" if t.count > 5 else "")
            out.append(f"    {t.count:>6}  {t.name}: {shown}")
        if len(tallies) > top:
            rest = tallies[top:]
            out.append(f"    {sum(t.count for t in rest):>6}  ... {len(rest)} more, "
                       f"at most {rest[0].count} {noun}{'s' if rest[0].count != 1 else ''} each")
    return out
