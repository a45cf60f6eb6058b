"""The host aliases of an OpenSSH client config, for `drift init --from-ssh-config`.

Only `Host` lines matter here: drift connects to an alias and the SSH layer applies HostName, User,
Port, IdentityFile and ProxyJump from the same file, so the starter inventory needs only the names.
"""

from __future__ import annotations

import re

_ENV_WORDS = ("production", "prod", "prd", "staging", "stage", "stg", "preprod", "uat", "qa", "test", "tst",
              "dev", "sandbox", "demo")
_KEYWORD = re.compile(r"^\s*host(?:\s*=\s*|\s+)(.+)$", re.IGNORECASE)


def aliases(text: str) -> list[tuple[str, int]]:
    """(alias, line) for every concrete `Host` name; patterns (*, ?, !) and duplicates are skipped."""
    out: list[tuple[str, int]] = []
    seen: set[str] = set()
    for number, line in enumerate(text.splitlines(), 1):
        m = _KEYWORD.match(line.split("#", 1)[0])
        if not m:
            continue
        for name in m.group(1).split():
            name = name.strip('"')
            if name and not any(c in name for c in "*?!") and name not in seen:
                seen.add(name)
                out.append((name, number))
    return out


def guess(alias: str) -> tuple[str, str]:
    """(environment, role) from a name like prd-web-3 or web01.staging.example.com; a starting point
    the user reviews, which is why `drift init` writes it out rather than guessing on every run."""
    tokens = [t for t in re.split(r"[-_.]", alias.lower()) if t]
    env = next((t for t in tokens if t in _ENV_WORDS), "hosts")
    rest = [re.sub(r"\d+$", "", t) for t in tokens if t != env and t not in ("example", "com", "net", "org")]
    role = next((t for t in rest if t and not t.isdigit()), "default")
    return env, role
