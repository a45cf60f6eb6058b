"""Firewall rules: iptables-save, ip6tables-save, the nftables ruleset and ipset's sets.

Facts: `firewall/iptables/<table>/<chain>` (and `ip6tables`) = {"policy": "DROP" | null,
"rules": [rule text without `-A CHAIN`, in order]}, container engines' ids and addresses made
tokens (collectors.container_rules); `firewall/nft/<family> <table>/<chain>` =
{"type", "hook", "priority", "policy", "rules": [readable rule text, in order]} and
`firewall/nft/<family> <table>/set <name>` = {"type", "elements"}, container engines' addresses
made tokens in their own tables (collectors.container_rules.normalise_nft). Counters and handles are
stripped: they change by themselves. Tables that iptables-nft manages are skipped in the nft
facts, since the iptables facts already hold them (one rule, one finding); a table iptables-save
cannot show ("Table `filter' is incompatible": nft-only syntax) is kept, or its rules would vanish.
"""

from __future__ import annotations

import json
import re
from typing import Any

from collectors.container_rules import normalise, normalise_nft
from collectors.interface import CollectConfig, Collector, Facts
from collectors.parsing import load_json
from drift.core.errors import CollectError
from drift.core.sanitize import quote

_COUNTERS = re.compile(r"^\[\d+:\d+\]\s*")
_RULE_COUNTERS = re.compile(r"(^|\s)-c \d+ \d+(?=\s|$)")
_INCOMPATIBLE = re.compile(r"^# Table `([^']+)' is incompatible")


def parse_xtables(output: str, cfg: CollectConfig, tool: str) -> Facts:
    facts: dict[str, dict[str, Any]] = {}
    table: str | None = None
    for number, raw in enumerate(output.split("\n"), 1):
        line = raw.rstrip("\r")
        hidden = _INCOMPATIBLE.match(line)
        if hidden:  # iptables-nft cannot print it: its rules are only in the nft ruleset
            facts[f"firewall/{tool}/{hidden.group(1)}"] = {"incompatible": True}
            continue
        if not line.strip() or line.startswith("#"):
            continue
        if line.startswith("*"):
            table = line[1:].strip()
            continue
        if table is None:
            raise CollectError(f"line {number}: rule outside a table: {line[:80]!r}")
        if line == "COMMIT":
            table = None
            continue
        if line.startswith(":"):
            parts = line[1:].split(None, 1)
            if len(parts) != 2:
                raise CollectError(f"line {number}: bad chain line {line[:80]!r}")
            chain, rest = parts
            policy = _COUNTERS.sub("", rest.split(None, 1)[0] if rest.split() else "-")
            facts[f"firewall/{tool}/{table}/{chain}"] = {"policy": None if policy == "-" else policy, "rules": []}
            continue
        if line.startswith("-A ") or (line.startswith("[") and " -A " in line):
            rule = _COUNTERS.sub("", line)
            parts = rule.split(None, 2)
            if len(parts) < 2:
                raise CollectError(f"line {number}: bad rule line {line[:80]!r}")
            chain = parts[1]
            text = _RULE_COUNTERS.sub(" ", parts[2] if len(parts) > 2 else "").strip()
            key = f"firewall/{tool}/{table}/{chain}"
            if key not in facts:
                raise CollectError(f"line {number}: rule for undeclared chain {quote(chain)}")
            facts[key]["rules"].append(text)
            continue
        raise CollectError(f"line {number}: unexpected line {line[:80]!r}")
    if table is not None:
        raise CollectError(f"table {quote(table)} has no COMMIT: output cut short")
    return dict(facts)


# Tables iptables-nft creates; their rules are reported by the iptables collectors.
_XTABLES = {"filter", "nat", "mangle", "raw", "security"}
_XCHAINS = {"INPUT", "FORWARD", "OUTPUT", "PREROUTING", "POSTROUTING"}
# What iptables-nft writes into a rule, so what iptables-save can print back (iptables' own
# nft_is_table_compatible): anything else makes the table "incompatible", invisible to iptables-save.
_XT_STATEMENTS = {"match", "counter", "xt", "accept", "drop", "jump", "goto", "return", "continue", "limit"}
_XT_LEFT = {"payload", "meta", "&"}


def _xt_rule(exprs: Any) -> bool:
    """Whether iptables-save can show this rule: matches on headers and interfaces, xt matches and
    targets, counters, packet rate limits, verdicts; never sets, ct, fib or native nat statements."""
    for e in exprs if isinstance(exprs, list) else [None]:
        if not isinstance(e, dict) or len(e) != 1:
            return False
        (kind, body), = e.items()
        if kind not in _XT_STATEMENTS:
            return False
        if kind == "limit" and (not isinstance(body, dict) or body.get("inv") or body.get("rate_unit")):
            return False
        if kind == "match":
            left, right = body.get("left") if isinstance(body, dict) else None, body.get("right")
            if not isinstance(left, dict) or next(iter(left), None) not in _XT_LEFT:
                return False
            if (isinstance(right, dict) and "set" in right) or (isinstance(right, str) and right.startswith("@")):
                return False
    return True


def _xtables(objects: list[tuple[str, dict[str, Any]]]) -> set[tuple[str, str]]:
    """(family, table) of the tables iptables-nft manages and iptables-save shows: an iptables table
    name with a builtin chain, only builtin base chains, and only rules iptables can print. A table
    written by hand in nft-only syntax stays in the nft facts, or its rules would vanish."""
    shaped = {(b["family"], b["table"]) for k, b in objects
              if k == "chain" and b.get("family") in ("ip", "ip6") and isinstance(b.get("table"), str)
              and b["table"] in _XTABLES and isinstance(b.get("name"), str) and b["name"] in _XCHAINS}
    for k, b in objects:
        key = (b.get("family"), b.get("table"))
        if not (isinstance(key[0], str) and isinstance(key[1], str)) or key not in shaped:
            continue
        if (k == "chain" and b.get("hook") and b.get("name") not in _XCHAINS) or k in ("set", "map") \
                or (k == "rule" and not _xt_rule(b.get("expr"))):
            shaped.discard(key)
    return shaped


def parse_nft(output: str, cfg: CollectConfig) -> Facts:
    doc = load_json(output, "nft -j list ruleset")
    items = doc.get("nftables") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise CollectError("nft -j list ruleset: no nftables list")
    objects = [(kind, body) for item in items if isinstance(item, dict) for kind, body in item.items()
               if isinstance(body, dict)]
    xt = _xtables(objects)
    facts: dict[str, dict[str, Any]] = {}
    for kind, b in objects:
        if kind not in ("chain", "rule", "set", "map"):
            continue
        try:
            if (b.get("family"), b.get("table")) in xt:
                continue
            base = f"firewall/nft/{b['family']} {b['table']}"
            if kind == "chain":
                facts[f"{base}/{b['name']}"] = {
                    "type": b.get("type"), "hook": b.get("hook"), "priority": b.get("prio"),
                    "policy": b.get("policy"), "rules": []}
            elif kind == "rule":
                chain = facts.get(f"{base}/{b['chain']}")
                if chain is None:
                    raise CollectError(f"nft: rule for unknown chain {quote(b['chain'])}")
                text = render_rule(b.get("expr", []))
                if b.get("comment"):
                    text += f' comment "{b["comment"]}"'
                chain["rules"].append(text)
            else:
                elements = b.get("elem", [])
                type_ = b.get("type") if kind == "set" else f"{_expr(b.get('type'))} : {_expr(b.get('map'))}"
                facts[f"{base}/{kind} {b['name']}"] = {
                    "type": type_, "elements": sorted(_element(e, kind) for e in elements)}
        except KeyError as exc:
            raise CollectError(f"nft: malformed {kind}: missing {quote(exc.args[0] if exc.args else exc)}") from None
        except TypeError as exc:  # a field of the wrong JSON type (a list where a name belongs)
            raise CollectError(f"nft: malformed {kind}: {quote(str(exc))}") from None
    return dict(facts)


def render_rule(exprs: list[Any]) -> str:
    parts = [_statement(e) for e in exprs]
    return " ".join(p for p in parts if p)


def _statement(e: Any) -> str:
    if not isinstance(e, dict) or len(e) != 1:
        return _canon(e)
    (kind, body), = e.items()
    if kind == "counter":
        return ""  # counts change on their own: never drift
    if kind == "match" and isinstance(body, dict):
        op = body.get("op", "==")
        left, right = _expr(body.get("left")), _expr(body.get("right"))
        return f"{left} {right}" if op in ("==", "in") else f"{left} {op} {right}"
    if kind in ("accept", "drop", "continue", "return"):
        return str(kind)
    if kind in ("jump", "goto") and isinstance(body, dict):
        return f"{kind} {body.get('target')}"
    if kind == "reject":
        return "reject" + (f" with {body.get('type')} {body.get('expr')}" if isinstance(body, dict) and body else "")
    if kind == "log" and (isinstance(body, dict) or not body):
        return "log" + "".join(f' {k} "{v}"' if k == "prefix" else f" {k} {v}"
                               for k, v in sorted((body or {}).items()))
    if kind == "limit" and isinstance(body, dict):
        over = "over " if body.get("inv") else ""
        return f"limit rate {over}{body.get('rate')}/{body.get('per')} burst {body.get('burst')}"
    if kind in ("snat", "dnat", "masquerade", "redirect") and (isinstance(body, dict) or not body):
        # `masquerade to :1024` has a port and no address; flags and family are kept as words.
        body = body or {}
        to = (_expr(body["addr"]) if "addr" in body else "") + (f":{_expr(body['port'])}" if "port" in body else "")
        return str(kind) + (f" to {to}" if to else "") + "".join(
            f" {k} {_expr(v)}" for k, v in sorted(body.items()) if k not in ("addr", "port"))
    if kind == "xt" and isinstance(body, dict):
        return f"xt {body.get('type')} {body.get('name')}"
    return _canon(e)


def _element(e: Any, kind: str) -> str:
    """One set element or `key : value` map entry, without its countdown (`expires` changes by itself)."""
    if kind == "map" and isinstance(e, list) and len(e) == 2:
        key, value = e
        verdict = isinstance(value, dict) and len(value) == 1 and next(iter(value)) in _VERDICTS
        return f"{_element(key, 'set')} : {_statement(value) if verdict else _expr(value)}"
    if isinstance(e, dict) and isinstance(e.get("elem"), dict):
        body = e["elem"]
        text = _expr(body.get("val"))
        if body.get("timeout") is not None:
            text += f" timeout {body['timeout']}"
        return text + (f' comment "{body["comment"]}"' if body.get("comment") else "")
    return _expr(e)


_VERDICTS = ("accept", "drop", "continue", "return", "jump", "goto")


def _expr(x: Any) -> str:
    if isinstance(x, (str, int, float)) or x is None:
        return str(x)
    if isinstance(x, list):
        return "{ " + ", ".join(_expr(i) for i in x) + " }"
    if isinstance(x, dict) and len(x) == 1:
        (kind, body), = x.items()
        if kind == "payload" and isinstance(body, dict):
            return f"{body.get('protocol')} {body.get('field')}"
        if kind in ("meta", "ct") and isinstance(body, dict):
            return f"{kind} {body.get('key')}" if kind == "ct" or body.get("key") not in (
                "iifname", "oifname", "iif", "oif") else str(body.get("key"))
        if kind == "prefix" and isinstance(body, dict):
            return f"{body.get('addr')}/{body.get('len')}"
        if kind == "set":
            return _expr(body)
        if kind == "range" and isinstance(body, list) and len(body) == 2:
            return f"{_expr(body[0])}-{_expr(body[1])}"
    return _canon(x)


def _canon(x: Any) -> str:
    return json.dumps(x, sort_keys=True, separators=(",", ":"))


# Element options that change by themselves (countdowns, counters) or only say how the kernel stores it.
_IPSET_VOLATILE = {"timeout": 1, "packets": 1, "bytes": 1, "comment": 1, "skbmark": 1, "skbprio": 1, "skbqueue": 1}


def parse_ipset(output: str, cfg: CollectConfig) -> Facts:
    """`ipset save`: `firewall/ipset/<name>` = {"type", "family", "elements": ["10.0.0.0/8", "10.1.0.0/16 nomatch"]}."""
    facts: dict[str, dict[str, Any]] = {}
    for number, raw in enumerate(output.split("\n"), 1):
        words = raw.rstrip("\r").split()
        if not words:
            continue
        if words[0] == "create" and len(words) >= 3:
            options = dict(zip(words[3::2], words[4::2], strict=False))
            facts[f"firewall/ipset/{words[1]}"] = {"type": words[2], "family": options.get("family"), "elements": []}
        elif words[0] == "add" and len(words) >= 3:
            entry = facts.get(f"firewall/ipset/{words[1]}")
            if entry is None:
                raise CollectError(f"ipset save line {number}: element of undeclared set {quote(words[1])}")
            flags, i = [], 3
            while i < len(words):
                if words[i] in _IPSET_VOLATILE:
                    i += 2 if words[i] != "comment" else _comment_end(words, i)
                    continue
                flags.append(words[i])
                i += 1
            entry["elements"].append(" ".join([words[2], *flags]))
        else:
            raise CollectError(f"ipset save line {number}: unexpected line {raw[:80]!r}")
    for entry in facts.values():
        entry["elements"].sort()
    return dict(facts)


def _comment_end(words: list[str], i: int) -> int:
    """Words taken by `comment "a quoted text"` starting at words[i]."""
    j = i + 1
    while j < len(words) and not words[j].endswith('"'):
        j += 1
    return j + 1 - i


COLLECTORS: tuple[Collector, ...] = (
    Collector("iptables", "firewall", lambda cfg: "iptables-save",
              lambda out, cfg: normalise(parse_xtables(out, cfg, "iptables"), "iptables"),
              requires=("iptables-save",), privileged=True,
              description="IPv4 rules (iptables-save), counters stripped; container ids and addresses are identity"),
    Collector("ip6tables", "firewall", lambda cfg: "ip6tables-save",
              lambda out, cfg: normalise(parse_xtables(out, cfg, "ip6tables"), "ip6tables"),
              requires=("ip6tables-save",), privileged=True,
              description="IPv6 rules (ip6tables-save), counters stripped; container ids and addresses are identity"),
    Collector("nft", "firewall", lambda cfg: "nft -j list ruleset",
              lambda out, cfg: normalise_nft(parse_nft(out, cfg)), requires=("nft",), privileged=True,
              description="the nftables ruleset, tables iptables-save shows left to iptables; "
                          "container addresses in engines' tables are identity"),
    Collector("ipset", "firewall", lambda cfg: "ipset save", parse_ipset, requires=("ipset",), privileged=True,
              description="ipset sets and their elements (what iptables -m set matches), countdowns stripped"),
)
