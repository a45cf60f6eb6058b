"""Findings for opted-in file content: by key (`settings.ini [cache] ttl_seconds: 300 in staging,
30 in prod`) or, for line-level files, by the lines added and removed, with a short unified diff.

Content facts are `files/<path>//<key>` (or `//lines`); the differ hands them here instead of to
messages. A secret value is {"secret": true, "hmac": ...}: it is said to differ, never shown.
"""

from __future__ import annotations

import difflib
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from drift.analysis import classes
from drift.model.report import Finding, Kind, Value
from drift.model.snapshot import Snapshot

SEP = "//"
LINES = "lines"
DIFF_LINES = 40  # a finding's detail stays short; the host holds the rest

Values = list[tuple[Snapshot, Any]]


def owns(path: str) -> bool:
    return path.startswith("files/") and SEP in path[6:]


def split(path: str) -> tuple[str, str]:
    """('/etc/app.ini', '[cache] ttl') from 'files/etc/app.ini//[cache] ttl'."""
    file, _, key = path[len("files"):].partition(SEP)
    return file, key


def subject(path: str) -> str:
    file, key = split(path)
    return file if key == LINES else f"{file} {key}"


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get("secret") is True


def display(path: str, value: Any) -> Any:
    if isinstance(value, list) and split(path)[1] == LINES:
        return f"{len(value)} lines"
    return value


def _text(value: Any) -> str:
    if value is None:
        return "absent"
    if is_secret(value):
        return "(value hidden)"
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text if len(text) <= 60 else text[:57] + "..."


def _name(path: str) -> str:
    file, key = split(path)
    base = file.rsplit("/", 1)[-1]
    return base if key == LINES else f"{base} {key}"


def _rows(env: str, values: Values, path: str, ref: Any = None, who: str = "") -> tuple[Value, ...]:
    """A secret's row says whether it matches `ref` (the value of `who`) instead of showing its HMAC."""
    return tuple(Value(env, s.host, display(path, v), _hidden(v, ref, who)) for s, v in values)


def _hidden(value: Any, ref: Any, who: str) -> str:
    if not is_secret(value):
        return ""
    if not who:
        return "(hidden)"
    return f"(hidden; same as {who})" if value == ref else f"(hidden; differs from {who})"


def _finding(path: str, role: str, kind: Kind, message: str, values: tuple[Value, ...], detail: str = "",
             odd: tuple[str, ...] = ()) -> Finding:
    return Finding("files", path, subject(path), kind, role, message, values, detail=detail, odd=odd)


def _lines(value: Any) -> list[str]:
    return [str(x) for x in value] if isinstance(value, list) else []


def delta(old: Any, new: Any) -> tuple[list[str], list[str]]:
    """(lines only in new, lines only in old), each in file order."""
    o, n = Counter(_lines(old)), Counter(_lines(new))
    return list((n - o).elements()), list((o - n).elements())


def unified(old: Any, new: Any, left: str, right: str) -> str:
    diff = list(difflib.unified_diff(_lines(old), _lines(new), left, right, n=1, lineterm=""))
    if len(diff) > DIFF_LINES:
        diff = [*diff[:DIFF_LINES], f"... {len(diff) - DIFF_LINES} more diff lines"]
    return "\n".join(diff)


def _summary(added: list[str], removed: list[str]) -> str:
    parts = [f"+ {x}" for x in added[:3]] + [f"- {x}" for x in removed[:3]]
    more = len(added) + len(removed) - len(parts)
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def _counted(added: list[str], removed: list[str]) -> str:
    def n(k: int) -> str:
        return f"{k} line{'s' if k != 1 else ''}"
    return " and ".join(x for x in (f"{n(len(added))} added" if added else "",
                                    f"{n(len(removed))} removed" if removed else "") if x) or "lines reordered"


def between(path: str, role: str, left: str, right: str, lc: Any, rc: Any, lv: Values, rv: Values,
            where: str | None = None) -> Iterable[Finding]:
    values = _rows(left, lv, path, rc, right) + _rows(right, rv, path, lc, left)
    group = where or role
    name = _name(path)
    if split(path)[1] == LINES and (lc is None or rc is None or (isinstance(lc, list) and isinstance(rc, list))):
        if lc is None or rc is None:
            kind = Kind.only_right if lc is None else Kind.only_left
            side, other = (right, left) if lc is None else (left, right)
            yield _finding(path, role, kind, f"{name} is read by content in {side} ({group}) but not in {other}",
                           values)
            return
        added, removed = delta(lc, rc)
        yield _finding(path, role, Kind.changed,
                       f"{name} differs ({group}): {_counted(added, removed)} in {right}: {_summary(added, removed)}",
                       values, unified(lc, rc, left, right))
        return
    if lc is None:
        yield _finding(path, role, Kind.only_right, f"{name} = {_text(rc)} is set in {right} ({group}) but not in "
                       f"{left}", values)
    elif rc is None:
        yield _finding(path, role, Kind.only_left, f"{name} = {_text(lc)} is set in {left} ({group}) but not in "
                       f"{right}", values)
    elif is_secret(lc) or is_secret(rc):
        yield _finding(path, role, Kind.changed, f"{name} differs between {left} and {right} ({group}); "
                       "the values are hidden", values)
    else:
        yield _finding(path, role, Kind.changed, f"{name}: {_text(lc)} in {left}, {_text(rc)} in {right}"
                       + (f" ({where})" if where else ""), values)


def outlier(path: str, role: str, env: str, majority: Any, reps: Sequence[tuple[Any, Sequence[Snapshot]]]) -> Finding:
    """As messages.outlier: from the value classes, with odd_hosts exactly the hosts off the majority."""
    decided = classes.has_majority(reps)  # counted: a majority may be None (the key absent)
    ref, label = reps[0][0], "its peers" if decided else ""
    values = classes.values(env, reps, lambda e, s, v: Value(e, s.host, display(path, v), _hidden(v, ref, label)))
    name = _name(path)
    hosts = classes.odd_hosts(reps)
    if not decided:  # no majority: every host is as odd as any other
        split_text = ", ".join(f"{_text(display(path, v))} on {classes.spaced(on)}" for v, on in reps)
        return _finding(path, role, Kind.outlier, f"{role} hosts in {env} disagree on {name}: {split_text}", values,
                        odd=hosts)
    majority, peers = reps[0]
    odd = reps[1:]
    one = len(hosts) == 1
    who = classes.names(hosts)
    count = f"{len(peers):,} {role} peer{'s' if len(peers) > 1 else ''} in {env}"
    if split(path)[1] == LINES:
        sample, on = odd[0]
        added, removed = delta(majority, sample)
        return _finding(path, role, Kind.outlier,
                        f"{who}: {name} differs from {'its' if one else 'their'} {count}: "
                        f"{_summary(added, removed)}", values, unified(majority, sample, "peers", on[0].host), hosts)
    if any(is_secret(v) for v, _ in odd) or is_secret(majority):
        return _finding(path, role, Kind.outlier, f"{who} {'has' if one else 'have'} a different {name} "
                        f"(value hidden) from {'its' if one else 'their'} {count}", values, odd=hosts)
    ours = f"{'do' if len(peers) > 1 else 'does'} not set it" if majority is None else \
        f"{'have' if len(peers) > 1 else 'has'} {_text(majority)}"
    if all(v is None for v, _ in odd):
        return _finding(path, role, Kind.outlier, f"{who} {'does' if one else 'do'} not set {name}; "
                        f"its {count} {ours}", values, odd=hosts)
    theirs = "; ".join(sorted({_text(v) for v, _ in odd}))
    return _finding(path, role, Kind.outlier, f"{who} {'has' if one else 'have'} {name}: {theirs}; "
                    f"its {count} {ours}", values, odd=hosts)
