"""Containers compared by service: one finding where a whole service is on one side only, and the
architecture finding where a role's application runs in a container on one side and on the host
on the other.

The differ compares `containers/SERVICE/...` facts like any others, so a service that runs on one
side only would come out as one finding per field and per package inside it. `folded` keeps the
image's finding, which names the service and its image, and drops the rest; likewise for a host
whose peers run a service it lacks. `architecture` then looks, role by role, for a service whose
packages sit inside a container on one side and in the host's own package managers on the other
(and not on the container side's hosts): one finding says so and compares the versions across the
boundary, and the findings it explains (the service on one side, those packages on the host on the
other) give way to it. Pure: snapshots and findings in, findings out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from drift.analysis import plain, versions
from drift.analysis.differ import Env
from drift.model.facts import FactTable
from drift.model.report import Finding, Kind, Value
from drift.model.snapshot import Snapshot

_ONE_SIDE = (Kind.only_left, Kind.only_right)


def _service(path: str) -> str | None:
    parts = path.split("/")
    return parts[1] if parts[0] == "containers" and len(parts) > 2 else None


def folded(raw: Sequence[Finding]) -> list[Finding]:
    """raw without the per-field findings of a service that is missing as a whole (see module doc)."""
    whole: set[tuple[str, str, Kind]] = set()
    absent: dict[tuple[str, str, str], set[str]] = {}  # (role, env, service) -> hosts lacking it
    for f in raw:
        service = _service(f.path)
        if service is None or not f.path.endswith("/image"):
            continue
        if f.kind in _ONE_SIDE:
            whole.add((f.role, service, f.kind))
        elif f.kind is Kind.outlier:
            for v in f.values:
                if v.value is None:
                    absent.setdefault((f.role, v.env, service), set()).add(v.host)
    out = []
    for f in raw:
        service = _service(f.path)
        if service is not None and f.path.endswith("/image") and f.path.count("/") == 2:
            f = _whole(f, service)
        elif service is not None:
            if f.kind in _ONE_SIDE and (f.role, service, f.kind) in whole:
                continue
            if f.kind is Kind.outlier and f.odd and f.values:
                lacking = absent.get((f.role, f.values[0].env, service), set())
                if set(f.odd) <= lacking:
                    continue
        out.append(f)
    return out


def _whole(f: Finding, service: str) -> Finding:
    """An image finding that is about the whole service, worded so: `runs in`, `runs no`."""
    if f.kind in _ONE_SIDE and f.message.startswith(f.subject + " ") and " is in " in f.message:
        head, rest = f.message.split(" is in ", 1)
        return replace(f, message=f"container {service} ({head[len(f.subject) + 1:]}) runs in {rest}")
    if f.kind is Kind.outlier and all(v.value is None for v in f.values if v.host in f.odd):
        for verb, plural in (("does not have", "runs"), ("do not have", "run")):  # messages.outlier's words
            lacks, runs_no = f" {verb} {f.subject}; ", f" {plural} no {service} container; "
            f = replace(f, message=f.message.replace(lacks, runs_no, 1))
    return f


Packages = dict[tuple[str, str], str]  # (manager, name) -> version


class _Scan:
    """Fact paths under a prefix, host by host, reading each shared base table once.

    Hosts of a fleet share base tables and differ by small deltas (drift/model/facts.py), so walking
    every host's whole table would cost hosts x facts; this costs one walk per distinct base plus
    each host's delta."""

    def __init__(self, prefix: str):
        self.prefix = prefix
        self._bases: dict[int, list[str]] = {}

    def paths(self, snap: Snapshot) -> Iterable[tuple[str, FactTable]]:
        for r in snap.collectors.values():
            if r.status != "ok":
                continue
            t = FactTable.of(r.facts)
            matches = self._bases.get(id(t.base))
            if matches is None:
                matches = self._bases[id(t.base)] = [p for p in t.base.data if p.startswith(self.prefix)]
            if t.whole:
                yield from ((p, t) for p in matches)
                continue
            yield from ((p, t) for p in matches if p not in t.removed and p not in t.delta)
            yield from ((p, t) for p in t.delta if p.startswith(self.prefix))


def _host_package(path: str) -> tuple[str, str] | None:
    """(manager, name) of a host's package fact: packages/deb/NAME[:ARCH], packages/pip:INTERPRETER/NAME."""
    if path.startswith("packages/pip:"):
        return "pip", path.rsplit("/", 1)[1]
    parts = path.split("/")
    return (parts[1], parts[2].split(":", 1)[0]) if len(parts) == 3 else None


class _HostPackages:
    """The packages installed on these hosts: each one's version on the first host that has it,
    and every fact path that names it. Built once per distinct base table (see _Scan)."""

    def __init__(self, snaps: Sequence[Snapshot]):
        self.versions: Packages = {}
        self.paths: dict[tuple[str, str], set[str]] = {}
        seen: dict[int, frozenset[str]] = {}  # base -> the paths the first host with it did not read
        for s in snaps:
            for r in s.collectors.values():
                if r.status != "ok":
                    continue
                t = FactTable.of(r.facts)
                skipped = t.removed | t.delta.keys()
                if id(t.base) not in seen:
                    seen[id(t.base)] = frozenset(skipped)
                    self._add((p, v) for p, v in t.base.data.items() if p not in skipped)
                else:  # what the first host with this base skipped, where this host has it from the base
                    self._add((p, t.base.data[p]) for p in seen[id(t.base)] - skipped if p in t.base.data)
                self._add(t.delta.items())

    def _add(self, facts: Iterable[tuple[str, object]]) -> None:
        for path, value in facts:
            if not path.startswith("packages/"):
                continue
            key = _host_package(path)
            if key is not None and isinstance(value, dict) and "version" in value:
                self.versions.setdefault(key, str(value["version"]))
                self.paths.setdefault(key, set()).add(path)


def _services(snaps: Sequence[Snapshot]) -> dict[str, tuple[Snapshot, dict[str, object]]]:
    """service -> (a host running it, its image) over these hosts."""
    out: dict[str, tuple[Snapshot, dict[str, object]]] = {}
    scan = _Scan("containers/")
    for s in snaps:
        for path, table in scan.paths(s):
            service = _service(path)
            value: object = table[path]
            if service and path.endswith("/image") and path.count("/") == 2 and isinstance(value, dict):
                out.setdefault(service, (s, value))
    return out


def _known(snaps: Sequence[Snapshot], collector: str) -> bool:
    """Every host says what runs in containers (ok, or no runtime at all): absence is known."""
    return bool(snaps) and all(not s.failed and s.collectors.get(collector) is not None
                               and s.collectors[collector].status in ("ok", "unsupported") for s in snaps)


def _inside(snap: Snapshot, service: str) -> Packages:
    out: Packages = {}
    for path, table in _Scan(f"containers/{service}/packages/").paths(snap):
        value = table[path]
        parts = path.split("/")
        if len(parts) == 5 and isinstance(value, dict) and "version" in value:
            out[(parts[3], parts[4].split(":", 1)[0])] = str(value["version"])
    return out


def architecture(raw: Sequence[Finding], left: Env, right: Env) -> list[Finding]:
    """raw plus one finding per role and service that runs in a container on one side and on the
    host on the other; the findings that one explains are dropped."""
    found: list[Finding] = []
    drop: set[tuple[str, str, Kind]] = set()  # (role, path, kind)
    roles = sorted({r for e in (left, right) for s in e.snapshots for r in s.all_roles})
    for role in roles:
        sides = [tuple(s for s in e.snapshots if role in s.all_roles) for e in (left, right)]
        if not all(sides) or not all(_known(side, "containers") for side in sides):
            continue
        services = [_services(side) for side in sides]
        if services[0].keys() == services[1].keys():
            continue  # no service on one side only: nothing to explain, and no host package to read
        hosts = [_HostPackages(side) for side in sides]
        for i in (0, 1):
            boxed, bare = i, 1 - i
            for service, (snap, image) in sorted(services[boxed].items()):
                if service in services[bare]:
                    continue
                inside = _inside(snap, service)
                moved = sorted(k for k in inside if k in hosts[bare].versions and k not in hosts[boxed].versions)
                if not moved:
                    continue
                envs = (left, right)
                found.append(_finding(role, service, image, envs[boxed], sides[boxed], envs[bare], sides[bare],
                                      [(k, inside[k], hosts[bare].versions[k]) for k in moved], i == 0))
                drop.add((role, f"containers/{service}/image", Kind.only_left if i == 0 else Kind.only_right))
                for key in moved:
                    drop |= {(role, p, Kind.only_right if i == 0 else Kind.only_left) for p in hosts[bare].paths[key]}
    if not found:
        return list(raw)
    kept = [f for f in raw if (f.role, f.path, f.kind) not in drop]
    return kept + found


def _finding(role: str, service: str, image: dict[str, object], boxed: Env, in_box: Sequence[Snapshot],
             bare: Env, on_host: Sequence[Snapshot], moved: list[tuple[tuple[str, str], str, str]],
             boxed_is_left: bool) -> Finding:
    shown = plain.image_text(image)
    parts = []
    for (manager, name), inside, outside in moved:
        if inside == outside:
            parts.append(f"{name} {inside} in both")
            continue
        change = versions.describe(manager, outside, inside)
        newer = " (newer in the container)" if change.direction == "upgrade" else \
            " (newer on the host)" if change.direction == "downgrade" else ""
        parts.append(f"{name} {inside} in the container, {outside} on the host{newer}")
    message = (f"{role} runs {service} in a container in {boxed.name} ({shown}) and on the host in "
               f"{bare.name}: {'; '.join(parts)}")
    listed = ", ".join(f"{name} {outside}" for (_, name), _, outside in moved)
    boxed_values = tuple(Value(boxed.name, s.host, f"container {shown}", f"in a container: {shown}") for s in in_box)
    bare_values = tuple(Value(bare.name, s.host, f"host {listed}", f"on the host: {listed}") for s in on_host)
    values = boxed_values + bare_values if boxed_is_left else bare_values + boxed_values
    detail = "\n".join(f"{manager} {name}: {inside} {plain.ARROW} {outside}"
                       for (manager, name), inside, outside in moved)
    return Finding("containers", f"containers/{service}/architecture", f"container {service} on the host",
                   Kind.changed, role, message, values, detail=detail)
