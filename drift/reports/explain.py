"""`drift explain HOST`: the three-way view as text or JSON. Pure Explanation -> str."""

from __future__ import annotations

import json
import textwrap
from typing import Any

from drift.core.sanitize import clean
from drift.model.incident import EXPLAIN_SCHEMA, Divergence, Explanation, Since
from drift.reports.changes import between_words, when


def since_text(value: str | None, s: Since | None) -> str:
    if s is None:
        return "since when: unknown (no history in the store)"
    if s.after is None:
        return f"{value} since at least {when(s.before)} (unchanged in all the store's history)"
    return f"{value} since a change {between_words(s.after, s.before)}"


def peers_text(d: Divergence) -> str:
    if d.peers_known == 0:
        return "peers: none known"
    if d.peers is None:
        return f"peers split: {d.peers_split}"
    return f"peers {d.peers} ({d.peers_agree} of {d.peers_known})"


def line(x: Explanation, d: Divergence) -> str:
    """'billing-svc 5.1.0; baseline 5.2.0; peers 5.2.0 (7 of 7); since …'."""
    parts = [f"{d.subject} {d.actual}", f"baseline {d.intended}" if d.intended is not None else "no baseline",
             peers_text(d), since_text(d.actual, d.since)]
    text = "; ".join(parts)
    if d.peers_moved is not None:
        moved = d.peers_moved
        text += (f"; the peers took {d.peers} {between_words(moved.after or moved.before, moved.before)}"
                 f" and that change did not reach {x.host}")
    return text


def render_text(x: Explanation) -> str:
    none = f"no baseline for {x.env} (save one with `drift baseline save {x.env}`)"
    out = [f"drift explain {x.host} ({x.env}, role {x.role})", f"actual: {x.actual_source}",
           f"intended: {x.baseline or none}",
           f"peers: {len(x.peers)} other {x.role} host{'s' if len(x.peers) != 1 else ''} in {x.env}"
           + (f" ({' '.join(x.peers)})" if x.peers and len(x.peers) <= 8 else ""), ""]
    if not x.actual_known:
        out.append(f"{x.host} could not be collected: its actual state is unknown (see below)")
    elif not x.divergences:
        out.append(f"{x.host} agrees with its baseline and its peers on every known fact")
    for d in x.divergences:
        out += textwrap.wrap(clean(f"{d.severity.name:<8} {line(x, d)}"), 110, subsequent_indent=" " * 9,
                             break_on_hyphens=False)
    out.append("")
    alone = [d for d in x.divergences if d.alone]
    if x.baseline is None or not x.peers:
        out.append("what differs from both baseline and peers: cannot tell without "
                   + ("a baseline" if x.baseline is None else "peers"))
    elif alone:
        out.append(f"differs from both baseline and peers ({len(alone)}):")
        out += [clean(f"  {d.subject} {d.actual} (baseline {d.intended}, peers {d.peers})") for d in alone]
    else:
        out.append("differs from both baseline and peers: nothing")
    if x.unknown:
        out += ["", "could not collect (unknown, not absent):"] + [f"  {clean(u)}" for u in x.unknown]
    out += [f"note: {clean(n)}" for n in x.notes]
    return "\n".join(out) + "\n"


def _since(s: Since | None) -> dict[str, Any] | None:
    return None if s is None else {"after": s.after, "before": s.before}


def render_json(x: Explanation) -> str:
    return json.dumps({
        "schema": EXPLAIN_SCHEMA, "host": x.host, "env": x.env, "role": x.role, "actual_source": x.actual_source,
        "actual_at": x.actual_at, "actual_known": x.actual_known, "baseline": x.baseline, "peers": list(x.peers),
        "unknown": list(x.unknown),
        "notes": list(x.notes),
        "divergences": [{
            "category": d.category, "path": d.path, "subject": d.subject, "severity": d.severity.name,
            "actual": d.actual, "intended": d.intended, "peers": d.peers, "peers_agree": d.peers_agree,
            "peers_known": d.peers_known, "peers_split": d.peers_split or None, "alone": d.alone,
            "since": _since(d.since), "peers_moved": _since(d.peers_moved)} for d in x.divergences],
        "alone": [d.path for d in x.divergences if d.alone],
    }, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
