"""Config file formats to flat `key -> value` entries (INI, key=value/.env/properties, JSON, TOML,
YAML) or significant lines (everything else). Pure and linear; a file that cannot be read in its
format raises Unreadable with a note that names a line, never the file's text.

Keys are paths: `[section] key` for INI, `key` for key=value files, `a.b[0].c` for JSON, TOML
and YAML. Values are text as the file means them (`true`, `300`, `null`).
"""

from __future__ import annotations

import json
import re
import sys
from datetime import date, datetime, time
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

MAX_ENTRIES = 10_000


class Unreadable(Exception):
    """The file is not valid in its format; the message is safe to store (no file content)."""


_BY_SUFFIX = {".json": "json", ".yaml": "yaml", ".yml": "yaml", ".toml": "toml", ".ini": "ini",
              ".env": "env", ".properties": "properties"}
_SNIFF = (".conf", ".cfg", ".cnf")


def format_of(path: str, text: str) -> str:
    name = path.rsplit("/", 1)[-1].lower()
    if name == ".env" or name.startswith(".env."):
        return "env"
    suffix = name[name.rfind("."):] if "." in name else ""
    if suffix in _BY_SUFFIX:
        return _BY_SUFFIX[suffix]
    if suffix in _SNIFF:
        try:
            entries = ini(text)
        except Unreadable:
            return "lines"
        # `BINDPW pa=ss` or `BASE dc=example,dc=com` is a directive line, not a key with a space.
        if not entries or any(re.search(r"\s", key.rsplit("] ", 1)[-1]) for key in entries):
            return "lines"
        return "ini"
    return "lines"


def ini(text: str, sections: bool = True, env: bool = False, loose: bool = False) -> dict[str, str]:
    """INI (sections, `=` or `:`, `#`/`;` comments, indented continuation lines); with
    sections=False the same for key=value, .env (`export`, quotes) and .properties files (loose:
    a key may end at whitespace). A duplicated key keeps its last value, as readers do."""
    out: dict[str, str] = {}
    section, last = "", ""
    comments = "#;!" if loose else "#;"
    for number, line in enumerate(text.split("\n"), 1):
        s = line.strip()
        if not s or s[0] in comments:
            continue
        if sections and s[0] == "[" and s[-1] == "]":
            section, last = s[1:-1].strip(), ""
            continue
        if sections and last and line[0] in " \t":
            out[last] += "\n" + s
            continue
        eq, colon = s.find("="), s.find(":")
        cut = eq if colon <= 0 or 0 < eq < colon else colon
        if cut <= 0 and loose:
            cut = s.find(" ")
        if cut <= 0:
            raise Unreadable(f"line {number}: not a key = value line")
        key, value = s[:cut].strip(), s[cut + 1:].strip()
        if env and key.startswith("export "):
            key = key[7:].strip()
        if env and len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        last = f"[{section}] {key}" if section else key
        out[last] = value
        if len(out) > MAX_ENTRIES:
            raise Unreadable(f"more than {MAX_ENTRIES} keys")
    return out


def scalar(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None or isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return f"<{len(value)} bytes>"
    return str(value)


def flatten(doc: Any) -> dict[str, str]:
    """Nested mappings and lists to `a.b[0]` keys; iterative, so depth costs no recursion, and
    capped, so a YAML alias bomb stops early instead of expanding."""
    out: dict[str, str] = {}
    stack: list[tuple[str, Any]] = [("", doc)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, dict) and value:
            for k, v in reversed(list(value.items())):
                stack.append((f"{where}.{k}" if where else str(k), v))
        elif isinstance(value, list) and value:
            for i in range(len(value) - 1, -1, -1):
                stack.append((f"{where}[{i}]", value[i]))
        else:
            text = "{}" if isinstance(value, dict) else "[]" if isinstance(value, list) else scalar(value)
            out[where or "."] = text
            if len(out) > MAX_ENTRIES:
                raise Unreadable(f"more than {MAX_ENTRIES} keys")
    return out


def json_entries(text: str) -> dict[str, str]:
    try:
        return flatten(json.loads(text))
    except json.JSONDecodeError as exc:
        raise Unreadable(f"invalid JSON at line {exc.lineno}") from None
    except (RecursionError, ValueError):
        raise Unreadable("JSON nested too deep or a number too long") from None


def toml_entries(text: str) -> dict[str, str]:
    try:
        return flatten(tomllib.loads(text))
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise Unreadable(f"invalid TOML{' at line ' + m.group(1) if m else ''}") from None
    except RecursionError:
        raise Unreadable("TOML nested too deep") from None


def yaml_entries(text: str) -> dict[str, str]:
    import yaml  # only when a YAML file is collected

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # safe loading only: no object construction
    try:
        docs = list(yaml.load_all(text, Loader=loader))
    except yaml.MarkedYAMLError as exc:
        # Its str() quotes the offending line, which may hold a secret: only the position is kept.
        line = exc.problem_mark.line + 1 if exc.problem_mark is not None else None
        raise Unreadable(f"invalid YAML{f' at line {line}' if line else ''}") from None
    except (yaml.YAMLError, RecursionError, ValueError):
        raise Unreadable("invalid YAML") from None
    if len(docs) <= 1:
        return flatten(docs[0] if docs else None)
    return flatten({f"[doc {i + 1}]": d for i, d in enumerate(docs)})


def entries(fmt: str, text: str) -> dict[str, str]:
    if fmt == "json":
        return json_entries(text)
    if fmt == "toml":
        return toml_entries(text)
    if fmt == "yaml":
        return yaml_entries(text)
    if fmt == "ini":
        return ini(text)
    return ini(text, sections=False, env=fmt == "env", loose=fmt == "properties")


def significant_lines(text: str) -> list[str]:
    """Lines that carry meaning: comments and blank lines dropped, whitespace runs folded."""
    out = []
    for line in text.split("\n"):
        s = line.strip()
        if s and s[0] not in "#;":
            out.append(" ".join(s.split()))
    return out
