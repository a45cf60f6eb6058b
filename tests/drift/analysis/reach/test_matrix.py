"""The flow matrix and reachability parity on constructed snapshots."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

from collectors import topology
from collectors.interface import CollectConfig
from drift.analysis import compare as engine
from drift.analysis.differ import Env
from drift.analysis.policy import Policy
from drift.analysis.reach import matrix, parity
from drift.model.report import Kind, Level
from drift.model.snapshot import CollectorResult, Snapshot
from drift.reports import html, json_report, markdown, table

NOW = dt.datetime(2026, 11, 22, 3, 0, tzinfo=dt.timezone.utc)
OPEN = {"firewall/iptables/filter/INPUT": {"policy": "ACCEPT", "rules": []}}


def host(name: str, env: str, roles: tuple[str, ...], address: str, listen: dict, rules: dict | None = None,
         nft: dict | None = None, skip: tuple[str, ...] = ()) -> Snapshot:
    facts = {
        "iptables": rules if rules is not None else OPEN,
        "nft": nft or {},
        "interfaces": {"topology/interfaces/lo/addresses": ["127.0.0.1/8"],
                       "topology/interfaces/eth0/addresses": [f"{address}/24"]},
        "listen": {f"topology/listen/{k}": {"process": "x", "families": ["v4"]} for k in listen},
        "routes": {"topology/routes/v4/default": {"dev": "eth0", "via": "eth0 net+1"}},
    }
    cats = {"iptables": "firewall", "nft": "firewall"}
    collectors = {n: CollectorResult(n, cats.get(n, "topology"), "ok", None, f) for n, f in facts.items()
                  if n not in skip}
    return Snapshot(name, env, roles[0], address, "2026-11-22T03:00:00Z", "t", collectors=collectors,
                    roles=roles if len(roles) > 1 else ())


def db(env: str, rules: dict | None = None, **kw: object) -> Snapshot:
    return host(f"{env}-db-1", env, ("db",), f"10.0.{1 if env == 'stg' else 2}.21",
                {"tcp/*:5432": 1, "tcp/loopback:6379": 1}, rules, **kw)  # type: ignore[arg-type]


PROD_DB = {"firewall/iptables/filter/INPUT": {"policy": "DROP", "rules": [
    "-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT", "-s 10.0.2.8/29 -p tcp -m tcp --dport 5432 -j ACCEPT"]}}


def staging() -> list[Snapshot]:
    return [host("stg-app-1", "stg", ("web", "worker"), "10.0.1.11", {"tcp/*:8080": 1}), db("stg")]


def prod() -> list[Snapshot]:
    return [host("prd-web-1", "prd", ("web",), "10.0.2.11", {"tcp/*:8080": 1}),
            host("prd-worker-1", "prd", ("worker",), "10.0.2.31", {}), db("prd", PROD_DB)]


def cells(snaps: list[Snapshot]) -> dict[tuple[str, str, str, int], matrix.Cell]:
    return {c.key: c for c in matrix.build(snaps)}


def test_prod_refuses_the_worker_by_policy_and_admits_web():
    m = cells(prod())
    refused = m[("worker", "db", "tcp", 5432)]
    assert refused.verdict == "refused" and refused.why() == "by prd-db-1 filter INPUT policy DROP"
    assert m[("web", "db", "tcp", 5432)].verdict == "admitted"
    assert ("web", "db", "tcp", 6379) not in m  # bound to loopback: no other host can connect


def test_co_located_roles_talk_over_loopback():
    m = cells(staging())
    (pair,) = m[("worker", "web", "tcp", 8080)].pairs
    assert (pair.src, pair.dst, pair.via, pair.verdict) == ("stg-app-1", "stg-app-1", "127.0.0.1 (loopback)",
                                                             "admitted")
    assert ("web", "web", "tcp", 8080) not in m  # a host is not its own peer


def test_a_loopback_only_port_is_reachable_from_a_co_located_role():
    snaps = [host("a", "e", ("web", "cache"), "10.0.0.1", {"tcp/loopback:6379": 1})]
    assert cells(snaps)[("web", "cache", "tcp", 6379)].verdict == "admitted"


def test_unknown_is_never_admitted_or_refused():
    failed = dataclasses.replace(db("prd"), status="failed", error="timeout")
    m = cells([prod()[0], failed, db("x")])
    assert ("web", "db", "tcp", 5432) in m and m[("web", "db", "tcp", 5432)].verdict == "unknown"
    no_fw = [prod()[0], db("prd", skip=("iptables",))]
    c = cells(no_fw)[("web", "db", "tcp", 5432)]
    assert c.verdict == "unknown" and "iptables collector did not run" in c.why()
    v6 = [prod()[0], host("prd-db-1", "prd", ("db",), "10.0.2.21", {})]
    listen = v6[1].collectors["listen"]  # facts are immutable (shared tables): build the host with the change
    listen = dataclasses.replace(listen, facts={**listen.facts, "topology/listen/tcp/*:5432": {"families": ["v6"]}})
    v6[1] = dataclasses.replace(v6[1], collectors={**v6[1].collectors, "listen": listen})
    assert "IPv6 wildcard" in cells(v6)[("web", "db", "tcp", 5432)].why()


def test_compare_says_in_plain_words_which_flow_prod_refuses():
    report = engine.compare(Env("staging", tuple(staging())), Env("prod", tuple(prod())), Policy(), NOW)
    reach = [f for f in report.findings if f.path.startswith("topology/reach/")]
    (f,) = [f for f in reach if f.path == "topology/reach/worker/db/tcp/5432"]
    assert f.message == ("worker → db:5432 admitted in staging, refused in prod by prd-db-1 filter INPUT "
                         "policy DROP")
    assert (f.kind, f.severity, f.category, f.role) == (Kind.changed, Level.high, "topology", "worker")
    assert not [x for x in reach if x.path.startswith("topology/reach/*/worker/")]  # the shared host's web port


def test_an_exposure_is_a_port_reachable_in_one_environment_only():
    right = prod()
    right[0] = host("prd-web-1", "prd", ("web",), "10.0.2.11", {"tcp/*:8080": 1, "tcp/*:9187": 1})
    findings, errors = parity.compare("staging", staging(), "prod", right)
    (f,) = [f for f in findings if f.kind is Kind.only_right]
    assert f.path == "topology/reach/*/web/tcp/9187" and errors == []
    assert f.message == "web:9187 is reachable in prod (from db, worker); in staging nothing of role web listens on it"


UNDECIDED = {"firewall/iptables/filter/INPUT": {"policy": "DROP", "rules": ["-m set --match-set workers src -j ACCEPT"]}}


def test_11_an_undecided_flow_is_its_own_section_not_a_collection_failure():
    right = prod()
    right[2] = db("prd", UNDECIDED)
    report = engine.compare(Env("staging", tuple(staging())), Env("prod", tuple(right)), Policy(), NOW)
    assert not report.errors and report.hosts_failed == 0
    u = next(u for u in report.undecided if u.flow == "worker → db:5432/tcp")
    assert (u.env, u.hosts, u.unproven) == ("prod", ("prd-worker-1", "prd-db-1"), True)
    assert "-m set --match-set workers" in u.reason
    assert int(report.exit_code) in (1, 3)
    doc = json.loads(json_report.render(report))
    assert {"env": "prod", "flow": "worker → db:5432/tcp", "hosts": ["prd-worker-1", "prd-db-1"],
            "reason": u.reason} in doc["undecided"]
    text = table.render(report)
    assert "undecided flows" in text and "not fully collected" not in text and "could not collect" not in text
    assert "Undecided flows" in markdown.render(report) and "Undecided flows" in html.render(report)


def test_11_both_sides_undecided_by_the_same_rule_prove_parity():
    left = [host("stg-worker-1", "stg", ("worker",), "10.0.2.31", {}), db("stg", UNDECIDED)]
    right = [host("prd-worker-1", "prd", ("worker",), "10.0.2.31", {}), db("prd", UNDECIDED)]
    report = engine.compare(Env("staging", tuple(left)), Env("prod", tuple(right)), Policy(), NOW)
    assert report.undecided and not any(u.unproven for u in report.undecided)
    assert int(report.exit_code) == 0
    other = {"firewall/iptables/filter/INPUT": {"policy": "DROP", "rules": ["-m set --match-set others src -j ACCEPT"]}}
    right[1] = db("prd", other)
    report = engine.compare(Env("staging", tuple(left)), Env("prod", tuple(right)), Policy(), NOW)
    assert all(u.unproven for u in report.undecided) and int(report.exit_code) == 1  # the rules differ: drift


def test_8_ss_dual_stack_and_v6_only_wildcards_are_told_apart():
    output = "[]\n@@next\ntcp LISTEN 0 128 *:9100 *:*\ntcp LISTEN 0 128 [::]:9200 [::]:*\n" \
             "tcp LISTEN 0 128 0.0.0.0:9300 0.0.0.0:*\n@@next\n32768\t60999\n0\n"
    facts = topology.parse_listen(output, CollectConfig())
    assert facts["topology/listen/tcp/*:9100"]["families"] == ["v4", "v6"]
    assert facts["topology/listen/tcp/*:9200"]["families"] == ["v6"]
    assert facts["topology/ports/ephemeral"] == "32768-60999" and facts["topology/ports/bindv6only"] == 0
    d = host("prd-db-1", "prd", ("db",), "10.0.2.21", {})
    listen = dataclasses.replace(d.collectors["listen"], facts=facts)
    snaps = [prod()[1], dataclasses.replace(d, collectors={**d.collectors, "listen": listen})]
    m = cells(snaps)
    assert m[("worker", "db", "tcp", 9100)].verdict == "admitted"
    assert ("worker", "db", "tcp", 9200) not in m  # v6 only: no IPv4 peer can connect


def test_9_a_host_with_two_addresses_is_reached_on_the_one_its_peer_shares_a_network_with():
    d = host("prd-db-1", "prd", ("db",), "db.example", {"tcp/*:5432": 1})
    ifaces = dataclasses.replace(d.collectors["interfaces"], facts={
        "topology/interfaces/lo/addresses": ["127.0.0.1/8"], "topology/interfaces/eth0/addresses": ["10.0.2.21/24"],
        "topology/interfaces/docker0/addresses": ["172.17.0.1/16"]})
    d = dataclasses.replace(d, collectors={**d.collectors, "interfaces": ifaces})
    (pair,) = cells([prod()[1], d])[("worker", "db", "tcp", 5432)].pairs
    assert (pair.verdict, pair.via) == ("admitted", "10.0.2.21")
    # From a routed network, the address SSH reached the host on (its name resolved to it) is the one.
    far = host("prd-worker-9", "prd", ("worker",), "10.9.0.31", {})
    (pair,) = cells([far, d])[("worker", "db", "tcp", 5432)].pairs
    assert pair.verdict == "unknown" and "which one prd-worker-9 connects to is unknown" in pair.reasons[0]
    facts = {**d.collectors["interfaces"].facts, "topology/ssh/server_address": "10.0.2.21"}
    d = dataclasses.replace(d, collectors={**d.collectors, "interfaces": dataclasses.replace(
        d.collectors["interfaces"], facts=facts)})
    (pair,) = cells([far, d])[("worker", "db", "tcp", 5432)].pairs
    assert (pair.verdict, pair.via) == ("admitted", "10.0.2.21")


def test_nft_rules_are_compared_rule_by_rule_like_iptables():
    chain = {"type": "filter", "hook": "input", "priority": 0, "policy": "drop",
             "rules": ["ct state { established, related } accept", "tcp dport 5432 accept"]}
    wider = dict(chain, rules=[*chain["rules"], "ip saddr 10.0.2.31 tcp dport 5432 drop"])
    left = [db("stg", nft={"firewall/nft/inet t/input": chain})]
    right = [db("prd", nft={"firewall/nft/inet t/input": wider})]
    report = engine.compare(Env("staging", tuple(left)), Env("prod", tuple(right)), Policy(), NOW)
    (f,) = [f for f in report.findings if f.category == "firewall"]
    assert f.kind is Kind.only_right and "ip saddr 10.0.2.31 tcp dport 5432 drop" in f.message


def test_12_an_nft_chain_on_one_side_only_is_reported_rule_by_rule():
    chain = {"type": None, "hook": None, "priority": None, "policy": None,
             "rules": ["ip saddr 10.0.2.0/24 tcp dport 9187 accept", "ip saddr 10.0.3.0/24 tcp dport 9100 accept"]}
    left = [db("stg", nft={"firewall/nft/inet t/input": {"type": "filter", "hook": "input", "priority": 0,
                                                         "policy": "accept", "rules": []}})]
    right = [db("prd", nft={**left[0].collectors["nft"].facts, "firewall/nft/inet t/metrics": chain})]
    report = engine.compare(Env("staging", tuple(left)), Env("prod", tuple(right)), Policy(), NOW)
    found = sorted(f.message for f in report.findings if f.category == "firewall")
    assert found == ["nft inet t metrics: rule in prod (db) only: ip saddr 10.0.2.0/24 tcp dport 9187 accept",
                     "nft inet t metrics: rule in prod (db) only: ip saddr 10.0.3.0/24 tcp dport 9100 accept"]


def test_12_a_role_compared_with_one_of_its_own_hosts_has_no_exposures():
    web = [host(f"prd-web-{i}", "prd", ("web",), f"10.0.2.{10 + i}", {"tcp/*:8080": 1, "udp/*:8125": 1})
           for i in (1, 2, 3)]
    findings, unsure = parity.compare("prod", web, "prod (right)", web[2:])
    assert findings == [] and unsure == []


def fleet(n: int) -> list[Snapshot]:
    """n web hosts, a third of them in the range the db admits, plus workers, a co-located host and a db."""
    out = [host(f"prd-web-{i}", "prd", ("web",), f"10.0.2.{8 + i % 24}", {"tcp/*:8080": 1}) for i in range(n)]
    out += [host(f"prd-worker-{i}", "prd", ("worker",), f"10.0.2.{100 + i}", {}) for i in range(3)]
    out += [host("prd-app-1", "prd", ("web", "worker"), "10.0.2.200", {"tcp/*:8080": 1}), db("prd", PROD_DB)]
    return out


def test_alike_sources_give_the_verdicts_and_counts_of_every_pair():
    snaps = fleet(40)
    every, alike = cells(snaps), {c.key: c for c in matrix.build(snaps, alike=True)}
    assert every.keys() == alike.keys()
    for key, full in every.items():
        short = alike[key]
        assert short.verdict == full.verdict, key
        assert sum(p.count for p in short.pairs) == len(full.pairs), key
        for verdict in ("admitted", "refused", "unknown"):
            assert sum(p.count for p in short.pairs if p.verdict == verdict) == sum(
                1 for p in full.pairs if p.verdict == verdict), (key, verdict)
        assert {p.dst for p in short.pairs} == {p.dst for p in full.pairs}
    assert len(alike[("web", "web", "tcp", 8080)].pairs) < len(every[("web", "web", "tcp", 8080)].pairs) / 4


def test_alike_sources_keep_compare_linear_in_hosts():
    """Pairs evaluated grow with hosts, not hosts squared, when sources are alike."""
    small, large = (sum(len(c.pairs) for c in matrix.build(fleet(n), alike=True)) for n in (40, 400))
    assert large < small * 10 * 1.5


def test_reachability_judged_in_a_forked_child_gives_the_very_report_judged_inline(monkeypatch):
    """Past PARALLEL_FROM hosts compare judges reachability beside the differ (drift/core/forked.py)."""
    import os
    import threading

    left = [dataclasses.replace(s, env="stg") for s in fleet(120)]
    right = [*fleet(120)[:-1], db("prd", {**PROD_DB, "firewall/iptables/filter/INPUT": {"policy": "DROP", "rules": []}})]
    assert len(left) + len(right) >= engine.PARALLEL_FROM
    children = []
    real = engine._flows

    def flows(*args: object) -> bytes:
        children.append(os.getpid())
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(engine, "_flows", flows)  # our own function, to see where it ran
    from drift.core.forked import cpus

    # fork is used only while this process runs one thread (a test before may leave one winding down)
    alone = threading.active_count() == 1 and cpus() > 1
    forked = engine.compare(Env("staging", tuple(left)), Env("prod", tuple(right)), Policy(), NOW)
    monkeypatch.setattr(engine, "PARALLEL_FROM", 10**9)
    inline = engine.compare(Env("staging", tuple(left)), Env("prod", tuple(right)), Policy(), NOW)
    # Only the inline run appends here; the forked one did in its child.
    assert children == [os.getpid()] if alone else children[-1:] == [os.getpid()]
    assert any(f.category == "topology" for f in inline.findings)
    assert json_report.render(forked) == json_report.render(inline)


def test_hosts_with_the_same_rules_are_judged_once_and_each_verdict_names_its_own_host():
    """The rules of alike hosts are read once (a template under a placeholder name): every verdict
    still names the host whose rule decided, never the placeholder or another host."""
    dbs = [host(f"prd-db-{i}", "prd", ("db",), f"10.0.2.{20 + i}", {"tcp/*:5432": 1}, PROD_DB) for i in (1, 2, 3)]
    workers = [host(f"prd-worker-{i}", "prd", ("worker",), f"10.0.2.{100 + i}", {}) for i in (1, 2)]
    every = cells(dbs + workers)
    pairs = every[("worker", "db", "tcp", 5432)].pairs
    assert {(p.dst, p.verdict, p.rule) for p in pairs} == {
        (d, "refused", f"{d} filter INPUT policy DROP") for d in ("prd-db-1", "prd-db-2", "prd-db-3")}
    assert not any("\x00" in repr(c) for c in every.values())
