"""Version ordering per package ecosystem, and what kind of change separates two versions.

dpkg and PEP 440 use their maintained libraries (python-debian, packaging). rpm and apk have no
maintained pure-Python library, so their documented algorithms are implemented here.
An unparsable version never raises: ordering falls back to plain string order, and the change
is reported as "unknown" so no message claims a direction it cannot know.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from debian.debian_support import Version as DebVersion
from debian.debian_support import version_compare
from packaging.version import InvalidVersion
from packaging.version import Version as PepVersion

Direction = Literal["upgrade", "downgrade", "same", "unknown"]
How = Literal["epoch", "version", "revision", "equal", "unknown"]


@dataclass(frozen=True)
class Change:
    direction: Direction
    how: How


def _sign(n: int) -> int:
    return (n > 0) - (n < 0)


def _plain(a: str, b: str) -> int:
    return _sign((a > b) - (a < b))


# -- rpm: rpmvercmp over epoch, version, release ----------------------------------------------------
_RPM_SEGMENT = re.compile(r"(~|\^|\d+|[A-Za-z]+)")


def rpmvercmp(a: str, b: str) -> int:
    if a == b:
        return 0
    sa, sb = _rpm_segments(a), _rpm_segments(b)
    for x, y in zip(sa, sb):
        if x != y and "~" in (x, y):
            return -1 if x == "~" else 1  # tilde sorts before anything, even the end of the string
        if x != y and "^" in (x, y):
            return -1 if x == "^" else 1  # a caret sorts after the bare base but before any more of it
        if x.isdigit() != y.isdigit():
            return 1 if x.isdigit() else -1  # a numeric segment is newer than an alphabetic one
        if x.isdigit():
            c = _sign(int(x) - int(y))
        else:
            c = _plain(x, y)
        if c:
            return c
    rest_a, rest_b = sa[len(sb):], sb[len(sa):]
    if rest_a:
        return -1 if rest_a[0] == "~" else 1
    if rest_b:
        return 1 if rest_b[0] == "~" else -1  # a caret suffix is newer than the bare base version
    return 0


def _rpm_segments(s: str) -> list[str]:
    # Separators (anything not alphanumeric, ~ or ^) only split segments; they never compare.
    return _RPM_SEGMENT.findall(s)


def _rpm_evr(s: str) -> tuple[int, str, str]:
    epoch, _, rest = s.rpartition(":") if ":" in s else ("0", "", s)
    version, _, release = rest.partition("-") if "-" in rest else (rest, "", "")
    return (int(epoch) if epoch.isdigit() else 0, version, release)


# -- apk: apk-tools version ordering ------------------------------------------------------------------
_APK = re.compile(r"^(\d+(?:\.\d+)*)([a-z]?)((?:_(?:alpha|beta|pre|rc|cvs|svn|git|hg|p)\d*)*)(?:-r(\d+))?$")
_APK_SUFFIX = {"alpha": -4, "beta": -3, "pre": -2, "rc": -1, "cvs": 1, "svn": 2, "git": 3, "hg": 4, "p": 5}


def _apk_key(s: str) -> tuple[object, ...] | None:
    m = _APK.match(s)
    if not m:
        return None
    digits = [int(d) for d in m.group(1).split(".")]
    suffixes = [(_APK_SUFFIX[name], int(num or 0))
                for name, num in re.findall(r"_([a-z]+)(\d*)", m.group(3))]
    # No suffix ranks between the pre-release ones (negative) and the post-release ones.
    suffixes.append((0, 0))
    return (digits, m.group(2), suffixes, int(m.group(4) or 0))


def _apk_cmp(a: str, b: str) -> int | None:
    ka, kb = _apk_key(a), _apk_key(b)
    if ka is None or kb is None:
        return None
    return _sign((ka > kb) - (ka < kb))  # type: ignore[operator]


# -- public -------------------------------------------------------------------------------------------
def compare(manager: str, a: str, b: str) -> int:
    """-1, 0 or 1 as a is older than, equal to or newer than b under the manager's own rules."""
    c = _compare(manager, a, b)
    return _plain(a, b) if c is None else c


def _compare(manager: str, a: str, b: str) -> int | None:
    try:
        if manager == "deb":
            return _sign(version_compare(a, b))
        if manager == "rpm":
            ea, eb = _rpm_evr(a), _rpm_evr(b)
            return _sign(ea[0] - eb[0]) or rpmvercmp(ea[1], eb[1]) or rpmvercmp(ea[2], eb[2])
        if manager == "apk":
            return _apk_cmp(a, b)
        if manager == "pip":
            pa, pb = PepVersion(a), PepVersion(b)
            return _sign((pa > pb) - (pa < pb))
    except (ValueError, InvalidVersion):
        return None
    return None


def describe(manager: str, old: str, new: str) -> Change:
    """Which way old → new goes, and the most significant component that differs."""
    c = _compare(manager, old, new)
    if c is None:
        return Change("unknown", "unknown")
    if c == 0:
        return Change("same", "equal")
    return Change("upgrade" if c < 0 else "downgrade", _how(manager, old, new))


def _how(manager: str, old: str, new: str) -> How:
    try:
        if manager == "deb":
            a, b = DebVersion(old), DebVersion(new)
            parts = [(a.epoch or "0", b.epoch or "0"), (a.upstream_version, b.upstream_version)]
        elif manager == "rpm":
            ra, rb = _rpm_evr(old), _rpm_evr(new)
            parts = [(str(ra[0]), str(rb[0])), (ra[1], rb[1])]
        elif manager == "apk":
            parts = [("", ""), (old.rsplit("-r", 1)[0], new.rsplit("-r", 1)[0])]
        else:
            pa, pb = PepVersion(old), PepVersion(new)
            parts = [(str(pa.epoch), str(pb.epoch)), (str((pa.release, pa.pre)), str((pb.release, pb.pre)))]
    except (ValueError, InvalidVersion):
        return "unknown"
    if parts[0][0] != parts[0][1]:
        return "epoch"
    if parts[1][0] != parts[1][1]:
        return "version"
    return "revision"  # dpkg revision, rpm release, apk -rN, PEP 440 post/dev/local
