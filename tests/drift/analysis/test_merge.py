"""One finding per real difference: merged across roles, linked across one port."""

from __future__ import annotations

import datetime as dt

from drift.analysis import compare as engine
from drift.analysis import merge
from drift.analysis.differ import Env
from drift.analysis.policy import Policy
from drift.model.report import Kind
from tests.drift.factory import snap

NOW = dt.datetime(2026, 11, 22, 3, 0, tzinfo=dt.timezone.utc)
SSL = "packages/deb/libssl3"


def run(left, right):
    return engine.compare(Env("staging", tuple(left)), Env("prod", tuple(right)), Policy(), NOW)


def _fleet(version, env, roles=("api", "db", "web"), extra=None):
    return [snap(f"{env[:3]}-{role}-1", env, role, {SSL: {"version": version, "arch": "amd64"}, **(extra or {})})
            for role in roles]


def test_the_same_change_in_three_roles_is_one_finding_listing_them():
    (f,) = run(_fleet("1.0-1", "staging"), _fleet("1.0-2", "prod")).findings
    assert f.kind is Kind.changed and f.roles == ("api", "db", "web") and f.role == "api"
    assert {v.host for v in f.values} == {"sta-api-1", "sta-db-1", "sta-web-1", "pro-api-1", "pro-db-1", "pro-web-1"}
    assert [v.env for v in f.values] == ["staging"] * 3 + ["prod"] * 3


def test_different_changes_stay_apart():
    left = _fleet("1.0-1", "staging")
    right = _fleet("1.0-2", "prod", roles=("api", "db")) + _fleet("1.0-3", "prod", roles=("web",))
    findings = run(left, right).findings
    assert sorted(f.all_roles for f in findings) == [("api", "db"), ("web",)]


def test_role_names_in_messages_become_the_list():
    extra = {"topology/listen/tcp/*:9187": {"process": "node_exporter", "families": ["v4"]}}
    left = [snap(f"s-{r}", "staging", r, {"topology/dns/search": ["x"]}) for r in ("db", "web")]
    right = [snap(f"p-{r}", "prod", r, {"topology/dns/search": ["x"], **extra}) for r in ("db", "web")]
    (f,) = run(left, right).findings
    assert f.message == "listen tcp :9187 node_exporter (v4) is in prod (db, web) but not in staging"


def test_outliers_are_never_merged_they_name_other_hosts():
    hosts = [snap(f"p-{r}-{i}", "prod", r, {SSL: {"version": "2" if i == 3 else "1"}})
             for r in ("db", "web") for i in (1, 2, 3)]
    findings = run([], hosts).findings
    outliers = [f for f in findings if f.kind is Kind.outlier]
    assert len(outliers) == 2 and {f.odd for f in outliers} == {("p-db-3",), ("p-web-3",)}


def test_rule_nft_rule_and_listener_on_one_port_are_linked():
    chain = {"policy": "ACCEPT", "rules": ["-p tcp -m tcp --dport 9187 -j ACCEPT", "-p udp --dport 53 -j ACCEPT"]}
    nft = {"policy": "accept", "rules": ["tcp dport 9187 accept"]}
    facts = {"firewall/iptables/filter/INPUT": chain, "firewall/nft/inet t/input": nft,
             "topology/listen/tcp/*:9187": {"process": "node_exporter", "families": ["v4"]},
             "topology/listen/tcp/*:22": {"process": "sshd", "families": ["v4"]}}
    base = {"firewall/iptables/filter/INPUT": {"policy": "ACCEPT", "rules": []},
            "firewall/nft/inet t/input": {"policy": "accept", "rules": []}, "topology/dns/search": []}
    findings = run([snap("s", "staging", "web", base)], [snap("p", "prod", "web", {**base, **facts})]).findings
    port = {f.id: f for f in findings if f.topic == "tcp port 9187"}
    assert len(port) == 3
    for f in port.values():
        assert set(f.related) == set(port) - {f.id}
    others = [f for f in findings if f.id not in port]
    assert others and all(not f.related for f in others)  # :22 and udp 53 stand alone


def test_port_of_reads_iptables_nft_and_listen():
    from drift.model.report import Finding

    def f(category, path, subject):
        return Finding(category, path, subject, Kind.only_right, "web", "", ())

    assert merge.port_of(f("firewall", "firewall/iptables/filter/INPUT", "-A INPUT -p tcp -m tcp --dport 80 -j ACCEPT")) == ("tcp", "80")
    assert merge.port_of(f("firewall", "firewall/nft/inet t/input", "nft inet t input: udp dport 53 accept")) == ("udp", "53")
    assert merge.port_of(f("firewall", "firewall/iptables/filter/INPUT", "-A INPUT -p tcp --sport 80 -j ACCEPT")) is None
    assert merge.port_of(f("topology", "topology/listen/udp/self:123", "listen udp self:123")) == ("udp", "123")
    assert merge.port_of(f("topology", "topology/reach/*/web/tcp/9187", "exposure web:9187")) == ("tcp", "9187")
    assert merge.port_of(f("packages", "packages/deb/x", "x")) is None


def test_an_audit_names_every_host_with_the_same_change_once():
    def fleet(env, value, odd, n=5):
        return Env(env, tuple(snap(f"prd-web-{i}", "prod", "web", {"system/sysctl/net.core.somaxconn": value,
                                                                     SSL: {"version": odd if i == 2 else "1"}})
                              for i in range(1, n + 1)))

    now, then = fleet("prod", 4096, "2"), fleet("baseline", 1024, "1")
    findings = engine.audit(now, then, Policy(), NOW).findings
    assert len(findings) == 3
    ssl_outlier, ssl_change = (next(f for f in findings if f.path == SSL and f.kind is k)
                               for k in (Kind.outlier, Kind.changed))
    sysctl = next(f for f in findings if f.category == "system")
    assert sysctl.message == ("sysctl net.core.somaxconn differs (prd-web-1, prd-web-2, prd-web-3 and 2 more hosts): "
                              "baseline has 1024, prod has 4096")
    assert len(sysctl.values) == 10 and [v.env for v in sysctl.values] == ["baseline"] * 5 + ["prod"] * 5
    assert ssl_change.message.endswith("on prd-web-2") and ssl_outlier.kind is Kind.outlier
