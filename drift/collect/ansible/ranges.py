"""Host patterns and INI values exactly as Ansible reads them (`name:port`, `[v6::addr]:port`, ranges
like `web[01:03]`, `db-[a:c]`, `web[:3]`), so drift lists the hosts ansible-inventory lists, no more.

Ansible first tries to read a pattern as an address with an optional port; what is not a valid address
is taken whole as the name. Each `[begin:end(:step)]` then expands, leftmost first: a missing begin is 0,
a zero-padded begin needs an end of the same width, letters range over a-z then A-Z. An end before the
begin is refused, where Ansible silently lists no host for it. Expansion is iterative and capped, so it stays linear.
"""

from __future__ import annotations

import ast
import re
import string
import warnings
from collections.abc import Callable
from pathlib import Path

from drift.collect.ansible.model import MAX_HOSTS
from drift.core.errors import InventoryError

Fail = Callable[[str], InventoryError]
_LITERAL_MAX = 4096  # longer values stay strings: literal_eval is not worth its cost on them

_NUMERIC = r"\[(?:[0-9]+:[0-9]+)(?::[0-9]+)?\]"
_HEX = r"\[(?:[0-9a-f]+:[0-9a-f]+)(?::[0-9]+)?\]"
_ALNUM = r"\[(?:[a-z]:[a-z]|[0-9]+:[0-9]+)(?::[0-9]+)?\]"
_V6 = rf"(?:[0-9a-f]{{1,4}}|{_HEX})"
_V4 = rf"(?:[01]?[0-9]{{1,2}}|2[0-4][0-9]|25[0-5]|{_NUMERIC})"
_LABEL = rf"(?:[\w]|{_ALNUM})(?:[\w_-]|{_ALNUM})*(?<![_-])"
_BRACKETED_PORT = re.compile(r"^\[(.+)\]:([0-9]+)$")
_HOST_PORT = re.compile(r"^((?:[^:\[\]]|\[[^\]]*\])*):([0-9]+)$")
_ADDRESS = (
    re.compile(rf"^(?:{_V4}\.){{3}}{_V4}$", re.I),
    re.compile("^(?:" + "|".join((
        rf"(?:{_V6}:){{7}}{_V6}", rf"(?:{_V6}:){{1,6}}:", rf"(?:{_V6}:)(?::{_V6}){{1,6}}",
        rf"(?:{_V6}:){{2}}(?::{_V6}){{1,5}}", rf"(?:{_V6}:){{3}}(?::{_V6}){{1,4}}",
        rf"(?:{_V6}:){{4}}(?::{_V6}){{1,3}}", rf"(?:{_V6}:){{5}}(?::{_V6}){{1,2}}",
        rf"(?:{_V6}:){{6}}(?::{_V6})", rf":(?::{_V6}){{1,6}}", rf"{_V6}?::",
        rf"(?:0:){{6}}(?:{_V6}\.){{3}}{_V6}", rf"::(?:ffff:)?(?:{_V6}\.){{3}}{_V6}",
        rf"(?:0:){{5}}ffff:(?:{_V6}\.){{3}}{_V6}",
    )) + ")$", re.I),
    re.compile(rf"^{_LABEL}(?:\.{_LABEL})*$", re.I | re.UNICODE),
)


def parse_value(text: str) -> object:
    """What Ansible makes of `key=value` in INI: a Python literal if it is one, else the string.
    Python warns on text like `10.0.0.1x` ("invalid decimal literal"); Ansible silences that, so do we."""
    if len(text) > _LITERAL_MAX:
        return text
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text


def _address(pattern: str) -> tuple[str, int | None] | None:
    """(host, port) when Ansible's parse_address accepts the pattern, else None."""
    port = None
    for form in (_BRACKETED_PORT, _HOST_PORT):  # both, in turn, as Ansible does
        m = form.match(pattern)
        if m:
            pattern, port = m.group(1), int(m.group(2))
    if any(form.match(pattern) for form in _ADDRESS):
        return pattern, port
    return None


def expand(pattern: str, line: int | None, fail_path: Path | str, ini: bool = False) -> tuple[list[str], int | None]:
    """The host names and the port of one host pattern; `ini` adds the INI reader's own checks."""
    def fail(message: str) -> InventoryError:
        return InventoryError(f"host pattern {pattern!r}: {message}", fail_path, line)

    parsed = _address(pattern)
    name, port = parsed if parsed is not None else (pattern, None)
    if port is not None and not 0 < port < 65536:
        raise fail(f"port {port} is out of range")
    if ini and pattern.strip().endswith(":") and port is None:
        raise fail("ends in ':', which Ansible keeps reserved for a port (like web1:2222)")
    names = _expand(name, fail) if "[" in name else [name]
    if ini and any(n.strip() == "---" for n in names):
        raise fail("'---' starts a YAML document: name the file .yml to read it as a YAML inventory")
    if not all(n.strip() for n in names):
        raise fail("empty host name")
    return names, port


def _expand(name: str, fail: Fail) -> list[str]:
    done: list[str] = []
    pending = [name]
    while pending:
        current = pending.pop()
        if "[" not in current:
            done.append(current)
            continue
        parts = current.replace("[", "|", 1).replace("]", "|", 1).split("|")
        if len(parts) != 3:
            raise fail("unbalanced brackets, or a '|' in the name (expected like web[01:03] or db-[a:c])")
        head, span, tail = parts
        items = _range(span, fail)
        if len(done) + len(pending) + len(items) > MAX_HOSTS:
            raise fail(f"expands to more than {MAX_HOSTS} hosts")
        pending.extend(head + item + tail for item in reversed(items))
    return done


def _range(span: str, fail: Fail) -> list[str]:
    bounds = span.split(":")
    if len(bounds) not in (2, 3):
        raise fail("a range is [begin:end] or [begin:end:step]")
    begin, end = bounds[0] or "0", bounds[1]
    if not end:
        raise fail("a range needs an end, like [1:3]")
    width = 0
    if begin[0] == "0" and len(begin) > 1:
        width = len(begin)
        if width != len(end):
            raise fail(f"range [{span}]: a zero-padded begin needs an end of the same width (like [01:10])")
    try:
        step = int(bounds[2]) if len(bounds) == 3 else 1
        if begin in string.ascii_letters and end in string.ascii_letters:
            first, last = string.ascii_letters.index(begin), string.ascii_letters.index(end)
            if first > last:
                raise fail(f"range [{span}] ends before it begins")
            return [c.zfill(width) if width else c for c in string.ascii_letters[first:last + 1:step]]
        numbers = range(int(begin), int(end) + 1, step)
        if not numbers:  # Ansible expands web[3:1] to no host at all, silently: surely not what was meant
            raise fail(f"range [{span}] ends before it begins (Ansible would list no host for it)")
    except ValueError:
        raise fail(f"range [{span}]: both ends numbers, or both letters, and a whole-number step above 0") from None
    if len(numbers) > MAX_HOSTS:
        raise fail(f"expands to more than {MAX_HOSTS} hosts")
    return [str(n).zfill(width) if width else str(n) for n in numbers]
