"""Recapture the files collector's golden fixtures from a real run (root needed):

    python3 -m tests.collectors.capture_files

Builds a test tree on a tmpfs over /srv in a private mount and UTS namespace (hostname
`fixture-web-1`), runs the collector's exact command there, as root and as nobody, and writes
tests/collectors/fixtures/files/*.json with the parsed facts.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

from collectors import files
from collectors.interface import CollectConfig, Parsed

OUT = Path(__file__).parent / "fixtures" / "files"
KEY = "fixture-secret-key-0123456789abcdef"
TREE_FILES = ["/srv/acme/app.conf", "/srv/acme/missing.conf", "/srv/acme/conf.d", "/srv/acme/**/*.conf",
              "/srv/acme/link-*", "/srv/acme/tool", "/srv/acme/pipe", "/srv/acme/secret.key", "/srv/nowhere/*.conf",
              "/etc/os-release", "/etc/hostname"]
CONTENT_FILES = ["/srv/app/*", "/srv/app/conf.d/*.conf"]
CONTENT = ["/srv/app/*.ini", "/srv/app/*.json", "/srv/app/*.yaml", "/srv/app/*.toml", "/srv/app/.env",
           "/srv/app/site.conf", "/srv/app/big.conf", "/srv/app/bad.json", "/srv/app/conf.d/*.conf"]

BUILD = r"""
set -e
mount -t tmpfs tmpfs /srv
hostname fixture-web-1
mkdir -p /srv/acme/conf.d/sub /srv/app/conf.d
printf '[server]\nworkers = 8\n' > /srv/acme/app.conf; chgrp www-data /srv/acme/app.conf; chmod 640 /srv/acme/app.conf
printf 'a\n' > '/srv/acme/new
line.conf'
: > /srv/acme/empty.conf
printf 'snowman ☃\n' > '/srv/acme/unicodé ☃.conf'
printf 'space\n' > '/srv/acme/with space.conf'
printf 'a\n' > /srv/acme/conf.d/10-a.conf
printf 'b\n' > /srv/acme/conf.d/sub/20-b.conf
ln -s /nonexistent/target /srv/acme/link-dangling
ln -s app.conf /srv/acme/link-app
printf '#!/bin/sh\n' > /srv/acme/tool; chmod 4755 /srv/acme/tool
mkfifo /srv/acme/pipe
printf 'hunter2\n' > /srv/acme/secret.key; chmod 600 /srv/acme/secret.key
printf '[cache]\nttl_seconds = 300\nhost = fixture-web-1\n[smtp]\napi_token = S3cr3t-Fixture-Token\n' > /srv/app/settings.ini
printf '{"db": {"dsn": "postgresql://app:FixturePass99@db:5432/app", "pool": 5}, "debug": false}\n' > /srv/app/app.json
printf 'name: fixture-web-1\nlisten:\n  - 0.0.0.0:80\nreplicas: 3\n' > /srv/app/app.yaml
printf '[server]\nport = 8080\nhosts = ["a", "b"]\n' > /srv/app/app.toml
printf 'export DATABASE_URL="postgresql://u:EnvPass77@db/x"\nLOG_LEVEL=info\n' > /srv/app/.env
printf '# nginx-like\nserver {\n    listen fixture-web-1:80;\n    server_name  fixture-web-1.lab.internal;\n}\n' > /srv/app/site.conf
printf '{"a": 1, "a": 2,\n' > /srv/app/bad.json
head -c 300000 /dev/zero | tr '\0' 'x' > /srv/app/big.conf
printf 'opted = in\n' > /srv/app/conf.d/10-a.conf
printf 'not = opted\n' > /srv/app/notes.txt
"""


def run(cfg: CollectConfig, as_nobody: bool = False) -> str:
    command = files.command(cfg)
    if as_nobody:
        command = "exec setpriv --reuid=nobody --regid=nogroup --clear-groups sh -c " + shlex.quote(command)
    script = BUILD + "\n" + command
    done = subprocess.run(["unshare", "-m", "-u", "--propagation", "private", "sh", "-c", script],
                          capture_output=True, check=True)
    return done.stdout.decode("utf-8")


def write(name: str, source: str, cfg: CollectConfig, config: dict[str, object], output: str,
          error: str | None = None) -> None:
    doc: dict[str, object] = {"source": source, "command": files.command(cfg), "config": config, "output": output}
    if error:
        doc["error"] = error
    else:
        parsed = files.parse(output, cfg)
        assert isinstance(parsed, Parsed)
        doc["facts"], doc["identity"] = parsed.facts, sorted(parsed.identity)
    (OUT / f"{name}.json").write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def main() -> int:
    tree = CollectConfig(files=tuple(TREE_FILES))
    out = run(tree)
    src = "real: private mount and UTS namespace with a tmpfs on /srv holding a test tree"
    write("tree", src, tree, {"files": TREE_FILES}, out)
    write("tree_unprivileged", src + ", hashed as user nobody", tree, {"files": TREE_FILES}, run(tree, True))
    cut = out[: out.index("/srv/acme/conf.d/10-a.conf") + 5]
    write("cut_record", "real tree output, cut inside a record", tree, {"files": TREE_FILES}, cut,
          "output cut short")
    content = CollectConfig(files=tuple(CONTENT_FILES), content=tuple(CONTENT), content_max_bytes=262144,
                            secret_key=KEY.encode())
    write("content", src + ", with opted-in content", content,
          {"files": CONTENT_FILES, "content": CONTENT, "content_max_bytes": 262144, "secret_key": KEY},
          run(content))
    return 0


if __name__ == "__main__":
    sys.exit(main())
