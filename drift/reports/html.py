"""One self-contained HTML file: filters, sort, a per-host view and folded diffs, offline.

Rendered from a Jinja2 template with autoescaping, so host data is text wherever it lands (element
or attribute). The only script and style are ours, inline, and the page's Content-Security-Policy
allows exactly those by hash: even a value that slipped through escaping could not run or load
anything. The script reads data-* attributes and writes textContent only.
"""

from __future__ import annotations

import base64
import hashlib
from collections import Counter
from functools import cache
from importlib import resources
from typing import Any

from drift.model.report import Finding, Level, Report
from drift.reports import diffblock
from drift.reports.text import (
    LEVEL_NAMES,
    failed_hosts,
    headline,
    no_findings,
    odd_hosts,
    safe,
    sentence,
    sides,
    status,
    title,
    value_text,
    when,
    where,
)

MAX_VALUES = 50  # values listed per finding (odd hosts first); a 1,000-host role would drown the page
_EXIT_MEANING = {0: "no blocking drift", 1: "blocking drift", 3: "parity not proven: some facts unknown"}


@cache
def _asset(name: str) -> str:
    return resources.files("drift.reports").joinpath("templates").joinpath(name).read_text(encoding="utf-8")


def _csp_hash(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


@cache
def _template() -> Any:
    import jinja2  # only when an HTML report is asked for

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True, keep_trailing_newline=True)
    return env.from_string(_asset("report.html.j2"))


def _finding(f: Finding, labels: dict[str, str], order: list[str]) -> dict[str, Any]:
    odd = set(odd_hosts(f))
    note = status(f)
    return {
        "id": f.id, "severity": f.severity.name, "rank": int(f.severity), "blocking": f.blocking, "status": note,
        "category": f.category, "kind": f.kind.value.replace("_", " "), "roles": [safe(r) for r in f.all_roles],
        "subject": safe(f.subject), "message": safe(f.message), "detail": safe(f.detail), "path": safe(f.path),
        "diff": diffblock.lines(safe(f.detail)),
        "hosts": sorted({safe(v.host) for v in f.values}), "odd": sorted(safe(h) for h in odd),
        "where": safe(where(f, order)),
        "vals": [{"env": safe(v.env), "host": safe(v.host), "odd": v.host in odd,
                  "text": safe(value_text(f.path, v.value, v.text))}
                 for v in sorted(f.values, key=lambda v: (v.host not in odd, v.env, v.host))[:MAX_VALUES]],
        "more": max(0, len(f.values) - MAX_VALUES),
        "waiver": "" if f.waived is None else safe(f.waived.reason) + (
            f" (until {f.waived.expires}{', expired' if f.waived.expired else ''})" if f.waived.expires else ""),
        "related": [{"id": r, "label": labels.get(r, r)} for r in f.related], "topic": safe(f.topic),
    }


def context(report: Report) -> dict[str, Any]:
    """What the template shows; every string from a host passes through `safe` and then autoescape."""
    failed = failed_hosts(report)
    involved: Counter[str] = Counter()
    odd_in: Counter[str] = Counter()
    for f in report.findings:
        involved.update({v.host for v in f.values})
        odd_in.update(odd_hosts(f))
    labels = {f.id: safe(f"{f.category} {f.subject}") for f in report.findings}
    order = [side.name for side in sides(report)]
    side_rows = [{
        "name": safe(side.name), "when": when(side, report.generated_at),
        "hosts": [{"name": safe(h), "failed": h in failed, "findings": involved[h], "odd": odd_in[h],
                   "collected": (side.collected_at[i].replace("T", " ") if i < len(side.collected_at) else "")}
                  for i, h in enumerate(side.hosts)],
    } for side in sides(report)]
    style, script = _asset("report.css"), _asset("report.js")
    from markupsafe import Markup  # comes with jinja2

    return {
        "title": safe(title(report)), "verdict": safe(headline(report)), "generated_at": report.generated_at,
        "fail_on": report.fail_on.name, "exit_code": int(report.exit_code),
        "exit_meaning": _EXIT_MEANING.get(int(report.exit_code), ""),
        "sides": side_rows, "findings": [_finding(f, labels, order) for f in report.findings],
        "nothing_found": safe(sentence(no_findings(report))),
        "errors": [{"host": safe(e.host), "collector": safe(e.collector or ""), "message": safe(e.message)}
                   for e in report.errors],
        "warnings": [safe(w) for w in report.warnings],
        "levels": [(name, int(Level[name])) for name in LEVEL_NAMES],
        "categories": sorted({f.category for f in report.findings}),
        "roles": sorted({safe(r) for f in report.findings for r in f.all_roles}),
        "hosts": sorted({safe(h) for side in sides(report) for h in side.hosts}),
        # Our own static assets, trusted as markup; the policy names them by hash.
        "style": Markup(style), "script": Markup(script),  # noqa: S704
        "style_hash": _csp_hash(style), "script_hash": _csp_hash(script),
    }


def render(report: Report) -> str:
    return str(_template().render(context(report)))
