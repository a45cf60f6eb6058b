"""`drift changes`: the timeline in table, json, markdown and html. Pure Timeline -> str, kept apart
from the compare/audit renderers on purpose: a timeline is events, not findings."""

from __future__ import annotations

import json
import textwrap
from html import escape
from typing import Any

from tabulate import tabulate

from drift.core.sanitize import clean
from drift.model.incident import CHANGES_SCHEMA, Event, Timeline


def when(stamp: str) -> str:
    """'2026-11-20T03:00:05Z' -> '2026-11-20 03:00:05'."""
    return stamp.replace("T", " ").removesuffix("Z")


def between(after: str, before: str) -> str:
    """The evidence: the change lies between these two snapshots."""
    a, b = when(after), when(before)
    if a[:10] == b[:10]:
        return f"{a} – {b[11:]}"
    return f"{a} – {b}"


def between_words(after: str, before: str) -> str:
    a, b = when(after), when(before)
    return f"between {a} and {b[11:] if a[:10] == b[:10] else b}"


def seen(e: Event) -> str:
    """When the hosts first and last showed it: how long the rollout took, as far as snapshots tell."""
    if e.first_seen == e.last_seen:
        return ""  # the end of the interval says it already
    return f"seen {between(e.first_seen, e.last_seen)[11:]}" if e.first_seen[:10] == e.last_seen[:10] \
        else f"seen {between(e.first_seen, e.last_seen)}"


def hosts(e: Event, limit: int = 6) -> str:
    names = e.host_names
    text = " ".join(names[:limit]) + (f" +{len(names) - limit}" if len(names) > limit else "")
    return f"{e.reach()}: {text}"


def title(t: Timeline) -> str:
    return f"drift changes {t.env}: {when(t.since)} – {when(t.until)} UTC"


def headline(t: Timeline) -> str:
    n = len(t.events)
    text = f"{n} change event{'s' if n != 1 else ''} on {len(t.hosts) - len(t.unobserved)} observed hosts"
    if t.unobserved:
        text += f"; {len(t.unobserved)} unobserved (no snapshot in the window: unknown, not unchanged): " \
                + " ".join(t.unobserved)
    return text


def _mark(e: Event) -> str:
    return f"{e.severity.name}{' partial' if e.partial else ''}"


def render_table(t: Timeline) -> str:
    out = [clean(title(t)), ""]
    rows = []
    for e in t.events:
        what = f"{e.subject}: {e.summary}" if e.kind != "bulk" else f"{e.subject} ({e.summary})"
        rows.append([_mark(e), "\n".join(filter(None, (between(e.after, e.before), seen(e)))),
                     _wrap(hosts(e), 28, 99), e.category, _wrap(what, 48, 4)])
    if rows:
        out.append(tabulate(rows, headers=["severity", "between (UTC)", "hosts", "category", "what"]))
    else:
        out.append("no changes in the window" + (" among the observed hosts" if t.unobserved else ""))
    out.append("")
    out += [f"note: {clean(n)}" for n in t.notes]
    out += textwrap.wrap(clean(headline(t)), 100, subsequent_indent="  ")
    return "\n".join(out) + "\n"


def _wrap(text: str, width: int, lines: int) -> str:
    return "\n".join(textwrap.wrap(clean(text), width, break_on_hyphens=False)[:lines])


def _event(e: Event) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "category": e.category, "path": e.path, "subject": e.subject, "kind": e.kind, "old": e.old, "new": e.new,
        "summary": e.summary, "severity": e.severity.name, "partial": e.partial, "roles": list(e.roles),
        "of": e.of, "count": e.count, "between": {"after": e.after, "before": e.before},
        "first_seen": e.first_seen, "last_seen": e.last_seen,
        "hosts": [{"host": o.host, "after": o.after, "before": o.before} for o in e.hosts],
        "unobserved": list(e.unobserved),
    }
    if e.kind == "reverted":
        doc["via"] = e.via
    if e.members:
        doc["members"] = [_event(m) for m in e.members]
    return doc


def render_json(t: Timeline) -> str:
    return json.dumps({"schema": CHANGES_SCHEMA, "env": t.env, "since": t.since, "until": t.until,
                       "generated_at": t.generated_at, "hosts": list(t.hosts), "unobserved": list(t.unobserved),
                       "notes": list(t.notes), "events": [_event(e) for e in t.events]},
                      indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _cell(text: str) -> str:
    return clean(text).replace("|", "\\|").replace("\n", "<br>")


def render_markdown(t: Timeline) -> str:
    out = [f"## {_cell(title(t))}", "", f"**{_cell(headline(t))}**", ""]
    if t.events:
        out += ["| severity | between (UTC) | hosts | category | subject | change |", "|---|---|---|---|---|---|"]
        for e in t.events:
            span = "<br>".join(x for x in (between(e.after, e.before), seen(e)) if x)
            out.append(f"| {_mark(e)} | {span} | {_cell(hosts(e))} | {e.category} "
                       f"| `{_cell(e.subject)}` | {_cell(e.summary)} |")
    out += [f"> note: {_cell(n)}" for n in t.notes]
    return "\n".join(out).rstrip() + "\n"


def _e(text: str) -> str:
    return escape(clean(text))


def render_html(t: Timeline) -> str:
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>{_e(title(t))}</title><style>body{{font:14px/1.4 system-ui,sans-serif;margin:2em}}"
           "table{border-collapse:collapse;width:100%}th,td{border:1px solid #ddd;padding:4px 8px;"
           "text-align:left;vertical-align:top}.high,.critical{color:#b00020;font-weight:bold}"
           "details{margin:0}</style></head><body>", f"<h1>{_e(title(t))}</h1>", f"<p>{_e(headline(t))}</p>",
           "<table><tr><th>severity</th><th>between (UTC)</th><th>hosts</th><th>category</th><th>subject</th>"
           "<th>change</th></tr>"]
    for e in t.events:
        change = _e(e.summary)
        if e.members:  # a bulk change folds its members away until someone opens it
            items = "".join(f"<li><code>{_e(m.subject)}</code> {_e(m.summary)}</li>" for m in e.members)
            change = f"<details><summary>{change}</summary><ul>{items}</ul></details>"
        when_ = "<br>".join(_e(x) for x in (between(e.after, e.before), seen(e)) if x)
        out.append(f'<tr><td class="{e.severity.name}">{_mark(e)}</td><td>{when_}</td>'
                   f"<td>{_e(hosts(e, 50))}</td><td>{_e(e.category)}</td><td><code>{_e(e.subject)}</code></td>"
                   f"<td>{change}</td></tr>")
    out.append("</table>")
    out += [f"<p>note: {_e(n)}</p>" for n in t.notes]
    out.append("</body></html>")
    return "\n".join(out) + "\n"
