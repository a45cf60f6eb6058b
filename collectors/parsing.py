"""Small helpers every parser uses, so odd input fails the same clean way everywhere."""

from __future__ import annotations

import json
from typing import Any, Iterator

from drift.errors import CollectError


def lines(output: str) -> Iterator[tuple[int, str]]:
    """(line number, line) for each non-blank line; CRLF endings are accepted."""
    for number, line in enumerate(output.splitlines(), 1):
        line = line.rstrip("\r")
        if line.strip():
            yield number, line


def fields(line: str, count: int, number: int, what: str) -> list[str]:
    parts = line.split("\t")
    if len(parts) != count:
        raise CollectError(f"line {number}: expected {count} tab-separated fields ({what}), got {len(parts)}: "
                           f"{line[:80]!r}")
    return parts


def load_json(text: str, what: str) -> Any:
    if not text.strip():
        raise CollectError(f"{what}: empty output")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CollectError(f"{what}: invalid JSON at line {exc.lineno} column {exc.colno} (output cut short?)") \
            from None


def split_parts(output: str, marker: str, count: int, what: str) -> list[str]:
    """Cut one section's output at lines equal to `marker` (for commands that print several things)."""
    parts = [""]
    for line in output.splitlines(keepends=True):
        if line.rstrip("\r\n") == marker:
            parts.append("")
        else:
            parts[-1] += line
    if len(parts) != count:
        raise CollectError(f"{what}: expected {count} parts separated by {marker!r}, got {len(parts)} "
                           "(output cut short?)")
    return parts
