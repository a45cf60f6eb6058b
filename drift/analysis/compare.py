"""From two sides' snapshots to a Report: align → compare → apply policy. Pure, so tests and the
benchmark drive it without a CLI."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import msgspec

from drift.analysis import containers, differ, layout, merge
from drift.analysis import policy as policy_mod
from drift.analysis.differ import Env
from drift.analysis.reach import parity
from drift.core import forked
from drift.model.report import Finding, Level, Report, Side, Undecided
from drift.model.snapshot import Snapshot

# From this many hosts on both sides, reachability is judged in a forked child beside the differ:
# below it, starting the child costs more than the overlap saves.
PARALLEL_FROM = 200
_FLOWS = msgspec.json.Decoder(tuple[list[Finding], list[Undecided]])


def _side(env: Env) -> Side:
    snaps = sorted(env.snapshots, key=lambda s: s.host)
    return Side(env.name, tuple(s.host for s in snaps), tuple(s.collected_at for s in snaps))


def _only(findings: Iterable[Finding], categories: frozenset[str]) -> list[Finding]:
    return [f for f in findings if not categories or f.category in categories]


def compare(left: Env, right: Env, pol: policy_mod.Policy, now: dt.datetime, fail_on: Level | None = None,
            categories: frozenset[str] = frozenset()) -> Report:
    """Role by role: the sides' consensus against each other, and the outliers inside each side."""
    reach = (not categories or "topology" in categories) and parity.relevant(left.snapshots, right.snapshots)
    hosts = len(left.snapshots) + len(right.snapshots)
    with forked.beside(lambda: _flows(left.name, left.snapshots, right.name, right.snapshots),
                       reach and hosts >= PARALLEL_FROM) as flows_of:
        raw = differ.compare(differ.align(left, right), left.name, right.name)
        raw = layout.explained(raw, left, right) + layout.findings(left, right)
        raw = containers.architecture(containers.folded(raw), left, right)
        errors = differ.errors(left, right)
        undecided: list[Undecided] = []
        if reach:
            flows, undecided = _FLOWS.decode(flows_of())
            raw += flows
    findings, warnings = policy_mod.apply(merge.merge(_only(raw, categories)), pol, now.date(), fail_on)
    return Report("compare", _stamp(now), _side(left), _side(right), tuple(findings), tuple(errors),
                  fail_on if fail_on is not None else pol.fail_on, tuple(warnings), tuple(undecided))


def audit(current: Env, baseline: Env | None, pol: policy_mod.Policy, now: dt.datetime,
          fail_on: Level | None = None, categories: frozenset[str] = frozenset()) -> Report:
    """Outliers inside `current`, plus, host by host, every difference from the approved baseline
    (left is the baseline, right is now)."""
    raw = containers.folded(differ.compare(differ.align(current, None), current.name, ""))
    errors = differ.errors(current)
    if baseline is not None:
        raw += merge.merge_hosts(differ.compare(differ.align(baseline, current, by_host=True), baseline.name,
                                                current.name, by_host=True))
        errors = differ.errors(baseline, current)
    findings, warnings = policy_mod.apply(merge.link(_only(raw, categories)), pol, now.date(), fail_on)
    return Report("audit", _stamp(now), _side(baseline) if baseline else _side(current),
                  _side(current) if baseline else None, tuple(findings), tuple(errors),
                  fail_on if fail_on is not None else pol.fail_on, tuple(warnings))


def _flows(left_name: str, left: Sequence[Snapshot], right_name: str, right: Sequence[Snapshot]) -> bytes:
    """Reachability parity's findings and undecided flows, as bytes a forked child can send back."""
    return msgspec.json.encode(parity.compare(left_name, left, right_name, right))


def _stamp(now: dt.datetime) -> str:
    return now.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
