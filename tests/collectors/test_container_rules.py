"""Container engines' rules: ids, addresses and start order are identity; anything else still compares."""

from __future__ import annotations

import json
from pathlib import Path

from collectors.container_rules import normalise
from collectors.firewall import COLLECTORS, parse_nft, parse_xtables
from collectors.interface import CollectConfig, Parsed

HERE = Path(__file__).parent
IPTABLES = next(c for c in COLLECTORS if c.name == "iptables")
AS_WRITTEN = "firewall/iptables/as-written"
DOCKER = (HERE / "rulesets" / "docker-usernet-portmap.iptables").read_text()
NFT = next(c for c in COLLECTORS if c.name == "nft")
# netavark's nft driver (tests/lab/firewalls/netavark-nft.nft, from netavark's source) as nft -j lists it
NETAVARK_NFT = json.loads((HERE.parent / "drift" / "analysis" / "reach" / "fixtures" / "netavark-nft.json")
                          .read_text())["output"]


def golden(name: str) -> tuple[str, Parsed]:
    output = json.loads((HERE / "fixtures" / "iptables" / f"{name}.json").read_text())["output"]
    parsed = IPTABLES.parse(output, CollectConfig())
    assert isinstance(parsed, Parsed)
    return output, parsed


def compared(p: Parsed) -> dict:
    return {k: v for k, v in p.facts.items() if k not in p.identity}


def test_netavark_twins_compare_alike_and_keep_the_rules_as_written():
    # Real netavark rules: the same two containers started in either order, so ids differ and the
    # addresses are swapped (web 10.88.0.2 and api 10.88.0.3 on one, the other way round on the twin).
    raw, one = golden("podman_netavark")
    _, twin = golden("podman_netavark_twin")
    assert compared(one) == compared(twin)
    assert one.identity == twin.identity == {AS_WRITTEN}
    text = json.dumps(compared(one))
    assert "10.88.0.2" not in text and "10.88.0.3" not in text and "f23ed1973abe" not in text
    dn = compared(one)["firewall/iptables/nat/NETAVARK-DN-1D8721804F16F"]["rules"]
    assert "-p tcp -m tcp --dport 8080 -j DNAT --to-destination {{container:tcp/8080}}:80" in dn
    assert "-d 127.0.0.1/32 -p udp -m udp --dport 9090 -j DNAT --to-destination {{container:tcp/8081}}:9090" in dn
    # Put back, the identity fact's chains are exactly what iptables-save printed.
    written = one.facts[AS_WRITTEN]
    assert isinstance(written, dict)
    assert {**dict(parse_xtables(raw, CollectConfig(), "iptables")),
            **{f"firewall/iptables/{k}": v for k, v in written.items()}} == \
        dict(parse_xtables(raw, CollectConfig(), "iptables"))
    assert written["nat/NETAVARK-DN-1D8721804F16F"]["rules"][2] == \
        "-p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.88.0.2:80"


def docker(text: str) -> Parsed:
    parsed = normalise(parse_xtables(text, CollectConfig(), "iptables"), "iptables")
    assert isinstance(parsed, Parsed)
    return parsed


def test_dockers_twin_with_other_addresses_and_start_order_compares_alike():
    swapped = DOCKER.replace("192.0.2.2", "192.0.2.X").replace("192.0.2.3", "192.0.2.2").replace("192.0.2.X", "192.0.2.3")
    lines = swapped.split("\n")
    a, b = (lines.index(x) for x in lines if x.startswith("-A DOCKER ") and "DNAT" in x)  # c2 started first on the twin
    lines[a], lines[b] = lines[b], lines[a]
    assert compared(docker(DOCKER)) == compared(docker("\n".join(lines)))
    # compose's networks: bridges named after a network id, one per host
    one, two = (compared(docker(DOCKER.replace("bridge1", b))) for b in ("br-44a58be29ddf", "br-0c1d2e3f4a5b"))
    assert one == two
    assert "-s 192.0.2.0/24 ! -o br-{{network:192.0.2.0/24}} -j MASQUERADE" in one["firewall/iptables/nat/POSTROUTING"]["rules"]
    filt = compared(docker(DOCKER))["firewall/iptables/filter/DOCKER"]["rules"]
    assert "-d {{container:tcp/8080}}/32 ! -i bridge1 -o bridge1 -p tcp -m tcp --dport 80 -j ACCEPT" in filt


def test_what_is_not_a_containers_identity_still_differs():
    moved = compared(docker(DOCKER.replace("--dport 8443 -j DNAT", "--dport 9443 -j DNAT")))
    assert moved != compared(docker(DOCKER))  # another published port is drift
    bridge = compared(docker(DOCKER.replace("-A DOCKER ! -i bridge1 -o bridge1 -j DROP\n", "")))
    assert bridge != compared(docker(DOCKER))
    # An address only near a container's is left alone; a hand-written rule naming it is about it.
    extra = DOCKER.replace(":INPUT ACCEPT [0:0]\n", ":INPUT ACCEPT [0:0]\n-A INPUT -s 192.0.2.21/32 -j DROP\n"
                           "-A INPUT -d 192.0.2.2/32 -p tcp -j DROP\n", 1)
    assert compared(docker(extra))["firewall/iptables/filter/INPUT"]["rules"] == [
        "-s 192.0.2.21/32 -j DROP", "-d {{container:tcp/8080}}/32 -p tcp -j DROP"]


def test_rules_without_containers_are_plain_facts_and_a_dnat_range_is_no_container():
    plain = "*nat\n:PREROUTING ACCEPT [0:0]\n:DOCKER - [0:0]\n" \
            "-A DOCKER -p tcp --dport 80 -j DNAT --to-destination 192.0.2.2-192.0.2.9:80\nCOMMIT\n"
    facts = parse_xtables(plain, CollectConfig(), "iptables")
    assert normalise(facts, "iptables") is facts
    v6 = "*nat\n:PREROUTING ACCEPT [0:0]\n:DOCKER - [0:0]\n" \
         "-A DOCKER -d fd00::1/128 -p tcp --dport 80 -j DNAT --to-destination [fd00::2]:80\n" \
         "-A DOCKER -d fd00::20/128 -p tcp --dport 81 -j ACCEPT\nCOMMIT\n"
    rules = compared(normalise(parse_xtables(v6, CollectConfig(), "ip6tables"), "ip6tables"))[  # type: ignore[arg-type]
        "firewall/ip6tables/nat/DOCKER"]["rules"]
    assert rules == ["-d fd00::1/128 -p tcp --dport 80 -j DNAT --to-destination [{{container:tcp/80}}]:80",
                     "-d fd00::20/128 -p tcp --dport 81 -j ACCEPT"]


def nft(output: str) -> Parsed:
    parsed = NFT.parse(output, CollectConfig())
    assert isinstance(parsed, Parsed)
    return parsed


def test_netavark_nft_twins_with_other_container_addresses_compare_alike():
    one, twin = nft(NETAVARK_NFT), nft(NETAVARK_NFT.replace('"10.88.0.2"', '"10.88.0.7"'))
    assert compared(one) == compared(twin)
    assert one.identity == twin.identity == {"firewall/nft/as-written"}
    dnat = compared(one)["firewall/nft/inet netavark/nv_53ce4390_10_88_0_0_nm16_dnat"]["rules"]
    assert dnat == sorted(dnat) and "10.88.0.2" not in json.dumps(compared(one))
    assert any(r.startswith("tcp dport 8080 ") and r.endswith(" dnat to {{container:tcp/7007}}:8080 family ip")
               for r in dnat)
    # Put back, the identity fact's chains are exactly what nft listed, in the kernel's order.
    written = twin.facts["firewall/nft/as-written"]
    assert isinstance(written, dict) and set(written) == {"inet netavark/nv_53ce4390_10_88_0_0_nm16_dnat"}
    raw = dict(parse_nft(NETAVARK_NFT.replace('"10.88.0.2"', '"10.88.0.7"'), CollectConfig()))
    assert {**raw, **{f"firewall/nft/{k}": v for k, v in written.items()}} == raw
    # Another published port, or one more SETMARK rule, is still drift.
    assert compared(nft(NETAVARK_NFT.replace('"dport"}}, "right": 7007', '"dport"}}, "right": 7008'))) != \
        compared(one)


def test_nft_rules_outside_an_engines_table_keep_the_address():
    doc = json.loads(NETAVARK_NFT)
    handmade = [{"chain": {"family": "inet", "table": "filter", "name": "fwd", "handle": 1}},
                {"rule": {"family": "inet", "table": "filter", "chain": "fwd", "handle": 2, "expr": [
                    {"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 9000}},
                    {"dnat": {"addr": "10.88.0.2", "port": 8080, "family": "ip"}}]}}]
    mixed = compared(nft(json.dumps({"nftables": doc["nftables"] + [{"table": {"family": "inet", "name": "filter",
                                                                             "handle": 1}}, *handmade]})))
    assert mixed["firewall/nft/inet filter/fwd"]["rules"] == ["tcp dport 9000 dnat to 10.88.0.2:8080 family ip"]
    alone = json.dumps({"nftables": [{"table": {"family": "inet", "name": "filter", "handle": 1}}, *handmade]})
    assert not isinstance(NFT.parse(alone, CollectConfig()), Parsed)  # no engine's table: plain facts
