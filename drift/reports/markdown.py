"""Markdown for a pull-request comment."""

from __future__ import annotations

from drift.model import outliers
from drift.model.report import Report
from drift.reports.text import by_category, headline, hosts, safe, status, title


def _cell(text: str) -> str:
    return safe(text).replace("|", "\\|").replace("\n", "<br>")


def render(report: Report) -> str:
    icon = {0: "✅", 1: "❌", 3: "⚠️"}[int(report.exit_code)]
    out = [f"## {icon} {title(report)}", "", f"**{headline(report)}**", ""]
    summary = outliers.lines(report)
    out += ["```", *summary, "```", ""] if summary else []
    for category, findings in by_category(report):
        out += [f"### {category} ({len(findings)})", "",
                "| severity | kind | role | subject | message | hosts |", "|---|---|---|---|---|---|"]
        for f in findings:
            sev = f"**{f.severity.name}**" if f.blocking else f.severity.name
            note = status(f)
            out.append(f"| {sev}{' (' + note + ')' if note and note != 'blocking' else ''} | {f.kind.value} "
                       f"| {_cell(f.role)} | `{_cell(f.subject)}` | {_cell(f.message)} | {_cell(hosts(f))} |")
        out.append("")
    if report.errors:
        out += ["### Could not collect", ""]
        out += [f"- `{_cell(e.host)}`{' ' + _cell(e.collector) if e.collector else ''}: {_cell(e.message)}"
                for e in report.errors]
        out.append("")
    out += [f"> warning: {_cell(w)}" for w in report.warnings]
    return "\n".join(out).rstrip() + "\n"
