"""Several roles on one host: each role compared with its own hosts, the layout difference said once."""

from __future__ import annotations

import dataclasses
import datetime as dt

from drift.analysis import compare as engine
from drift.analysis.differ import Env, align
from drift.analysis.policy import Policy
from drift.model.report import Kind
from tests.drift.factory import snap

NOW = dt.datetime(2026, 11, 22, 3, 0, tzinfo=dt.timezone.utc)
WEB = {"topology/listen/tcp/*:8080": {"process": "web"}, "packages/deb/nginx": {"version": "1"}}
WORKER = {"packages/deb/celery": {"version": "5"}}


def shared(host: str, env: str, facts: dict) -> object:
    return dataclasses.replace(snap(host, env, "web", facts), roles=("web", "worker"))


def run(left: list, right: list):
    return engine.compare(Env("staging", tuple(left)), Env("prod", tuple(right)), Policy(), NOW)


def test_a_shared_host_joins_each_of_its_roles_groups():
    left = Env("staging", (shared("stg-app-1", "staging", {**WEB, **WORKER}),))
    right = Env("prod", (snap("prd-web-1", "prod", "web", WEB), snap("prd-worker-1", "prod", "worker", WORKER)))
    groups = {g.role: ([s.host for s in g.left], [s.host for s in g.right]) for g in align(left, right)}
    assert groups == {"web": (["stg-app-1"], ["prd-web-1"]), "worker": (["stg-app-1"], ["prd-worker-1"])}


def test_layout_is_said_once_and_the_partners_facts_are_not_drift():
    report = run([shared("stg-app-1", "staging", {**WEB, **WORKER})],
                 [snap("prd-web-1", "prod", "web", WEB), snap("prd-worker-1", "prod", "worker", WORKER)])
    (f,) = report.findings
    assert (f.path, f.kind, f.category) == ("topology/layout/web+worker", Kind.only_left, "topology")
    assert f.message.startswith("staging runs web and worker on one host (stg-app-1); prod on separate hosts "
                                "(prd-web-1, prd-worker-1)")


def test_real_drift_of_a_shared_role_is_still_reported():
    worker_new = {"packages/deb/celery": {"version": "6"}, "packages/deb/redis-tools": {"version": "7"}}
    report = run([shared("stg-app-1", "staging", {**WEB, **WORKER})],
                 [snap("prd-web-1", "prod", "web", WEB), snap("prd-worker-1", "prod", "worker", worker_new)])
    found = {(f.path, f.kind.value, f.role) for f in report.findings}
    assert ("packages/deb/celery", "changed", "worker") in found
    assert ("packages/deb/redis-tools", "only_right", "worker") in found  # what the shared host lacks is drift
    assert not [f for f in report.findings if f.role == "worker" and "nginx" in f.path]


def test_same_layout_on_both_sides_says_nothing_about_layout():
    both = [shared("a", "staging", WEB)], [shared("b", "prod", WEB)]
    assert run(*both).findings == ()
