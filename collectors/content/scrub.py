"""Facts an earlier drift kept, re-read by today's secret rules (`drift store scrub`, `drift baseline
scrub`): every content value now classed as secret becomes its keyed hash, exactly as a fresh
collection with the same key would record it, so scrubbed history still compares equal to new
snapshots. Values already hidden stay as they are: scrubbing twice changes nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from collectors.content.secrets import Redactor

SEP = "//"  # as collectors.content.analyse: files/<path>//<key>


def scrub(facts: Mapping[str, Any], redactor: Redactor) -> tuple[dict[str, Any], int]:
    """`facts` with every secret content value hidden, and how many values were replaced."""
    out = dict(facts)
    by_file: dict[str, dict[str, str]] = {}
    replaced = 0
    for fact, value in facts.items():
        cut = fact.find(SEP, 6)
        if not fact.startswith("files/") or cut < 0:
            continue
        path, key = fact[5:cut], fact[cut + len(SEP):]
        if key == "lines" and isinstance(value, list) and all(isinstance(v, str) for v in value):
            # Rejoined, so a key block spread over lines is one secret, as at collection.
            lines = redactor.lines("\n".join(value), path)
            if lines != value:
                replaced += sum((Counter(value) - Counter(lines)).values())
                out[fact] = lines
        elif isinstance(value, str):
            by_file.setdefault(path, {})[key] = value
    for path, entries in by_file.items():
        # In order, one for one: a key that was itself a credential comes back renamed.
        for (key, old), (name, new) in zip(entries.items(), redactor.entries(entries, path).items(), strict=True):
            if name != key:
                del out[f"files{path}{SEP}{key}"]
            if (name, new) != (key, old):
                out[f"files{path}{SEP}{name}"] = new
                replaced += 1
    return out, replaced
