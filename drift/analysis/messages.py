"""What a finding says: its subject, the values shown per host, and a sentence a person reads at 3 a.m.

Findings are built here from the differ's aligned values; which findings exist is the differ's
business, how they read is this module's.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from typing import Any

from drift.analysis import versions
from drift.model.report import Finding, Kind, Value
from drift.model.snapshot import Snapshot

Values = list[tuple[Snapshot, Any]]


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def category(path: str) -> str:
    return path.split("/", 1)[0]


def manager(path: str) -> str:
    """deb, rpm, apk or pip, from packages/<manager>/<name>; "" for a path without one (a hand-written
    snapshot), which versions.describe then compares generically."""
    parts = path.split("/")
    return parts[1].split(":", 1)[0] if len(parts) > 1 else ""


def subject(path: str) -> str:
    parts = path.split("/")
    cat = parts[0]
    if cat == "packages":
        return parts[-1]
    if cat == "files":
        return path[len("files"):]
    if cat == "firewall":
        return chain_label(path)
    if cat == "topology" and len(parts) > 2:
        rest = "/".join(parts[2:])
        if parts[1] == "listen":
            proto, _, bind = rest.partition("/")
            return f"listen {proto} {bind[1:] if bind.startswith('*:') else bind}"
        if parts[1] == "routes":
            return f"route {rest.split('/', 1)[1] if '/' in rest else rest}"
        return {"interfaces": "interface", "hosts": "/etc/hosts", "dns": "dns"}.get(parts[1], parts[1]) + f" {rest}"
    if cat == "system" and len(parts) > 2:
        return f"{parts[1]} {'/'.join(parts[2:])}"
    return "/".join(parts[1:]) or path


def chain_label(path: str) -> str:
    """firewall/iptables/filter/INPUT -> 'iptables filter INPUT'; nft -> 'nft inet acme input'."""
    return " ".join(path.split("/")[1:])


def display(path: str, value: Any) -> Any:
    """The value as the report shows it: a package's version rather than its whole record."""
    if isinstance(value, dict) and category(path) == "packages" and "version" in value:
        return value["version"]  # an architecture change shows in the finding's detail
    if isinstance(value, dict) and category(path) == "files" and "sha256" in value:
        kind = value.get("type", "file")
        if kind != "file":
            return value.get("target", kind)
        sha = value["sha256"]
        # An unprivileged run cannot hash a file it may not read: its sha256 is null, not a digest.
        return sha[:12] if isinstance(sha, str) else "unreadable"
    return value


def short(path: str, value: Any) -> str:
    v = display(path, value)
    if v is None:
        return "absent"
    if isinstance(v, dict):
        # Compact and readable: "process=nginx families=v4,v6" rather than JSON.
        text = " ".join(f"{k}={','.join(map(str, x)) if isinstance(x, list) else x}"
                        for k, x in sorted(v.items()) if x not in (None, [], ""))
    else:
        text = v if isinstance(v, str) else canonical(v)
    return text if len(text) <= 60 else text[:57] + "..."


def rows(env: str, values: Values, path: str) -> tuple[Value, ...]:
    return tuple(Value(env, s.host, display(path, v)) for s, v in values)


def _finding(path: str, role: str, kind: Kind, message: str, values: tuple[Value, ...], detail: str = "",
             subj: str | None = None) -> Finding:
    return Finding(category(path), path, subj or subject(path), kind, role, message, values, detail=detail)


def role_only(role: str, env: str, other: str, snaps: tuple[Snapshot, ...], kind: Kind) -> Finding:
    hosts = ", ".join(s.host for s in snaps)
    return Finding("system", f"system/role/{role}", f"role {role}", kind, role,
                   f"role {role} exists in {env} ({hosts}) but not in {other}",
                   tuple(Value(env, s.host, role) for s in snaps))


def host_only(snap: Snapshot, env: str, kind: Kind) -> Finding:
    where = "in the baseline but no longer in the inventory" if kind is Kind.only_left else "new since the baseline"
    return Finding("system", f"system/host/{snap.host}", f"host {snap.host}", kind, snap.role,
                   f"host {snap.host} ({snap.role}) is {where}", (Value(env, snap.host, snap.role),))


def outlier(path: str, role: str, env: str, majority: Any, reps: list[tuple[Any, list[Snapshot]]]) -> Finding:
    values = tuple(Value(env, s.host, display(path, v)) for v, hosts in reps for s in hosts)
    values = tuple(sorted(values, key=lambda x: x.host))
    name = subject(path)
    if majority is not None:
        peers = reps[0][1]
        odd = [(s, v) for v, hosts in reps[1:] for s in hosts]
        who = " and ".join(sorted({s.host for s, _ in odd}))
        if category(path) == "firewall" and all(isinstance(v, dict) for _, v in odd) and isinstance(majority, dict):
            deltas = "; ".join(sorted({chain_delta(majority, v) for _, v in odd}))
            message = (f"{who} {'differs' if len(odd) == 1 else 'differ'} from {'its' if len(odd) == 1 else 'their'} "
                       f"{len(peers)} {role} peer{'s' if len(peers) > 1 else ''} in {env} on {name}: {deltas}")
            return _finding(path, role, Kind.outlier, message, values, deltas.replace("; ", "\n"))
        theirs = "; ".join(sorted({short(path, v) for _, v in odd}))
        message = (f"{who} {'has' if len(odd) == 1 else 'have'} {name} {theirs}; "
                   f"its {len(peers)} {role} peer{'s' if len(peers) > 1 else ''} in {env} "
                   f"{'have' if len(peers) > 1 else 'has'} {short(path, majority)}")
        detail = "\n".join(explain(path, majority, v) for v in {canonical(v): v for _, v in odd}.values())
    else:
        split = ", ".join(f"{short(path, v)} on {' '.join(s.host for s in hosts)}" for v, hosts in reps)
        message = f"{role} hosts in {env} disagree on {name}: {split}"
        detail = explain(path, reps[0][0], reps[1][0])
    return _finding(path, role, Kind.outlier, message, values, detail)


def between(path: str, role: str, left: str, right: str, lc: Any, rc: Any, lv: Values, rv: Values,
            where: str | None = None) -> Iterable[Finding]:
    """`where` names the group in messages: the role, or the host when comparing a host with its baseline."""
    values = rows(left, lv, path) + rows(right, rv, path)
    name = subject(path)
    if category(path) == "firewall" and isinstance(lc, dict) and isinstance(rc, dict):
        yield from _chain(path, role, left, right, lc, rc, lv, rv, where or role)
        return
    role_text = role
    role = where or role
    if lc is None:
        yield _finding(path, role_text, Kind.only_right,
                       f"{name} {short(path, rc)} is in {right} ({role}) but not in {left}", values)
    elif rc is None:
        yield _finding(path, role_text, Kind.only_left,
                       f"{name} {short(path, lc)} is in {left} ({role}) but not in {right}", values)
    elif category(path) == "packages" and isinstance(lc, dict) and isinstance(rc, dict) \
            and lc.get("version") != rc.get("version"):
        yield _finding(path, role_text, Kind.changed, _version_message(path, left, right, lc, rc)
                       + (f" on {where}" if where else ""), values, explain(path, lc, rc))
    else:
        yield _finding(path, role_text, Kind.changed,
                       f"{name} differs ({role}): {left} has {short(path, lc)}, {right} has {short(path, rc)}",
                       values, explain(path, lc, rc))


def _version_message(path: str, left: str, right: str, lc: dict[str, Any], rc: dict[str, Any]) -> str:
    old, new = str(lc["version"]), str(rc["version"])
    change = versions.describe(manager(path), old, new)
    name = subject(path)
    article = "an" if change.how == "epoch" else "a"
    if change.direction == "upgrade":
        return f"{name} is newer in {right} ({new}) than in {left} ({old}): {article} {change.how} upgrade"
    if change.direction == "downgrade":
        return f"{name} is newer in {left} ({old}) than in {right} ({new}): {article} {change.how} downgrade in {right}"
    return f"{name} differs: {left} has {old}, {right} has {new}"


def _chain(path: str, role: str, left: str, right: str, lc: dict[str, Any], rc: dict[str, Any],
           lv: Values, rv: Values, where: str) -> Iterable[Finding]:
    """A chain is an ordered rule list: report each rule added or removed by its text, then policy."""
    label = chain_label(path)
    lr, rr = Counter(map(str, lc.get("rules") or [])), Counter(map(str, rc.get("rules") or []))

    def rule_rows(rule: str) -> tuple[Value, ...]:
        return tuple(Value(env, s.host, rule if rule in ((v or {}).get("rules") or []) else None)
                     for env, vals in ((left, lv), (right, rv)) for s, v in vals)

    for rule in sorted(rr - lr):
        yield _finding(path, role, Kind.only_right, f"{label}: rule in {right} ({where}) only: {rule}",
                       rule_rows(rule), subj=_rule_subject(path, rule))
    for rule in sorted(lr - rr):
        yield _finding(path, role, Kind.only_left, f"{label}: rule in {left} ({where}) only: {rule}",
                       rule_rows(rule), subj=_rule_subject(path, rule))
    if lc.get("policy") != rc.get("policy"):
        yield _finding(path, role, Kind.changed,
                       f"{label} policy is {lc.get('policy')} in {left}, {rc.get('policy')} in {right} ({where})",
                       rows(left, lv, path) + rows(right, rv, path), subj=f"{label} policy")
    rest_l = {k: v for k, v in lc.items() if k not in ("rules", "policy")}
    rest_r = {k: v for k, v in rc.items() if k not in ("rules", "policy")}
    if rest_l != rest_r or (lr == rr and lc.get("rules") != rc.get("rules")):
        what = "rules in another order" if rest_l == rest_r else explain(path, rest_l, rest_r)
        yield _finding(path, role, Kind.changed, f"{label} differs ({where}): {what}",
                       rows(left, lv, path) + rows(right, rv, path), explain(path, lc, rc))


def chain_delta(old: Any, new: Any) -> str:
    """'+ rule; - rule; policy ACCEPT -> DROP': how chain `new` differs from chain `old`."""
    if not isinstance(old, dict) or not isinstance(new, dict):
        return f"{short('firewall/', old)} -> {short('firewall/', new)}"
    o, n = Counter(map(str, old.get("rules") or [])), Counter(map(str, new.get("rules") or []))
    parts = [f"+ {r}" for r in sorted(n - o)] + [f"- {r}" for r in sorted(o - n)]
    if old.get("policy") != new.get("policy"):
        parts.append(f"policy {old.get('policy')} -> {new.get('policy')}")
    if not parts and old != new:
        parts.append("rules reordered" if o == n else explain("firewall/", old, new).replace("\n", "; "))
    return "; ".join(parts)


def _rule_subject(path: str, rule: str) -> str:
    parts = path.split("/")
    if len(parts) >= 4 and parts[1] in ("iptables", "ip6tables"):
        return f"-A {parts[3]} {rule}"
    return f"{chain_label(path)}: {rule}"


def explain(path: str, old: Any, new: Any) -> str:
    """What changed inside a structured value, one line per change. Lists inside facts are small and
    ordered by meaning (nameserver order, rule order), so an ordered diff is the faithful one."""
    if not isinstance(old, (dict, list)) or not isinstance(new, (dict, list)):
        return f"{short(path, old)} -> {short(path, new)}"
    from deepdiff import DeepDiff  # only when a structured value really changed: it costs 0.3 s to import

    diff = DeepDiff(old, new, verbose_level=2)
    out: list[str] = []
    for change, items in sorted(diff.items()):
        for where, what in sorted(items.items() if isinstance(items, dict) else ((str(i), None) for i in items)):
            where = where.replace("root", "", 1) or "value"
            if isinstance(what, dict) and "old_value" in what:
                out.append(f"{where}: {canonical(what['old_value'])} -> {canonical(what['new_value'])}")
            else:
                out.append(f"{where}: {change.replace('_', ' ')}" + (f" {canonical(what)}" if what is not None else ""))
    return "\n".join(out)
