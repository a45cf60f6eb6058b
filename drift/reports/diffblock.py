"""A finding's unified diff (line-level file content) as a diff block in HTML and Markdown.

Kept apart from the renderers so their layout can change without touching this: they ask
`is_diff`, Markdown takes `fence`, the HTML template takes `lines` (its CSS colours .add/.del/.hunk).
"""

from __future__ import annotations


def is_diff(detail: str) -> bool:
    return detail.startswith("--- ") and "\n+++ " in detail


def fence(detail: str) -> str:
    """The Markdown info string: `diff` for a unified diff, so GitHub colours it."""
    return "diff" if is_diff(detail) else ""


def lines(detail: str) -> list[dict[str, str]]:
    """Each line of a diff with its kind (`add`, `del`, `hunk` or ``); empty for any other detail."""
    if not is_diff(detail):
        return []
    out = []
    for line in detail.split("\n"):
        if line.startswith(("+++", "---")):
            kind = ""
        elif line.startswith("@@"):
            kind = "hunk"
        else:
            kind = {"+": "add", "-": "del"}.get(line[:1], "")
        out.append({"kind": kind, "text": line})
    return out
