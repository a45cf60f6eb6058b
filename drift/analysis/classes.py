"""An outlier finding's hosts, read from value classes (value -> the hosts that have it, most common
first), never host by host: a finding costs its classes plus the hosts it names, so 1,000 findings
in a role of 10,000 hosts do not cost 10 million steps (spec/report.md, `odd_hosts` and `values`).

Both the general wording (messages) and file content (content) build outliers through here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from drift.model.report import Value
from drift.model.snapshot import Snapshot

Reps = Sequence[tuple[Any, Sequence[Snapshot]]]  # (value, the hosts that have it), most common first

# Past this many peers, an outlier finding lists only the hosts that disagree: the peers' value and
# count are in its message. Listing 999 peers in each of 1,000 findings would make the report
# quadratic in the fleet (spec/report.md: "past 50 peers, values lists only the odd hosts and a count").
PEERS_LISTED = 50
# Past this many distinct values with no majority, the message counts them instead of listing each.
VALUES_LISTED = 5
# A message names at most this many hosts, then counts the rest; the values and odd_hosts name them all.
NAMED = 10


def has_majority(reps: Reps) -> bool:
    """One value is held by more hosts than any other. Absent (None) can be that value: 999 hosts
    without a package and one with it is one odd host, not a 1,000-way split."""
    return len(reps) < 2 or len(reps[0][1]) > len(reps[1][1])


def odd_hosts(reps: Reps) -> tuple[str, ...]:
    """Exactly the hosts whose value is not the majority's; with no majority every host is as odd
    as any other, so all of them."""
    return tuple(sorted(s.host for _, hosts in (reps[1:] if has_majority(reps) else reps) for s in hosts))


def listed(reps: Reps) -> Reps:
    """The classes whose hosts a finding lists: the odd hosts' and, within PEERS_LISTED peers, the
    majority's too (past that, the message counts them)."""
    return reps[1:] if has_majority(reps) and len(reps[0][1]) > PEERS_LISTED else reps


def values(env: str, reps: Reps, value: Callable[[str, Snapshot, Any], Value]) -> tuple[Value, ...]:
    """The listed hosts' values, by host name; `value` renders one (once per listed host)."""
    return tuple(sorted((value(env, s, v) for v, hosts in listed(reps) for s in hosts), key=lambda x: x.host))


def names(hosts: Sequence[str]) -> str:
    """Hosts for a sentence ("a, b and c"): every name up to NAMED, then the first NAMED and a count."""
    if len(hosts) <= NAMED:
        return " and ".join(hosts) if len(hosts) < 3 else f"{', '.join(hosts[:-1])} and {hosts[-1]}"
    return f"{', '.join(hosts[:NAMED])} and {len(hosts) - NAMED:,} other hosts"


def spaced(hosts: Sequence[Snapshot]) -> str:
    """A class's hosts in a split message: their names, or past NAMED, their count."""
    return " ".join(s.host for s in hosts) if len(hosts) <= NAMED else f"{len(hosts):,} hosts"
