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

_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")


class TomlSource:
    """A parsed TOML file plus a best-effort locator from a key path to its line.

    tomllib gives no positions, so we find a key by scanning for `key =` inside its table. That
    is exact for ordinary files and falls back to the table's header for odd layouts.
    """

    def __init__(self, path: Path, text: str, error: type[InputError] = InputError):
        self.path = path
        self.text = text
        self.lines = text.splitlines()
        try:
            self.doc: dict[str, Any] = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            line = _decode_error_line(str(exc))
            msg = re.sub(r"\s*\(at line \d+, column \d+\)$", "", str(exc))
            raise error(f"invalid TOML: {msg}", path, line) from None

    @classmethod
    def read(cls, path: Path, error: type[InputError] = InputError) -> TomlSource:
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise error("file not found", path) from None
        except OSError as exc:
            raise error(f"cannot read: {exc.strerror}", path) from None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            raise error("not valid UTF-8", path, line) from None
        return cls(path, text, error)

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
        for index, line in enumerate(self.lines):
            m = _HEADER.match(line)
            if m and _normalise(m.group(1)) == table:
                return index + 1
        return None

    def _table_start(self, table: str) -> int | None:
        if not table:
            return None
        found = self._header(table)
        if found is not None:
            return found
        # A dotted table like environments.prod may be written inline in its parent.
        parent, _, last = table.rpartition(".")
        if parent:
            return self.line_of(parent, last)
        return None


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
    return re.sub(r'"(?:[^"\\]|\\.)*"|\'[^\']*\'', '""', line).split("#", 1)[0]


def _decode_error_line(message: str) -> int | None:
    m = re.search(r"at line (\d+)", message)
    return int(m.group(1)) if m else None
