"""File content on real hosts (issue 12): identity normalised, keys and lines compared, secrets hidden."""

from __future__ import annotations

import json
import os
import stat

import pytest

from tests.lab import fleet

pytestmark = pytest.mark.lab


def _by_path(report: dict) -> dict[tuple[str, str, str], dict]:
    # One finding per difference: keyed under every role it lists.
    return {(f["path"], f["kind"], role): f for f in report["findings"] for role in f.get("roles", [f["role"]])}


def test_alike_environments_are_clean_with_etc_hosts_and_per_host_lines(lab, drift, tmp_path):
    code, report, err = drift.json("compare", "staging", "mirror", "-i", str(lab.inventory))
    assert (code, report["findings"], report["errors"]) == (0, [], []), err
    code, _, err = drift("snapshot", "stg-web-1", "-i", str(lab.inventory), "-o", str(tmp_path / "snaps"))
    assert code == 0, err
    snap = json.loads((tmp_path / "snaps" / "stg-web-1.json").read_text())
    files = snap["collectors"]["files"]
    # Why /etc/hosts compares equal though its bytes differ: the values normalised, and its own hash.
    assert files["facts"]["files//identity"]["{{host}}"] == ["stg-web-1"]
    assert files["facts"]["files//identity"]["{{addr:eth0}}"] == ["10.213.1.11"]
    raw = files["facts"]["files//raw"]["/etc/hosts"]
    assert set(raw["tokens"]) == {"{{fqdn}}", "{{addr:eth0}}", "{{host}}"}
    assert raw["sha256"] != files["facts"]["files/etc/hosts"]["sha256"]
    assert {"files//identity", "files//raw"} <= set(files["identity"])


def test_a_real_edit_in_the_mirror_still_shows(lab, drift):
    host = lab.spec("mir-db-1")
    conf = lab.host_dir(host) / "etc" / "acme" / "site.conf"
    original = conf.read_text()
    try:
        conf.write_text(original.replace("listen ", "listen 8443 ssl; # was\n    listen "))
        code, report, _ = drift.json("compare", "staging", "mirror", "-i", str(lab.inventory))
        assert code == 1
        (finding,) = report["findings"]
        assert finding["path"] == "files/etc/acme/site.conf//lines" and finding["roles"] == ["db"]
        assert "+listen 8443 ssl; # was" in finding["detail"]
    finally:
        conf.write_text(original)


def test_keys_lines_and_secrets_between_staging_and_prod(lab, drift):
    code, report, _ = drift.json("compare", "staging", "prod", "-i", str(lab.inventory))
    assert code == 1
    found = _by_path(report)
    ttl = found[("files/etc/acme/settings.ini//[cache] ttl_seconds", "changed", "web")]
    assert ttl["message"] == "settings.ini [cache] ttl_seconds: 300 in staging, 30 in prod"
    assert ttl["subject"] == "/etc/acme/settings.ini [cache] ttl_seconds"
    odd = found[("files/etc/acme/settings.ini//[cache] max_entries", "outlier", "web")]
    assert odd["message"].startswith("prd-web-1 has settings.ini [cache] max_entries: 2048")
    token = found[("files/etc/acme/settings.ini//[smtp] api_token", "changed", "web")]
    assert token["message"].startswith("settings.ini [smtp] api_token differs between staging and prod (")
    assert all(v["value"]["secret"] is True and len(v["value"]["hmac"]) == 32 for v in token["values"])
    assert len({v["value"]["hmac"] for v in token["values"]}) == 2  # staging's, prod's
    lines = found[("files/etc/acme/site.conf//lines", "changed", "web")]
    assert "+client_max_body_size 64m;" in lines["detail"] and lines["detail"].startswith("--- staging")
    # Equal secrets and per-host lines are no finding at all.
    assert not [f for f in report["findings"] if "[db]" in f["path"] or "node" in f["path"] or "bind" in f["path"]]


def test_no_planted_secret_reaches_any_artefact(lab, drift, tmp_path):
    inv = str(lab.inventory)
    outputs = []
    for fmt in ("table", "json", "markdown", "junit", "html"):
        code, out, err = drift("compare", "staging", "prod", "-i", inv, "--format", fmt, "-o",
                               str(tmp_path / f"report.{fmt}"))
        outputs += [out, err]
    for args in (("snapshot", "staging", "prod", "-o", str(tmp_path / "snaps")),
                 ("baseline", "save", "prod", "-o", str(tmp_path / "prod.json")),
                 ("audit", "prod", "--baseline", str(tmp_path / "prod.json"), "--format", "json"),
                 ("history", "prod", "--since", "1h", "--format", "json"),
                 ("compare", "staging", "prod", "--verbose")):
        code, out, err = drift(*args, "-i", inv)
        outputs += [out, err]
    artefacts = [p for p in tmp_path.rglob("*") if p.is_file()]
    artefacts += [p for p in lab.root.glob("drift.db*")]
    assert len(artefacts) >= 10
    for secret in fleet.SECRETS.values():
        needle = secret.encode()
        for text in outputs:
            assert secret not in text
        for path in artefacts:
            assert needle not in path.read_bytes(), f"{secret} leaked into {path}"
    key = lab.root / "secret.key"
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
