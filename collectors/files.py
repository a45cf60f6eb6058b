"""Config files: hash, size, mode, owner, group, type and link target; content only where opted in.

Fact `files/etc/nginx/nginx.conf` = {"sha256", "size", "mode", "owner", "group", "type", "target"};
`null` for a listed path that does not exist. Globs (`*`, `?`, `[..]`, `**` for any depth) are
expanded on the host by find, then matched exactly here.

`sha256` and `size` are of the content after the host's own identity (names, addresses) became
tokens (collectors.identity), so hosts built alike hash alike. Where that changed a file, its own
hash, size and the tokens used are kept in the identity fact `files//raw`; the values replaced are
in `files//identity`. Files matched by `[collect] content` are brought back (up to
`content_max_bytes`) and recorded key by key: `files/etc/app.ini//[cache] ttl`, or
`files/etc/nginx/nginx.conf//lines` for line-level files (collectors.content).

The section prints records of three NUL-terminated fields, so names with any byte come back
intact: `F <sha256|-> <size> <mode> <owner> <group> <type words>`, the path, the link target;
`A`, a listed path that is absent, ``; `N`, the path, `<replacements> <bytes> <tokens>` and the
normalised hash (in either order); `B`, the path, its base64 content (`B over` past the cap and
`B none` where the host has no base64: the path and ``); and once, first, `I`, ``, the identity
values (`token value` lines).
"""

from __future__ import annotations

import base64
import binascii
import re
import shlex
from functools import lru_cache

from collectors import identity
from collectors.content.analyse import analyse
from collectors.content.secrets import Redactor
from collectors.interface import CollectConfig, Collector, Facts, Json, Parsed
from drift.core.errors import CollectError
from drift.core.sanitize import quote

_GLOB_CHARS = re.compile(r"[*?\[]")
IDENTITY_FACT = "files//identity"
RAW_FACT = "files//raw"

# For a batch of files: which hold identity values at all (one awk), then for each: metadata from
# stat, the hash read through stdin (so the name is never parsed back out of sha256sum's escaped
# output), the hash after identity normalisation where needed (awk, whose summary line arrives
# on fd 4), the link target, and the content where opted in.
_PER_FILE = (
    '__m=; for f do if [ -f "$f" ] && [ -r "$f" ]; then __m="$__m 1"; else __m="$__m 0"; fi; done; '
    '__hits=" $(DRIFT_MASK=$__m awk "$DRIFT_SCAN" "$@") "; __i=0; '
    'for f do __i=$((__i+1)); '
    't=$(stat -c "%s %a %U %G %F" -- "$f") || continue; '
    'h=-; n=; b=; '
    'if [ -f "$f" ] && [ -r "$f" ]; then {want}'
    'if [ "$b" != 1 ]; then h=$(sha256sum < "$f") && h=${{h%% *}} || h=-; '
    'case $__hits in *" $__i "*) n=$( {{ awk "$DRIFT_NORM" < "$f" | sha256sum; }} 4>&1 ) || n=;; esac; fi; fi; '
    'l=; if [ -L "$f" ]; then l=$(readlink -- "$f"); fi; '
    "printf 'F %s %s\\0%s\\0%s\\0' \"${{h:--}}\" \"$t\" \"$f\" \"$l\"; "
    "if [ -n \"$n\" ]; then printf 'N\\0%s\\0%s\\0' \"$f\" \"$n\"; fi; "
    "if [ \"$b\" = 1 ]; then printf 'B\\0%s\\0' \"$f\"; base64 < \"$f\" || printf '!'; printf '\\0'; "
    "elif [ -n \"$b\" ]; then printf 'B %s\\0%s\\0\\0' \"$b\" \"$f\"; fi; "
    "done"
)
# Whether a path is opted into content: a `case` on the glob, plus, for a glob without `**`, the
# same number of `/` as the glob has, since a case pattern's `*` would also cross a `/`.
_DEPTH = ('__depth() { __p=$1; __n=0; while :; do case $__p in */*) __p=${__p#*/}; __n=$((__n+1));; '
          '*) break;; esac; done; }; ')


def _base(pattern: str) -> str:
    """The deepest directory of `pattern` with no glob characters in it."""
    head = _GLOB_CHARS.split(pattern, 1)[0]
    return head.rsplit("/", 1)[0] or "/"


def _find_pattern(pattern: str) -> str:
    # find's -path `*` also crosses `/`, so `**/` can become `*`; over-matches are dropped in parse.
    return pattern.replace("**/", "*").replace("**", "*")


def _case_pattern(pattern: str) -> str:
    """A glob as a sh case pattern: wildcards bare, everything else quoted."""
    out, literal = [], ""
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        end = pattern.find("]", i + 2) if ch == "[" else -1
        if ch in "*?" or (ch == "[" and end != -1 and re.fullmatch(r"!?[A-Za-z0-9._-]+", pattern[i + 1:end])):
            if literal:
                out.append(shlex.quote(literal))
                literal = ""
            stop = end + 1 if ch == "[" else i + 1
            out.append(pattern[i:stop])
            i = stop
            continue
        literal += ch
        i += 1
    if literal:
        out.append(shlex.quote(literal))
    return "".join(out)


def _want(cfg: CollectConfig) -> str:
    if not cfg.content:
        return ""
    checks = []
    for pattern in cfg.content:
        if "**" in pattern:
            alternatives = {pattern.replace("**/", "*/"), pattern.replace("**/", ""), pattern.replace("**", "*")}
            case = "|".join(_case_pattern(a) for a in sorted(alternatives))
            checks.append(f'case "$f" in {case}) b=1;; esac; ')
        else:
            depth = pattern.count("/")
            checks.append(f'case "$f" in {_case_pattern(pattern)}) __depth "$f"; '
                          f'if [ "$__n" -eq {depth} ]; then b=1; fi;; esac; ')
    cap = int(cfg.content_max_bytes)
    # Without base64 on the host, or over the cap, the file is hashed like any other.
    return ("".join(checks) + f'if [ "$b" = 1 ] && [ "${{t%% *}}" -gt {cap} ]; then b=over; fi; '
            'if [ "$b" = 1 ] && [ -z "$DRIFT_B64" ]; then b=none; fi; ')


def _per_file(cfg: CollectConfig) -> str:
    return (_DEPTH if cfg.content else "") + _PER_FILE.format(want=_want(cfg))


def command(cfg: CollectConfig) -> str:
    if not cfg.files:
        return ""
    gather = identity.gather_command(identity.inventory_lines(*cfg.host_names) if len(cfg.host_names) == 2 else ())
    parts = [
        f"DRIFT_IDS=$( {{ {gather}\n}} 2>/dev/null ); export DRIFT_IDS",
        f"DRIFT_NORM={shlex.quote(identity.NORMALISE_AWK)}; DRIFT_SCAN={shlex.quote(identity.SCAN_AWK)}; "
        "export DRIFT_NORM DRIFT_SCAN",
        "printf 'I\\0\\0%s\\0' \"$DRIFT_IDS\"",
        *(["DRIFT_B64=$(command -v base64); export DRIFT_B64"] if cfg.content else []),
    ]
    per_file = shlex.quote(_per_file(cfg))
    for pattern in cfg.files:
        q = shlex.quote(pattern)
        if not pattern.startswith("/"):
            raise CollectError(f"files: {quote(pattern)} is not an absolute path")
        if not _GLOB_CHARS.search(pattern):
            parts.append(
                f"if [ -e {q} ] || [ -L {q} ]; then sh -c {per_file} sh {q}; "
                f"else printf 'A\\0%s\\0\\0' {q}; fi"
            )
        else:
            base = shlex.quote(_base(pattern))
            find = shlex.quote(_find_pattern(pattern))
            parts.append(
                f"if [ -d {base} ]; then find {base} -path {find} ! -type d "
                f"-exec sh -c {per_file} sh {{}} + ; fi"
            )
    return "\n".join(parts)


@lru_cache(maxsize=256)
def glob_regex(pattern: str) -> re.Pattern[str]:
    """Shell-style glob to regex: `*` and `?` stay inside one path segment, `**` crosses them."""
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "[":
            end = pattern.find("]", i + 2)
            if end == -1:
                out.append(re.escape(ch))
            else:
                body = pattern[i + 1:end]
                body = "^" + body[1:] if body.startswith("!") else body
                out.append(f"[{body.replace(chr(92), chr(92) * 2)}]")
                i = end
        else:
            out.append(re.escape(ch))
        i += 1
    # DOTALL: a name may hold a newline, and `**` must still cross it.
    return re.compile("".join(out), re.DOTALL)


_TYPES = {"regular file": "file", "regular empty file": "file", "directory": "dir", "symbolic link": "symlink"}
# A size or count: ASCII digits, at most 20 (2**64 has 20). str.isdigit() admits "²" and
# 5,000-digit strings, which int() refuses with a ValueError instead of our CollectError.
_COUNT = re.compile(r"[0-9]{1,20}")
_SHA = re.compile(r"[0-9a-f]{64}")


def parse(output: str, cfg: CollectConfig) -> Parsed:
    if output and not output.endswith("\0"):
        raise CollectError("output cut short: the last file record is incomplete")
    fields = output.split("\0")[:-1] if output else []
    if len(fields) % 3:
        raise CollectError("output cut short: file records are incomplete")
    wanted = [glob_regex(p) for p in cfg.files]
    opted = [glob_regex(p) for p in cfg.content]
    facts: Facts = {}
    ids: dict[str, list[str]] = {}
    normalised: dict[str, tuple[str, int, list[str]]] = {}
    contents: dict[str, str] = {}
    for i in range(0, len(fields), 3):
        header, path, third = fields[i], fields[i + 1], fields[i + 2]
        if header == "I":
            ids = identity.parse_values(third)
            continue
        if not path.startswith("/"):
            raise CollectError(f"record {i // 3 + 1}: path {path[:80]!r} is not absolute")
        if not any(rx.fullmatch(path) for rx in wanted):
            continue
        if header == "N":
            normalised[path] = _summary(third, i // 3 + 1)
        elif header in ("B", "B over", "B none"):
            if any(rx.fullmatch(path) for rx in opted):  # never keep content nobody opted into
                contents[path] = third if header == "B" else header
        elif header == "A":
            facts["files" + path] = None
        else:
            facts["files" + path] = _record(header, third, i // 3 + 1)
    raw: dict[str, Json] = {}
    for path, (sha, size, tokens) in normalised.items():
        value = facts.get("files" + path)
        if tokens and isinstance(value, dict) and value.get("sha256"):
            raw[path] = {"sha256": value["sha256"], "size": value["size"], "tokens": list(tokens)}
            value["sha256"], value["size"] = sha, size
    if contents:
        redactor = Redactor(cfg.secret_key, cfg.secret_keys)
        limit = cfg.content_max_bytes // 1024
        for path, encoded in contents.items():
            value = facts.get("files" + path)
            if not isinstance(value, dict):
                continue
            if encoded in ("B over", "B none"):
                value["content"] = (f"hash only: over the {limit} KiB content limit" if encoded == "B over"
                                    else "hash only: no base64 on the host to bring the content back")
                continue
            try:
                data = base64.b64decode("".join(encoded.split()), validate=True)
            except (binascii.Error, ValueError):  # base64 failed on the host (`!`), or the output is cut
                value["content"] = "hash only: the content could not be read on the host"
                value["error"] = "unreadable: the content could not be read"
                continue
            try:
                found = analyse(path, data, ids, redactor)
            except Exception as exc:  # a parser bug costs this file's content, and its text never shows
                value["content"] = f"hash only: could not be read ({type(exc).__name__})"
                continue
            value.pop("error", None)
            value.update(sha256=found.sha256, size=found.size, content=found.note or found.fmt)
            if found.tokens or found.sha256 != found.raw_sha256:
                raw[path] = {"sha256": found.raw_sha256, "size": found.raw_size, "tokens": list(found.tokens)}
            if found.fmt is not None:
                # Compared by meaning: the keys or lines are the facts, not the bytes.
                del value["sha256"], value["size"]
                facts.update(found.facts)
    marked = set()
    if ids or normalised:
        facts[IDENTITY_FACT] = {token: list(values) for token, values in sorted(ids.items())}
        marked.add(IDENTITY_FACT)
    if raw:
        facts[RAW_FACT] = dict(sorted(raw.items()))
        marked.add(RAW_FACT)
    return Parsed(facts, frozenset(marked))


def _summary(text: str, number: int) -> tuple[str, int, list[str]]:
    """(normalised sha256, normalised size, tokens used) from an `N` record."""
    sha, count, size, tokens = "", 0, 0, []
    for line in text.split("\n"):
        parts = line.split()
        if parts and _SHA.fullmatch(parts[0]):
            sha = parts[0]
        elif len(parts) >= 2 and _COUNT.fullmatch(parts[0]) and _COUNT.fullmatch(parts[1]):
            count, size = int(parts[0]), int(parts[1])
            tokens = sorted(parts[2].split(",")) if len(parts) > 2 else []
    if not sha:
        raise CollectError(f"record {number}: no normalised hash in {text[:80]!r}")
    return sha, size, tokens if count else []


def _record(header: str, target: str, number: int) -> dict[str, Json]:
    parts = header.split(" ", 6)
    if len(parts) != 7 or parts[0] != "F":
        raise CollectError(f"record {number}: malformed header {header[:80]!r}")
    _, sha, size, mode, owner, group, kind = parts
    if not _COUNT.fullmatch(size) or not re.fullmatch(r"[0-7]{1,4}", mode):
        raise CollectError(f"record {number}: bad size or mode in {header[:80]!r}")
    ftype = _TYPES.get(kind, "other")
    value: dict[str, Json] = {
        "sha256": None if sha == "-" else sha,
        "size": int(size),
        "mode": mode.rjust(4, "0"),
        "owner": owner,
        "group": group,
        "type": ftype,
    }
    if ftype == "symlink":
        value["target"] = target
    if ftype == "file" and sha == "-":
        value["error"] = "unreadable: no permission to hash it"
    elif sha != "-" and not _SHA.fullmatch(sha):
        raise CollectError(f"record {number}: bad sha256 {sha[:80]!r}")
    return value


COLLECTORS: tuple[Collector, ...] = (
    Collector("files", "files", command, parse, requires=("find", "sha256sum", "stat", "awk"),
              identity=(IDENTITY_FACT, RAW_FACT),
              description="hash (after identity normalisation), size, mode, owner, group of [collect] files; "
                          "content only of [collect] content files, secrets masked"),
)
