"""JSON in and out, bounded and strict, for every document drift reads or writes.

In: host command output, snapshot files, baselines. Whatever their size or shape, reading them
ends in a value or a JsonInputError, never a RecursionError, a hang or a value that cannot be
written back:
- depth is bounded (MAX_DEPTH): a 100k-deep document is refused, not a RecursionError;
- numbers are finite and bounded: NaN, Infinity, 1e999 and 5,000-digit integers are refused;
- a lone UTF-16 surrogate escape (valid JSON, "\\ud800") becomes U+FFFD, the one rule for text that
  is not Unicode; left as it is, it parses and then fails every write of the run (UTF-8 cannot
  encode it).
Out: strict RFC 8259 JSON, allow_nan=False, so no consumer ever meets NaN.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

MAX_DEPTH = 64
MAX_INT = 2**128  # an IPv6 address as an integer still fits; a 40-digit-plus number is garbage

# Left to right: an escaped backslash (skipped, so `\\ud800` stays text), a well-formed surrogate
# pair (kept), a lone surrogate (replaced).
_SURROGATE_ESCAPES = re.compile(
    r"(\\\\)|\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}|(\\u[dD][89a-fA-F][0-9a-fA-F]{2})")
_MAYBE_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")


class JsonInputError(ValueError):
    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


def _surrogates_replaced(text: str) -> str:
    if not _MAYBE_SURROGATE.search(text):
        return text
    return _SURROGATE_ESCAPES.sub(lambda m: "\\ufffd" if m.group(2) else m.group(0), text)


def _no_constants(name: str) -> Any:
    raise JsonInputError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JsonInputError(f"{text[:40]} is out of range for a JSON number")
    return value


def _bounded(text: str) -> int:
    if len(text) > 40:
        raise JsonInputError(f"an integer of {len(text):,} digits")
    return int(text)


_STRINGS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def _within(brackets: bytes, max_depth: int) -> bool:
    # Each pass removes the innermost pairs, so a document `max_depth` deep is empty after as many.
    # What cannot pair (a truncated document, a bracket inside a string) can add at most its own
    # length to the depth.
    for done in range(max_depth + 1):
        if not brackets:
            return True
        shorter = brackets.replace(b"[]", b"").replace(b"{}", b"")
        if len(shorter) == len(brackets):
            return done + len(brackets) <= max_depth
        brackets = shorter
    return False


def deep(text: str, max_depth: int = MAX_DEPTH) -> bool:
    """Whether the JSON text nests deeper than `max_depth`, in C-speed passes over the text: brackets
    first (the common, fast answer), then, only if that is inconclusive, without string contents."""
    fast = text.encode("utf-8", "surrogatepass").translate(None, _NOT_BRACKETS)
    if _within(fast, max_depth):
        return False
    exact = _STRINGS.sub("", text).encode("utf-8", "surrogatepass").translate(None, _NOT_BRACKETS)
    return not _within(exact, max_depth)


_MAYBE_SURROGATE_BYTES = re.compile(rb"\\u[dD][89a-fA-F]")
# Every digit becomes "0" and every other byte "x": a run of 41 zeros is then a 41-digit run.
_DIGITS_AS_ZERO = bytes(0x30 if 0x30 <= b <= 0x39 else 0x78 for b in range(256))
_LONG_INTEGER = b"0" * 41


def risky(data: bytes, max_depth: int = MAX_DEPTH) -> bool:
    """Whether a document may hold what `loads` refuses or repairs and msgspec would take: deep
    nesting, a lone surrogate escape, an integer past 40 digits. (A float out of range msgspec
    refuses itself, so a hex digest's `e123` is no alarm.) Whole-buffer C passes only, ~0.4 ms for
    350 KB: a memchr for a backslash, a byte translation, a substring search (a regex for 41 digits
    took 6 ms). False alarms (such text inside a string) only cost the exact path."""
    if escapes_surrogate(data):
        return True
    if _LONG_INTEGER in data.translate(_DIGITS_AS_ZERO):
        return True
    return not _within(data.translate(None, _NOT_BRACKETS), max_depth)


def escapes_surrogate(data: bytes) -> bool:
    """Whether the text may hold a surrogate escape (`\\ud800`), which `loads` repairs: one memchr when
    there is no backslash at all."""
    return b"\\" in data and _MAYBE_SURROGATE_BYTES.search(data) is not None


def loads(text: str, max_depth: int = MAX_DEPTH) -> Any:
    """Parse `text`; JsonInputError (with line and column where known) for anything out of bounds.

    Costs about twice json.loads, with no walk over the parsed value: the checks are C-speed passes
    over the text and hooks that run only for floats, integers and NaN-like constants.
    """
    try:
        text.encode("utf-8")  # C speed; a regex search for surrogates costs 30 times more
    except UnicodeEncodeError:  # only a caller that decoded with surrogateescape can get here
        text = _LONE_SURROGATE.sub("\ufffd", text)
    if deep(text, max_depth):
        raise JsonInputError(f"nested deeper than {max_depth} levels")
    try:
        return json.loads(_surrogates_replaced(text), parse_constant=_no_constants, parse_float=_finite,
                          parse_int=_bounded)
    except json.JSONDecodeError as exc:
        raise JsonInputError(exc.msg, exc.lineno, exc.colno) from None
    except RecursionError:  # unreachable after `deep`, kept as a guard
        raise JsonInputError(f"nested deeper than {max_depth} levels") from None


def dumps(value: Any, *, indent: int | None = None, sort_keys: bool = False, compact: bool = False) -> str:
    """Strict JSON: a NaN or infinity is a bug upstream and raises ValueError here, never reaching a file."""
    separators = (",", ":") if compact else None
    return json.dumps(value, indent=indent, sort_keys=sort_keys, ensure_ascii=False, allow_nan=False,
                      separators=separators)
