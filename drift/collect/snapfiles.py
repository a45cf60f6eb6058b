"""Reading a directory of snapshot files on every CPU, in file order, one document at a time.

Decoding and checking a 350 KB snapshot is milliseconds of one core; 2 x 10,000 files are minutes.
Worker processes (forked, one per CPU) each read a share of the files into fact tables of their
own, and send back for each host only what this process cannot already have: its frame (host,
role, statuses, errors), and per collector the digest of its worker's base, that base's facts the
first time the worker names it, and the host's delta from it. Here each worker base becomes one of
our tables once (`Tables.table`), and each host's delta is laid over that (`Tables.over`): the
cost per host is its delta, and no parsed document is ever held beyond its own decoding.

What crosses the pipe is plain JSON bytes from our own worker (msgspec encodes, msgspec decodes
here into dicts, lists and strings); nothing is unpickled but a `bytes` object. A file error
comes back as data and is raised here for the first bad file in file order, as a serial read does.
"""

from __future__ import annotations

import multiprocessing
import signal
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import msgspec

from drift.core import forked
from drift.core.errors import SnapshotFileError
from drift.model import snapshot as snapshot_io
from drift.model.facts import FactTable, Tables, canonical
from drift.model.snapshot import CollectorResult, Snapshot

# Below this many files, starting processes costs more than it saves (~20 ms a fork).
PARALLEL_FROM = 48
CHUNK = 8  # files a worker takes at a time: few enough to keep every worker busy to the end

_ENCODE = msgspec.json.Encoder().encode
_DECODE = msgspec.json.Decoder().decode


def load_all(files: Sequence[Path], tables: Tables, jobs: int | None = None) -> Iterator[Snapshot]:
    """Every file's snapshot, in the order given, its tables shared through `tables`."""
    jobs = forked.cpus() if jobs is None else jobs
    # fork is safe only while this process runs one thread (a lock held elsewhere stays held in
    # the child); a threaded caller reads serially, as do small directories.
    if jobs < 2 or len(files) < PARALLEL_FROM or threading.active_count() > 1 \
            or "fork" not in multiprocessing.get_all_start_methods():
        yield from (snapshot_io.load(p, tables) for p in files)
        return
    adopt = _Adopter(tables)
    with multiprocessing.get_context("fork").Pool(min(jobs, len(files) // CHUNK or 1), _start) as pool:
        for path, blob in zip(files, pool.imap(_decode, [str(p) for p in files], CHUNK), strict=True):
            yield adopt(path, _DECODE(blob))


# --- in the worker -------------------------------------------------------------------------------

_worker_tables = Tables()
_sent: set[str] = set()


def _start() -> None:
    global _worker_tables, _sent  # one Tables per worker process, for its whole life
    _worker_tables, _sent = Tables(), set()
    # Ctrl-C is the parent's to handle (it stops the pool); a worker that took it would print a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _decode(path: str) -> bytes:
    try:
        return _decoded(path)
    except SnapshotFileError as exc:
        return _ENCODE({"error": exc.detail, "line": exc.line})
    except Exception as exc:  # a bug: sent as words, so that no exception object is ever unpickled here
        return _ENCODE({"bug": f"{type(exc).__name__}: {exc}"})


def _decoded(path: str) -> bytes:
    snap = snapshot_io.load(Path(path), _worker_tables)
    collectors: dict[str, Any] = {}
    for name, r in snap.collectors.items():
        table = r.facts
        assert isinstance(table, FactTable)  # every CollectorResult holds one
        digest = table.base.digest
        first = digest not in _sent
        _sent.add(digest)
        collectors[name] = [r.category, r.status, r.error, r.identity, digest,
                            msgspec.Raw(canonical(table.base.data)) if first else None,
                            msgspec.Raw(canonical(table.delta)), sorted(table.removed)]
    frame = [snap.host, snap.env, snap.role, snap.roles, snap.address, snap.collected_at, snap.drift_version,
             snap.status, snap.error, snap.host_key]
    return _ENCODE({"frame": frame, "collectors": collectors})


# --- back here -----------------------------------------------------------------------------------

class _Adopter:
    """Turns a worker's reply into a snapshot whose tables are ours. The worker checked the document
    against the schema already; what it sends is built here as it is, not checked twice."""

    def __init__(self, tables: Tables):
        self.tables = tables
        self.data: dict[str, dict[str, Any]] = {}  # a worker base's facts, by digest
        self.parents: dict[tuple[str, str, str], FactTable] = {}  # (role, collector, digest) -> our table

    def __call__(self, path: Path, reply: dict[str, Any]) -> Snapshot:
        if "error" in reply:
            raise SnapshotFileError(reply["error"], path, reply["line"])
        if "bug" in reply:
            raise RuntimeError(f"decoding {path}: {reply['bug']}")
        host, env, role, roles, address, collected_at, version, status, error, host_key = reply["frame"]
        collectors = {}
        for name, (category, state, failure, identity, digest, data, delta, removed) in reply["collectors"].items():
            if data is not None:
                self.data.setdefault(digest, data)
            key = (role, name, digest)
            parent = self.parents.get(key)
            if parent is None:
                parent = self.parents[key] = self.tables.table((role, name), self.data[digest])
            collectors[name] = CollectorResult(name, category, state, failure, self.tables.over(parent, delta, removed),
                                               tuple(identity))
        return Snapshot(host, env, role, address, collected_at, version, status, error, host_key, collectors,
                        tuple(roles))
