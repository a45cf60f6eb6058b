"""Containers compared by service: image and packages inside, outliers, a service on one side only,
and a role that runs its application in a container on one side and on the host on the other."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from drift.analysis import compare as engine
from drift.analysis.differ import Env
from drift.analysis.policy import Policy
from drift.model.report import Kind, Report
from drift.model.snapshot import CollectorResult, Snapshot
from tests.drift.factory import snap

NOW = dt.datetime(2026, 11, 22, 3, 0, tzinfo=dt.timezone.utc)
A = "sha256:ab12" + "0" * 60
B = "sha256:cd34" + "0" * 60
HOST = {"packages/deb/libc6": {"version": "2.36-9", "arch": "amd64"}}


def app(digest: str = A, ref: str = "acme-app:2.4.1", libssl: str = "3.0.19-1~deb12u2", n: int = 0) -> dict[str, Any]:
    return {"containers/acme-app/image": {"ref": ref, "digest": digest},
            "containers/acme-app/replicas": 1,
            "containers/acme-app/env/DB_PASSWORD": {"secret": True, "hmac": "f" * 32},
            "containers/acme-app/packages/deb/libssl3": {"version": libssl, "arch": "amd64"},
            "containers/acme-app/packages/deb/libc6": {"version": "2.36-9", "arch": "amd64"},
            "containers/acme-app/instances": [{"name": f"acme-app-{n}x7f", "id": f"{n:064x}"}]}


def host(name: str, env: str, role: str, facts: dict[str, Any], containers: bool = True) -> Snapshot:
    s = snap(name, env, role, {**HOST, **facts}, identity=tuple(p for p in facts if p.endswith("/instances")))
    if "containers" not in s.collectors:  # a host with no container runtime: known to run none
        state = "unsupported" if containers else "failed"
        extra = CollectorResult("containers", "containers", state, None if containers else "boom")
        s = dataclasses.replace(s, collectors={**s.collectors, "containers": extra})
    return s


def run(left: list[Snapshot], right: list[Snapshot]) -> Report:
    return engine.compare(Env("staging", tuple(left)), Env("prod", tuple(right)), Policy(), NOW)


def test_image_digest_and_a_package_inside_differ_between_the_sides():
    report = run([host("stg-web-1", "staging", "web", app(n=1))],
                 [host("prd-web-1", "prod", "web", app(B, libssl="3.0.19-1~deb12u9", n=2))])
    by_path = {f.path: f for f in report.findings}
    assert set(by_path) == {"containers/acme-app/image", "containers/acme-app/packages/deb/libssl3"}
    image = by_path["containers/acme-app/image"]
    assert image.kind is Kind.changed and image.subject == "container acme-app image"
    assert "acme-app:2.4.1@sha256:ab1200000000" in image.message and "@sha256:cd3400000000" in image.message
    libssl = by_path["containers/acme-app/packages/deb/libssl3"]
    assert libssl.subject == "libssl3 (container acme-app)"
    assert "newer in prod (3.0.19-1~deb12u9)" in libssl.message and libssl.severity.name == "high"


def test_a_host_running_another_tag_than_its_peers_is_an_outlier_and_ids_never_are():
    report = run([host("stg-web-1", "staging", "web", app(n=1))],
                 [host("prd-web-1", "prod", "web", app(n=2)), host("prd-web-2", "prod", "web", app(n=3)),
                  host("prd-web-3", "prod", "web", app(B, ref="acme-app:2.3.9", n=4))])
    [f] = report.findings
    assert f.kind is Kind.outlier and f.odd == ("prd-web-3",)
    assert f.message == ("prd-web-3 has container acme-app image acme-app:2.3.9; "
                         "its 2 web peers in prod have acme-app:2.4.1")


def test_a_service_on_one_side_only_is_one_finding():
    report = run([host("stg-web-1", "staging", "web", app(n=1))], [host("prd-web-1", "prod", "web", {})])
    [f] = report.findings
    assert f.kind is Kind.only_left and f.path == "containers/acme-app/image"
    assert f.message == "container acme-app (acme-app:2.4.1@sha256:ab1200000000) runs in staging (web) but not in prod"


def test_a_host_lacking_its_peers_service_is_one_outlier():
    report = run([host("stg-web-1", "staging", "web", app(n=1))],
                 [host("prd-web-1", "prod", "web", app(n=2)), host("prd-web-2", "prod", "web", app(n=3)),
                  host("prd-web-3", "prod", "web", {})])
    [f] = report.findings
    assert f.kind is Kind.outlier and f.path == "containers/acme-app/image" and f.odd == ("prd-web-3",)
    assert f.message.startswith("prd-web-3 runs no acme-app container; its 2 web peers in prod have acme-app:2.4.1@")


def test_replicas_are_compared_but_count_for_little():
    scaled = {**app(n=2), "containers/acme-app/replicas": 3}
    [f] = run([host("stg-web-1", "staging", "web", app(n=1))], [host("prd-web-1", "prod", "web", scaled)]).findings
    assert f.path == "containers/acme-app/replicas" and f.severity.name == "low"


def test_the_app_in_a_container_on_one_side_and_on_the_host_on_the_other_is_one_finding():
    boxed = {**app(n=1), "containers/acme-app/packages/deb/acme-app": {"version": "2.4.1", "arch": "all"},
             "containers/acme-app/packages/pip/requests": {"version": "2.31.0"}}
    bare = {"packages/deb/acme-app": {"version": "2.4.0", "arch": "all"},
            "packages/pip:/usr/bin/python3/requests": {"version": "2.31.0"}}
    report = run([host("stg-db-1", "staging", "db", boxed)], [host("prd-db-1", "prod", "db", bare)])
    [f] = report.findings
    assert f.path == "containers/acme-app/architecture" and f.kind is Kind.changed and f.role == "db"
    assert f.message == ("db runs acme-app in a container in staging (acme-app:2.4.1@sha256:ab1200000000) and on "
                         "the host in prod: acme-app 2.4.1 in the container, 2.4.0 on the host (newer in the "
                         "container); requests 2.31.0 in both")
    assert [(v.env, v.host, v.text) for v in f.values] == [
        ("staging", "stg-db-1", "in a container: acme-app:2.4.1@sha256:ab1200000000"),
        ("prod", "prd-db-1", "on the host: acme-app 2.4.0, requests 2.31.0")]


def test_unknown_containers_on_the_other_side_decide_nothing():
    boxed = {**app(n=1), "containers/acme-app/packages/deb/acme-app": {"version": "2.4.1", "arch": "all"}}
    bare = {"packages/deb/acme-app": {"version": "2.4.0", "arch": "all"}}
    report = run([host("stg-db-1", "staging", "db", boxed)], [host("prd-db-1", "prod", "db", bare, containers=False)])
    assert not [f for f in report.findings if f.path.endswith("/architecture")]
    assert [e.collector for e in report.errors] == ["containers"]


def test_twins_compare_clean():
    report = run([host("stg-web-1", "staging", "web", app(n=1))], [host("prd-web-1", "prod", "web", app(n=9))])
    assert report.findings == ()


def test_hosts_sharing_a_base_table_read_as_their_own_facts():
    """Loaded together, hosts share a base table and keep deltas: the first host lacks the package
    its peer has from the base, and the finding still reads the peer's version and drops its finding."""
    from drift.model.facts import Tables
    from drift.model.snapshot import compacted

    boxed = {**app(n=1), "containers/acme-app/packages/deb/acme-app": {"version": "2.4.1", "arch": "all"}}
    first = {"packages/deb/acme-app": {"version": "2.4.0", "arch": "all"}}
    tables = Tables()
    base = compacted(host("prd-db-0", "prod", "db", first), tables)
    lacking = compacted(host("prd-db-1", "prod", "db", {}), tables)
    having = compacted(host("prd-db-2", "prod", "db", first), tables)
    assert lacking.collectors["packages"].facts.removed  # the shape under test: a delta over a shared base
    report = run([host("stg-db-1", "staging", "db", boxed)], [lacking, having, base])
    [f] = [f for f in report.findings if f.path.endswith("/architecture")]
    assert "acme-app 2.4.1 in the container, 2.4.0 on the host" in f.message
    assert not [g for g in report.findings if g.path == "packages/deb/acme-app" and g.kind is Kind.only_right]
