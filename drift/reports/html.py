"""One self-contained HTML file: inline style, no scripts, no external assets."""

from __future__ import annotations

from html import escape

from drift.model.report import Report
from drift.reports import diffblock
from drift.reports.text import by_category, headline, hosts, safe, status, title

_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;width:100%;margin-bottom:1.5em}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f4f4f4} code{font-size:13px} .critical,.high{color:#b00020;font-weight:bold}
.medium{color:#a05a00} .low{color:#005a8c} .info{color:#777} .blocking{background:#fff0f0}
pre{margin:0;white-space:pre-wrap;font-size:12px;color:#555}
"""


def _e(text: str) -> str:
    return escape(safe(text))


def render(report: Report) -> str:
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>{_e(title(report))}</title><style>{_STYLE}</style></head><body>",
           f"<h1>{_e(title(report))}</h1>", f"<p><strong>{_e(headline(report))}</strong><br>",
           f"generated {_e(report.generated_at)}</p>"]
    for category, findings in by_category(report):
        out.append(f"<h2>{_e(category)} ({len(findings)})</h2><table>")
        out.append("<tr><th>severity</th><th>kind</th><th>role</th><th>subject</th><th>message</th><th>hosts</th></tr>")
        for f in findings:
            note = status(f)
            out.append(f'<tr class="{"blocking" if f.blocking else ""}"><td class="{f.severity.name}">'
                       f"{f.severity.name}{' (' + _e(note) + ')' if note else ''}</td><td>{f.kind.value}</td>"
                       f"<td>{_e(f.role)}</td><td><code>{_e(f.subject)}</code></td><td>{_e(f.message)}"
                       f"{diffblock.html(f.detail, _e) if f.detail else ''}</td><td>{_e(hosts(f))}</td></tr>")
        out.append("</table>")
    if report.errors:
        out.append("<h2>Could not collect</h2><ul>")
        out += [f"<li><code>{_e(e.host)}</code> {_e(e.collector or '')}: {_e(e.message)}</li>" for e in report.errors]
        out.append("</ul>")
    out += [f"<p>warning: {_e(w)}</p>" for w in report.warnings]
    out.append("</body></html>")
    return "\n".join(out) + "\n"
