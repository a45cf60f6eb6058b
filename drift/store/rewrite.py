"""Rewrite the facts the store keeps, in place (`drift store scrub`).

Blobs are content-addressed, so a changed blob gets a new address: the new blob is written, the
results and deltas that used the old one are pointed at it, and the old one is deleted, all in one
write transaction (a scrub killed half-way leaves the store as it was). Then the backend reclaims
the space the old rows used, so their text is gone from the file and not only unreferenced.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from drift.store.sqlite import Store

Rewrite = Callable[[dict[str, Any]], tuple[dict[str, Any], int]]


@dataclass(frozen=True)
class Rewritten:
    changed: int  # fact blobs (store) or hosts (baseline) that changed
    values: int  # values the rewrite replaced in them


def rewrite_facts(store: Store, fn: Rewrite) -> Rewritten:
    """Apply `fn` (facts -> new facts, values replaced) to every fact blob: whole tables and deltas."""
    c = store.conn
    store._begin_write()
    try:
        # Whole tables first: a delta names its base, so it is rewritten after its base moved.
        shas = [r[0] for r in c.execute("SELECT sha256 FROM blobs ORDER BY base IS NOT NULL, sha256").fetchall()]
        moved: dict[str, str] = {}
        values = 0
        for sha in shas:
            body, base = c.execute("SELECT body, base FROM blobs WHERE sha256 = ?", (sha,)).fetchone()
            doc = json.loads(body)
            field = "delta" if "base" in doc else "facts"
            facts, replaced = fn(doc[field])
            if not replaced and base not in moved:
                continue
            values += replaced
            doc[field] = facts
            if base in moved:
                doc["base"] = base = moved[base]
            new = store._put(doc, base)
            if new == sha:
                continue
            moved[sha] = new
            c.execute("UPDATE results SET blob = ? WHERE blob = ?", (new, sha))
            c.execute("DELETE FROM blobs WHERE sha256 = ?", (sha,))
        c.execute("COMMIT")
    except BaseException as exc:
        raise store._abort(exc) from None
    store._parsed.clear()
    if moved:
        store.reclaim()
    return Rewritten(len(moved), values)
