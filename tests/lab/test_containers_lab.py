"""Containers on the lab (issue 24): real podman containers on the lab hosts, found over SSH.

staging and mirror run acme-app from one image on their web hosts; prod runs a rebuild of it with
another libssl3 inside. The db role runs acme-report in a container in staging and mirror, and on
the host (a dpkg package) in prod. Container names carry random suffixes, so twins differ only by
identity.

acme-app runs on podman's bridge with port 8088 published to its port 80 (netavark writes each web
host's iptables, in that host's namespace): staging and mirror open it in FORWARD, prod's FORWARD
policy DROP refuses it (netavark 1.4 accepts only the containers' own traffic), and mirror's
containers sit at another address than staging's. The kernel, connecting for real, is the oracle.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.lab import boxes
from tests.lab.boxes import BRIDGE, Boxes, Image, Publish
from tests.lab.conftest import SUMMARY, DriftRun
from tests.lab.fleet import HostSpec
from tests.lab.lab import Lab, in_ns
from tests.lab.oracle import PROBE

pytestmark = pytest.mark.lab

APP = Image("localhost/acme-app:2.4.1", {"libssl3": "3.0.19-1~deb12u2", "acme-app": "2.4.1"}, {"requests": "2.31.0"})
# Prod's build of the same tag, with a patched libssl3 inside; prd-web-3 still runs the last release.
APP_PROD = Image(APP.ref, {"libssl3": "3.0.19-1~deb12u9", "acme-app": "2.4.1"}, {"requests": "2.31.0"})
APP_OLD = Image("localhost/acme-app:2.3.9", {"libssl3": "3.0.19-1~deb12u9", "acme-app": "2.3.9"}, {"requests": "2.31.0"})
REPORT = Image("localhost/acme-report:1.2.0", {"acme-report": "1.2.0"}, {})
HOST_REPORT = "\nPackage: acme-report\nStatus: install ok installed\nVersion: 1.1.0\nArchitecture: all\n"
PLAN = {  # host -> (image, service)
    "stg-web-1": (APP, "acme-app"), "stg-web-2": (APP, "acme-app"), "stg-db-1": (REPORT, "acme-report"),
    "mir-web-1": (APP, "acme-app"), "mir-web-2": (APP, "acme-app"), "mir-db-1": (REPORT, "acme-report"),
    "prd-web-1": (APP_PROD, "acme-app"), "prd-web-2": (APP_PROD, "acme-app"), "prd-web-3": (APP_OLD, "acme-app"),
}
ENV = {"APP_MODE": "live", "DB_PASSWORD": "Xk39dLq0vB7sPz2mN8wR4tYh"}
PUBLISHED = 8088
OPENED = ("-o", BRIDGE, "-p", "tcp", "-m", "tcp", "--dport", "80", "-j", "ACCEPT")  # staging's and mirror's FORWARD


def publish(h: HostSpec) -> Publish | None:
    if h.role != "web":
        return None
    return Publish(PUBLISHED, 80, "10.88.0.7" if h.env == "mirror" else None)  # mirror: another address


@pytest.fixture(scope="module")
def fleet(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """host -> the name of the container it runs."""
    reason = boxes.unavailable()
    if reason:
        if os.environ.get("DRIFT_LAB") == "required":
            pytest.fail(f"DRIFT_LAB=required, but {reason}")
        pytest.skip(reason)
    work = tmp_path_factory.mktemp("boxes")
    tars = {id(image): boxes.rootfs_tar(image, work / str(i)) for i, image in enumerate((APP, APP_PROD, APP_OLD, REPORT))}
    hosts = [h for h in lab.hosts if h.kind == "ssh" and h.env in ("staging", "prod", "mirror")]
    status = lab.host_dir(lab.spec("prd-db-1")) / "status"
    original = status.read_text()
    built = Boxes(lab, work, hosts)
    names: dict[str, str] = {}
    try:
        def start(h: HostSpec) -> str:
            image, service = PLAN[h.name]
            name = built.run(h, image, tars[id(image)], service, ENV, publish(h))
            if publish(h) is not None and h.env != "prod":
                in_ns(h, "iptables", "-I", "FORWARD", "1", *OPENED)
            return name

        with ThreadPoolExecutor(8) as pool:
            chosen = [h for h in hosts if h.name in PLAN]
            names.update(zip((h.name for h in chosen), pool.map(start, chosen), strict=True))
        # Written in place: the lab host sees this file through a bind mount.
        with status.open("a") as f:
            f.write(HOST_REPORT)
        yield names
    finally:
        status.write_text(original)
        built.close()


def own_store(drift: DriftRun, lab: Lab) -> str:
    """The lab's inventory with a store of this test's own: these runs collect two categories only,
    and the lab's shared store feeds other modules' history."""
    path = drift.workdir / "drift.toml"
    path.write_text(lab.toml().replace(str(lab.root / "drift.db"), str(drift.workdir / "drift.db")))
    return str(path)


def findings(drift: DriftRun, lab: Lab, other: str) -> list[dict]:
    code, report, err = drift.json("compare", "staging", other, "-i", own_store(drift, lab),
                                   "--category", "containers", "--category", "packages")
    assert code in (0, 1), err
    assert not [e for e in report["errors"] if e["collector"] in ("containers", "container-packages")], report["errors"]
    return report["findings"]


def test_image_and_package_drift_inside_and_the_app_on_the_host(fleet: dict[str, str], drift: DriftRun, lab: Lab):
    found = findings(drift, lab, "prod")
    by_path = {f["path"]: f for f in found if f["role"] in ("web", "db") and f["kind"] == "changed"}
    image = by_path["containers/acme-app/image"]
    assert image["kind"] == "changed" and image["role"] == "web"
    assert image["message"].count("acme-app:2.4.1@sha256:") == 2  # one tag, two builds: told by digest
    [old] = [f for f in found if f["kind"] == "outlier" and f["path"] == "containers/acme-app/image"]
    assert old["odd_hosts"] == ["prd-web-3"] and "acme-app:2.3.9; its 2 web peers in prod have acme-app:2.4.1" \
        in old["message"]
    libssl = by_path["containers/acme-app/packages/deb/libssl3"]
    assert "3.0.19-1~deb12u9" in libssl["message"] and "3.0.19-1~deb12u2" in libssl["message"]
    arch = by_path["containers/acme-report/architecture"]
    assert arch["role"] == "db" and arch["kind"] == "changed"
    assert "acme-report 1.2.0 in the container, 1.1.0 on the host" in arch["message"]
    # The architecture finding stands for the host package prod has and staging lacks.
    assert not [f for f in found if f["path"] == "packages/deb/acme-report"]
    text = repr(found)
    assert not [n for n in fleet.values() if n in text], "a container's name reached a finding"
    assert "instances" not in text and "HOSTNAME" not in text and ENV["DB_PASSWORD"] not in text


def test_twins_compare_clean(fleet: dict[str, str], drift: DriftRun, lab: Lab):
    assert [f for f in findings(drift, lab, "mirror") if f["category"] == "containers"] == []


def test_the_snapshot_holds_identity_and_no_secret(fleet: dict[str, str], drift: DriftRun, lab: Lab, tmp_path: Path):
    code, _, err = drift("snapshot", "stg-web-2", "-i", own_store(drift, lab), "-o", str(tmp_path / "out"),
                         "--category", "containers")
    assert code == 0, err
    text = next((tmp_path / "out").glob("*.json")).read_text()
    assert ENV["DB_PASSWORD"] not in text and '"secret": true' in text
    assert fleet["stg-web-2"] in text  # recorded, as identity


def compare(drift: DriftRun, lab: Lab, other: str) -> dict:
    code, report, err = drift.json("compare", "staging", other, "-i", own_store(drift, lab), "--category", "firewall",
                                   "--category", "topology", "--category", "sysctl", "--category", "containers")
    assert code in (0, 1, 3), err
    assert not [e for e in report["errors"] if e["collector"] in ("iptables", "nft", "listen", "interfaces")], \
        report["errors"]
    return report  # type: ignore[no-any-return]


def test_the_published_ports_flow_differs_as_the_kernel_says(fleet: dict[str, str], drift: DriftRun, lab: Lab):
    report = compare(drift, lab, "prod")
    flows = [f for f in report["findings"] if f["path"].endswith(f"/web/tcp/{PUBLISHED}")]
    assert {f["path"].split("/")[2] for f in flows} == {"db", "web"}, [f["message"] for f in flows]
    for f in flows:
        assert f["kind"] == "changed" and "admitted in staging, refused in prod" in f["message"], f["message"]
        assert "filter FORWARD policy DROP" in f["message"]
    # Staging's worker shares stg-web-1: over loopback, netavark's nat OUTPUT sends the connection to the
    # container, which the kernel routes only where route_localnet is on; the lab does not collect it, so
    # that flow is undecided, and says why.
    [worker] = [u for u in report["undecided"] if u["flow"] == f"worker → web:{PUBLISHED}/tcp"]
    assert worker["env"] == "staging" and "route_localnet were not collected" in worker["reason"], worker
    # Every pair drift judges on either side, against a real TCP connect between the namespaces.
    checked = []
    for env in ("staging", "prod"):
        code, report, err = drift.json("reach", env, "-i", own_store(drift, lab))
        assert code in (0, 3), err
        judged = [p for f in report["flows"] if f["port"] == PUBLISHED and f["proto"] == "tcp" for p in f["pairs"]]
        pairs = [p for p in judged if p["verdict"] != "unknown"]
        # Only stg-web-1's connections to itself (as worker to web, as web to worker) are undecided.
        assert {(p["src"], p["via"]) for p in judged if p not in pairs} == (
            {("stg-web-1", "127.0.0.1 (loopback)")} if env == "staging" else set())
        assert pairs and {p["verdict"] for p in pairs} == {"admitted" if env == "staging" else "refused"}
        assert all("10.88.0." in p["via"] for p in pairs)  # followed to the container
        with ThreadPoolExecutor(8) as pool:
            real = list(pool.map(lambda p: connects(lab, p["src"], p["via"].split()[0]), pairs))
        checked += [(p["src"], p["dst"], p["verdict"], ok) for p, ok in zip(pairs, real, strict=True)]
    wrong = [c for c in checked if (c[2] == "admitted") != c[3]]
    SUMMARY.append(f"published container port {PUBLISHED} (netavark): {len(checked)} pairs against the kernel, "
                   f"{sum(c[3] for c in checked)} connected, {len(wrong)} wrong")
    assert not wrong, f"drift and the kernel disagree on {wrong}"


def connects(lab: Lab, src: str, address: str) -> bool:
    out = in_ns(lab.spec(src), sys.executable, "-c", PROBE, json.dumps([["tcp", address, PUBLISHED]]), "2")
    return bool(json.loads(out)[0])


def test_twins_with_other_container_ids_and_addresses_compare_clean(fleet: dict[str, str], drift: DriftRun, lab: Lab):
    rules = {h: in_ns(lab.spec(h), "iptables-save", "-t", "nat") for h in ("stg-web-1", "mir-web-1")}
    assert "--to-destination 10.88.0.2:80" in rules["stg-web-1"] and "--to-destination 10.88.0.7:80" in rules["mir-web-1"]
    found = compare(drift, lab, "mirror")["findings"]
    assert [f for f in found if f["category"] in ("firewall", "containers")] == []
    assert [f for f in found if f["path"].startswith("topology/reach/")] == []
