"""Markdown for a pull-request comment: the verdict, who was compared, one compact row per finding
naming the odd host, and the per-host values folded in <details>. Always under GitHub's 65,536
character limit for a comment: what does not fit is counted in a "+N more" line."""

from __future__ import annotations

from drift.model import outliers
from drift.model.report import Finding, Level, Report
from drift.reports import diffblock
from drift.reports.text import (
    counts,
    failed_hosts,
    no_findings,
    odd_hosts,
    related,
    safe,
    sentence,
    sides,
    status,
    title,
    value_text,
    when,
    where,
)

LIMIT = 65_536
_MARGIN = 1_024  # room for the closing lines
_MARK = {Level.critical: "🟥", Level.high: "🔴", Level.medium: "🟠", Level.low: "🔵", Level.info: "⚪"}
_MAX_VALUES = 12  # per finding in the details: the odd hosts first, then enough peers to see the pattern


def _size(lines: list[str]) -> int:
    """Characters as GitHub counts them (UTF-16 code units: an emoji is two), with the newlines."""
    return sum(len(x.encode("utf-16-le")) // 2 + 1 for x in lines)


def _md(text: str) -> str:
    """Host data as inert text: no HTML, no links, no table breaks, no emphasis."""
    out = safe(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for ch in "\\`*_[]|#~":
        out = out.replace(ch, "\\" + ch)
    return out.replace("\r", " ").replace("\n", "<br>")


def _header(report: Report) -> list[str]:
    icon = {0: "✅", 1: "❌", 3: "⚠️"}[int(report.exit_code)]
    s = report.summary()
    verdict = (f"**{counts(report)}** · {s['blocking']} blocking at `--fail-on {report.fail_on.name}`"
               + (f" · {s['waived']} waived" if s["waived"] else "") + f" · exit {s['exit_code']}")
    failed = failed_hosts(report)
    who = []
    for side in sides(report):
        down = sorted(h for h in side.hosts if h in failed)
        note = f", not fully collected: {_md(' '.join(down))}" if down else ""
        who.append(f"**{_md(side.name)}**: {len(side.hosts)} host{'s' if len(side.hosts) != 1 else ''}, "
                   f"{when(side, report.generated_at)}{note}")
    return [f"### {icon} {_md(title(report))}", "", verdict, "", " · ".join(who), ""]


def _where(f: Finding, order: list[str]) -> str:
    odd = odd_hosts(f)
    if odd:
        return " ".join(f"**{_md(h)}**" for h in odd[:4]) + (f" +{len(odd) - 4}" if len(odd) > 4 else "")
    return _md(where(f, order))


def _row(f: Finding, order: list[str]) -> str:
    sev = f"{_MARK[f.severity]} " + (f"**{f.severity.name}**" if f.blocking else f.severity.name)
    note = status(f)
    if note and note != "blocking":
        sev += f" ({note})"
    link = related(f)
    return f"| {sev} | {_md(f.message)}{' (' + _md(link) + ')' if link else ''} | {_where(f, order)} |"


def _details(f: Finding) -> list[str]:
    odd = set(odd_hosts(f))
    values = sorted(f.values, key=lambda v: (v.host not in odd, v.env, v.host))
    lines = [f"**{_md(f.subject)}** ({f.category}, {f.kind.value.replace('_', ' ')}, "
             f"{_md(','.join(f.all_roles))}, id `{f.id}`)", ""]
    lines += [f"- {_md(v.env)} {_md(v.host)}: {_md(value_text(f.path, v.value, v.text))}"
              for v in values[:_MAX_VALUES]]
    if len(values) > _MAX_VALUES:
        lines.append(f"- +{len(values) - _MAX_VALUES} more hosts")
    if f.detail:
        lines += ["", "```" + diffblock.fence(f.detail), safe(f.detail).replace("```", "'''"), "```"]
    return [*lines, ""]


def render(report: Report) -> str:
    out = _header(report)
    summary = outliers.lines(report)  # many outliers: the tally by subject and by host comes first
    out += ["```", *summary, "```", ""] if summary else []
    budget = LIMIT - _MARGIN
    tail: list[str] = []
    if report.errors:
        tail.append("**Could not collect** (unknown, not absent):")
        tail += [f"- {_md(e.host)}{' ' + _md(e.collector) if e.collector else ''}: {_md(e.message)}"
                 for e in report.errors[:20]]
        if len(report.errors) > 20:
            tail.append(f"- +{len(report.errors) - 20} more")
        tail.append("")
    tail += [f"> warning: {_md(w)}" for w in report.warnings]
    used = _size(out + tail)
    if not report.findings:
        out.append(_md(sentence(no_findings(report))))
    else:
        shown, order = 0, [side.name for side in sides(report)]
        rows = ["| severity | finding | where |", "|---|---|---|"]
        used += _size(rows)
        for f in report.findings:
            row = _row(f, order)
            if used + _size([row]) > budget - 200:
                break
            rows.append(row)
            used += _size([row])
            shown += 1
        out += rows
        if shown < len(report.findings):
            out.append(f"\n**+{len(report.findings) - shown} more findings** not shown here: "
                       "run the same command with `--format html` or `--format json` for all of them.")
        out.append("")
        details: list[str] = []
        used += 120
        for i, f in enumerate(report.findings[:shown]):
            block = _details(f)
            size = _size(block)
            if used + size > budget:
                details.append(f"+{shown - i} more findings' values in the full report")
                break
            details += block
            used += size
        if details:
            out += ["<details><summary>Values per host</summary>", "", *details, "</details>", ""]
    return "\n".join(out + tail).rstrip() + "\n"
