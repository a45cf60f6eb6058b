"""The snapshot document's schema, in code: every field's type checked as it is read, and an error
that names the field (`collectors.dpkg.facts`), so a hand-edited or foreign file is refused with
exit 2 instead of being half-accepted and failing later, far from its cause.

Unknown keys are ignored (a later drift.snapshot/1 writer may add one); known keys must have
their type. Names (host, env, role, collectors, categories) must be one line of printable text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, cast

from drift.core.sanitize import quote

__all__ = ["SCHEMA", "SchemaError", "quote"]

SCHEMA = "drift.snapshot/1"
COLLECTOR_STATUSES = ("ok", "unsupported", "failed")
HOST_STATUSES = ("ok", "failed")
NAME_LIMIT = 253  # the longest DNS name; no host, env, role or collector name needs more
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


class SchemaError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}" if field else message)


def kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def obj(value: Any, field: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SchemaError(field, f"expected an object, got {kind(value)}")
    return cast("dict[str, Any]", value)


def text(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise SchemaError(field, f"expected a string, got {kind(value)}")
    return value


def optional_text(value: Any, field: str) -> str | None:
    return None if value is None else text(value, field)


def name(value: Any, field: str) -> str:
    checked = text(value, field)
    if not checked or len(checked) > NAME_LIMIT or _UNPRINTABLE.search(checked):
        raise SchemaError(field, f"expected a one-line printable name, got {quote(checked)}")
    return checked


def choice(choices: tuple[str, ...]) -> Callable[[Any, str], str]:
    def check(value: Any, field: str) -> str:
        if value not in choices:
            raise SchemaError(field, f"expected one of {', '.join(choices)}, got {quote(value)}")
        return str(value)
    return check


def host_key(value: Any, field: str) -> dict[str, str] | None:
    if value is None:
        return None
    value = obj(value, field)
    for key in ("type", "sha256"):
        if key not in value:
            raise SchemaError(f"{field}.{key}", "missing")
    return {k: text(v, f"{field}.{k}") for k, v in value.items()}


def identity(value: Any, field: str, facts: Mapping[str, Any]) -> tuple[str, ...]:
    """Paths of this collector's own facts: an identity path elsewhere would silence another
    collector's drift (a snapshot file is input, and input must not be able to hide a difference)."""
    if not isinstance(value, list):
        raise SchemaError(field, f"expected a list of fact paths, got {kind(value)}")
    paths = tuple(text(p, f"{field}[{i}]") for i, p in enumerate(value))
    for i, path in enumerate(paths):
        if path not in facts:
            raise SchemaError(f"{field}[{i}]", f"{quote(path)} is not one of this collector's facts")
    return paths


def facts(value: Any, field: str, category: str) -> dict[str, Any]:
    """Fact paths are `<category>/<rest>`; values are any JSON, already bounded by the loader."""
    table = obj(value, field)
    prefix = category + "/"
    # The common answer (all well-formed) by C passes over the keys laid end to end, one per line:
    # with no line break inside a key, each "\n<prefix>" starts a key. The loop below only names
    # the bad path.
    if prefix not in table and table:
        lines = "\n" + "\n".join(table)
        if lines.count("\n") == len(table) and lines.count("\n" + prefix) == len(table):
            return table
    elif not table:
        return table
    for path in table:
        if not path.startswith(prefix) or len(path) == len(prefix):
            raise SchemaError(field, f"fact path {quote(path)} is not {prefix}<name>")
    return table


def required(doc: dict[str, Any], key: str, field: str = "") -> Any:
    if key not in doc:
        raise SchemaError(f"{field}.{key}" if field else key, "missing")
    return doc[key]
