"""Small helpers every parser uses, so odd input fails the same clean way everywhere."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from drift.core import jsonio
from drift.core.errors import CollectError


def lines(output: str) -> Iterator[tuple[int, str]]:
    """(line number, line) for each non-blank line; CRLF endings are accepted.

    Only \\n ends a line: str.splitlines also cuts at \\x85 or U+2028, which can sit inside a
    value (an iptables comment), and would make two broken lines of one good one.
    """
    for number, line in enumerate(output.split("\n"), 1):
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
    # Bounded like every JSON drift reads (depth, numbers, lone surrogates): a hostile or broken
    # host fails this collector with a message, never the run.
    try:
        return jsonio.loads(text)
    except jsonio.JsonInputError as exc:
        where = f" at line {exc.line} column {exc.column} (output cut short?)" if exc.line is not None else ""
        raise CollectError(f"{what}: invalid JSON: {exc.message}{where}") from None


def split_parts(output: str, marker: str, count: int, what: str) -> list[str]:
    """Cut one section's output at lines equal to `marker` (for commands that print several things)."""
    # Lines are gathered in lists and joined once: `str +=` on a list item copies, quadratic in size.
    chunks: list[list[str]] = [[]]
    for line in output.split("\n"):
        if line.rstrip("\r\n") == marker:
            chunks.append([])
        else:
            chunks[-1].append(line)
    parts = ["\n".join(chunk) for chunk in chunks]
    if len(parts) != count:
        raise CollectError(f"{what}: expected {count} parts separated by {marker!r}, got {len(parts)} "
                           "(output cut short?)")
    return parts
