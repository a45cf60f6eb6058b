"""`drift snapshot` against real SSH hosts: accuracy, failures, and host-key and auth safety."""

from __future__ import annotations

import hashlib
import time

import pytest

from drift.model import snapshot
from tests.lab import fleet
from tests.lab.fleet import LIVE

pytestmark = pytest.mark.lab


def _deb_version(status: str, package: str) -> str | None:
    for stanza in status.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in stanza.splitlines() if ": " in line and line[0] != " ")
        if fields.get("Package") == package and fields.get("Status", "").endswith(" installed"):
            return fields["Version"]
    return None


def test_each_snapshot_matches_what_the_lab_put_on_the_host(lab, drift, tmp_path):
    code, _, err = drift("snapshot", "staging", "prod", "mirror", "-i", str(lab.inventory), "-o", str(tmp_path / "out"))
    assert code == 0, err
    pip = f"packages/pip:{lab.python}"
    for h in LIVE:
        snap = snapshot.load(tmp_path / "out" / f"{h.name}.json")
        facts, d = snap.facts(), lab.host_dir(h)
        assert (snap.host, snap.env, snap.role, snap.address) == (h.name, h.env, h.role, h.address)
        assert facts["system/hostname"] == h.name
        assert "system/hostname" in snap.identity_paths()
        status = (d / "status").read_text()
        for package in ("libssl3", "tzdata", "acme-agent", "openssh-server"):
            fact = facts.get(f"packages/deb/{package}")
            assert (fact or {}).get("version") == _deb_version(status, package), (h.name, package)
        assert facts[f"{pip}/acme-lib"] == {"version": fleet.acme_lib_version(h)}
        assert facts[f"{pip}/acme-utils"] == {"version": "0.9.1"}
        conf = (d / "etc" / "acme" / "app.conf").read_bytes()
        assert facts["files/etc/acme/app.conf"]["sha256"] == hashlib.sha256(conf).hexdigest()
        assert facts["files/etc/acme/app.conf"]["size"] == len(conf)
        rules = facts["firewall/iptables/filter/INPUT"]["rules"]
        assert ("-p tcp -m tcp --dport 9187 -j ACCEPT" in rules) == fleet.is_prod_web(h)
        assert facts["firewall/iptables/filter/FORWARD"]["policy"] == "DROP"
        nft = facts["firewall/nft/inet acme/input"]
        assert nft["priority"] == 10 and len(nft["rules"]) == (2 if fleet.is_prod_web(h) else 1)
        ports = sorted(int(p.rsplit(":", 1)[1]) for p in facts if p.startswith("topology/listen/tcp/*:"))
        assert ports == sorted(fleet.listen_ports(h))
        assert "topology/listen/tcp/self:22" in facts
        assert facts["system/sysctl/net.core.somaxconn"] == str(fleet.somaxconn(h))
        assert ("topology/routes/v4/10.99.0.0/16" in facts) == fleet.is_prod_web(h)
        assert facts["topology/dns/nameservers"] == ["10.213.0.53"]
        assert snap.host_key is not None and snap.host_key["sha256"].startswith("SHA256:")


def test_a_dead_host_exits_3_and_the_others_are_still_collected(lab, drift, tmp_path):
    code, _report, _ = drift.json("snapshot", "staging", "broken-down", "-i", str(lab.inventory), "-o", str(tmp_path))
    assert code == 3
    assert sorted(p.stem for p in tmp_path.glob("*.json")) == ["broken-down", "stg-db-1", "stg-web-1", "stg-web-2"]
    dead = snapshot.load(tmp_path / "broken-down.json")
    assert dead.failed and "refused" in (dead.error or "")
    assert not snapshot.load(tmp_path / "stg-web-1.json").failed


def test_a_silent_host_is_bounded_by_timeout(lab, drift):
    started = time.monotonic()
    code, _, err = drift("snapshot", "broken-silent", "stg-web-1", "--timeout", "2", "-i", str(lab.inventory))
    elapsed = time.monotonic() - started
    assert code == 3
    assert "broken-silent" in err and "within 2 s" in err
    assert elapsed < 6, f"a 2 s timeout took {elapsed:.1f} s"


def test_an_unknown_host_key_refuses_the_host(lab, drift, tmp_path):
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    inv = drift.inventory(known_hosts=str(empty))
    code, _, err = drift("snapshot", "stg-web-1", "-i", str(inv), "-o", str(tmp_path / "out"))
    assert code == 3
    assert "unknown host key" in err.lower() and "accept-new" in err
    assert empty.read_text() == ""  # never trusted silently


def test_a_changed_host_key_refuses_the_host_with_a_clear_message(lab, drift, tmp_path):
    stg, other = lab.spec("stg-web-1"), lab.spec("prd-web-1")
    forged = tmp_path / "known_hosts"
    forged.write_text(f"{stg.address} {lab.host_key(other)}\n")
    for policy in ("strict", "accept-new"):
        code, _, err = drift("snapshot", "stg-web-1", "-i", str(drift.inventory(known_hosts=str(forged),
                                                                                 host_key_policy=policy)))
        assert code == 3
        assert "changed" in err.lower() and "stg-web-1" in err, policy
    assert forged.read_text() == f"{stg.address} {lab.host_key(other)}\n"


def test_accept_new_records_an_unknown_key_then_strict_trusts_it(lab, drift, tmp_path):
    known = tmp_path / "known_hosts"
    code, _, err = drift("snapshot", "stg-db-1", "-i", str(drift.inventory(known_hosts=str(known),
                                                                           host_key_policy="accept-new")))
    assert code == 0, err
    assert known.read_text().split()[1:] == lab.host_key(lab.spec("stg-db-1")).split()
    code, _, err = drift("snapshot", "stg-db-1", "-i", str(drift.inventory(known_hosts=str(known))))
    assert code == 0, err


def test_a_wrong_key_is_an_authentication_error(lab, drift, tmp_path):
    import subprocess

    stranger = tmp_path / "stranger"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(stranger)], check=True)
    code, report, _ = drift.json("snapshot", "stg-web-1", "-i", str(drift.inventory(identity_file=str(stranger))))
    assert code == 3
    assert "authentication" in _error_of(report, "stg-web-1").lower()


def test_a_wrong_user_is_an_authentication_error(lab, drift):
    code, report, _ = drift.json("snapshot", "stg-web-1", "-i", str(drift.inventory(user="drift-nobody")))
    assert code == 3
    error = _error_of(report, "stg-web-1")
    assert "authentication" in error.lower() and "drift-nobody" in error


def _error_of(report: dict, host: str) -> str:
    row = next(h for h in report["snapshots"] if h["host"] == host)
    assert row["status"] == "failed"
    return row["error"]
