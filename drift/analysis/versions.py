"""Version ordering per package ecosystem, so the differ can say which side is newer and how.

    compare("deb", "1:0.1", "2.0") -> 1
    describe("deb", "3.0.19-1~deb12u2", "3.0.19-1~deb12u9") -> Change("upgrade", "revision")

Pure functions: no I/O, and no input makes them raise. A version string comes from a host, so a
garbled one must cost us an "unknown", never the whole comparison.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from debian.debian_support import Version as DebVersion
from packaging.version import Version as PipVersion

Direction = Literal["upgrade", "downgrade", "same", "unknown"]
How = Literal["epoch", "version", "revision", "equal"]
# The ordering and which component decided it; None when the ecosystem cannot parse a side.
_Verdict = tuple[int, How]


@dataclass(frozen=True)
class Change:
    """How `new` relates to `old`. `same` means equal under the ecosystem's ordering, which is not
    string equality: pip's 1.0 == 1.0.0, dpkg's 1.0 == 1.0-0, rpm's 1.0 == 1.0-3 (rpm skips the
    release when one side has none)."""

    direction: Direction
    how: How


def _sign(x: bool, y: bool) -> int:
    return int(x) - int(y)


def _strcmp(a: str, b: str) -> int:
    return _sign(a > b, a < b)


def _numcmp(a: str, b: str) -> int:
    # Length-then-text instead of int(): Python refuses to int() more than 4300 digits, and a
    # hostile or corrupt version string must not turn into an exception.
    a, b = a.lstrip("0"), b.lstrip("0")
    return _sign((len(a), a) > (len(b), b), (len(a), a) < (len(b), b))


# --- deb: python-debian implements dpkg's ordering; we only add the component split. ---
# python-debian's own pattern ends in `$`, which also matches before a trailing newline.
_DEB_CHARS = re.compile(r"[0-9A-Za-z.+~:-]+")


def _deb(a: str, b: str) -> _Verdict | None:
    if not (_DEB_CHARS.fullmatch(a) and _DEB_CHARS.fullmatch(b)):
        return None
    try:
        va, vb = DebVersion(a), DebVersion(b)
        order = _sign(va > vb, va < vb)
        if order == 0:
            return 0, "equal"
        if _numcmp(va.epoch or "0", vb.epoch or "0"):
            return order, "epoch"
        # Re-wrapping with an explicit epoch and a zero revision isolates upstream_version: dpkg
        # treats a missing revision as "0", and the "0:" keeps colons in upstream legal.
        ua, ub = DebVersion(f"0:{va.upstream_version}-0"), DebVersion(f"0:{vb.upstream_version}-0")
        return order, "version" if ua != ub else "revision"
    except ValueError:  # invalid syntax, or a digit run too long for int()
        return None


# --- rpm: rpmvercmp, written from rpm's documented rules and tests/rpmvercmp.at. ---
# rpm only ever looks at ASCII digit runs, ASCII letter runs and the ~ / ^ operators; everything
# else (including non-ASCII) is a separator that compares equal to any other separator.
_RPM_SEGMENT = re.compile(r"[0-9]+|[A-Za-z]+|[~^]")
_PRINTABLE_ASCII = re.compile(r"[!-~]+")


def rpmvercmp(a: str, b: str) -> int:
    """rpm's segment comparison of one version or release string (no epoch, no dash split)."""
    sa, sb = _RPM_SEGMENT.findall(a), _RPM_SEGMENT.findall(b)
    for i in range(max(len(sa), len(sb))):
        x = sa[i] if i < len(sa) else ""
        y = sb[i] if i < len(sb) else ""
        if "~" in (x, y):  # tilde sorts before anything, even the end of the string
            if x != y:
                return -1 if x == "~" else 1
            continue
        if "^" in (x, y):  # caret sorts after the end, but before any further segment
            if not x or not y:
                return -1 if not x else 1
            if x != y:
                return -1 if x == "^" else 1
            continue
        if not x or not y:  # the side with segments left over is newer
            return -1 if not x else 1
        if x[0].isdigit() != y[0].isdigit():  # a number beats letters
            return 1 if x[0].isdigit() else -1
        order = _numcmp(x, y) if x[0].isdigit() else _strcmp(x, y)
        if order:
            return order
    return 0


def _rpm_split(evr: str) -> tuple[str, str, str]:
    # As rpm parses an EVR: the epoch is a digit run ended by ":" (empty means 0), the release is
    # whatever follows the last "-". Anything else stays in the version, to be read as separators.
    epoch, colon, rest = evr.partition(":")
    if not colon or not (epoch == "" or (epoch.isascii() and epoch.isdigit())):
        epoch, rest = "0", evr
    version, dash, release = rest.rpartition("-")
    return (epoch or "0", version, release) if dash else (epoch or "0", rest, "")


def _rpm(a: str, b: str) -> _Verdict | None:
    if not (_PRINTABLE_ASCII.fullmatch(a) and _PRINTABLE_ASCII.fullmatch(b)):
        return None
    (ea, va, ra), (eb, vb, rb) = _rpm_split(a), _rpm_split(b)
    if order := _numcmp(ea, eb):
        return order, "epoch"
    if order := rpmvercmp(va, vb):
        return order, "version"
    # rpm compares releases only when both sides have one ("1.0" satisfies "1.0-3").
    if ra and rb and (order := rpmvercmp(ra, rb)):
        return order, "revision"
    return 0, "equal"


# --- apk: apk-tools' token ordering (src/version.c, apk-package(5)), written from its rules. ---
# Grammar: number{.number}...{letter}{_suffix{number}}...{~hash}{-r#}. Token kinds are ranked
# because apk's tie-break depends on the rank: where one side stops earlier, the side that goes
# on with a lower-ranked token (more version detail) is newer, unless it goes on with a
# pre-release suffix.
_INITIAL, _DIGIT, _LETTER, _SUFFIX, _SUFFIX_NO, _HASH, _REVISION, _END, _INVALID = range(9)
_SUFFIXES = {"alpha": 0, "beta": 1, "pre": 2, "rc": 3, "cvs": 5, "svn": 6, "git": 7, "hg": 8, "p": 9}
_NO_SUFFIX = 4
_APK_STEP = re.compile(r"\.([0-9]*)|([a-z])|([0-9]+)|_([a-z]*)|~([0-9a-f]*)|-r([0-9]*)")
_APK_REVISION = re.compile(r"-r[0-9]+\Z")


def _apk_tokens(version: str) -> list[tuple[int, str]]:
    """The token list, always ending in exactly one _END or _INVALID."""
    head = re.match(r"[0-9]+", version)
    tokens, pos = [(_INITIAL, head.group())] if head else [], head.end() if head else len(version)
    while head and pos < len(version):
        step, prev = _APK_STEP.match(version, pos), tokens[-1][0]
        if step is None:
            break
        dot, letter, digits, suffix, hash_, rev = step.groups()
        if dot and prev <= _DIGIT:
            tokens.append((_DIGIT, dot))
        elif letter and prev <= _DIGIT:
            tokens.append((_LETTER, letter))
        elif digits and prev == _SUFFIX:
            tokens.append((_SUFFIX_NO, digits))
        elif suffix in _SUFFIXES and prev <= _SUFFIX_NO:
            tokens.append((_SUFFIX, suffix))
        elif hash_ and prev < _HASH:
            tokens.append((_HASH, hash_))
        elif rev and prev < _REVISION:
            tokens.append((_REVISION, rev))
        else:
            break
        pos = step.end()
    return [*tokens, (_END if head and pos == len(version) else _INVALID, "")]


def _apk_token_cmp(kind: int, x: str, y: str) -> int:
    if kind == _DIGIT and (x[0] == "0" or y[0] == "0"):
        return _strcmp(x, y)  # a later component with a leading zero sorts as text (Gentoo)
    if kind in (_INITIAL, _DIGIT, _SUFFIX_NO, _REVISION):
        return _numcmp(x, y)
    if kind == _SUFFIX:
        return _sign(_SUFFIXES[x] > _SUFFIXES[y], _SUFFIXES[x] < _SUFFIXES[y])
    return _strcmp(x, y)  # letter, commit hash


def _apk_order(ta: list[tuple[int, str]], tb: list[tuple[int, str]]) -> int:
    i = 0
    while ta[i][0] == tb[i][0] and ta[i][0] < _END:
        if order := _apk_token_cmp(ta[i][0], ta[i][1], tb[i][1]):
            return order
        i += 1
    (ka, va), (kb, vb) = ta[i], tb[i]
    if ka == kb:
        return 0
    if ka == _SUFFIX and _SUFFIXES[va] < _NO_SUFFIX:
        return -1
    if kb == _SUFFIX and _SUFFIXES[vb] < _NO_SUFFIX:
        return 1
    return -1 if ka > kb else 1


def _apk(a: str, b: str) -> _Verdict | None:
    ta, tb = _apk_tokens(a), _apk_tokens(b)
    if ta[-1][0] == _INVALID or tb[-1][0] == _INVALID:
        return None
    if not (order := _apk_order(ta, tb)):
        return 0, "equal"
    base_a, base_b = _APK_REVISION.sub("", a), _APK_REVISION.sub("", b)
    return order, "version" if _apk_order(_apk_tokens(base_a), _apk_tokens(base_b)) else "revision"


def _apk_compare(a: str, b: str) -> int:
    # apk itself orders invalid versions up to their first bad token (its own test table has
    # "23_foo > 4_beta"), so we do too; only a tie involving an invalid one falls back to text.
    ta, tb = _apk_tokens(a), _apk_tokens(b)
    order = _apk_order(ta, tb)
    return order or (_strcmp(a, b) if _INVALID in (ta[-1][0], tb[-1][0]) else 0)


# --- pip: PEP 440 via packaging; LegacyVersion is gone, so invalid versions fall back. ---

def _trim(release: tuple[int, ...]) -> tuple[int, ...]:
    while len(release) > 1 and release[-1] == 0:  # PEP 440: 1.0 == 1.0.0
        release = release[:-1]
    return release


def _pip(a: str, b: str) -> _Verdict | None:
    try:
        va, vb = PipVersion(a), PipVersion(b)
    except ValueError:  # InvalidVersion, or a digit run too long for int()
        return None
    if not (order := _sign(va > vb, va < vb)):
        return 0, "equal"
    if va.epoch != vb.epoch:
        return order, "epoch"
    if _trim(va.release) != _trim(vb.release) or va.pre != vb.pre:
        return order, "version"
    return order, "revision"  # post, dev or local


_VERDICTS: dict[str, Callable[[str, str], _Verdict | None]] = {
    "deb": _deb, "rpm": _rpm, "apk": _apk, "pip": _pip,
}


def _verdict(manager: str, a: str, b: str) -> _Verdict | None:
    parse = _VERDICTS.get(manager)
    return None if parse is None else parse(a, b)


def compare(manager: str, a: str, b: str) -> int:
    """-1, 0 or 1 as `a` is older than, equal to or newer than `b` in `manager`'s ordering.

    An unknown manager, or a version its ecosystem cannot parse, falls back to a plain string
    comparison: still a consistent order (antisymmetric, never raising), just not a meaningful
    one, which is why describe() reports such a pair as direction "unknown".
    """
    if manager == "apk":
        return _apk_compare(a, b)
    verdict = _verdict(manager, a, b)
    return _strcmp(a, b) if verdict is None else verdict[0]


def describe(manager: str, old: str, new: str) -> Change:
    """Which way `old` -> `new` moves, and the first component (epoch, version, revision) that
    differs: deb epoch/upstream/debian revision, rpm epoch/version/release, apk version/-rN,
    pip epoch/release+pre/post+dev+local."""
    if old == new:
        return Change("same", "equal")
    verdict = _verdict(manager, old, new)
    if verdict is None:
        return Change("unknown", "version")
    order, how = verdict
    return Change("upgrade" if order < 0 else "downgrade" if order > 0 else "same", how)
