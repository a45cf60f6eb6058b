"""Everything that reaches a terminal or a report passes through here: host output, snapshot
files and inventories are data, and must never drive a terminal or flood it.

`clean` keeps tab and newline (a detail may span lines); `name` is for one-line identifiers
(host, env, role, category, collector) and folds line breaks too. `quote` is how an error message
shows a piece of input: sanitised, at most ~100 characters, with its true length when cut.
"""

from __future__ import annotations

import re

# CSI / OSC / other ESC sequences, then any remaining C0/C1 control except tab and newline, and the
# bidirectional overrides that make a terminal show text in another order than it is stored.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_BREAKS = re.compile(r"[\t\n\r\u2028\u2029\x85]+")
_SURROGATES = re.compile(r"[\ud800-\udfff]")
# Any character one of the above could act on (every escape sequence starts with ESC, a C0 control):
# most text has none, and one search then stands for four substitutions.
_SUSPECT = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029\ud800-\udfff]")
QUOTE_LIMIT = 100
MESSAGE_LIMIT = 2000


def clean(text: str) -> str:
    if not _SUSPECT.search(text):
        return text
    text = _CONTROLS.sub("", _ESCAPES.sub("", text))
    # A lone surrogate cannot be encoded for any terminal or file: it would fail the write.
    return _SURROGATES.sub("\ufffd", text)


def name(text: str) -> str:
    """A one-line identifier: clean, and line breaks folded to a space so it cannot forge a line."""
    if not _SUSPECT.search(text):
        return text
    return _BREAKS.sub(" ", clean(text))


def quote(value: object, limit: int = QUOTE_LIMIT) -> str:
    """A piece of input inside an error message: repr-quoted, sanitised, cut to `limit` characters."""
    text = value if isinstance(value, str) else _short_repr(value, limit)
    if len(text) > limit:
        return repr(clean(text[:limit])) + f"... ({len(text):,} characters)"
    return repr(clean(text)) if isinstance(value, str) else clean(text)


def clip(message: str, limit: int = MESSAGE_LIMIT) -> str:
    """A whole message, sanitised and bounded: the last line of defence against echoing a huge input."""
    message = clean(message)
    return message if len(message) <= limit else message[:limit] + f"... ({len(message):,} characters)"


def _short_repr(value: object, limit: int) -> str:
    # repr of a huge nested value costs time and memory in proportion to it: cut containers first.
    if isinstance(value, (list, tuple, dict, set)) and len(value) > 8:
        return f"<{type(value).__name__} of {len(value):,} items>"
    try:
        text = repr(value)
    except (RecursionError, ValueError):  # too deep, or an int too long to print
        return f"<{type(value).__name__}>"
    return text
