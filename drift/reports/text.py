"""Wording shared by the human formats."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import replace

from drift.core.sanitize import clean, clip, name
from drift.model.report import CATEGORIES, Finding, Kind, Level, Report, Side, Value


def title(report: Report) -> str:
    if report.command == "audit" and report.right is not None:
        return f"drift audit {report.right.name}: outliers, and drift from the {report.left.name}"
    if report.right is None:
        return f"drift {report.command} {report.left.name}: outliers"
    return f"drift {report.command} {report.left.name} {report.right.name}"


def counts(report: Report) -> str:
    """'6 findings: 5 high, 1 medium'."""
    s = report.summary()
    sev = ", ".join(f"{n} {lvl}" for lvl, n in s["by_severity"].items() if n)
    return f"{s['findings']} finding{'s' if s['findings'] != 1 else ''}" + (f": {sev}" if sev else "")


def headline(report: Report) -> str:
    s = report.summary()
    parts = [counts(report), f"{s['blocking']} blocking at --fail-on {report.fail_on.name}"]
    if s["waived"]:
        parts.append(f"{s['waived']} waived")
    if report.errors:
        hosts = len({e.host for e in report.errors})
        parts.append(f"{hosts} host{'s' if hosts != 1 else ''} not fully collected: parity not proven")
    unproven = sum(u.unproven for u in report.undecided)
    if unproven:
        parts.append(f"{unproven} flow{'s' if unproven != 1 else ''} undecided: parity not proven")
    return "; ".join(parts) + f"; exit {s['exit_code']}"


def no_findings(report: Report) -> str:
    """What a report without findings means: clean only where hosts were collected to show it."""
    down = {e.host for e in report.errors if e.collector is None}
    empty = list(dict.fromkeys(s.name for s in sides(report) if s.hosts and set(s.hosts) <= down))
    if empty:
        return (f"nothing compared: no host of {' or '.join(empty)} could be collected, "
                "so parity is unknown, not proven")
    if report.errors:
        return "no drift among the hosts that could be collected; the rest is unknown"
    return "no drift"


def sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + "."


def sides(report: Report) -> list[Side]:
    return [report.left] if report.right is None else [report.left, report.right]


def when(side: Side, now: str = "") -> str:
    """'collected 2026-11-22 03:00Z, 3 h ago', or a range when the side's hosts were collected at
    different times. The age counts from the oldest host, relative to `now` (the report's time)."""
    span = side.collected_range
    if span is None:
        return "collection time unknown"
    first, last = (t.replace("T", " ")[:16] + "Z" for t in span)
    text = f"collected {first}" if first == last else f"collected {first} to {last}"
    old = age(span[0], now)
    return text + (f", {old}" if old else "")


def age(then: str, now: str) -> str:
    try:
        seconds = (_instant(now) - _instant(then)).total_seconds()
    except ValueError:
        return ""
    if seconds < -60:
        return "in the future"
    if seconds < 60:
        return ""
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 48 * 3600:
        return f"{int(seconds // 3600)} h ago"
    return f"{int(seconds // 86400)} days ago"


def _instant(stamp: str) -> dt.datetime:
    t = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)


def host_list(side: Side, limit: int = 8) -> str:
    names = list(side.hosts[:limit])
    more = len(side.hosts) - len(names)
    return " ".join(names) + (f" (+{more} more)" if more else "")


def failed_hosts(report: Report) -> set[str]:
    return {e.host for e in report.errors}


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


def odd_hosts(f: Finding) -> list[str]:
    """The hosts that disagree with their peers, as analysis decided them (an outlier's minority, or
    every host of an outlier with no majority); never guessed from the values, which list peers too.
    Empty when the difference is between the sides (every host of the role has it)."""
    return list(f.odd) if f.kind is Kind.outlier else []


def roles(f: Finding) -> str:
    return ",".join(f.all_roles)


def where(f: Finding, order: Sequence[str] = ()) -> str:
    """Who a person should look at: the odd hosts, or the role on each side, the sides in `order`
    (the order the user named them: staging vs prod, whichever order the finding's values are in)."""
    odd = odd_hosts(f)
    if odd:
        return " ".join(odd)
    envs = sorted(dict.fromkeys(v.env for v in f.values), key=lambda e: order.index(e) if e in order else len(order))
    return f"{' vs '.join(envs)} ({roles(f)})" if envs else roles(f)


def related(f: Finding) -> str:
    if not f.related:
        return ""
    return f"+{len(f.related)} related on {f.topic}" if f.topic else f"+{len(f.related)} related"


def value_text(path: str, value: object, text: str) -> str:
    if text:
        return text
    return "absent" if value is None else value if isinstance(value, str) else json.dumps(value, default=str)


def safe(text: str) -> str:
    return clean(text)


def sanitised(report: Report) -> Report:
    """Every string a human format prints, cleaned here once: names, messages, errors and warnings
    to one printable line (no forged lines in a table), details without control sequences, errors
    bounded."""
    def side(s: Side | None) -> Side | None:
        return None if s is None else replace(s, name=name(s.name), hosts=tuple(name(h) for h in s.hosts))

    def finding(f: Finding) -> Finding:
        return replace(f, category=name(f.category), path=name(f.path), subject=name(f.subject), role=name(f.role),
                       message=name(f.message), detail=clean(f.detail), topic=name(f.topic),
                       odd=tuple(name(h) for h in f.odd), roles=tuple(name(r) for r in f.roles),
                       values=tuple(value(v) for v in f.values))

    def value(v: Value) -> Value:
        env, host, text = name(v.env), name(v.host), name(v.text)
        # Nearly every value is clean already (name returns the very string): no copy to make.
        return v if env is v.env and host is v.host and text is v.text else replace(v, env=env, host=host, text=text)

    return replace(report, left=side(report.left), right=side(report.right),  # type: ignore[arg-type]
                   findings=tuple(finding(f) for f in report.findings),
                   errors=tuple(replace(e, host=name(e.host), message=name(clip(e.message)),
                                        collector=None if e.collector is None else name(e.collector))
                                for e in report.errors),
                   warnings=tuple(name(w) for w in report.warnings),
                   undecided=tuple(replace(u, env=name(u.env), flow=name(u.flow), reason=name(clip(u.reason)),
                                           hosts=tuple(name(h) for h in u.hosts)) for u in report.undecided))


LEVEL_NAMES = [lvl.name for lvl in reversed(Level)]
