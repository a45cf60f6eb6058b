"""Compact fact tables: a role's hosts mostly share their facts, so a host's table is a shared base
plus its own small delta, and every table carries a digest of its content computed once.

At 1,000 hosts x 3,000 packages, a full table per host is 3 million small dicts (gigabytes); as a
base plus deltas it is one table and a few entries per host. The digest lets the differ group hosts
with identical facts by hashing instead of comparing every host with every group (quadratic), and
the delta tells it which few paths can differ at all.

Tables are immutable once built. `Tables` shares bases among the tables loaded together (one
directory, one store query, one collection run).
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable, ItemsView, Iterable, Iterator, Mapping
from itertools import compress
from operator import ne
from typing import Any, TypeVar

import msgspec

from collectors.interface import Json
from drift.core import jsonio

_ENCODER = msgspec.json.Encoder(order="sorted")
_DECODER = msgspec.json.Decoder()


# A fact value sits four levels into its snapshot document ({"collectors": {NAME: {"facts": {PATH:
# value}}}}): the document's bound, whichever reader reads it.
_VALUE_DEPTH = jsonio.MAX_DEPTH - 4


def _bounded(raws: list[msgspec.Raw]) -> list[Json]:
    """The values of these undecoded entries, or msgspec.DecodeError for any the exact reader
    (jsonio) would refuse or repair: the whole document's reader only looked at what it decodes
    itself, and these are the values decoded past it (one C pass over all of them together)."""
    if jsonio.risky(b",".join(raws), _VALUE_DEPTH):
        raise msgspec.DecodeError("a value beyond the fast reader's bounds")
    return [_DECODER.decode(r) for r in raws]
_MISSING: Any = object()
T = TypeVar("T")
# A host whose table differs from its base in more than this share of paths gets a base of its own:
# a delta that big saves nothing, and a base is compared as a whole.
_MAX_DELTA_SHARE = 0.25


def canonical(value: Any) -> bytes:
    """Sorted compact JSON: equal content, equal bytes. Facts are JSON, so this never fails for them."""
    try:
        return _ENCODER.encode(value)
    except (TypeError, OverflowError, msgspec.EncodeError):  # ints past 64 bits, odd keys: still JSON
        import json

        return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str).encode()


class Base:
    """One shared table of facts; its digest is computed on first use, then kept, as is what pure
    functions derive from it (FactTable.derived)."""

    __slots__ = ("_derived", "_digest", "data")

    def __init__(self, data: dict[str, Json]):
        self.data = data
        self._digest: str | None = None
        self._derived: dict[str, Any] = {}

    @property
    def digest(self) -> str:
        if self._digest is None:
            self._digest = hashlib.sha256(canonical(self.data)).hexdigest()
        return self._digest


class FactTable(Mapping[str, Json]):
    """A read-only mapping of fact path -> value: `base` with `delta` laid over it and `removed` taken out."""

    __slots__ = ("_digest", "base", "delta", "removed")

    def __init__(self, base: Base, delta: dict[str, Json] | None = None, removed: frozenset[str] = frozenset()):
        self.base = base
        self.delta: dict[str, Json] = delta or {}
        self.removed = removed
        self._digest: str | None = None

    @classmethod
    def of(cls, facts: Mapping[str, Json]) -> FactTable:
        return facts if isinstance(facts, FactTable) else cls(Base(dict(facts)))

    @property
    def whole(self) -> bool:
        """True when this table is its base: no delta, nothing removed."""
        return not self.delta and not self.removed

    @property
    def digest(self) -> str:
        """Equal digests mean equal content (sha256). Content-equal tables over different bases may
        differ in digest; the differ then only does a little more work, never gets it wrong."""
        if self._digest is None:
            if self.whole:
                self._digest = self.base.digest
            else:
                h = hashlib.sha256(self.base.digest.encode())
                h.update(b"\0" + canonical(self.delta) + b"\0" + canonical(sorted(self.removed)))
                self._digest = h.hexdigest()
        return self._digest

    def derived(self, name: str, compute: Callable[[FactTable], T]) -> T:
        """compute(self), a pure function of these facts named `name`: worked out once per shared base
        for every host whose table is that base (a fleet's hosts mostly are), else for this table."""
        if not self.whole:
            return compute(self)
        known = self.base._derived.get(name, _MISSING)
        if known is _MISSING:
            known = self.base._derived[name] = compute(self)
        return known  # type: ignore[no-any-return]

    def items(self) -> ItemsView[str, Json]:
        # Mapping's own items() looks every key up again through __getitem__: on a fleet, most of
        # the time spent reading tables.
        if self.whole:
            return self.base.data.items()
        out = dict(self.base.data)  # a C copy, then the delta: __iter__'s order, base keys first
        for k in (*self.delta, *self.removed):
            out.pop(k, None)
        out.update(self.delta)
        return out.items()

    def changed_paths(self) -> Iterator[str]:
        """The paths where this table may differ from its base."""
        yield from self.delta
        yield from self.removed

    def __getitem__(self, key: str) -> Json:
        if key in self.delta:
            return self.delta[key]
        if key in self.removed:
            raise KeyError(key)
        return self.base.data[key]

    def get(self, key: str, default: Any = None) -> Any:
        value = self.delta.get(key, _MISSING)
        if value is not _MISSING:
            return value
        if key in self.removed:
            return default
        return self.base.data.get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self.delta or (key not in self.removed and key in self.base.data)

    def __iter__(self) -> Iterator[str]:
        delta, removed = self.delta, self.removed
        if not delta and not removed:
            yield from self.base.data
            return
        yield from (k for k in self.base.data if k not in removed and k not in delta)
        yield from delta

    def __len__(self) -> int:
        if self.whole:
            return len(self.base.data)
        return sum(1 for _ in self)

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if isinstance(other, FactTable):
            # Cheapest first: digests already known; then C-speed dict equality; a digest is only
            # worth computing for grouping many tables (the differ), not for one comparison.
            if self._digest is not None and other._digest is not None:
                return self._digest == other._digest
            if self.whole and other.whole:
                return self.base.data == other.base.data
            if self.base is other.base:
                return self.delta == other.delta and self.removed == other.removed
        if not isinstance(other, Mapping):
            return NotImplemented
        return dict(self.items()) == dict(other.items())

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"FactTable({dict(self.items())!r})"


class Tables:
    """Builds the fact tables of snapshots loaded together: the first table seen under a key (a
    collector in a role) becomes the base every later one is a delta of. Bases with equal content
    are one object, so two sides' identical tables compare by identity."""

    def __init__(self) -> None:
        self._bases: dict[tuple[str, str], Base] = {}
        self._by_digest: dict[str, Base] = {}
        self._raw: dict[tuple[str, str], dict[str, msgspec.Raw]] = {}
        # Per base, the few paths its hosts have been found to lack (a package only the first host has):
        # looked at first, so that a host lacking only those costs them, not a pass over the base.
        self._lacked: dict[int, set[str]] = {}

    def _base(self, data: dict[str, Json]) -> Base:
        base = Base(data)
        return self._by_digest.setdefault(base.digest, base)

    def shared(self, data: dict[str, Json]) -> Base:
        """`data` as a base, the same object as any equal base these tables already hold."""
        return self._base(data)

    def table(self, key: tuple[str, str], facts: Mapping[str, Json]) -> FactTable:
        if isinstance(facts, FactTable) and self._adopt(key, facts.base):
            return facts  # already a table over this key's base (snapshots a collection compacted)
        if isinstance(facts, FactTable) and facts.whole:
            facts = facts.base.data
        elif isinstance(facts, FactTable):
            facts = dict(facts.items())
        base = self._bases.get(key)
        if base is None:
            base = self._bases[key] = self._base(dict(facts))
            return FactTable(base)
        if facts is base.data:
            return FactTable(base)
        data = base.data
        delta = {k: v for k, v in facts.items() if data.get(k, _MISSING) != v}
        return self._finish(base, facts.keys(), delta)

    def _adopt(self, key: tuple[str, str], base: Base) -> bool:
        """Whether `base` is the key's base, made so when the key has none yet."""
        if key not in self._bases:
            self._bases[key] = self._by_digest.setdefault(base.digest, base)
        return self._bases[key] is base

    def table_raw(self, key: tuple[str, str], raw: Mapping[str, msgspec.Raw]) -> FactTable:
        """The same from undecoded values (msgspec.Raw, as read from a file): an entry whose JSON text
        is the base's is equal to it without being decoded, so a host costs its delta, not its size."""
        base_raw = self._raw.get(key)
        if base_raw is None or key not in self._bases:
            table = self.table(key, dict(zip(raw.keys(), _bounded(list(raw.values())), strict=True)))
            if table.whole:
                self._raw[key] = {k: v.copy() for k, v in raw.items()}
            return table
        base = self._bases[key]
        delta: dict[str, Json] = {}
        # The entries whose text is not the base's, found by C iteration (map, compress): a Python
        # loop over 3,000 entries was most of a snapshot's decoding.
        changed = list(compress(raw.keys(), map(ne, raw.values(), map(base_raw.get, raw.keys()))))
        for k, value in zip(changed, _bounded([raw[k] for k in changed]), strict=True):
            if base.data.get(k, _MISSING) != value:  # other spacing, same value: not a change
                delta[k] = value
        return self._finish(base, raw.keys(), delta)

    def over(self, parent: FactTable, delta: Mapping[str, Json], removed: Iterable[str]) -> FactTable:
        """`parent` with `delta` laid over it and `removed` taken out, over parent's base. A table
        built elsewhere as a delta from a base of its own (a decoding worker's) becomes one of
        these tables at the cost of the two deltas, not of the whole table."""
        if not delta and not removed and parent.whole:  # most of a fleet's tables: the base itself
            return FactTable(parent.base)
        data = parent.base.data
        gone = frozenset(removed)
        merged = {**parent.delta, **delta}
        out = {k: v for k, v in merged.items() if k not in gone and data.get(k, _MISSING) != v}
        dropped = frozenset(k for k in parent.removed | gone if k in data and k not in delta)
        return self._built(parent.base, out, dropped)

    def _finish(self, base: Base, keys: Any, delta: dict[str, Json]) -> FactTable:
        data = base.data
        added = sum(1 for k in delta if k not in data)
        missing = len(data) - (len(keys) - added)
        if not missing:
            return self._built(base, delta, frozenset())
        lacked = self._lacked.setdefault(id(base), set())
        removed = frozenset(k for k in lacked if k not in keys)
        if len(removed) != missing:
            removed = frozenset(data.keys() - keys)
            if len(lacked) < 64:
                lacked.update(removed)
        return self._built(base, delta, removed)

    def _built(self, base: Base, delta: dict[str, Json], removed: frozenset[str]) -> FactTable:
        data = base.data
        if not delta and not removed:
            return FactTable(base)
        if len(delta) + len(removed) > _MAX_DELTA_SHARE * max(len(data), 1) + 8:
            full = {k: v for k, v in data.items() if k not in removed}
            full.update(delta)
            return FactTable(self._base(full))
        # Keys decoded per file are fresh strings: intern the few a delta keeps.
        return FactTable(base, {_intern(k): v for k, v in delta.items()}, removed)


def _intern(key: str) -> str:
    return sys.intern(key)
