"""Installed packages: dpkg, rpm, apk, and Python distributions per interpreter.

Facts are keyed by manager and name: `packages/deb/libssl3`, `packages/rpm/openssl-libs`,
`packages/apk/musl`, `packages/pip:/opt/acme/venv/bin/python/requests`. Where a name is installed
for several architectures (multiarch), each copy is keyed `name:arch`.
"""

from __future__ import annotations

import re
import shlex

from collectors.interface import CollectConfig, Collector, Facts, NotApplicable
from collectors.parsing import fields, lines
from drift.core.errors import CollectError
from drift.core.sanitize import quote

DPKG_COMMAND = "dpkg-query -W -f='${db:Status-Abbrev}\\t${Package}\\t${Version}\\t${Architecture}\\n'"
# Debian's rpm package keeps its database in ~/.rpmdb and creates one there on the first query:
# query only where a database exists, so reading never writes, and a host that merely has the rpm
# tool is not an RPM host (NO_RPMDB: unsupported). %{_dbpath} is /var/lib/rpm on RPM distributions.
NO_RPMDB = "@@no-rpmdb"
RPM_COMMAND = (
    "__db=$(rpm --eval '%{_dbpath}'); "
    'if [ -e "$__db/rpmdb.sqlite" ] || [ -e "$__db/Packages" ] || [ -e "$__db/Packages.db" ]; then '
    "rpm -qa --qf '%{NAME}\\t%|EPOCH?{%{EPOCH}}:{0}|\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}\\n'; "
    f"else echo {NO_RPMDB}; fi"
)
# The installed database holds exactly what `apk info -v` prints, with name and version apart.
APK_COMMAND = "grep -E '^[PVA]:' /lib/apk/db/installed"

# Run by each configured interpreter with -I (no user site, no PYTHONPATH). It walks sys.path
# the way importlib.metadata does but reads only the Name and Version headers, without importing
# importlib.metadata and the email parser: ~20 ms where importlib.metadata takes ~70 ms and
# `pip list` ~1 s; pip need not be installed. The first copy of a distribution on sys.path wins,
# as at import time.
_PIP_SCRIPT = (
    "import os, re, sys\n"
    "seen = set()\n"
    "for base in sys.path:\n"
    "    try: names = sorted(os.listdir(base or '.'))\n"
    "    except OSError: continue\n"
    "    for e in names:\n"
    "        if not e.endswith(('.dist-info', '.egg-info')): continue\n"
    "        p = os.path.join(base, e)\n"
    "        if os.path.isdir(p): p = os.path.join(p, 'METADATA' if e.endswith('.dist-info') else 'PKG-INFO')\n"
    "        n = v = None\n"
    "        try:\n"
    "            with open(p, encoding='utf-8', errors='replace') as f:\n"
    "                for line in f:\n"
    "                    if not line.strip(): break\n"
    "                    if line.startswith('Name:') and n is None: n = line[5:].strip()\n"
    "                    elif line.startswith('Version:') and v is None: v = line[8:].strip()\n"
    "        except OSError: continue\n"
    "        if not n or v is None: continue\n"
    "        k = re.sub(r'[-_.]+', '-', n).lower()\n"
    "        if k in seen: continue\n"
    "        seen.add(k)\n"
    "        sys.stdout.write(k + '\\t' + v + '\\n')\n"
)


def _keyed(manager: str, rows: list[tuple[str, str, str]]) -> Facts:
    """rows of (name, version, arch) -> facts, with `name:arch` keys only where a name repeats."""
    count: dict[str, int] = {}
    for name, _, _ in rows:
        count[name] = count.get(name, 0) + 1
    facts: Facts = {}
    for name, version, arch in rows:
        key = f"packages/{manager}/{name}" if count[name] == 1 else f"packages/{manager}/{name}:{arch}"
        facts[key] = {"version": version, "arch": arch}
    return facts


def parse_dpkg(output: str, cfg: CollectConfig) -> Facts:
    rows = []
    for number, line in lines(output):
        status, name, version, arch = fields(line, 4, number, "status, package, version, architecture")
        # Second letter of the abbreviated status is the current state: i = installed. Removed
        # packages with config files left (rc) are not installed.
        if len(status) < 2 or status[1] != "i":
            continue
        if not name or not version:
            raise CollectError(f"line {number}: empty package name or version")
        rows.append((name, version, arch))
    if not rows:
        raise CollectError("dpkg-query listed no installed packages")
    return _keyed("deb", rows)


def parse_rpm(output: str, cfg: CollectConfig) -> Facts:
    if output.strip() == NO_RPMDB:
        raise NotApplicable("rpm is installed, but there is no rpm database: not an RPM-based host")
    if not output.strip():  # rpm exited 0: an empty database (Debian's, once queried), never an RPM host's
        raise NotApplicable("the rpm database lists no packages: not an RPM-based host")
    rows = []
    for number, line in lines(output):
        name, epoch, version, release, arch = fields(line, 5, number, "name, epoch, version, release, arch")
        if name == "gpg-pubkey":  # imported signing keys are listed as packages; they are not software
            continue
        full = f"{version}-{release}" if epoch in ("", "0", "(none)") else f"{epoch}:{version}-{release}"
        rows.append((name, full, arch))
    if not rows:
        # A database with no software in it is one the rpm tool made on first use (Debian's rpm
        # creates ~/.rpmdb when root runs any query): an RPM distribution always lists rpm itself.
        raise NotApplicable("the rpm database lists no packages: not an RPM-based host")
    return _keyed("rpm", rows)


def parse_apk(output: str, cfg: CollectConfig) -> Facts:
    rows: list[tuple[str, str, str]] = []
    current: dict[str, str] = {}

    def flush() -> None:
        if current:
            if "P" not in current or "V" not in current:
                raise CollectError(f"apk database record without name or version: {quote(current)}")
            rows.append((current["P"], current["V"], current.get("A", "")))
            current.clear()

    for number, line in lines(output):
        tag, sep, value = line.partition(":")
        if not sep or tag not in ("P", "V", "A"):
            raise CollectError(f"line {number}: expected P:, V: or A:, got {line[:60]!r}")
        if tag == "P":
            flush()
        current[tag] = value
    flush()
    if not rows:
        raise CollectError("the apk database lists no installed packages")
    return _keyed("apk", rows)


def pip_command(cfg: CollectConfig) -> str:
    if not cfg.python:
        return ""
    quoted = " ".join(shlex.quote(p) for p in cfg.python)
    return (
        f"for __py in {quoted}; do\n"
        '  if [ -x "$__py" ]; then printf \'@@python %s\\n\' "$__py"; '
        f'"$__py" -I -c {shlex.quote(_PIP_SCRIPT)} || exit $?\n'
        "  else printf '@@absent %s\\n' \"$__py\"; fi\n"
        "done"
    )


def parse_pip(output: str, cfg: CollectConfig) -> Facts:
    facts: Facts = {}
    interpreter: str | None = None
    seen: set[str] = set()
    for number, line in lines(output):
        if line.startswith("@@python ") or line.startswith("@@absent "):
            interpreter = line.split(" ", 1)[1]
            seen.add(interpreter)
            if line.startswith("@@absent "):
                facts[f"packages/pip:{interpreter}"] = None  # known absent: no such interpreter
                interpreter = None
            continue
        if interpreter is None:
            raise CollectError(f"line {number}: distribution listed before any interpreter")
        name, version = fields(line, 2, number, "name, version")
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", name):
            raise CollectError(f"line {number}: {name[:60]!r} is not a normalised distribution name")
        facts[f"packages/pip:{interpreter}/{name}"] = {"version": version}
    missing = [p for p in cfg.python if p not in seen]
    if missing:
        raise CollectError(f"output cut short: nothing for {', '.join(missing)}")
    return facts


COLLECTORS: tuple[Collector, ...] = (
    Collector("dpkg", "packages", lambda cfg: DPKG_COMMAND, parse_dpkg, requires=("dpkg-query",),
              description="Debian packages installed (dpkg-query)"),
    Collector("rpm", "packages", lambda cfg: RPM_COMMAND, parse_rpm, requires=("rpm",),
              description="RPM packages installed"),
    Collector("apk", "packages", lambda cfg: APK_COMMAND, parse_apk, requires=("apk",),
              description="Alpine packages installed (the apk database)"),
    Collector("pip", "packages", pip_command, parse_pip,
              description="Python distributions of each [collect] python interpreter (importlib.metadata)"),
)
