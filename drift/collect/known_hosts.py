"""known_hosts, read once per run.

Paramiko's loader builds a key object for every line, which is slow on large files; we keep the
raw lines and build key objects only for the hosts we connect to. Supports plain, wildcard,
negated and hashed (|1|salt|hash) host patterns, `[host]:port`, and the @revoked marker.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import threading
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Entry:
    patterns: tuple[str, ...]
    key_type: str
    key_b64: str
    revoked: bool = False


def host_token(hostname: str, port: int) -> str:
    return hostname if port == 22 else f"[{hostname}]:{port}"


def _matches_hashed(pattern: str, token: str) -> bool:
    try:
        _, magic, salt, digest = pattern.split("|")
        if magic != "1":
            return False
        mac = hmac.new(base64.b64decode(salt), token.encode(), hashlib.sha1).digest()
        return hmac.compare_digest(mac, base64.b64decode(digest))
    except (ValueError, binascii.Error):
        return False


def _matches(entry: Entry, token: str) -> bool:
    hit = False
    for pattern in entry.patterns:
        negated = pattern.startswith("!")
        p = pattern[1:] if negated else pattern
        ok = _matches_hashed(p, token) if p.startswith("|") else _glob(p).fullmatch(token) is not None
        if ok and negated:
            return False
        hit = hit or ok
    return hit


def _glob(pattern: str) -> re.Pattern[str]:
    # ssh patterns know only * and ?; `[` is literal, as in [host]:port, unlike fnmatch.
    return re.compile("".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern))


def parse(text: str) -> list[Entry]:
    entries = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split()
        marker = fields.pop(0) if fields[0].startswith("@") else None
        if len(fields) < 3 or marker == "@cert-authority":
            continue
        entries.append(Entry(tuple(fields[0].split(",")), fields[1], fields[2], marker == "@revoked"))
    return entries


class KnownHosts:
    """One known_hosts file: looked up by many threads, appended to under a lock (accept-new)."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()
        try:
            self.entries = parse(path.read_text(encoding="utf-8", errors="replace"))
        except FileNotFoundError:
            self.entries = []

    def lookup(self, hostname: str, port: int) -> list[Entry]:
        token = host_token(hostname, port)
        return [e for e in self.entries if _matches(e, token)]

    def add(self, hostname: str, port: int, key_type: str, key_b64: str) -> None:
        entry = Entry((host_token(hostname, port),), key_type, key_b64)
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            needs_newline = self.path.exists() and not self.path.read_bytes().endswith(b"\n") \
                and self.path.stat().st_size > 0
            with self.path.open("a", encoding="utf-8") as f:
                if needs_newline:
                    f.write("\n")
                f.write(f"{entry.patterns[0]} {key_type} {key_b64}\n")
            self.entries.append(entry)
