"""Policy: ignore, severity rules, waivers against a fixed clock, built-ins, and parse errors."""

from __future__ import annotations

import datetime as dt

import pytest

from drift.analysis import policy
from drift.core.errors import PolicyError
from drift.core.tomlsource import TomlSource
from drift.model.report import Finding, Kind, Level

TODAY = dt.date(2026, 11, 22)


def finding(path: str, kind: Kind = Kind.changed, subject: str = "x") -> Finding:
    return Finding(path.split("/")[0], path, subject, kind, "web", "m", ())


def test_builtin_severities():
    cases = {"packages/deb/libssl3": Level.high, "packages/deb/vim": Level.medium,
             "packages/pip:/venv/bin/python/flask": Level.high, "firewall/iptables/filter/INPUT": Level.high,
             "files/etc/acme/app.conf": Level.high, "topology/listen/tcp/*:9187": Level.medium,
             "system/sysctl/net.core.somaxconn": Level.medium, "system/os/pretty_name": Level.info,
             "topology/interfaces/eth0": Level.low}
    for path, level in cases.items():
        assert policy.builtin_level(finding(path)) == level, path
    assert policy.builtin_level(finding("packages/deb/vim", Kind.outlier)) == Level.high


def test_ignore_and_first_matching_severity_rule_win():
    pol = policy.Policy(ignore=("topology/interfaces/*",),
                        severity=(policy.Rule("packages/*/vim", Level.critical), policy.Rule("packages/*", Level.info)))
    out, _ = policy.apply([finding("topology/interfaces/eth0"), finding("packages/deb/vim"),
                           finding("packages/deb/libssl3")], pol, TODAY)
    assert [(f.path, f.severity) for f in out] == [("packages/deb/vim", Level.critical),
                                                  ("packages/deb/libssl3", Level.info)]


def test_waivers_waive_until_they_expire_and_unused_ones_are_warned_about():
    pol = policy.Policy(waivers=(
        policy.WaiverRule("packages/deb/linux-image-*", "rolling upgrade", dt.date(2026, 12, 31)),
        policy.WaiverRule("packages/deb/libssl3", "CHG-1", dt.date(2026, 11, 1)),
        policy.WaiverRule("packages/deb/nothing", "stale", None)))
    out, warnings = policy.apply([finding("packages/deb/linux-image-amd64"), finding("packages/deb/libssl3")],
                                 pol, TODAY)
    ssl, kernel = sorted(out, key=lambda f: f.path)
    assert ssl.path == "packages/deb/libssl3"
    assert kernel.waived and not kernel.waived.expired and not kernel.blocking
    assert ssl.waived and ssl.waived.expired and ssl.blocking
    assert any("expired on 2026-11-01" in w for w in warnings)
    assert any("'packages/deb/nothing'" in w and "matches no finding" in w for w in warnings)


def test_fail_on_decides_blocking():
    out, _ = policy.apply([finding("topology/listen/tcp/*:1")], policy.Policy(), TODAY, Level.medium)
    assert out[0].blocking
    out, _ = policy.apply([finding("topology/listen/tcp/*:1")], policy.Policy(), TODAY)
    assert not out[0].blocking


def _parse(tmp_path, text: str) -> policy.Policy:
    path = tmp_path / "drift.toml"
    path.write_text(text)
    src = TomlSource.read(path)
    return policy.parse(src.doc.get("policy", {}), src)


def test_parse_the_spec_example(tmp_path):
    pol = _parse(tmp_path, '[policy]\nfail_on = "medium"\nignore = ["topology/interfaces/*/mac"]\n\n'
                 '[[policy.severity]]\nmatch = "packages/*/openssl*"\nseverity = "critical"\n\n'
                 '[[policy.waivers]]\nmatch = "packages/deb/linux-image-*"\nreason = "CHG-1234"\nexpires = 2026-12-31\n')
    assert pol.fail_on is Level.medium and pol.severity[0].severity is Level.critical
    assert pol.waivers[0].expires == dt.date(2026, 12, 31) and pol.waivers[0].line == 9


@pytest.mark.parametrize("text,line,words", [
    ('[policy]\nfail_on = "hgih"\n', 2, "'hgih' is not one of"),
    ('[policy]\nignroe = []\n', 2, "unknown key 'ignroe'"),
    ('[policy]\n[[policy.severity]]\nmatch = "x"\nseverity = "urgent"\n', 4, "severity"),
    ('[policy]\n[[policy.waivers]]\nmatch = "x"\nexpires = 2026-01-01\n', 2, "reason is required"),
    ('[policy]\n[[policy.waivers]]\nmatch = "x"\nreason = "r"\nexpires = "soon"\n', 5, "not a date"),
    ('[[policy.waivers]]\nmatch = "x"\nreason = "r"\nexpiry = 2026-01-01\n', 4, "unknown key 'expiry'"),
])
def test_parse_errors_name_the_file_and_line(tmp_path, text, line, words):
    with pytest.raises(PolicyError) as err:
        _parse(tmp_path, text)
    assert err.value.line == line and words in str(err.value) and "drift.toml" in str(err.value)
