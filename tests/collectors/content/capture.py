"""Recapture the format fixtures from this machine's own files: python3 -m tests.collectors.content.capture

Each fixture holds a real file's text (Debian's own /etc files, or a real command's output), the
format drift picks for it, and what it parses to. Review the diff before committing a recapture.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from collectors.content import formats

OUT = Path(__file__).parent / "fixtures"

SOURCES = {
    "adduser_conf": ("/etc/adduser.conf", None),
    "sshd_config": ("/etc/ssh/sshd_config", None),
    "logging_properties": ("/etc/java-17-openjdk/logging.properties", None),
    "mesa_json": ("/usr/share/glvnd/egl_vendor.d/50_mesa.json", None),
    "useradd_env": ("/etc/default/useradd", "/etc/default/useradd.env"),
    "dpkg_cfg": ("/etc/dpkg/dpkg.cfg", None),
}
# Real output of real commands, for formats with no file on this machine's /etc.
COMMANDS = {
    "os_release_yaml": ("/etc/os-release.yaml", [sys.executable, "-c",
        "import yaml, platform; print(yaml.safe_dump({'os': platform.freedesktop_os_release(), "
        "'python': {'version': platform.python_version(), 'paths': ['/usr/bin', '/usr/local/bin']}}))"]),
    "pip_toml": ("/etc/pip-inspect.toml", ["sh", "-c",
        "python3 -m pip --version | awk '{print \"[pip]\\nversion = \\\"\" $2 \"\\\"\\nfrom = \\\"\" $4 \"\\\"\"}'"]),
}


def fixture(name: str, path: str, text: str, source: str) -> None:
    fmt = formats.format_of(path, text)
    doc: dict[str, object] = {"source": source, "path": path, "text": text, "format": fmt}
    if fmt == "lines":
        doc["lines"] = formats.significant_lines(text)
    else:
        doc["entries"] = formats.entries(fmt, text)
    (OUT / f"{name}.json").write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def main() -> int:
    for name, (real, path) in SOURCES.items():
        fixture(name, path or real, Path(real).read_text(encoding="utf-8"), f"real: {real} on Debian 12")
    for name, (path, argv) in COMMANDS.items():
        text = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
        fixture(name, path, text, f"real output of {' '.join(argv[:2])} ...")
    return 0


if __name__ == "__main__":
    sys.exit(main())
