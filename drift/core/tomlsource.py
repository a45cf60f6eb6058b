"""Reading TOML while keeping enough of the text to point a person at the right line."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

from drift.core.errors import InputError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

# The name may not start or end with blanks, so the regex cannot split a run of them two ways
# (which made a header of a million spaces quadratic).
_HEADER = re.compile(r"^\s*\[\[?\s*([^\]\s](?:[^\]]*[^\]\s])?)\s*\]\]?\s*(#.*)?$")
MAX_CHARS = 16 << 20
MAX_DEPTH = 32


class TomlSource:
    """A parsed TOML file plus a best-effort locator from a key path to its line.

    tomllib gives no positions, so we find a key by scanning for `key =` inside its table. That
    is exact for ordinary files and falls back to the table's header for odd layouts.
    """

    def __init__(self, path: Path, text: str, error: type[InputError] = InputError):
        self.path = path
        self.text = text
        self.lines = text.splitlines()
        if len(text) > MAX_CHARS:
            raise error(f"larger than {MAX_CHARS >> 20} MiB: not an inventory or policy a person wrote", path)
        for number, text_line in enumerate(self.lines, 1):
            # tomllib is quadratic in the parts of one dotted key or header: refuse absurd ones first.
            if text_line.split("=", 1)[0].count(".") > MAX_DEPTH:
                raise error(f"a key or table name nested deeper than {MAX_DEPTH} levels", path, number)
        try:
            self.doc: dict[str, Any] = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            line = _decode_error_line(str(exc))
            msg = re.sub(r"\s*\(at line \d+, column \d+\)$", "", str(exc))
            raise error(f"invalid TOML: {msg}", path, line) from None
        except RecursionError:  # tomllib recurses once per level of arrays and inline tables
            raise error(f"nested deeper than {MAX_DEPTH} levels", path) from None
        except ValueError:  # int() past sys.get_int_max_str_digits, raised bare by tomllib
            raise error("a number with thousands of digits", path) from None
        deepest = _depth(self.doc)
        if deepest > MAX_DEPTH:
            raise error(f"nested deeper than {MAX_DEPTH} levels (tables, arrays or dotted keys)", path)
        # Every header's line, found once: each lookup is then a dict access, not a scan of the file,
        # so locating thousands of hosts stays linear in the file.
        self._headers: dict[str, int] = {}
        for index, text_line in enumerate(self.lines):
            m = _HEADER.match(text_line) if text_line.lstrip().startswith("[") else None
            if m:
                self._headers.setdefault(_normalise(m.group(1)), index + 1)

    @classmethod
    def read(cls, path: Path, error: type[InputError] = InputError) -> TomlSource:
        return cls(path, read_utf8(path, error), error)

    def line_of(self, table: str, key: str | None = None, nth: int = 0) -> int | None:
        """Line of `key` inside `[table]` (or of the table header); `nth` counts repeats of the key."""
        start = self._table_start(table)
        if key is None:
            return start
        pattern = re.compile(r"(^|[{,])\s*" + _key_regex(key) + r"\s*=")
        seen = 0
        begin = start - 1 if start is not None else 0
        for index in range(begin, len(self.lines)):
            line = self.lines[index]
            if _HEADER.match(line):
                if index > begin and start is not None and not _inside(table, line):
                    break
                if start is None:  # top-level keys end at the first table
                    break
            for _ in pattern.finditer(_strip_strings(line)):
                if seen == nth:
                    return index + 1
                seen += 1
        # The key may be a table of its own: [table.key] or [[table.key]].
        return self._header(f"{table}.{key}" if table else key) or start

    def _header(self, table: str) -> int | None:
        return self._headers.get(table)

    def table_end(self, start: int | None) -> int:
        """The line after the last one of the table whose header is at `start` (1-based)."""
        begin = start or 0
        following = [line for line in self._headers.values() if line > begin]
        return min(following) if following else len(self.lines) + 1

    def _table_start(self, table: str) -> int | None:
        if not table:
            return None
        found = self._header(table)
        if found is not None:
            return found
        # A dotted table like environments.prod may be written inline in its parent. Depth is
        # bounded (MAX_DEPTH), so this recursion is too.
        parent, _, last = table.rpartition(".")
        if parent and table.count(".") <= MAX_DEPTH:
            return self.line_of(parent, last)
        return None


def read_utf8(path: Path, error: type[InputError] = InputError) -> str:
    """A file's text; missing, unreadable or not UTF-8 is one `error` naming the file (and line)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise error("file not found", path) from None
    except OSError as exc:
        raise error(f"cannot read: {exc.strerror}", path) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error("not valid UTF-8", path, raw[: exc.start].count(b"\n") + 1) from None


def _inside(table: str, header_line: str) -> bool:
    m = _HEADER.match(header_line)
    return m is not None and _normalise(m.group(1)).startswith(table + ".")


def _normalise(name: str) -> str:
    return ".".join(part.strip().strip('"').strip("'") for part in name.split("."))


def _key_regex(key: str) -> str:
    escaped = re.escape(key)
    return rf"(?:{escaped}|\"{escaped}\"|'{escaped}')"


def _strip_strings(line: str) -> str:
    # Keeps `a = "x = 1"` from matching key x; good enough for a locator.
    return _STRINGS.sub('""', line).split("#", 1)[0]


_STRINGS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|\'[^\']*\'')


def _depth(doc: Any) -> int:
    """How deep tables and arrays nest, iteratively (the value may be as deep as tomllib allows)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(doc, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            deepest = max(deepest, depth)
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            deepest = max(deepest, depth)
            stack.extend((v, depth + 1) for v in value)
    return deepest


def _decode_error_line(message: str) -> int | None:
    m = re.search(r"at line (\d+)", message)
    return int(m.group(1)) if m else None
