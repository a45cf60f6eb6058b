"""The differ on constructed snapshots: consensus, outliers, unknown versus absent, identity."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from drift.analysis import compare as engine
from drift.analysis.differ import Env
from drift.analysis.policy import Policy
from drift.model.report import Kind
from tests.drift.factory import snap

NOW = dt.datetime(2026, 11, 22, 3, 0, tzinfo=dt.timezone.utc)
SSL = "packages/deb/libssl3"


def pkg(version: str) -> dict[str, str]:
    return {"version": version, "arch": "amd64"}


def run(left: list, right: list):
    return engine.compare(Env("staging", tuple(left)), Env("prod", tuple(right)), Policy(), NOW)


def kinds(report) -> set[tuple[str, str, str]]:
    return {(f.path, f.kind.value, f.role) for f in report.findings}


def test_consensus_against_consensus_names_the_newer_side():
    left = [snap(f"stg-web-{i}", "staging", "web", {SSL: pkg("3.0.19-1~deb12u2")}) for i in (1, 2)]
    right = [snap(f"prd-web-{i}", "prod", "web", {SSL: pkg("3.0.19-1~deb12u9")}) for i in range(1, 9)]
    (f,) = run(left, right).findings
    assert (f.kind, f.role) == (Kind.changed, "web")
    assert f.message.startswith("libssl3 is newer in prod (3.0.19-1~deb12u9) than in staging (3.0.19-1~deb12u2)")
    assert len(f.values) == 10 and f.values[0].value == "3.0.19-1~deb12u2"


def test_one_host_of_eight_on_the_old_build_is_an_outlier_not_a_difference():
    left = [snap("stg-web-1", "staging", "web", {SSL: pkg("2")})]
    right = [snap(f"prd-web-{i}", "prod", "web", {SSL: pkg("1" if i == 8 else "2")}) for i in range(1, 9)]
    (f,) = run(left, right).findings
    assert f.kind is Kind.outlier and f.message.startswith("prd-web-8 has libssl3 1; its 7 web peers in prod have 2")


def test_a_one_to_one_split_names_both_hosts():
    right = [snap("prd-db-1", "prod", "db", {SSL: pkg("1")}), snap("prd-db-2", "prod", "db", {SSL: pkg("2")})]
    report = run([snap("stg-db-1", "staging", "db", {SSL: pkg("1")})], right)
    (f,) = report.findings
    assert f.kind is Kind.outlier and "prd-db-1" in f.message and "prd-db-2" in f.message


def test_only_left_and_only_right():
    report = run([snap("a", "staging", "web", {"packages/deb/old": pkg("1")})],
                 [snap("b", "prod", "web", {"packages/deb/new": pkg("1")})])
    assert kinds(report) == {("packages/deb/old", "only_left", "web"), ("packages/deb/new", "only_right", "web")}


def test_a_failed_collector_is_unknown_never_absent():
    left = [snap("a", "staging", "web", {SSL: pkg("1"), "system/kernel": "6.1"})]
    right = [snap("b", "prod", "web", {"system/kernel": "6.1"}, failed=("packages",))]
    report = run(left, right)
    assert report.findings == ()
    assert [(e.host, e.collector) for e in report.errors] == [("b", "packages")]
    assert int(report.exit_code) == 3


def test_a_failed_host_is_unknown_and_the_others_still_compare():
    left = [snap("a", "staging", "web", {SSL: pkg("1")})]
    right = [snap("b", "prod", "web", {}, down=True), snap("c", "prod", "web", {SSL: pkg("2")})]
    report = run(left, right)
    assert kinds(report) == {(SSL, "changed", "web")}
    assert [e.host for e in report.errors] == ["b"] and report.hosts_failed == 1
    assert int(report.exit_code) == 1  # drift it can see wins over the unknown host


def test_identity_facts_never_differ():
    def host(name: str, env: str) -> object:
        return snap(name, env, "web", {"system/hostname": name, "topology/interfaces/eth0/mac": name},
                    identity=("system/hostname", "topology/interfaces/eth0/mac"))
    assert run([host("a", "staging")], [host("b", "prod")]).findings == ()


def test_a_role_on_one_side_only_is_reported_once():
    report = run([snap("a", "staging", "web", {SSL: pkg("1")})],
                 [snap("b", "prod", "web", {SSL: pkg("1")}), snap("c", "prod", "cache", {SSL: pkg("1")})])
    assert kinds(report) == {("system/role/cache", "only_right", "cache")}


def test_firewall_rules_are_reported_one_by_one_with_policy():
    base = {"policy": "ACCEPT", "rules": ["-i lo -j ACCEPT", "-p tcp -m tcp --dport 22 -j ACCEPT"]}
    prod = {"policy": "DROP", "rules": ["-i lo -j ACCEPT", "-p tcp -m tcp --dport 5432 -j ACCEPT"]}
    path = "firewall/iptables/filter/INPUT"
    report = run([snap("a", "staging", "db", {path: base})], [snap("b", "prod", "db", {path: prod})])
    got = {(f.kind.value, f.subject) for f in report.findings}
    assert got == {("only_left", "-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT"),
                   ("only_right", "-A INPUT -p tcp -m tcp --dport 5432 -j ACCEPT"),
                   ("changed", "iptables filter INPUT policy")}


def test_reordered_rules_are_a_change():
    path = "firewall/iptables/filter/INPUT"
    a = {"policy": "ACCEPT", "rules": ["-j DROP", "-i lo -j ACCEPT"]}
    b = {"policy": "ACCEPT", "rules": ["-i lo -j ACCEPT", "-j DROP"]}
    (f,) = run([snap("a", "staging", "db", {path: a})], [snap("b", "prod", "db", {path: b})]).findings
    assert f.kind is Kind.changed and "another order" in f.message


def test_structured_values_say_what_changed_inside():
    path = "topology/interfaces/eth0"
    (f,) = run([snap("a", "staging", "db", {path: {"mtu": 1500, "state": "UP"}})],
               [snap("b", "prod", "db", {path: {"mtu": 9000, "state": "UP"}})]).findings
    assert f.detail == "mtu: 1500 → 9000"


def test_the_same_host_at_two_times_is_compared_host_by_host():
    before = Env("baseline", (snap("prd-web-1", "prod", "web", {SSL: pkg("1")}),
                              snap("prd-web-2", "prod", "web", {SSL: pkg("1")})))
    now = Env("prod", (snap("prd-web-1", "prod", "web", {SSL: pkg("2")}),
                       snap("prd-web-3", "prod", "web", {SSL: pkg("1")})))
    report = engine.audit(now, before, Policy(), NOW)
    got = {(f.path, f.kind.value) for f in report.findings}
    assert got == {(SSL, "changed"), (SSL, "outlier"), ("system/host/prd-web-2", "only_left"),
                   ("system/host/prd-web-3", "only_right")}
    changed = next(f for f in report.findings if f.kind is Kind.changed)
    assert "prd-web-1" in changed.message


# -- properties ------------------------------------------------------------------------------------
values = st.sampled_from(["1.0", "1.1", "2.0"])
fleets = st.lists(st.dictionaries(st.sampled_from(["packages/deb/a", "packages/deb/b", "system/sysctl/x"]),
                                  values, max_size=3), min_size=1, max_size=4)


def _env(name: str, facts_list: list[dict]) -> Env:
    return Env(name, tuple(snap(f"{name}-{i}", name, "web", {k: (pkg(v) if k.startswith("packages") else v)
                                                              for k, v in f.items()})
                           for i, f in enumerate(facts_list)))


@settings(max_examples=60, deadline=None)
@given(fleets)
def test_an_environment_compared_with_itself_has_no_differences(facts_list):
    a = _env("a", facts_list)
    report = engine.compare(a, Env("a2", a.snapshots), Policy(), NOW)
    assert not [f for f in report.findings if f.kind is not Kind.outlier]


@settings(max_examples=60, deadline=None)
@given(fleets, fleets)
def test_compare_mirrors_when_the_sides_swap(x, y):
    mirror = {"only_left": "only_right", "only_right": "only_left", "changed": "changed", "outlier": "outlier"}
    ab = engine.compare(_env("a", x), _env("b", y), Policy(), NOW)
    ba = engine.compare(_env("b", y), _env("a", x), Policy(), NOW)
    assert {(f.path, mirror[f.kind.value]) for f in ab.findings} == {(f.path, f.kind.value) for f in ba.findings}
