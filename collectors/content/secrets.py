"""Secrets are replaced by a keyed hash before anything stores or prints them.

A value is secret when its key looks secret (password, token, api_key, ...) or when the value
looks like a credential by itself (a PEM block, a long high-entropy string, the password of a
`user:pass@` URL). It becomes HMAC-SHA256(installation key, value): equal secrets stay equal,
a changed one shows as changed, and without the key the hash says nothing about the value.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
from collections import Counter
from dataclasses import dataclass, field

from collectors.interface import Json
from drift.core.errors import CollectError

# Words of a key name that make its value secret. Matched against the key's words (split at
# `_`, `-`, `.`, spaces and camelCase), so `PubkeyAuthentication` is not a key but `HostKey` is.
SECRET_WORDS = frozenset({"password", "passwd", "pwd", "secret", "token", "key", "credential", "credentials",
                          "private", "apikey", "passphrase"})
# No secret is a bare switch: `PasswordAuthentication no` stays readable.
_SWITCHES = frozenset({"", "yes", "no", "true", "false", "on", "off", "none", "null", "0", "1"})
# Substrings that make a key secret wherever they appear in it (`dbpassword`, `x_api_key`).
SECRET_PARTS = ("password", "passwd", "secret", "token", "credential", "private", "api_key", "apikey")

_WORD_SPLIT = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])")
_URL_PASS = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]*:)(?P<pw>[^\s@/]+)(?=@)")
_TOKEN = re.compile(r"[A-Za-z0-9+/_=-]{24,}")
_PEM = re.compile(r"-----BEGIN [A-Z0-9 ]+-----.*?(?:-----END [A-Z0-9 ]+-----|\Z)", re.S)
_LINE = re.compile(r"(?P<head>\s*(?P<key>[A-Za-z0-9_.-]+)(?:\s*[=:]\s*|\s+))(?P<value>\S.*)")
INLINE = re.compile(r"\{\{secret:[0-9a-f]{16}\}\}")


@dataclass(frozen=True)
class Redactor:
    key: bytes = field(repr=False)
    extra_words: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if len(self.key) < 16:
            raise CollectError("content collection needs the installation's secret key (none was given)")

    def digest(self, value: str) -> str:
        return hmac.new(self.key, value.encode("utf-8", "surrogateescape"), hashlib.sha256).hexdigest()[:32]

    def secret(self, value: str) -> dict[str, Json]:
        return {"secret": True, "hmac": self.digest(value)}

    def inline(self, value: str) -> str:
        return "{{secret:" + self.digest(value)[:16] + "}}"

    def key_is_secret(self, key: str) -> bool:
        low = key.lower()
        if any(part in low for part in SECRET_PARTS) or any(w.lower() in low for w in self.extra_words):
            return True
        return any(w.lower() in SECRET_WORDS for w in _WORD_SPLIT.split(key) if w)

    def value(self, key: str, value: str) -> str | dict[str, Json]:
        """A key-level value as it may be stored: the value, partly masked, or a secret marker."""
        if self.key_is_secret(key) and value.strip().lower() not in _SWITCHES:
            return self.secret(value)
        if looks_secret(value.strip()):
            return self.secret(value)
        return self.text(value)

    def line(self, line: str) -> str:
        """One config line (`Key value`, `key = value`, `key: value`) with a secret value masked."""
        m = _LINE.match(line)
        if m and self.key_is_secret(m.group("key")) and m.group("value").strip().lower() not in _SWITCHES:
            return m.group("head") + self.inline(m.group("value"))
        return self.text(line)

    def text(self, text: str) -> str:
        """Free text with every credential-looking part replaced inline."""
        text = _PEM.sub(lambda m: self.inline(m.group(0)), text)
        text = _URL_PASS.sub(lambda m: m.group("head") + self.inline(m.group("pw")), text)
        return _TOKEN.sub(lambda m: self.inline(m.group(0)) if looks_secret(m.group(0)) else m.group(0), text)


def entropy(text: str) -> float:
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def looks_secret(value: str) -> bool:
    """A long, random-looking token: what a generated password, API key or bearer token is."""
    if value.startswith("-----BEGIN ") and "PRIVATE KEY" in value:
        return True
    if len(value) < 24 or not _TOKEN.fullmatch(value) or value.startswith("/"):
        return False
    classes = sum(bool(re.search(p, value)) for p in ("[a-z]", "[A-Z]", "[0-9]"))
    return classes >= 2 and entropy(value) >= 4.0
