"""Packages inside running containers, read from each container's root through /proc/PID/root.

Never by exec'ing into a container: the host reads the container's dpkg status (the four fields
that matter), apk's installed database and the names of Python `*.dist-info` / `*.egg-info`
directories in the usual site directories. Facts: `containers/SERVICE/packages/deb/libssl3` =
{"version", "arch"}, `.../packages/apk/musl`, `.../packages/pip/requests` = {"version"}. An rpm
database is noted (`containers/SERVICE/packages/rpm` = "not read"), not queried: rpm writes lock
and journal files where it reads.

Reading another process's root needs root (connect as root: like `containers`, this is a script,
which sudoers cannot allow narrowly): where it is refused the collector fails (its facts are
unknown), and the `containers` collector's facts stand on their own.
"""

from __future__ import annotations

import re

from collectors import runtimes
from collectors.containers import containers
from collectors.interface import CollectConfig, Collector, Facts, Json
from collectors.packages import _keyed
from drift.core.errors import CollectError

PACKAGES = "@@packages"
_SITES = " ".join([
    '"$__r"/app/.venv/lib/python3*/site-packages', '"$__r"/venv/lib/python3*/site-packages',
    '"$__r"/opt/*/lib/python3*/site-packages', '"$__r"/opt/*/*/lib/python3*/site-packages',
    '"$__r"/usr/local/lib/python3*/site-packages', '"$__r"/usr/local/lib/python3*/dist-packages',
    '"$__r"/usr/lib/python3*/site-packages', '"$__r"/usr/lib/python3/dist-packages',
])
# $1 container id, $2 its pid. `ls` of the root is the permission check: it fails (and says so on
# stderr) where the SSH user may not read another process's root.
_READ = (
    "__pkgs() { __r=/proc/$2/root; printf '@@container %s\\n' \"$1\"; "
    'if ! ls "$__r/" >/dev/null 2>&1; then echo @@unreadable; return 0; fi; '
    "if [ -r \"$__r/var/lib/dpkg/status\" ]; then echo @@dpkg; "
    "grep -E '^(Package|Status|Version|Architecture):' \"$__r/var/lib/dpkg/status\"; fi; "
    "if [ -r \"$__r/lib/apk/db/installed\" ]; then echo @@apk; grep -E '^[PVA]:' \"$__r/lib/apk/db/installed\"; fi; "
    "if [ -d \"$__r/var/lib/rpm\" ] || [ -d \"$__r/usr/lib/sysimage/rpm\" ]; then echo @@rpm; fi; "
    f"for __s in {_SITES}; do if [ -d \"$__s\" ]; then echo @@python; "
    "ls -1 \"$__s\" | grep -E '[.](dist|egg)-info$'; fi; done; }"
)


def command(cfg: CollectConfig) -> str:
    def per_container(runtime: str, cli: str) -> str:
        if runtime == "crictl":
            return (f"echo {PACKAGES}; for __i in $__ids; do "
                    f"__pid=$({cli} inspect -o go-template --template '{{{{.info.pid}}}}' \"$__i\") || exit $?; "
                    '__pkgs "$__i" "$__pid"; done;')
        return (f"echo {PACKAGES}; {cli} container inspect --format '{{{{.State.Pid}}}} {{{{.Id}}}}' $__ids | "
                "while read -r __pid __id; do __pkgs \"$__id\" \"$__pid\"; done || exit $?;")

    return _READ + "\n" + runtimes.listing(per_container)


_DIST = re.compile(r"(?P<name>[A-Za-z0-9][A-Za-z0-9._]*?)-(?P<version>[^-]+?)(?:-py\d[^-]*)?\.(dist|egg)-info")


def parse(output: str, cfg: CollectConfig) -> Facts:
    facts: Facts = {}
    for runtime, text in runtimes.sections(output):
        listing, sep, reads = text.partition("\n" + PACKAGES + "\n")
        if not sep:
            listing, sep, reads = text.partition(PACKAGES + "\n")
        found = containers(runtime, listing)
        services = {c.id: c.service for c in found}
        if found and not sep:
            raise CollectError(f"{runtime}: no package listing after the containers (output cut short?)")
        seen: set[str] = set()
        for cid, blocks in _blocks(reads):
            if cid not in services:
                raise CollectError(f"{runtime}: packages of a container not listed: {cid[:16]!r}")
            if "unreadable" in blocks:
                raise CollectError(f"cannot read the root of container {cid[:12]} (/proc/PID/root): "
                                   "reading packages inside containers needs root")
            service = services[cid]
            if service in seen:  # replicas of a service run one image: the first one read speaks for it
                continue
            seen.add(service)
            base = f"containers/{service}/"
            for key, value in _packages(blocks).items():
                facts[base + key] = value
        missing = {c.service for c in found} - seen
        if missing:
            raise CollectError(f"{runtime}: no packages read for {', '.join(sorted(missing))} (output cut short?)")
    return facts


def _blocks(text: str) -> list[tuple[str, dict[str, list[str]]]]:
    out: list[tuple[str, dict[str, list[str]]]] = []
    current: list[str] | None = None
    for number, line in enumerate(text.split("\n"), 1):
        line = line.rstrip("\r")
        if line.startswith("@@container "):
            out.append((line[len("@@container "):].strip(), {}))
            current = None
        elif line in ("@@dpkg", "@@apk", "@@python", "@@rpm", "@@unreadable"):
            if not out:
                raise CollectError(f"line {number}: {line} before any container")
            current = out[-1][1].setdefault(line[2:], [])
        elif line.strip():
            if current is None:
                raise CollectError(f"line {number}: unexpected {line[:60]!r}")
            current.append(line)
    return out


def _packages(blocks: dict[str, list[str]]) -> dict[str, Json]:
    facts: dict[str, Json] = {}
    if "dpkg" in blocks:
        facts.update({"packages/" + k.split("/", 1)[1]: v for k, v in _keyed("deb", _dpkg(blocks["dpkg"])).items()})
    if "apk" in blocks:
        facts.update({"packages/" + k.split("/", 1)[1]: v for k, v in _keyed("apk", _apk(blocks["apk"])).items()})
    if "rpm" in blocks:
        facts["packages/rpm"] = "not read"
    for line in blocks.get("python", []):
        m = _DIST.fullmatch(line.strip())
        if m:
            name = re.sub(r"[-_.]+", "-", m.group("name")).lower()
            facts.setdefault(f"packages/pip/{name}", {"version": m.group("version")})
    return facts


def _stanzas(lines: list[str], start: str) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for line in lines:
        key, sep, value = line.partition(":")
        if not sep:
            raise CollectError(f"package database line without a field: {line[:60]!r}")
        if key == start:
            out.append({})
        if not out:
            raise CollectError(f"package database: {key[:20]!r} before the first {start}")
        out[-1][key] = value.strip()
    return out


def _dpkg(lines: list[str]) -> list[tuple[str, str, str]]:
    rows = []
    for s in _stanzas(lines, "Package"):
        if s.get("Status", "").split()[-1:] != ["installed"]:
            continue
        if not s.get("Package") or not s.get("Version"):
            raise CollectError(f"dpkg status: a package without name or version: {str(s)[:60]}")
        rows.append((s["Package"], s["Version"], s.get("Architecture", "")))
    return rows


def _apk(lines: list[str]) -> list[tuple[str, str, str]]:
    rows = []
    for s in _stanzas(lines, "P"):
        if not s.get("P") or "V" not in s:
            raise CollectError(f"apk database: a package without name or version: {str(s)[:60]}")
        rows.append((s["P"], s["V"], s.get("A", "")))
    return rows


COLLECTORS: tuple[Collector, ...] = (
    Collector("container-packages", "containers", command, parse,
              description="packages inside running containers (dpkg, apk, Python dist-info), read through "
                          "/proc/PID/root, never by exec into the container"),
)
