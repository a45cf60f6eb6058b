"""Policy: which findings to drop, how severe the rest are, which are waived, and which block.

User rules from `[policy]` come first (first match wins), then the built-in severities below.
Matching is fnmatch on fact paths, the same globs `ignore` uses.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from drift.core.errors import PolicyError
from drift.core.sanitize import quote
from drift.core.tomlsource import TomlSource
from drift.model.report import Finding, Kind, Level, Waiver

# Packages whose drift is a security question: crypto, auth, the C library, the kernel, trust stores.
SECURITY_PACKAGES = (
    "openssl", "libssl*", "openssh-*", "libc6", "libc-bin", "glibc", "musl", "sudo", "linux-image-*",
    "kernel", "kernel-core", "ca-certificates", "libgnutls*", "gnutls*", "libcurl*", "curl", "zlib*",
    "libz*", "systemd", "libsystemd*", "polkit*", "libpam*", "pam", "gnupg*", "libgcrypt*", "nss*",
    "cryptography", "pyopenssl", "urllib3", "certifi", "requests",
)

# (glob, severity). Order matters: first match wins. Outliers of packages are raised to high below,
# because one host on another build is how a fleet half-deploys.
BUILTIN: tuple[tuple[str, Level], ...] = (
    *((f"packages/*/{name}", Level.high) for name in SECURITY_PACKAGES),
    ("packages/pip:*", Level.high),
    ("packages/*", Level.medium),
    *((f"containers/*/packages/*/{name}", Level.high) for name in SECURITY_PACKAGES),
    ("containers/*/packages/pip/*", Level.high),
    ("containers/*/packages/*", Level.medium),
    ("containers/*/architecture", Level.high),  # the app in a container here, on the host there
    ("containers/*/image", Level.high),
    ("containers/*/env/*", Level.medium),
    ("containers/*/replicas", Level.low),  # staging often runs fewer copies by design
    ("containers/*/runtime", Level.low),
    ("system/workload/replicas", Level.low),
    ("containers/*", Level.medium),
    ("firewall/*", Level.high),
    ("files/*", Level.high),
    ("system/role/*", Level.high),
    ("system/host/*", Level.high),
    ("services/*", Level.medium),
    ("topology/reach/*", Level.high),  # a flow one environment admits and the other refuses: an outage
    ("topology/layout/*", Level.info),  # roles shared on one host here, apart there: by design, said once
    ("topology/listen/*", Level.medium),
    ("topology/routes/*", Level.medium),
    ("topology/dns/*", Level.medium),
    ("topology/hosts/*", Level.medium),
    ("topology/interfaces/*", Level.low),
    ("system/sysctl/*", Level.medium),
    ("system/kernel", Level.medium),
    ("system/arch", Level.medium),
    ("system/os/id", Level.medium),
    ("system/os/version_id", Level.medium),
    ("system/timezone", Level.low),
    ("system/os/*", Level.info),
)
DEFAULT_LEVEL = Level.low


@dataclass(frozen=True)
class Rule:
    match: str
    severity: Level


@dataclass(frozen=True)
class WaiverRule:
    match: str
    reason: str
    expires: dt.date | None
    line: int | None = None


@dataclass(frozen=True)
class Policy:
    fail_on: Level = Level.high
    ignore: tuple[str, ...] = ()
    severity: tuple[Rule, ...] = ()
    waivers: tuple[WaiverRule, ...] = field(default=())
    max_snapshot_age: dt.timedelta = dt.timedelta(days=7)  # older compared snapshots are warned about


def builtin_level(f: Finding) -> Level:
    if f.kind is Kind.outlier and (f.category == "packages" or (f.category == "containers" and (
            f.path.endswith("/image") or "/packages/" in f.path))):
        return Level.high
    return next((lvl for glob, lvl in BUILTIN if fnmatchcase(f.path, glob)), DEFAULT_LEVEL)


def level_of(path: str, policy: Policy) -> Level | None:
    """A fact's severity by path alone (user rules, then built-in), for what is not a Finding, such
    as a change on the timeline; None when the policy ignores the path."""
    if any(fnmatchcase(path, glob) for glob in policy.ignore):
        return None
    rule = next((r for r in policy.severity if fnmatchcase(path, r.match)), None)
    return rule.severity if rule else next((lvl for glob, lvl in BUILTIN if fnmatchcase(path, glob)), DEFAULT_LEVEL)


def apply(findings: Sequence[Finding], policy: Policy, today: dt.date,
          fail_on: Level | None = None) -> tuple[list[Finding], list[str]]:
    """Findings with severity, waivers and blocking filled in, sorted; plus warnings for a person."""
    threshold = policy.fail_on if fail_on is None else fail_on
    used: set[int] = set()
    out: list[Finding] = []
    for f in findings:
        if any(fnmatchcase(f.path, glob) for glob in policy.ignore):
            continue
        rule = next((r for r in policy.severity if fnmatchcase(f.path, r.match)), None)
        level = rule.severity if rule else builtin_level(f)
        waived: Waiver | None = None
        for i, w in enumerate(policy.waivers):
            if fnmatchcase(f.path, w.match) or fnmatchcase(f.subject, w.match):
                used.add(i)
                expired = w.expires is not None and w.expires < today
                waived = Waiver(w.reason, w.expires.isoformat() if w.expires else None, expired)
                break
        blocking = level >= threshold and (waived is None or waived.expired)
        out.append(f.with_policy(level, blocking, waived))
    warnings = []
    for i, w in enumerate(policy.waivers):
        where = f" (line {w.line})" if w.line else ""
        if w.expires is not None and w.expires < today and i in used:
            warnings.append(f"waiver {quote(w.match)}{where} expired on {w.expires.isoformat()}: "
                            f"its findings count again ({w.reason})")
        elif i not in used:
            warnings.append(f"waiver {quote(w.match)}{where} matches no finding: remove it once the drift is gone")
    return sorted(out, key=Finding.sort_key), warnings


_POLICY_KEYS = {"fail_on", "ignore", "severity", "waivers", "max_snapshot_age"}
_AGE = re.compile(r"^([1-9][0-9]{0,5})([hdw])$")
_RULE_KEYS = {"match", "severity"}
_WAIVER_KEYS = {"match", "reason", "expires"}


def parse(table: Mapping[str, Any], source: TomlSource | None) -> Policy:
    """`[policy]` from the inventory; every mistake names the file and line (exit 2)."""
    path = source.path if source else None

    def fail(message: str, line: int | None) -> PolicyError:
        return PolicyError(message, path, line)

    def line(key: str | None = None, array: str | None = None, nth: int = 0) -> int | None:
        if source is None:
            return None
        if array is None:
            return source.line_of("policy", key)
        return _array_line(source, f"policy.{array}", nth, key)

    for key in table:
        if key not in _POLICY_KEYS:
            raise fail(f"[policy]: unknown key {quote(key)} (known: {', '.join(sorted(_POLICY_KEYS))})", line(key))
    fail_on = _level(table.get("fail_on", "high"), "[policy] fail_on", fail, line("fail_on"))
    ignore = table.get("ignore", [])
    if not isinstance(ignore, list) or not all(isinstance(g, str) for g in ignore):
        raise fail("[policy] ignore: expected a list of fact-path globs", line("ignore"))
    rules, waivers = [], []
    for n, raw in enumerate(_tables(table.get("severity", []), "severity", fail, line)):
        _known(raw, _RULE_KEYS, f"[[policy.severity]] #{n + 1}", fail, lambda k, n=n: line(k, "severity", n))
        rules.append(Rule(_str(raw, "match", f"[[policy.severity]] #{n + 1}", fail, line("match", "severity", n)),
                          _level(raw.get("severity"), f"[[policy.severity]] #{n + 1} severity",
                                 fail, line("severity", "severity", n))))
    for n, raw in enumerate(_tables(table.get("waivers", []), "waivers", fail, line)):
        label = f"[[policy.waivers]] #{n + 1}"
        _known(raw, _WAIVER_KEYS, label, fail, lambda k, n=n: line(k, "waivers", n))
        expires = raw.get("expires")
        if isinstance(expires, str):
            try:
                expires = dt.date.fromisoformat(expires)
            except ValueError:
                raise fail(f"{label} expires: {quote(expires)} is not a date like 2026-12-31",
                           line("expires", "waivers", n)) from None
        if isinstance(expires, dt.datetime):
            expires = expires.date()
        if expires is not None and not isinstance(expires, dt.date):
            raise fail(f"{label} expires: expected a date like 2026-12-31", line("expires", "waivers", n))
        reason = _str(raw, "reason", label, fail, line("reason", "waivers", n))
        waivers.append(WaiverRule(_str(raw, "match", label, fail, line("match", "waivers", n)), reason, expires,
                                  line(None, "waivers", n)))
    age = table.get("max_snapshot_age", "7d")
    m = _AGE.match(age) if isinstance(age, str) else None
    if m is None:
        raise fail(f"[policy] max_snapshot_age: {age!r} is not a duration like 12h, 7d or 2w",
                   line("max_snapshot_age"))
    unit = {"h": "hours", "d": "days", "w": "weeks"}[m.group(2)]
    max_age = dt.timedelta(**{unit: int(m.group(1))})
    return Policy(fail_on, tuple(ignore), tuple(rules), tuple(waivers), max_age)


def _tables(raw: Any, name: str, fail: Any, line: Any) -> list[Mapping[str, Any]]:
    if not isinstance(raw, list) or not all(isinstance(t, dict) for t in raw):
        raise fail(f"[policy] {name}: expected [[policy.{name}]] tables", line(name))
    return raw


def _known(raw: Mapping[str, Any], allowed: set[str], label: str, fail: Any, line: Any) -> None:
    for key in raw:
        if key not in allowed:
            raise fail(f"{label}: unknown key {quote(key)} (known: {', '.join(sorted(allowed))})", line(key))


def _str(raw: Mapping[str, Any], key: str, label: str, fail: Any, line: int | None) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value:
        raise fail(f"{label}: {key} is required and must be a non-empty string", line)
    return value


def _level(value: Any, label: str, fail: Any, line: int | None) -> Level:
    if isinstance(value, str) and value in Level.__members__:
        return Level[value]
    raise fail(f"{label}: {quote(value)} is not one of {', '.join(Level.__members__)}", line)


_HEADER = re.compile(r"^\s*\[\[\s*([^\]]+?)\s*\]\]")


def _array_line(source: TomlSource, table: str, nth: int, key: str | None) -> int | None:
    seen = -1
    for index, text in enumerate(source.lines):
        m = _HEADER.match(text)
        if m and m.group(1).replace(" ", "") == table:
            seen += 1
            if seen == nth:
                if key is None:
                    return index + 1
                for j in range(index + 1, len(source.lines)):
                    if source.lines[j].lstrip().startswith("["):
                        break
                    if re.match(rf"\s*{re.escape(key)}\s*=", source.lines[j]):
                        return j + 1
                return index + 1
    return source.line_of(table.rsplit(".", 1)[0], table.rsplit(".", 1)[1])
