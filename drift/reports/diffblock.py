"""A finding's unified diff (line-level file content) as a diff block in HTML and Markdown.

Kept apart from the renderers so their layout can change without touching this.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from drift.model.report import Finding
from drift.reports.text import safe


def is_diff(detail: str) -> bool:
    return detail.startswith("--- ") and "\n+++ " in detail


def html(detail: str, escape: Callable[[str], str]) -> str:
    """`<pre>` for any detail; a diff's lines are coloured by kind."""
    if not is_diff(detail):
        return f"<pre>{escape(detail)}</pre>"
    rows = []
    for line in detail.split("\n"):
        kind = "add" if line[:1] == "+" and not line.startswith("+++") else \
               "del" if line[:1] == "-" and not line.startswith("---") else "hunk" if line.startswith("@@") else ""
        rows.append(f'<span class="{kind}" style="color:{_COLOURS[kind]}">{escape(line)}</span>' if kind
                    else escape(line))
    return '<pre class="diff" style="background:#f8f8f8">' + "\n".join(rows) + "</pre>"


# Inline, so the block needs nothing from the page's stylesheet.
_COLOURS = {"add": "#1a7f37", "del": "#b00020", "hunk": "#6f42c1"}


def markdown(findings: Iterable[Finding]) -> list[str]:
    """A collapsed ```diff block per finding that has one, to follow its category's table."""
    out: list[str] = []
    for f in findings:
        if not is_diff(f.detail):
            continue
        text = safe(f.detail)
        longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
        fence = "`" * max(3, longest + 1)
        out += [f"<details><summary>{safe(f.subject).replace('<', '&lt;')} ({f.role})</summary>", "",
                f"{fence}diff", text, fence, "", "</details>", ""]
    return out
