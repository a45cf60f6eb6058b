"""Wording shared by the human formats."""

from __future__ import annotations

from drift.core.sanitize import clean
from drift.model.report import CATEGORIES, Finding, Level, Report


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


LEVEL_NAMES = [lvl.name for lvl in reversed(Level)]
