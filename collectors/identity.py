"""The host's own identity, replaced by stable tokens so hosts built alike compare alike.

On the host, the files section first gathers the identity values (`token value` lines) with
stock tools: the kernel hostname and its short form, the FQDN from /etc/hosts and the NIS domain,
every address on the host's own interfaces (not loopback), and the inventory's name and address
for it. Then an awk program hashes each file as it reads after those values became tokens:
`{{host}}`, `{{fqdn}}`, `{{addr:eth0}}`, `{{addr6:eth0}}`. `normalise` below is the same rule in
Python, for content brought back to the controller; tests hold the two to the same results.

A value is replaced only where it stands alone: not inside a longer name or address
(`10.0.2.1` is not replaced inside `10.0.2.10`, `web-1` not inside `web-12`). Values shorter than
three characters are never replaced: they are words more often than names; nor is `localhost`.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
from collections.abc import Iterable, Mapping

MIN_LENGTH = 3
_LOCAL = re.compile(r"localhost(\.|$)")  # every host's name for itself: never an identity
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")

# Identity values, one `token value` line each, on stdout. Reads only /proc, /etc/hosts and `ip`.
GATHER = r"""__h=$(cat /proc/sys/kernel/hostname 2>/dev/null || uname -n)
__s=${__h%%.*}
printf 'host %s\n' "$__h" "$__s"
case $__h in *.*) printf 'fqdn %s\n' "$__h";; esac
__d=$(cat /proc/sys/kernel/domainname 2>/dev/null) || __d=
case $__d in ''|'(none)') ;; *) printf 'fqdn %s.%s\n' "$__s" "$__d";; esac
if [ -r /etc/hosts ]; then H=$__h S=$__s awk '
  /^[ \t]*#/ { next }
  { own = 0; for (i = 2; i <= NF; i++) if ($i == ENVIRON["H"] || $i == ENVIRON["S"]) own = 1
    if (own) for (i = 2; i <= NF; i++) if (index($i, ENVIRON["S"] ".") == 1) print "fqdn " $i }' /etc/hosts
fi
if command -v ip >/dev/null 2>&1; then ip -o addr show 2>/dev/null | awk '
  $3 != "inet" && $3 != "inet6" { next }
  { a = $4; sub(/\/.*/, "", a); dev = $2; sub(/@.*/, "", dev) }
  dev == "lo" || a ~ /^127\./ || a == "::1" { next }
  { t = ($3 == "inet") ? "addr" : "addr6"; n[t, dev]++
    print t ":" dev (n[t, dev] > 1 ? ":" n[t, dev] : "") " " a }'
fi"""

# Given every file of a batch as arguments and DRIFT_MASK (` 1 0 1`: which are regular, readable
# files), prints the numbers of those that hold any identity value at all. Only they pay for the
# normalising pass below: most files hold none, and one awk per batch is cheaper than one per file.
SCAN_AWK = r"""BEGIN {
  n = split(ENVIRON["DRIFT_IDS"], L, "\n"); k = 0
  for (i = 1; i <= n; i++) {
    sp = index(L[i], " "); if (sp < 2) continue
    v = substr(L[i], sp + 1); if (length(v) >= 3 && v !~ /^localhost(\.|$)/) V[++k] = v
  }
  split(ENVIRON["DRIFT_MASK"], M, " ")
  for (a = 1; a < ARGC; a++) {
    if (M[a] != 1 || k == 0) continue
    hit = 0
    while (!hit && (getline line < ARGV[a]) > 0)
      for (i = 1; i <= k; i++) if (index(line, V[i]) > 0) { hit = 1; break }
    close(ARGV[a])
    if (hit) printf "%d ", a
  }
  exit
}"""

# Reads one file on stdin, writes it with identity values replaced to stdout, and writes
# `<replacements> <bytes> <token,token>` to fd 4 at the end. Values come in through the
# environment (DRIFT_IDS), never through the program text, so a value is data, never code.
NORMALISE_AWK = r"""BEGIN {
  n = split(ENVIRON["DRIFT_IDS"], L, "\n"); k = 0
  for (i = 1; i <= n; i++) {
    sp = index(L[i], " "); if (sp < 2) continue
    v = substr(L[i], sp + 1); if (length(v) < 3 || (v in seen) || v ~ /^localhost(\.|$)/) continue
    seen[v] = 1; k++; T[k] = "{{" substr(L[i], 1, sp - 1) "}}"; V[k] = v
  }
  for (i = 2; i <= k; i++) {
    tv = V[i]; tt = T[i]; j = i - 1
    while (j > 0 && length(V[j]) < length(tv)) { V[j + 1] = V[j]; T[j + 1] = T[j]; j-- }
    V[j + 1] = tv; T[j + 1] = tt
  }
  c = 0; b = 0
}
{
  line = $0
  for (i = 1; i <= k; i++) {
    if (index(line, V[i]) == 0) continue
    after = (index(V[i], ":") > 0) ? "[A-Za-z0-9_}:-]" : "[A-Za-z0-9_}-]"
    out = ""; rest = line; w = length(V[i])
    while ((p = index(rest, V[i])) > 0) {
      pre = (p > 1) ? substr(rest, p - 1, 1) : substr(out, length(out), 1)
      nxt = substr(rest, p + w, 1)
      if (pre !~ /[A-Za-z0-9_.:{-]/ && nxt !~ after) {
        out = out substr(rest, 1, p - 1) T[i]; c++; used[T[i]] = 1; rest = substr(rest, p + w)
      } else { out = out substr(rest, 1, p); rest = substr(rest, p + 1) }
    }
    line = out rest
  }
  b += length(line) + 1
  print line
}
END {
  u = ""; for (t in used) u = u (u == "" ? "" : ",") t
  printf "%d %d %s\n", c, b, u > "/dev/fd/4"
}"""


def inventory_lines(name: str, address: str) -> list[str]:
    """`token value` lines for the inventory's name and address of a host; odd values are skipped,
    so nothing but a plain name or address ever reaches the host's script."""
    out = []
    for value in (name, address):
        try:
            ip = ipaddress.ip_address(value)
        except ValueError:
            if _NAME.fullmatch(value) and len(value) <= 253 and not _LOCAL.match(value):
                out.append(f"{'fqdn' if '.' in value.rstrip('.') else 'host'} {value}")
            continue
        if not ip.is_loopback:
            out.append(f"addr {ip}")
    return out


def gather_command(name_lines: Iterable[str]) -> str:
    extra = "".join(f"\nprintf '%s\\n' {shlex.quote(line)}" for line in name_lines)
    return GATHER + extra


def parse_values(text: str) -> dict[str, list[str]]:
    """{token: [values]} from the gathered lines, in the order the host gave them."""
    out: dict[str, list[str]] = {}
    seen: set[str] = set()
    for line in text.split("\n"):
        token, sep, value = line.strip().partition(" ")
        if not sep or not token or len(value) < MIN_LENGTH or value in seen or _LOCAL.match(value):
            continue
        seen.add(value)
        out.setdefault("{{" + token + "}}", []).append(value)
    return out


def normalise(text: str, values: Mapping[str, list[str]]) -> tuple[str, set[str]]:
    """`text` with identity values replaced (the awk program's rule), and the tokens used."""
    pairs = sorted(((v, t) for t, vs in values.items() for v in vs), key=lambda p: -len(p[0]))
    used: set[str] = set()
    for value, token in pairs:
        if value not in text:
            continue
        after = "A-Za-z0-9_}:-" if ":" in value else "A-Za-z0-9_}-"
        rx = re.compile(r"(?<![A-Za-z0-9_.:{-])" + re.escape(value) + f"(?![{after}])")
        text, count = rx.subn(token.replace("\\", "\\\\"), text)
        if count:
            used.add(token)
    return text, used
