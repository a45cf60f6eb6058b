"""What a finding says: its subject, the values shown per host, and a sentence a person reads at 3 a.m.

Findings are built here from the differ's aligned values; which findings exist is the differ's
business, how they read is this module's.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from drift.analysis import classes, content, plain, versions
from drift.model.report import Finding, Kind, Value
from drift.model.snapshot import Snapshot

Values = list[tuple[Snapshot, Any]]


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def category(path: str) -> str:
    return path.split("/", 1)[0]


def manager(path: str) -> str:
    """deb, rpm, apk or pip, from packages/<manager>/<name> or containers/<service>/packages/<manager>/<name>;
    "" for a path without one (a hand-written snapshot), which versions.describe then compares generically."""
    parts = path.split("/")
    if plain.in_container(path):
        return parts[3]
    return parts[1].split(":", 1)[0] if len(parts) > 1 else ""


def is_package(path: str) -> bool:
    return category(path) == "packages" or plain.in_container(path)


def subject(path: str) -> str:
    parts = path.split("/")
    cat = parts[0]
    if cat == "packages":
        return parts[-1]
    if cat == "files":
        return content.subject(path) if content.owns(path) else path[len("files"):]
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
    if cat == "containers" and len(parts) > 2:
        if plain.in_container(path):
            return f"{parts[-1]} (container {parts[1]})"
        return f"container {parts[1]} {'/'.join(parts[2:])}"
    if cat == "system" and len(parts) > 2:
        return f"{parts[1]} {'/'.join(parts[2:])}"
    return "/".join(parts[1:]) or path


def chain_label(path: str) -> str:
    """firewall/iptables/filter/INPUT -> 'iptables filter INPUT'; nft -> 'nft inet acme input'."""
    return " ".join(path.split("/")[1:])


def display(path: str, value: Any, snap: Snapshot | None = None) -> Any:
    """The value as the report shows it: a package's version rather than its whole record, a route
    with its real gateway on `snap`."""
    if isinstance(value, dict) and is_package(path) and "version" in value:
        return value["version"]  # an architecture change shows in the finding's detail
    if content.owns(path):
        return content.display(path, value)
    return plain.real(path, value, snap)


def short(path: str, value: Any, snap: Snapshot | None = None) -> str:
    text = plain.text(path, display(path, value, snap) if content.owns(path) else plain.real(path, value, snap))
    return text if len(text) <= 60 else text[:57] + "..."


def pair(path: str, a: Any, b: Any, on_a: Snapshot | None, on_b: Snapshot | None) -> tuple[str, str]:
    """Two values in words, each by what sets it apart from the other."""
    x, y = plain.contrast(path, plain.real(path, a, on_a), plain.real(path, b, on_b))
    return (x if len(x) <= 60 else x[:57] + "...", y if len(y) <= 60 else y[:57] + "...")


def value(env: str, snap: Snapshot, path: str, v: Any) -> Value:
    return Value(env, snap.host, display(path, v, snap), plain.text(path, plain.real(path, v, snap)))


def rows(env: str, values: Values, path: str) -> tuple[Value, ...]:
    render = _renderer(env, path)
    return tuple(render(s, v) for s, v in values)


def _renderer(env: str, path: str) -> Callable[[Snapshot, Any], Value]:
    """`value` for many hosts of one path: hosts share their value objects (a role's base table), so
    its words are worked out once per object, not once per host; a route's depend on the host."""
    if path.startswith("topology/routes/"):
        return lambda s, v: value(env, s, path, v)
    words: dict[int, tuple[Any, str]] = {}

    def render(s: Snapshot, v: Any) -> Value:
        known = words.get(id(v))
        if known is None:
            known = words[id(v)] = (display(path, v, s), plain.text(path, v))
        return Value(env, s.host, *known)
    return render


def _on(values: Values, v: Any) -> Snapshot | None:
    """A host holding `v`, to show that value as a real host has it."""
    return next((s for s, x in values if x == v), None)


def _finding(path: str, role: str, kind: Kind, message: str, values: tuple[Value, ...], detail: str = "",
             subj: str | None = None, odd: tuple[str, ...] = ()) -> Finding:
    return Finding(category(path), path, subj or subject(path), kind, role, message, values, detail=detail, odd=odd)


def role_only(role: str, env: str, other: str, snaps: tuple[Snapshot, ...], kind: Kind) -> Finding:
    hosts = ", ".join(s.host for s in snaps)
    return Finding("system", f"system/role/{role}", f"role {role}", kind, role,
                   f"role {role} exists in {env} ({hosts}) but not in {other}",
                   tuple(Value(env, s.host, role) for s in snaps))


def host_only(snap: Snapshot, env: str, kind: Kind) -> Finding:
    where = "in the baseline but no longer in the inventory" if kind is Kind.only_left else "new since the baseline"
    return Finding("system", f"system/host/{snap.host}", f"host {snap.host}", kind, snap.role,
                   f"host {snap.host} ({snap.role}) is {where}", (Value(env, snap.host, snap.role),))


def outlier(path: str, role: str, env: str, majority: Any, reps: Sequence[tuple[Any, Sequence[Snapshot]]]) -> Finding:
    """One finding from the value classes of `path` in a role (most common first). Whether there is
    a majority is read from the classes' sizes; `majority` is its value when there is one."""
    render = _renderer(env, path)
    values = classes.values(env, reps, lambda _, s, v: render(s, v))
    name = subject(path)
    if classes.has_majority(reps):
        majority, peers = reps[0]
        odd = reps[1:]
        hosts = classes.odd_hosts(reps)
        one = len(hosts) == 1
        who = classes.names(hosts)
        head = peers[0]
        group = f"{len(peers):,} {role} peer{'s' if len(peers) > 1 else ''} in {env}"
        if category(path) == "firewall" and isinstance(majority, dict) and all(isinstance(v, dict) for v, _ in odd):
            deltas = "; ".join(sorted({chain_delta(majority, v) for v, _ in odd}))
            message = (f"{who} {'differs' if one else 'differ'} from {'its' if one else 'their'} {group} "
                       f"on {name}: {deltas}")
            return _finding(path, role, Kind.outlier, message, values, deltas.replace("; ", "\n"), odd=hosts)
        theirs = "; ".join(sorted({pair(path, majority, v, head, on[0])[1] for v, on in odd}))
        ours = pair(path, majority, odd[0][0], head, odd[0][1][0])[0]
        if majority is None:  # a package or file only the odd hosts have
            message = (f"{who} {'has' if one else 'have'} {name} {theirs}; "
                       f"its {group} {'do' if len(peers) > 1 else 'does'} not")
        elif all(v is None for v, _ in odd):
            message = (f"{who} {'does' if one else 'do'} not have {name}; "
                       f"its {group} {'have' if len(peers) > 1 else 'has'} {ours}")
        else:
            message = (f"{who} {'has' if one else 'have'} {name} {theirs}; "
                       f"its {group} {'have' if len(peers) > 1 else 'has'} {ours}")
        detail = "\n".join(explain(path, majority, v, head, on[0]) for v, on in odd)
        return _finding(path, role, Kind.outlier, message, values, detail, odd=hosts)
    top = reps[0]
    if len(reps) > classes.VALUES_LISTED:
        total = sum(len(h) for _, h in reps)
        message = (f"{total:,} {role} hosts in {env} disagree on {name}: {len(reps):,} different values; "
                   f"the most common, {short(path, top[0], top[1][0])}, is on {len(top[1]):,}")
    else:
        split = ", ".join(f"{short(path, v, on[0])} on {classes.spaced(on)}" for v, on in reps)
        message = f"{role} hosts in {env} disagree on {name}: {split}"
    detail = explain(path, top[0], reps[1][0], top[1][0], reps[1][1][0])
    # No majority: every host is as odd as any other, so the formats name them all.
    return _finding(path, role, Kind.outlier, message, values, detail, odd=classes.odd_hosts(reps))


def between(path: str, role: str, left: str, right: str, lc: Any, rc: Any, lv: Values, rv: Values,
            where: str | None = None) -> Iterable[Finding]:
    """`where` names the group in messages: the role, or the host when comparing a host with its baseline."""
    values = rows(left, lv, path) + rows(right, rv, path)
    name = subject(path)
    if category(path) == "firewall" and (isinstance(lc, dict) or isinstance(rc, dict)) \
            and any(isinstance(c, dict) and c.get("rules") for c in (lc, rc)) and (lc is None or rc is None):
        # A chain on one side only: its rules one by one (each message whole, its ports found), as if the
        # other side had the chain empty and without a policy.
        present = lc if isinstance(lc, dict) else rc
        empty = {**present, "rules": [], "policy": None}
        lc, rc = (lc, empty) if lc is present else (empty, rc)
    if category(path) == "firewall" and isinstance(lc, dict) and isinstance(rc, dict):
        yield from _chain(path, role, left, right, lc, rc, lv, rv, where or role)
        return
    role_text = role
    role = where or role
    ls, rs = _on(lv, lc), _on(rv, rc)
    if lc is None:
        yield _finding(path, role_text, Kind.only_right,
                       f"{name} {short(path, rc, rs)} is in {right} ({role}) but not in {left}", values)
    elif rc is None:
        yield _finding(path, role_text, Kind.only_left,
                       f"{name} {short(path, lc, ls)} is in {left} ({role}) but not in {right}", values)
    elif is_package(path) and isinstance(lc, dict) and isinstance(rc, dict) \
            and "version" in lc and "version" in rc and lc["version"] != rc["version"]:
        yield _finding(path, role_text, Kind.changed, _version_message(path, left, right, lc, rc)
                       + (f" on {where}" if where else ""), values, explain(path, lc, rc, ls, rs))
    else:
        lt, rt = pair(path, lc, rc, ls, rs)
        yield _finding(path, role_text, Kind.changed, f"{name} differs ({role}): {left} has {lt}, {right} has {rt}",
                       values, explain(path, lc, rc, ls, rs))


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
    """'+ rule; - rule; policy ACCEPT → DROP': how chain `new` differs from chain `old`."""
    if not isinstance(old, dict) or not isinstance(new, dict):
        return f"{short('firewall/', old)} {plain.ARROW} {short('firewall/', new)}"
    o, n = Counter(map(str, old.get("rules") or [])), Counter(map(str, new.get("rules") or []))
    parts = [f"+ {r}" for r in sorted(n - o)] + [f"- {r}" for r in sorted(o - n)]
    if old.get("policy") != new.get("policy"):
        parts.append(f"policy {old.get('policy')} {plain.ARROW} {new.get('policy')}")
    if not parts and old != new:
        parts.append("rules reordered" if o == n else explain("firewall/", old, new).replace("\n", "; "))
    return "; ".join(parts)


def _rule_subject(path: str, rule: str) -> str:
    parts = path.split("/")
    if len(parts) >= 4 and parts[1] in ("iptables", "ip6tables"):
        return f"-A {parts[3]} {rule}"
    return f"{chain_label(path)}: {rule}"


def explain(path: str, old: Any, new: Any, old_on: Snapshot | None = None, new_on: Snapshot | None = None) -> str:
    """What changed inside a value, one line per change, values as the hosts `old_on`/`new_on` have them.
    Lists inside facts are small and ordered by meaning (nameserver order, rule order)."""
    return "\n".join(plain.diff(path, plain.real(path, old, old_on), plain.real(path, new, new_on)))
