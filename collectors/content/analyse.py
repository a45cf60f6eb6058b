"""One opted-in file's content to facts: identity-normalised, parsed by format, secrets masked.

Runs inside the files collector's parse, so nothing reaches a snapshot, the store or a report
before the secrets in it were replaced (collectors.content.secrets).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field

from collectors import identity
from collectors.content import formats
from collectors.content.secrets import Redactor
from collectors.interface import Json

SEP = "//"  # files/<path>//<key>: a file's path never holds `//` (inventory.py refuses it)


@dataclass(frozen=True)
class Analysed:
    fmt: str | None  # None: compared by hash only, `note` says why
    note: str | None
    sha256: str  # of the identity-normalised content
    size: int
    raw_sha256: str
    raw_size: int
    tokens: tuple[str, ...]
    facts: dict[str, Json] = field(default_factory=dict)


def analyse(path: str, data: bytes, ids: Mapping[str, list[str]], redactor: Redactor) -> Analysed:
    raw_sha, raw_size = hashlib.sha256(data).hexdigest(), len(data)

    def hash_only(note: str, normalised: bytes = data, tokens: tuple[str, ...] = ()) -> Analysed:
        return Analysed(None, f"hash only: {note}", hashlib.sha256(normalised).hexdigest(), len(normalised),
                        raw_sha, raw_size, tokens)

    if b"\0" in data:
        return hash_only("binary content")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return hash_only(f"not UTF-8 text (byte {exc.start})")
    raw_text = text.removeprefix("\ufeff")
    text, used = identity.normalise(raw_text, ids)
    normalised = text.encode("utf-8")
    fmt = formats.format_of(path, raw_text)
    base = f"files{path}{SEP}"
    facts: dict[str, Json] = {}
    if fmt == "lines":
        facts[base + "lines"] = list(redactor.lines(text, path))
    else:
        # Parsed before normalising: a token such as {{host}} is not valid YAML or TOML.
        try:
            entries = formats.entries(fmt, raw_text)
        except formats.Unreadable as exc:
            return hash_only(f"{fmt.upper()} not readable: {exc}", normalised, tuple(sorted(used)))
        used = set()
        normalised_entries = {}
        for key, value in entries.items():
            key, in_key = identity.normalise(key, ids)
            value, in_value = identity.normalise(value, ids)
            used |= in_key | in_value
            normalised_entries[key] = value
        facts.update((base + key, value) for key, value in redactor.entries(normalised_entries, path).items())
    tokens = tuple(sorted(used))
    return Analysed(fmt, None, hashlib.sha256(normalised).hexdigest(), len(normalised), raw_sha, raw_size,
                    tokens, facts)
