"""Containers on the lab (issue 24): real podman containers on the lab hosts, found over SSH.

staging and mirror run acme-app from one image on their web hosts; prod runs a rebuild of it with
another libssl3 inside. The db role runs acme-report in a container in staging and mirror, and on
the host (a dpkg package) in prod. Container names carry random suffixes, so twins differ only by
identity.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.lab import boxes
from tests.lab.boxes import Boxes, Image
from tests.lab.conftest import DriftRun
from tests.lab.fleet import HostSpec
from tests.lab.lab import Lab

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
            return built.run(h, image, tars[id(image)], service, ENV)

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
