"""Container engines' own firewall rules, made comparable: what differs between twins by nature is identity.

Docker, podman's netavark and CNI's portmap write rules per container: its id in a comment
(netavark: `dnat name: podman id: <64 hex>`), its address (`--to-destination 10.88.0.5:80`,
`-d 10.88.0.5/32`), appended in the order the containers started. Two hosts running the same
containers differ in all three by nature, so in the facts drift compares:

- a container's address (the one target of a DNAT in an engine's chain: DOCKER*, NETAVARK*, CNI-*)
  reads `{{container:tcp/8080}}`, named by the lowest host port published to it, wherever it stands
  alone in a rule of any chain;
- a 64-hex id inside a comment reads `{{container-id}}`, a Docker network's bridge `br-<its id>`
  reads `br-{{network:172.18.0.0/16}}` (its subnet, from its MASQUERADE rule) or `br-{{network}}`;
- the chains an engine fills one container at a time (NETAVARK-HOSTPORT-DNAT, NETAVARK-DN-*, DOCKER,
  CNI-HOSTPORT-DNAT, CNI-DN-*) are compared with their rules sorted: their order is start order.

For nftables (`normalise_nft`), the same holds inside the tables an engine owns (netavark's
`inet netavark`, Docker's `ip`/`ip6 docker-bridges`): the IPv4 target of a `dnat to` reads
`{{container:tcp/8080}}` in any rule of those tables, and netavark's NETAVARK-HOSTPORT-DNAT and
`nv_*_dnat` chains are compared sorted.

The chains as the kernel has them are kept in the identity fact `firewall/<tool>/as-written`
({"table/chain": chain}), recorded and never compared: reach evaluates those, so it still follows a
published port to the real container address, in the real rule order.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from collectors.interface import Facts, Parsed

AS_WRITTEN = "as-written"  # firewall/<tool>/as-written: never an iptables table nor an nft `family table`
_ENGINE = ("DOCKER", "NETAVARK", "CNI-")
_PER_CONTAINER = re.compile(r"NETAVARK-HOSTPORT-DNAT|NETAVARK-DN-.*|DOCKER|CNI-HOSTPORT-DNAT|CNI-DN-.*")
_TARGET = re.compile(r"^(?:\[([0-9A-Fa-f:.]+)\]|(\d+\.\d+\.\d+\.\d+)|([0-9A-Fa-f]*:[0-9A-Fa-f]*:[0-9A-Fa-f:.]*))"
                     r"(?::\d+)?$")
_COMMENT = re.compile(r'(--comment\s+)("(?:[^"\\]|\\.)*"|\S+)')
# Every address standing alone, looked up in one pass: 10.88.0.2 is not inside 10.88.0.21 nor 110.88.0.2.
_ADDRESS = re.compile(r"(?<![0-9A-Za-z.:_-])(?:\d{1,3}(?:\.\d{1,3}){3}(?![0-9A-Za-z_]|\.\d)"
                      r"|[0-9A-Fa-f]*:[0-9A-Fa-f:]*(?![0-9A-Za-z_.]))")
_ID = re.compile(r"(?<![0-9A-Fa-f])[0-9a-f]{64}(?![0-9A-Fa-f])")
_BRIDGE = re.compile(r"(?<![\w-])br-[0-9a-f]{12}(?![\w-])")  # a Docker user-defined network's: its id
_MASQUERADE = re.compile(r"^-s (\S+) ! -o (br-[0-9a-f]{12}) -j MASQUERADE$")


def normalise(facts: Facts, tool: str) -> Facts | Parsed:
    """`facts` (one xtables tool's chains) with container identity made tokens; unchanged (plain
    facts) where no rule holds any."""
    prefix = f"firewall/{tool}/"
    chains: dict[str, Any] = {k: v for k, v in facts.items() if k.startswith(prefix) and isinstance(v, dict)
              and isinstance(v.get("rules"), list)}
    addresses = _addresses(chains)
    bridges = {m.group(2): f"br-{{{{network:{m.group(1)}}}}}" for r in chains.get(prefix + "nat/POSTROUTING", {}).get(
        "rules", ()) for m in [_MASQUERADE.match(str(r))] if m}
    return _rewritten(facts, prefix, chains, lambda r: _rule(r, addresses, bridges), _PER_CONTAINER)


def _rewritten(facts: Facts, prefix: str, chains: dict[str, Any], rewrite: Callable[[str], str],
               per_container: re.Pattern[str]) -> Facts | Parsed:
    """facts with each of `chains` rewritten rule by rule (sorted where per_container names it), the
    chains that changed kept as written in the identity fact `<prefix>as-written`."""
    out: Facts = dict(facts)
    written: dict[str, Any] = {}
    for key, chain in chains.items():
        rules = [str(r) for r in chain["rules"]]
        new = [rewrite(r) for r in rules]
        if per_container.fullmatch(key.rsplit("/", 1)[1]):
            new.sort()
        if new != rules:
            out[key] = {**chain, "rules": list(new)}
            written[key[len(prefix):]] = chain
    if not written:
        return facts
    out[prefix + AS_WRITTEN] = written
    return Parsed(out, frozenset({prefix + AS_WRITTEN}))


def _addresses(chains: dict[str, Any]) -> dict[str, str]:
    """Container address -> its token: the one target of each DNAT in an engine's chains."""
    ports: dict[str, set[tuple[str, int]]] = {}
    for key, chain in chains.items():
        if not key.rsplit("/", 1)[1].startswith(_ENGINE):
            continue
        for rule in chain["rules"]:
            words = str(rule).split()
            if "DNAT" not in words or words.count("--to-destination") != 1:
                continue
            target = _TARGET.match(_after(words, "--to-destination"))
            if target is None:
                continue  # a range or something else: no one container's address
            addr = next(g for g in target.groups() if g)
            ports.setdefault(addr, set()).add((_after(words, "-p"), _port(_after(words, "--dport"))))
    return _tokens(ports)


def _tokens(ports: dict[str, set[tuple[str, int]]]) -> dict[str, str]:
    """Container address -> `{{container:tcp/8080}}`, from the (proto, host port) published to each."""
    labels = {addr: min(p) for addr, p in ports.items()}
    taken: dict[tuple[str, int], int] = {}
    for label in labels.values():
        taken[label] = taken.get(label, 0) + 1
    out = {}
    for addr, (proto, port) in labels.items():
        name = f"{proto or 'any'}/{port}" if port >= 0 else proto or "any"
        if taken[(proto, port)] > 1:  # the same port published on two host addresses to two containers
            name += "," + ",".join(sorted(f"{p}/{n}" for p, n in ports[addr]))
        out[addr] = f"{{{{container:{name}}}}}"
    return out


def _after(words: list[str], flag: str) -> str:
    i = words.index(flag) if flag in words[:-1] else -1
    return words[i + 1] if i >= 0 and (i == 0 or words[i - 1] != "!") else ""


def _port(text: str) -> int:
    return int(text) if text.isdigit() else -1


def _rule(text: str, addresses: dict[str, str], bridges: dict[str, str]) -> str:
    if "--comment" in text:
        text = _COMMENT.sub(lambda m: m.group(1) + _ID.sub("{{container-id}}", m.group(2)), text)
    if addresses:
        text = _ADDRESS.sub(lambda m: addresses.get(m.group(0), m.group(0)), text)
    if "br-" in text:
        text = _BRIDGE.sub(lambda m: bridges.get(m.group(0), "br-{{network}}"), text)
    return text


# nftables: only the tables an engine owns (netavark's nft driver; Docker's nftables backend) are
# rewritten, every chain of them; a hand-written table naming a container's address keeps it.
_NFT_ENGINE = ("inet netavark", "ip docker-bridges", "ip6 docker-bridges")
_NFT_PER_CONTAINER = re.compile(r"NETAVARK-HOSTPORT-DNAT|nv_.*_dnat")
# As collectors.firewall renders a dnat statement: `dnat to 10.88.0.2:8080 family ip`. An IPv6 target
# reads `fd00::2:8080` there (address and port not told apart), so only IPv4 targets are tokens.
_NFT_DNAT = re.compile(r"(?:^|\s)dnat to (\d{1,3}(?:\.\d{1,3}){3})(?::[\d-]+)?(?=\s|$)")
_NFT_DPORT = re.compile(r"(?:^|\s)(tcp|udp|sctp|dccp) dport (\S+)")


def normalise_nft(facts: Facts) -> Facts | Parsed:
    """The nft facts with the container addresses of engines' tables made tokens and their
    per-container chains sorted, the chains as written kept in `firewall/nft/as-written`; unchanged
    (plain facts) where no engine's rule holds any."""
    prefix = "firewall/nft/"
    chains: dict[str, Any] = {k: v for k, v in facts.items() if k.startswith(prefix)
                              and k[len(prefix):].partition("/")[0] in _NFT_ENGINE
                              and isinstance(v, dict) and isinstance(v.get("rules"), list)}
    ports: dict[str, set[tuple[str, int]]] = {}
    for chain in chains.values():
        for rule in map(str, chain["rules"]):
            targets = _NFT_DNAT.findall(rule)
            if len(targets) == 1:
                dport = _NFT_DPORT.search(rule)
                proto, port = (dport.group(1), _port(dport.group(2))) if dport else ("", -1)
                ports.setdefault(targets[0], set()).add((proto, port))
    addresses = _tokens(ports)
    return _rewritten(facts, prefix, chains, lambda r: _ADDRESS.sub(lambda m: addresses.get(m.group(0), m.group(0)), r),
                      _NFT_PER_CONTAINER)
