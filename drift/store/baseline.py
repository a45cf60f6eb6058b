"""Approved baselines: one reviewable JSON file per environment in baselines/ENV.json.

Sorted keys, two-space indent and one host per key, so a pull request diff shows exactly which
fact changed on which host. Only timestamps differ between two saves of an unchanged environment.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drift import __version__
from drift.core import jsonio
from drift.core.atomic import write_atomic
from drift.core.errors import SnapshotFileError
from drift.core.sanitize import quote
from drift.model import snapshot as snapshot_io
from drift.model.snapshot import Snapshot
from drift.store.rewrite import Rewrite, Rewritten

SCHEMA = "drift.baseline/1"
MAX_BYTES = 1 << 30  # a bound on what we read into memory; 200 hosts x 3,000 packages is ~70 MiB


@dataclass(frozen=True)
class Baseline:
    env: str
    saved_at: str
    saved_by: str
    inventory_sha256: str
    snapshots: tuple[Snapshot, ...]
    drift_version: str = __version__

    def to_json(self) -> str:
        return snapshot_io.dumps({
            "schema": SCHEMA,
            "env": self.env,
            "saved_at": self.saved_at,
            "saved_by": self.saved_by,
            "inventory_sha256": self.inventory_sha256,
            "drift_version": self.drift_version,
            "hosts": {s.host: s.to_dict() for s in self.snapshots},
        })


def default_path(base: Path, env: str) -> Path:
    return base / "baselines" / f"{env}.json"


def load(path: Path) -> Baseline:
    try:
        if path.stat().st_size > MAX_BYTES:
            raise SnapshotFileError(f"larger than {MAX_BYTES >> 20} MiB: not a baseline drift wrote", path)
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SnapshotFileError("no such baseline file", path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SnapshotFileError(f"cannot read baseline: {exc}", path) from None
    try:
        doc = jsonio.loads(text)
    except jsonio.JsonInputError as exc:
        column = f" (column {exc.column})" if exc.column is not None else ""
        raise SnapshotFileError(f"invalid JSON: {exc.message}{column}", path, exc.line) from None
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        found = quote(doc.get("schema")) if isinstance(doc, dict) else type(doc).__name__
        raise SnapshotFileError(f"not a baseline: schema is {found}, expected {SCHEMA!r}", path)
    hosts = doc.get("hosts")
    if not isinstance(hosts, dict):
        raise SnapshotFileError("not a baseline: 'hosts' is not an object", path)
    snaps = tuple(snapshot_io.from_dict(h, f"{path} (host {quote(name)})") for name, h in sorted(hosts.items()))
    return Baseline(env=_field(doc, "env", path), saved_at=_field(doc, "saved_at", path),
                    saved_by=_field(doc, "saved_by", path), inventory_sha256=_field(doc, "inventory_sha256", path),
                    snapshots=snaps, drift_version=str(doc.get("drift_version", "unknown")))


def _field(doc: dict[str, Any], key: str, path: Path) -> str:
    value = doc.get(key)
    if not isinstance(value, str):
        raise SnapshotFileError(f"not a baseline: {key!r} is missing or not a string", path)
    return value


def rewrite_facts(path: Path, fn: Rewrite) -> Rewritten:
    """Apply `fn` to every host's facts in the baseline at `path`; written back (atomically, in the
    same layout) only when something changed. Returns the hosts changed and the values replaced."""
    load(path)  # the checks, with their messages naming the file
    doc = jsonio.loads(path.read_text(encoding="utf-8"))
    hosts = values = 0
    for host in doc["hosts"].values():
        replaced = 0
        for result in (host.get("collectors") or {}).values():
            if isinstance(result, dict) and isinstance(result.get("facts"), dict):
                result["facts"], n = fn(result["facts"])
                replaced += n
        hosts += bool(replaced)
        values += replaced
    if values:
        write_atomic(path, snapshot_io.dumps(doc))
    return Rewritten(hosts, values)
