"""Config files: sha256, size, mode, owner, group, type and link target. Never the content.

Fact `files/etc/nginx/nginx.conf` = {"sha256", "size", "mode", "owner", "group", "type", "target"};
`null` for a listed path that does not exist. Globs (`*`, `?`, `[..]`, `**` for any depth) are
expanded on the host by find, then matched exactly here.

Each file is one record of three NUL-terminated fields, so names with spaces, newlines or any
other byte come back intact: `F <sha256|-> <size> <mode> <owner> <group> <type words>`, the path,
the link target. An absent listed path is `A`, the path, an empty target.
"""

from __future__ import annotations

import re
import shlex
from functools import lru_cache

from collectors.interface import CollectConfig, Collector, Facts
from drift.core.errors import CollectError
from drift.core.sanitize import quote

_GLOB_CHARS = re.compile(r"[*?\[]")

# For each file: metadata from stat, the hash read through stdin (so the name is never parsed
# back out of sha256sum's escaped output), and the link target.
_PER_FILE = (
    'for f do '
    't=$(stat -c "%s %a %U %G %F" -- "$f") || continue; '
    "h=-; if [ -f \"$f\" ] && [ -r \"$f\" ]; then h=$(sha256sum < \"$f\" | cut -c1-64) || h=-; fi; "
    'l=; if [ -L "$f" ]; then l=$(readlink -- "$f"); fi; '
    "printf 'F %s %s\\0%s\\0%s\\0' \"${h:--}\" \"$t\" \"$f\" \"$l\"; "
    "done"
)


def _base(pattern: str) -> str:
    """The deepest directory of `pattern` with no glob characters in it."""
    head = _GLOB_CHARS.split(pattern, 1)[0]
    return head.rsplit("/", 1)[0] or "/"


def _find_pattern(pattern: str) -> str:
    # find's -path `*` also crosses `/`, so `**/` can become `*`; over-matches are dropped in parse.
    return pattern.replace("**/", "*").replace("**", "*")


def command(cfg: CollectConfig) -> str:
    if not cfg.files:
        return ""
    parts = []
    for pattern in cfg.files:
        q = shlex.quote(pattern)
        if not pattern.startswith("/"):
            raise CollectError(f"files: {quote(pattern)} is not an absolute path")
        if not _GLOB_CHARS.search(pattern):
            parts.append(
                f"if [ -e {q} ] || [ -L {q} ]; then sh -c {shlex.quote(_PER_FILE)} sh {q}; "
                f"else printf 'A\\0%s\\0\\0' {q}; fi"
            )
        else:
            base = shlex.quote(_base(pattern))
            find = shlex.quote(_find_pattern(pattern))
            parts.append(
                f"if [ -d {base} ]; then find {base} -path {find} ! -type d "
                f"-exec sh -c {shlex.quote(_PER_FILE)} sh {{}} + ; fi"
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


def parse(output: str, cfg: CollectConfig) -> Facts:
    if output and not output.endswith("\0"):
        raise CollectError("output cut short: the last file record is incomplete")
    fields = output.split("\0")[:-1] if output else []
    if len(fields) % 3:
        raise CollectError("output cut short: file records are incomplete")
    wanted = [glob_regex(p) for p in cfg.files]
    facts: Facts = {}
    for i in range(0, len(fields), 3):
        header, path, target = fields[i], fields[i + 1], fields[i + 2]
        if not path.startswith("/"):
            raise CollectError(f"record {i // 3 + 1}: path {path[:80]!r} is not absolute")
        if not any(rx.fullmatch(path) for rx in wanted):
            continue
        key = "files" + path
        if header == "A":
            facts[key] = None
            continue
        facts[key] = _record(header, target, i // 3 + 1)
    return facts


def _record(header: str, target: str, number: int) -> dict[str, object]:
    parts = header.split(" ", 6)
    if len(parts) != 7 or parts[0] != "F":
        raise CollectError(f"record {number}: malformed header {header[:80]!r}")
    _, sha, size, mode, owner, group, kind = parts
    if not size.isdigit() or not re.fullmatch(r"[0-7]{1,4}", mode):
        raise CollectError(f"record {number}: bad size or mode in {header[:80]!r}")
    ftype = _TYPES.get(kind, "other")
    value: dict[str, object] = {
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
    elif sha != "-" and not re.fullmatch(r"[0-9a-f]{64}", sha):
        raise CollectError(f"record {number}: bad sha256 {sha[:80]!r}")
    return value


COLLECTORS: tuple[Collector, ...] = (
    Collector("files", "files", command, parse, requires=("find", "sha256sum", "stat"),
              description="sha256, size, mode, owner, group of [collect] files; never their content"),
)
