"""The table a person reads during an incident: most severe first, grouped by category, 100 columns."""

from __future__ import annotations

import textwrap

from tabulate import tabulate

from drift.model import outliers
from drift.model.report import Level, Report
from drift.reports.text import by_category, headline, safe, status, title

_COLOURS = {Level.critical: "\x1b[1;31m", Level.high: "\x1b[31m", Level.medium: "\x1b[33m",
            Level.low: "\x1b[36m", Level.info: "\x1b[2m"}
_RESET = "\x1b[0m"
MESSAGE_WIDTH = 62


def render(report: Report, color: bool = False) -> str:
    out = [title(report), ""]
    summary = outliers.lines(report)
    out += [*summary, ""] if summary else []
    if not report.findings:
        out.append("no drift" + ("" if not report.errors else " among the hosts that could be collected"))
    for category, findings in by_category(report):
        rows = []
        for f in findings:
            sev = f.severity.name + ("*" if f.blocking else "")
            if color:
                sev = f"{_COLOURS[f.severity]}{sev}{_RESET}"
            note = status(f)
            message = safe(f.message) + (f" [{note}]" if note and note != "blocking" else "")
            rows.append([sev, f.kind.value.replace("_", " "), f.role, "\n".join(textwrap.wrap(message, MESSAGE_WIDTH))])
        out.append(f"{category} ({len(findings)})")
        out.append(tabulate(rows, headers=["severity", "kind", "role", "what"], tablefmt="simple"))
        out.append("")
    if report.errors:
        out.append("could not collect (unknown, not absent):")
        out.extend(f"  {e.host}{'/' + e.collector if e.collector else ''}: {safe(e.message)}" for e in report.errors)
        out.append("")
    out.extend(f"warning: {safe(w)}" for w in report.warnings)
    line = headline(report) + ("  (* blocks)" if any(f.blocking for f in report.findings) else "")
    out.extend(textwrap.wrap(line, 100, subsequent_indent="  "))
    return "\n".join(out) + "\n"
