"""Secrets are replaced by a keyed hash before anything stores or prints them.

A value is secret when its key says so (password, token, api_key, a directive from
collectors.content.rules such as `requirepass` or `psk`), when a format puts a credential at a
position in a line (`stats auth user:PASS`, `.pgpass`), or when the value looks like one by
itself (a PEM block, a token with a known prefix, a long high-entropy string, the password of a
`user:pass@` URL). It becomes HMAC-SHA256(installation key, value): equal secrets stay equal, a
changed one shows as changed, and without the key the hash says nothing about the value.

The public entry points, for any collector that meets secrets (config content, container env):
`is_secret(key, value)` and `Redactor(key).value(key, value)`.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatch

from collectors.content import rules
from collectors.content.formats import significant_lines
from collectors.interface import Json
from drift.core.errors import CollectError

# Words of a key's own name that make its value secret, wherever they stand in it (split at `_`,
# `-`, `.`, spaces and camelCase), and substrings that do so anywhere in that name (`dbpassword`).
SECRET_WORDS = frozenset({"password", "passwd", "pwd", "pw", "secret", "secrets", "token", "credential",
                          "credentials", "apikey", "passphrase"})
SECRET_PARTS = ("password", "passwd", "secret", "token", "credential", "private", "api_key", "apikey")
# Words that make a value secret only as the last word of its key: `HostKey`, `api_key` and
# `default_pass` are, `key_mgmt`, `HostKeyAlgorithms` and `pass_through` are not.
LAST_WORDS = frozenset({"key", "pass", "psk", "bindpw", "rootpw", "authtok"})
# No secret is a bare switch: `PasswordAuthentication no` stays readable.
_SWITCHES = frozenset({"", "yes", "no", "true", "false", "on", "off", "none", "null", "0", "1", "[]", "{}"})
# A reference to a secret kept elsewhere is not the secret itself; nor is the path of a key file
# (`ssl_certificate_key /etc/ssl/private/site.key`), but a password may start with `/`.
_REFERENCE = re.compile(r"""["']?(?:\$\{[A-Za-z_][A-Za-z0-9_]*\}|\$[A-Z_][A-Z0-9_]{2,})["']?;?""")
_PATH = re.compile(r"""["']?(?:(?:/|~/|\.{1,2}/|file:|\$\{?\w+\}?/)[\w.@%+,:/~-]*"""
                   r"""|[\w.-]+\.(?:key|pem|crt|cer|der|p12|pfx|jks|keystore|pub|asc|gpg|prv))["']?;?""")
_KEY_FILE_WORDS = frozenset({"key", "private", "cert", "certificate", "pem", "keyfile", "tls", "ssl"})

_WORD_SPLIT = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])")
_LEAF = re.compile(r"^.*(?:\]\s|[.\]])")
_INDEXES = re.compile(r"(?:\[\d+\])+$")
_PARENTS = re.compile(r"[.\[\]\s]+")
# A parent whose last word is one of these holds secrets whatever its children are called.
_SECRET_PARENTS = frozenset({"password", "passwords", "secret", "secrets", "token", "tokens", "credential",
                             "credentials", "keys", "apikeys", "passphrases"})
_TOKEN = re.compile(r"[A-Za-z0-9+/_=-]{24,}")
_WORDISH = re.compile(r"[A-Za-z]+|[A-Za-z]*[0-9]+|[A-Za-z]+[0-9]{1,2}[A-Za-z]+")
_LINE = re.compile(r"""(?P<head>\s*["']?(?P<key>[A-Za-z0-9_.-]+)["']?(?:\s*[=:]\s*|\s+))(?P<value>\S.*)""")
_CHUNK = re.compile(r""""(?P<dq>[^"\n]*)"|'(?P<sq>[^'\n]*)'|(?P<bare>[^\s"']+)""")
_QUERY_PART = re.compile(r"[^&]+")
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
INLINE = re.compile(r"\{\{secret:[0-9a-f]{16}\}\}")
# A Kubernetes Secret's values are all secret, whatever their keys are called.
_KUBE_DATA = re.compile(r"^(?P<doc>(?:\[doc \d+\]\.)?)(?:data|stringData)\.")


def leaf(key: str) -> str:
    """A key's own name: `api_token` of `[smtp] api_token`, `password` of `db.servers[0].password`,
    `hosts` of `ssh.hosts[2]`."""
    key = _INDEXES.sub("", key.strip())
    return _LEAF.sub("", key) or key


def key_is_secret(key: str, extra_words: tuple[str, ...] = ()) -> bool:
    """By the key's own name; or by a parent named for secrets (`credentials.aws`, `[secrets] db`)."""
    own = leaf(key)
    low = own.lower()
    if low in rules.NOT_SECRET_KEYS:
        return False
    words = [w.lower() for w in _WORD_SPLIT.split(own) if w]
    if words and words[-1] in rules.NOT_SECRET_LAST_WORDS:
        return False
    if low in rules.DIRECTIVE_KEYS or any(w.lower() in key.lower() for w in extra_words):
        return True
    if any(part in low for part in SECRET_PARTS) or any(w in SECRET_WORDS for w in words):
        return True
    if words and words[-1] in LAST_WORDS:
        return True
    stripped = _INDEXES.sub("", key.strip())
    parents = [p for p in _PARENTS.split(stripped[:len(stripped) - len(own)]) if p]
    return any((ws := _WORD_SPLIT.split(p)) and ws[-1].lower() in _SECRET_PARENTS for p in parents)


def value_is_plain(value: str, key: str = "") -> bool:
    """A switch, a reference, or a key file's path: readable even under a secret-looking key."""
    v = value.strip()
    if v.lower() in _SWITCHES or _REFERENCE.fullmatch(v) or INLINE.fullmatch(v):
        return True
    # A comment after the path (`key server.key  # keep this secret`, `cakey.pem# The private key`).
    if not _PATH.fullmatch(re.sub(r"(?:\s+|(?<=\.(?:pem|key|crt)))#.*", "", v)):
        return False
    own = leaf(key).lower()
    words = {w.lower() for w in _WORD_SPLIT.split(leaf(key)) if w}
    says_password = words & (SECRET_WORDS | LAST_WORDS - {"key"}) or any(
        part in own for part in SECRET_PARTS if part != "private")
    return bool(words & _KEY_FILE_WORDS) and not says_password


def plain_line(line: str, path: str) -> bool:
    """A line the registry knows is no credential although its words say so (a PAM `password` line)."""
    return any(rx.fullmatch(line) for glob, rx in rules.PLAIN if fnmatch(path, glob))


def is_secret(key: str, value: str, extra_words: tuple[str, ...] = ()) -> bool:
    """Whether a key's whole value is a secret: by its key, or by its look."""
    if value_is_plain(value, key):
        return False
    return key_is_secret(key, extra_words) or looks_secret(value.strip())


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
        return key_is_secret(key, self.extra_words)

    def argv(self, argv: Sequence[str]) -> list[str]:
        """A command line as it may be stored: the value of a secret-named option (`--requirepass X`,
        `--password=X`, `DB_PASSWORD=X`) becomes `{{secret:…}}`, and every argument goes through the
        inline rules (URL passwords, tokens, key blocks)."""
        out: list[str] = []
        pending = ""  # a secret-named option that takes the next argument as its value
        for arg in argv:
            flag, eq, value = arg.partition("=")
            name = flag.lstrip("-")
            if pending and not arg.startswith("-"):
                out.append(self.inline(arg) if is_secret(pending, arg, self.extra_words) else self.text(arg))
                pending = ""
                continue
            pending = name if arg.startswith("-") and not eq and self.key_is_secret(name) else ""
            if eq and name and _NAME_CHARS.issuperset(name) and is_secret(name, value, self.extra_words):
                out.append(f"{flag}={self.inline(value)}")
            else:
                out.append(self.text(arg))
        return out

    def value(self, key: str, value: str, path: str = "") -> str | dict[str, Json]:
        """A key-level value as it may be stored: the value, partly masked, or a secret marker."""
        if is_secret(key, value, self.extra_words):
            return self.secret(value)
        return self.text(value, path)

    def entries(self, entries: Mapping[str, str], path: str = "") -> dict[str, Json]:
        """A parsed file's keys and values, masked; knows the documents whose every value is secret."""
        kube = {m.group("doc") for k, v in entries.items() if v == "Secret" and (m := re.fullmatch(
            r"(?P<doc>(?:\[doc \d+\]\.)?)kind", k))}
        out: dict[str, Json] = {}
        for key, value in entries.items():
            m = _KUBE_DATA.match(key) if kube else None
            # A key can be a credential too (a token used as a JSON key, a URL with a password).
            name = self.text(key, path)
            if m and m.group("doc") in kube and not INLINE.fullmatch(value):
                out[name] = self.secret(value)
            elif plain_line(f"{leaf(key)} = {value}", path):
                out[name] = value
            else:
                out[name] = self.value(key, value, path)
        return out

    def lines(self, text: str, path: str = "") -> list[str]:
        """A line-level file's significant lines, every credential in them masked inline."""
        return [self.line(line, path) for line in significant_lines(self.text(text, path))]

    def line(self, line: str, path: str = "") -> str:
        """One config line (`Key value`, `key = value`, `key: value`) with a secret value masked."""
        if plain_line(line, path):
            return line
        m = _LINE.match(line)
        if m and not value_is_plain(m.group("value"), m.group("key")) and self.key_is_secret(m.group("key")):
            return m.group("head") + self.inline(m.group("value"))
        for rule in rules.LINE_RULES:
            if rule.line is not None and rule.applies(path):
                line = self._groups(rule.line, line, first=True)
        return self.text(line, path)

    def text(self, text: str, path: str = "") -> str:
        """Free text with every credential-looking part replaced inline."""
        for rule in rules.TEXT_RULES:
            if rule.text is not None and rule.applies(path):
                text = self._groups(rule.text, text)
        text = self._assignments(text)
        return _TOKEN.sub(lambda m: self.inline(m.group(0)) if looks_secret(m.group(0)) else m.group(0), text)

    def _assignments(self, text: str) -> str:
        """`NAME=value` inside a value or a line (systemd's `Environment="PGPASSWORD=…"`, a compose
        list item, a URL's `?token=…`): the value hidden when NAME is a secret's name, by the same
        rules as a key. The value runs to the end of its word or quoted string (a query's `&` ends
        it too); each `=` is looked at once, so this stays linear."""
        out, at = [], 0
        for chunk in _CHUNK.finditer(text):
            group = "bare" if chunk.group("bare") is not None else "dq" if chunk.group("dq") is not None else "sq"
            start, end = chunk.span(group)
            if "=" not in text[start:end]:
                continue
            for segment in (_QUERY_PART.finditer(text, start, end) if group == "bare" else (chunk,)):
                first, last = segment.span(group if segment is chunk else 0)
                prev = first
                for eq in range(first, last):
                    if text[eq] != "=":
                        continue
                    j = eq  # back over the name's characters: each stretch is walked once
                    while j > prev and text[j - 1] in _NAME_CHARS:
                        j -= 1
                    name, prev = text[j:eq].lstrip("0123456789.-"), eq + 1
                    # The name first: the value (the rest of the word) is read once, for a secret name.
                    if not name or not self.key_is_secret(name):
                        continue
                    value = text[eq + 1:last]
                    if not value or value_is_plain(value, name):
                        continue
                    out += [text[at:eq + 1], self.inline(value)]
                    at = last
                    break
        return "".join(out) + text[at:]

    def _groups(self, pattern: re.Pattern[str], text: str, first: bool = False) -> str:
        """`text` with each match's `s…` groups replaced by their inline hash (already hidden stays)."""
        out, at = [], 0
        for m in pattern.finditer(text):
            for name, value in m.groupdict().items():
                if not name.startswith("s") or value is None or INLINE.fullmatch(value.strip()) or not value.strip():
                    continue
                start, end = m.span(name)
                if start < at:
                    continue
                out += [text[at:start], self.inline(value)]
                at = end
            if first:
                break
        return "".join(out) + text[at:]


def argv(argv: Sequence[str], redactor: Redactor | None, extra_words: tuple[str, ...] = ()) -> list[str]:
    """A command line to store. With no installation key to hash with, secrets are masked all the
    same (`{{secret}}`), only a change of one cannot be seen."""
    if redactor is not None:
        return redactor.argv(argv)
    return [INLINE.sub("{{secret}}", a) for a in Redactor(b"\0" * 16, extra_words).argv(argv)]


def entropy(text: str) -> float:
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def looks_secret(value: str) -> bool:
    """A long, random-looking token: what a generated password, API key or bearer token is."""
    if value.startswith("-----BEGIN ") and "PRIVATE KEY" in value:
        return True
    # A path, alone or assigned (`ExecStart=/sbin/e2scrub_all`): base64 has `=` only at its end.
    if len(value) < 24 or not _TOKEN.fullmatch(value) or re.search(r"(?:^|=)/[A-Za-z]", value):
        return False
    # A generated secret of 24+ characters holds a digit (all but ~1% of random ones do); an
    # identifier without one (`stateOrProvinceName_default`) is a name, unless it is one long run.
    if not re.search("[0-9]", value) and (len(value) < 32 or re.search("[/_-]", value)):
        return False
    # Words and numbers joined by separators (`mozilla/D-TRUST_BR_Root_CA_1_2020`) name something.
    pieces = [p for p in re.split(r"[/_.=-]+", value) if p]
    if len(pieces) >= 2 and all(_WORDISH.fullmatch(p) for p in pieces):
        return False
    classes = sum(bool(re.search(p, value)) for p in ("[a-z]", "[A-Z]", "[0-9]"))
    return classes >= 2 and entropy(value) >= 4.0
