"""Make lab snapshots fit for the repository: keep a real subset of the package list (the same on
every host, so it adds no drift), and replace machine ids, which identify the build machine.

    python3 examples/prune.py examples/staging examples/prod examples/mirror
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

KEEP = set("""acme-agent adduser apt base-files bash ca-certificates coreutils curl dpkg gzip iproute2
iptables libc6 libcurl4 libssl3 libsystemd0 libpam-modules login nftables openssh-client openssh-server
openssl passwd perl-base procps python3 python3.11 sudo systemd tar tzdata util-linux zlib1g""".split())


def prune(path: Path) -> None:
    doc = json.loads(path.read_text())
    dpkg = doc["collectors"].get("dpkg")
    if dpkg:
        dpkg["facts"] = {k: v for k, v in dpkg["facts"].items() if k.split("/", 2)[2] in KEEP}
    os_facts = doc["collectors"].get("os", {}).get("facts", {})
    if "system/machine-id" in os_facts:
        os_facts["system/machine-id"] = hashlib.sha256(b"drift-example " + doc["host"].encode()).hexdigest()[:32]
    path.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    for folder in sys.argv[1:]:
        for file in sorted(Path(folder).glob("*.json")):
            prune(file)
