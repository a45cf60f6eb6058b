"""Content findings: named by key or line, secrets hidden, per-host values normalised away."""

from __future__ import annotations

from drift.analysis import differ
from drift.analysis.differ import Env
from tests.drift.factory import snap

INI = "files/etc/acme/settings.ini//"
SECRET_A = {"secret": True, "hmac": "a" * 32}
SECRET_B = {"secret": True, "hmac": "b" * 32}


def compare(left, right):
    return differ.compare(differ.align(Env("staging", tuple(left)), Env("prod", tuple(right))), "staging", "prod")


def test_a_key_changed_between_environments_names_key_and_values() -> None:
    (f,) = compare([snap("s1", "staging", "web", {INI + "[cache] ttl_seconds": "300"})],
                   [snap("p1", "prod", "web", {INI + "[cache] ttl_seconds": "30"})])
    assert f.message == "settings.ini [cache] ttl_seconds: 300 in staging, 30 in prod"
    assert f.subject == "/etc/acme/settings.ini [cache] ttl_seconds" and f.category == "files"


def test_a_changed_secret_is_reported_hidden() -> None:
    (f,) = compare([snap("s1", "staging", "web", {INI + "[smtp] api_token": SECRET_A})],
                   [snap("p1", "prod", "web", {INI + "[smtp] api_token": SECRET_B})])
    assert f.message == "settings.ini [smtp] api_token differs between staging and prod (web); the values are hidden"
    assert [v.value for v in f.values] == [SECRET_A, SECRET_B]
    assert [v.text for v in f.values] == ["(hidden; differs from prod)", "(hidden; differs from staging)"]
    assert compare([snap("s1", "staging", "web", {INI + "[smtp] api_token": SECRET_A})],
                   [snap("p1", "prod", "web", {INI + "[smtp] api_token": dict(SECRET_A)})]) == []


def test_an_outlier_names_host_and_key() -> None:
    hosts = [snap(f"p{i}", "prod", "web", {INI + "[cache] max": "2048" if i == 1 else "1024"}) for i in (1, 2, 3)]
    (f,) = compare([snap("s1", "staging", "web", {INI + "[cache] max": "1024"})], hosts)
    assert f.kind.value == "outlier"
    assert f.message == "p1 has settings.ini [cache] max: 2048; its 2 web peers in prod have 1024"


def test_line_level_files_carry_a_unified_diff() -> None:
    path = "files/etc/nginx/site.conf//lines"
    (f,) = compare([snap("s1", "staging", "web", {path: ["server {", "listen {{addr:eth0}}:80;", "}"]})],
                   [snap("p1", "prod", "web", {path: ["server {", "listen {{addr:eth0}}:80;", "gzip on;", "}"]})])
    assert f.message == "site.conf differs (web): 1 line added in prod: + gzip on;"
    assert f.detail.splitlines()[:2] == ["--- staging", "+++ prod"] and "+gzip on;" in f.detail
    assert [v.value for v in f.values] == ["3 lines", "4 lines"]


def test_keys_present_on_one_side_only() -> None:
    meta = {"files/etc/acme/settings.ini": {"type": "file", "content": "ini"}}
    (f,) = compare([snap("s1", "staging", "web", {**meta, INI + "debug": "true"})], [snap("p1", "prod", "web", meta)])
    assert f.kind.value == "only_left" and f.message == "settings.ini debug = true is set in staging (web) but not in prod"


def test_history_and_short_texts_never_show_a_secret_marker_as_data() -> None:
    from drift.analysis import messages

    assert messages.short(INI + "[smtp] api_token", SECRET_A) == "(value hidden)"
    assert messages.subject(INI + "[smtp] api_token") == "/etc/acme/settings.ini [smtp] api_token"
    assert messages.subject("files/etc/nginx/site.conf//lines") == "/etc/nginx/site.conf"


def test_a_hidden_outlier_says_which_hosts_match_their_peers() -> None:
    hosts = [snap(f"p{i}", "prod", "web", {INI + "[smtp] api_token": SECRET_B if i == 1 else SECRET_A})
             for i in (1, 2, 3)]
    (f,) = compare([snap("s1", "staging", "web", {INI + "[smtp] api_token": SECRET_A})], hosts)
    assert f.odd == ("p1",)
    assert {v.host: v.text for v in f.values} == {"p1": "(hidden; differs from its peers)",
                                                  "p2": "(hidden; same as its peers)",
                                                  "p3": "(hidden; same as its peers)"}


def test_a_key_set_on_one_host_only_blames_that_host() -> None:
    """An absent majority is a majority: the one host that sets (or lacks) the key is the odd one."""
    hosts = [snap(f"p{i}", "prod", "web", {INI + ("[x] extra" if i == 1 else "[x] base"): "1"}) for i in (1, 2, 3)]
    found = {f.path: f for f in compare([snap("s1", "staging", "web", {INI + "[x] base": "1"})], hosts)
             if f.kind.value == "outlier"}
    assert found[INI + "[x] extra"].odd == ("p1",)
    assert found[INI + "[x] extra"].message == "p1 has settings.ini [x] extra: 1; its 2 web peers in prod do not set it"
    assert found[INI + "[x] base"].message == "p1 does not set settings.ini [x] base; its 2 web peers in prod have 1"
