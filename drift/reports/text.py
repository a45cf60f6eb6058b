"""Wording shared by the human formats."""

from __future__ import annotations

from dataclasses import replace

from drift.core.sanitize import clean, clip, name
from drift.model.report import CATEGORIES, Finding, HostError, Level, Report, Side, Value


def title(report: Report) -> str:
    if report.command == "audit" and report.right is not None:
        return f"drift audit {report.right.name}: outliers, and drift from the {report.left.name}"
    if report.right is None:
        return f"drift {report.command} {report.left.name}: outliers"
    return f"drift {report.command} {report.left.name} {report.right.name}"


def headline(report: Report) -> str:
    s = report.summary()
    sev = ", ".join(f"{n} {lvl}" for lvl, n in s["by_severity"].items() if n)
    parts = [f"{s['findings']} finding{'s' if s['findings'] != 1 else ''}"]
    if s["findings"]:
        parts[0] += f" ({sev})"
    parts.append(f"{s['blocking']} blocking at --fail-on {report.fail_on.name}")
    if s["waived"]:
        parts.append(f"{s['waived']} waived")
    if report.errors:
        hosts = len({e.host for e in report.errors})
        parts.append(f"{hosts} host{'s' if hosts != 1 else ''} not fully collected: parity not proven")
    return "; ".join(parts) + f"; exit {s['exit_code']}"


def status(f: Finding) -> str:
    if f.waived is not None and not f.waived.expired:
        return "waived"
    if f.waived is not None:
        return "waiver expired"
    return "blocking" if f.blocking else ""


def by_category(report: Report) -> list[tuple[str, list[Finding]]]:
    """Categories ordered by their most severe finding, then by name; findings keep report order."""
    groups: dict[str, list[Finding]] = {}
    for f in report.findings:
        groups.setdefault(f.category, []).append(f)
    order = {c: i for i, c in enumerate(CATEGORIES)}
    return sorted(groups.items(), key=lambda kv: (-max(f.severity for f in kv[1]),
                                                  -sum(f.blocking for f in kv[1]), order.get(kv[0], 99)))


def hosts(f: Finding) -> str:
    return " ".join(sorted({v.host for v in f.values}))


def safe(text: str) -> str:
    return clean(text)


def sanitised(report: Report) -> Report:
    """Every string a human format prints, cleaned here once: names, messages, errors and warnings
    to one printable line (no forged lines in a table), details without control sequences, errors
    bounded."""
    def side(s: Side | None) -> Side | None:
        return None if s is None else Side(name(s.name), tuple(name(h) for h in s.hosts))

    def finding(f: Finding) -> Finding:
        return replace(f, category=name(f.category), path=name(f.path), subject=name(f.subject), role=name(f.role),
                       message=name(f.message), detail=clean(f.detail),
                       values=tuple(Value(name(v.env), name(v.host), v.value) for v in f.values))

    return replace(report, left=side(report.left), right=side(report.right),  # type: ignore[arg-type]
                   findings=tuple(finding(f) for f in report.findings),
                   errors=tuple(HostError(name(e.host), None if e.collector is None else name(e.collector),
                                          name(clip(e.message))) for e in report.errors),
                   warnings=tuple(name(w) for w in report.warnings))


LEVEL_NAMES = [lvl.name for lvl in reversed(Level)]
