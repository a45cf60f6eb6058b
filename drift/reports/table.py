"""The table a person reads during an incident: who was compared first, then one row per finding,
most severe first.

On a terminal the message wraps at the terminal's width, between words only (a host name is never
split); into a file or a pipe (width None) every finding is exactly one line, so grep and sort work.
"""

from __future__ import annotations

import textwrap

from drift.model import outliers
from drift.model.report import Finding, Level, Report
from drift.reports.text import (
    counts,
    failed_hosts,
    host_list,
    no_findings,
    related,
    roles,
    safe,
    sides,
    status,
    title,
    when,
)

_COLOURS = {Level.critical: "\x1b[1;31m", Level.high: "\x1b[31m", Level.medium: "\x1b[33m",
            Level.low: "\x1b[36m", Level.info: "\x1b[2m"}
_BOLD, _RESET = "\x1b[1m", "\x1b[0m"
_NARROWEST = 30  # below this many columns for the message, wrapping hurts more than it helps


def header(report: Report) -> list[str]:
    """Sides, hosts per side, when collected, counts by severity: the first thing a person needs."""
    failed = failed_hosts(report)
    pad = max(len(s.name) for s in sides(report))
    out = [title(report)]
    for side in sides(report):
        down = sum(h in failed for h in side.hosts)
        note = f"; {down} not fully collected" if down else ""
        out.append(f"  {side.name:<{pad}}  {len(side.hosts)} host{'s' if len(side.hosts) != 1 else ''}"
                   f" ({when(side, report.generated_at)}{note}): {host_list(side)}")
    s = report.summary()
    gate = f"{s['blocking']} blocking at --fail-on {report.fail_on.name}"
    waived = f", {s['waived']} waived" if s["waived"] else ""
    out.append(f"  {counts(report)}; {gate}{waived}; exit {s['exit_code']}")
    return out


def render(report: Report, color: bool = False, width: int | None = None, top: str = "") -> str:
    """`top` is an optional block (the --top summary) placed between the header and the findings."""
    out = [part for line in header(report) for part in _fit(line, width)] + [""]
    if top:
        out += [top.rstrip("\n"), ""]
    summary = outliers.lines(report)  # many outliers: the tally by subject and by host comes first
    out += [*summary, ""] if summary else []
    if not report.findings:
        out.append(no_findings(report))
    else:
        out += findings(report.findings, color, width)
    out.append("")
    if report.errors:
        out.append("could not collect (unknown, not absent):")
        out.extend("  " + _line(f"{e.host}{'/' + e.collector if e.collector else ''}: {e.message}")
                   for e in report.errors)
        out.append("")
    out.extend(part for w in report.warnings for part in _fit(f"warning: {_line(w)}", width))
    if any(f.blocking for f in report.findings):
        out.append(f"* blocks the gate (severity {report.fail_on.name} or above, not waived)")
    return "\n".join(out).rstrip("\n") + "\n"


def _fit(line: str, width: int | None) -> list[str]:
    """A header or warning line: wrapped between words on a terminal, whole into a file or a pipe."""
    if width is None:
        return [line]
    return textwrap.wrap(line, max(width, 40), subsequent_indent="      ", break_long_words=False,
                         break_on_hyphens=False)


def _line(text: str) -> str:
    """One line, whatever the host sent: newlines and other separators become single spaces."""
    return " ".join(safe(text).split())


def _message(f: Finding) -> str:
    note = status(f)
    extra = [f"[{note}{': ' + f.waived.reason if f.waived is not None and note == 'waived' else ''}]"] \
        if note and note != "blocking" else []
    link = related(f)
    return _line(" ".join([f.message, *extra, *([f"({link})"] if link else [])]))


def findings(items: tuple[Finding, ...], color: bool, width: int | None) -> list[str]:
    rows = [(f.severity.name + ("*" if f.blocking else ""), _line(f.category), _line(roles(f)), _message(f), f)
            for f in items]
    w_sev = max(8, *(len(r[0]) for r in rows))
    w_cat = max(8, *(len(r[1]) for r in rows))
    w_role = min(16, max(4, *(len(r[2]) for r in rows)))
    indent = w_sev + w_cat + w_role + 6
    room = None if width is None else max(_NARROWEST, width - indent)
    head = f"{'severity':<{w_sev}}  {'category':<{w_cat}}  {'role':<{w_role}}  what"
    out = [f"{_BOLD}{head}{_RESET}" if color else head]
    for sev, cat, role, message, f in rows:
        if len(role) > w_role:
            role = role[:w_role - 1] + "…"
        lines = [message] if room is None else textwrap.wrap(
            message, room, break_long_words=False, break_on_hyphens=False) or [""]
        cell = f"{sev:<{w_sev}}"
        if color:
            cell = f"{_COLOURS[f.severity]}{cell}{_RESET}"
        out.append(f"{cell}  {cat:<{w_cat}}  {role:<{w_role}}  {lines[0]}")
        out.extend(" " * indent + line for line in lines[1:])
    return out
