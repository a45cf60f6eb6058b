"""System settings: OS release, kernel, architecture, hostname, timezone, and sysctls.

Facts: `system/os/id`, `system/os/version_id`, `system/os/pretty_name`, ..., `system/kernel`,
`system/arch`, `system/hostname`, `system/timezone`, `system/machine-id` and
`system/sysctl/<key>` = value (whitespace folded to single spaces). Hostname and machine id differ
by nature and are marked identity.
"""

from __future__ import annotations

import fnmatch
import re
import shlex

from collectors.interface import CollectConfig, Collector, Facts
from collectors.parsing import lines
from drift.core.errors import CollectError

OS_COMMAND = "\n".join([
    "printf 'kernel=%s\\n' \"$(uname -r)\"",
    "printf 'arch=%s\\n' \"$(uname -m)\"",
    "printf 'hostname=%s\\n' \"$(cat /proc/sys/kernel/hostname)\"",
    "if [ -f /etc/timezone ]; then printf 'timezone=%s\\n' \"$(cat /etc/timezone)\"; "
    "elif [ -L /etc/localtime ]; then printf 'timezone=%s\\n' \"$(readlink /etc/localtime)\"; fi",
    "if [ -r /etc/machine-id ]; then printf 'machine-id=%s\\n' \"$(cat /etc/machine-id)\"; fi",
    "if [ -r /etc/os-release ]; then __os=/etc/os-release; else __os=/usr/lib/os-release; fi",
    "sed 's/^/os./' \"$__os\"",
])

_OS_KEYS = {"id", "version_id", "version_codename", "pretty_name", "id_like", "name", "version"}


def parse_os(output: str, cfg: CollectConfig) -> Facts:
    facts: Facts = {}
    for number, line in lines(output):
        # os-release(5) allows blank lines and `#` comments; sed turned them into `os.` lines.
        if line.startswith("os.") and (not line[3:].strip() or line[3:].lstrip().startswith("#")):
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise CollectError(f"line {number}: expected key=value, got {line[:60]!r}")
        if key.startswith("os."):
            name = key[3:].lower()
            if name in _OS_KEYS:
                facts[f"system/os/{name}"] = _unquote(value)
        elif key in ("kernel", "arch", "hostname", "timezone", "machine-id"):
            facts[f"system/{key}"] = value.strip()
    for required in ("system/kernel", "system/arch", "system/hostname"):
        if not facts.get(required):
            raise CollectError(f"output cut short: no {required.split('/')[1]}")
    tz = facts.get("system/timezone")
    if isinstance(tz, str) and "zoneinfo/" in tz:
        facts["system/timezone"] = tz.split("zoneinfo/", 1)[1]
    return facts


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]
    return value.replace('\\"', '"').replace("\\$", "$").replace("\\\\", "\\")


_GLOB = re.compile(r"[*?\[]")


def _sysctl_dir(pattern: str) -> tuple[str, bool]:
    """(path under /proc/sys, is a glob) for a sysctl key or glob."""
    head = _GLOB.split(pattern, 1)[0]
    if head == pattern:
        return "/proc/sys/" + _key_path(pattern), False
    prefix = head.rsplit(".", 1)[0] if "." in head else ""
    return ("/proc/sys/" + _key_path(prefix)).rstrip("/"), True


def _key_path(key: str) -> str:
    """sysctl key -> path under /proc/sys: `.` separates, `/` stands for a `.` in a name (eth0.100)."""
    return key.translate({ord("."): "/", ord("/"): "."})


def sysctl_command(cfg: CollectConfig) -> str:
    if not cfg.sysctl:
        return ""
    dirs = sorted({_sysctl_dir(p)[0] for p in cfg.sysctl})
    # A directory inside another one listed would be read twice.
    paths = [d for d in dirs if not any(d.startswith(o + "/") for o in dirs)]
    quoted = " ".join(shlex.quote(p) for p in paths)
    # One grep reads every key under the directories. It exits 2 when some key cannot be read,
    # which is normal (write-only keys such as stable_secret); that key is then simply not listed.
    return f"for __p in {quoted}; do if [ -e \"$__p\" ]; then grep -rsH '' \"$__p\"; [ $? -le 2 ]; fi; done"


def parse_sysctl(output: str, cfg: CollectConfig) -> Facts:
    values: dict[str, list[str]] = {}
    for number, line in lines(output):
        path, sep, value = line.partition(":")
        if not sep or not path.startswith("/proc/sys/"):
            raise CollectError(f"line {number}: expected /proc/sys/<key>:<value>, got {line[:60]!r}")
        key = path[len("/proc/sys/"):].replace(".", "\x00").replace("/", ".").replace("\x00", "/")
        values.setdefault(key, []).append(" ".join(value.split()))
    facts: Facts = {}
    for pattern in cfg.sysctl:
        if not _GLOB.search(pattern):
            facts[f"system/sysctl/{pattern}"] = " ".join(values[pattern]) if pattern in values else None
            continue
        for key, parts in values.items():
            if fnmatch.fnmatchcase(key, pattern):
                facts[f"system/sysctl/{key}"] = " ".join(parts)
    return facts


COLLECTORS: tuple[Collector, ...] = (
    Collector("os", "system", lambda cfg: OS_COMMAND, parse_os, requires=("uname",),
              identity=("system/hostname", "system/machine-id"),
              description="OS release, kernel, architecture, hostname, timezone"),
    Collector("sysctl", "system", sysctl_command, parse_sysctl,
              # Random or per-boot by design: never drift.
              identity=("system/sysctl/*stable_secret", "system/sysctl/kernel.random.*",
                        "system/sysctl/*.hostname", "system/sysctl/*.domainname"),
              description="[collect] sysctl keys and globs, read from /proc/sys"),
)
