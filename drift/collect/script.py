"""One POSIX sh script per host: every collector's command, one section each, one exec.

Each section is framed by a marker drawn at random per run, so nothing a host prints (a config
file, a package description) can forge a section boundary. Each section reports its own exit
status and stderr. The script only reads: stderr goes into a shell variable, never a temp file.

Layout of the output, per section:

    <M> BEGIN <name>
    ...stdout of the command...
    <M> END <name> <exit status | unsupported>
    <M> ERR <name>
    ...at most 4 KiB of its stderr...
    <M> ENDERR <name>
"""

from __future__ import annotations

import hashlib
import re
import secrets
import shlex
from dataclasses import dataclass

from collectors.interface import CollectConfig, Collector

STDERR_CAP = 4096
UNSUPPORTED = "unsupported"


@dataclass(frozen=True)
class Section:
    name: str
    stdout: bytes
    status: int | None  # None: unsupported (none of `requires` exists on the host)
    stderr: str


@dataclass(frozen=True)
class Script:
    marker: str
    text: str
    names: tuple[str, ...]  # sections the script runs, in order
    digest: str = ""  # of every section's command: the collectors and [collect] settings it embodies


@dataclass(frozen=True)
class Manifest:
    """The script's first line of output: what ran, for which settings, when (by the host's clock)."""
    marker: str
    names: tuple[str, ...]
    digest: str
    collected_at: str


# Drawn on the host, for a script an engine runs (`drift script`): the script text may live for
# months in a playbook or a ConfigMap, so a marker fixed in it could be learnt and forged.
_HOST_MARKER = ('__m="@@DRIFT-$(od -An -N12 -tx1 /dev/urandom 2>/dev/null | tr -d \' \\n\')"\n'
                '[ "$__m" = "@@DRIFT-" ] && __m="@@DRIFT-$$x$(date +%s)"')
_MANIFEST = re.compile(rb"(?<![^\n])(@@DRIFT-[0-9A-Za-z]+) DRIFT 1 (\S*) ([0-9a-f]+) (\S+)\n")


def new_marker() -> str:
    return "@@DRIFT-" + secrets.token_hex(12)


def section_command(collector: Collector, cfg: CollectConfig, sudo: bool) -> str:
    command = collector.command(cfg)
    if command and collector.privileged and sudo:
        # -n: never prompt. A sudo that wants a password fails this section, not the run.
        # A plain command goes to sudo as it is, so sudoers can allow exactly it (NOPASSWD:
        # /usr/sbin/iptables-save) rather than a shell that could run anything.
        if _plain(command):
            return "sudo -n " + command
        return "sudo -n sh -c " + shlex.quote(command)
    return command


def _plain(command: str) -> bool:
    """Words only: no quoting, expansion, redirection or list operators for a shell to interpret."""
    return bool(re.fullmatch(r"[A-Za-z0-9_./=:,+-]+(?: [A-Za-z0-9_./=:,+-]+)*", command))


def compose(collectors: tuple[Collector, ...], cfg: CollectConfig, sudo: bool = False,
            marker: str | None = None, on_host: bool = False) -> Script:
    """The script. `on_host`: the marker is drawn on the host when it runs (for `drift script`)."""
    m = marker or new_marker()
    parts = [
        # Deterministic, parseable output regardless of the host's locale; no startup files read.
        "LC_ALL=C; LANG=C; export LC_ALL LANG",
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH; export PATH",
        _HOST_MARKER if on_host else f"__m={shlex.quote(m)}",
    ]
    names = []
    commands = []
    for c in collectors:
        command = section_command(c, cfg, sudo)
        if not command:
            continue
        names.append(c.name)
        commands.append(f"{c.name}\0{command}")
        name = shlex.quote(c.name)
        guard = " || ".join(f"command -v {shlex.quote(r)} >/dev/null 2>&1" for r in c.requires) or "true"
        parts.append(
            f"printf '%s BEGIN %s\\n' \"$__m\" {name}\n"
            f"if {guard}; then\n"
            # stdout streams to fd 3 (the real stdout); stderr is kept in a variable. stdin is
            # /dev/null because the script itself arrives on stdin: a command reading it would eat
            # the sections after it.
            f"  {{ __e=$( {{ {command}\n}} </dev/null 2>&1 1>&3 3>&- ); __rc=$?; }} 3>&1\n"
            f"else __rc={UNSUPPORTED}; __e=''; fi\n"
            f"printf '\\n%s END %s %s\\n%s ERR %s\\n' \"$__m\" {name} \"$__rc\" \"$__m\" {name}\n"
            f"printf '%s' \"$__e\" | head -c {STDERR_CAP}\n"
            f"printf '\\n%s ENDERR %s\\n' \"$__m\" {name}"
        )
    digest = hashlib.sha256("\0\0".join(commands).encode()).hexdigest()[:16]
    # The manifest comes first: an engine's copy of the output says itself what it is.
    parts.insert(3, f"printf '%s DRIFT 1 %s %s %s\\n' \"$__m\" {shlex.quote(','.join(names) or '-')} {digest} "
                    "\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\"")
    return Script(marker=m, text="\n".join(parts) + "\n", names=tuple(names), digest=digest)


def manifest(output: bytes) -> Manifest | None:
    """The manifest at the head of a script's output, or None: not drift's script output."""
    found = _MANIFEST.search(output, 0, 64 * 1024)  # the first line drift prints, after any login noise
    if found is None:
        return None
    names = found.group(2).decode("ascii", "replace")
    return Manifest(found.group(1).decode(), tuple(n for n in names.split(",") if n and n != "-"),
                    found.group(3).decode(), found.group(4).decode("ascii", "replace"))


class ScriptOutputError(Exception):
    pass


def split(script: Script, output: bytes) -> dict[str, Section]:
    """Cut the script's stdout into sections. Missing sections are simply absent from the result."""
    m = re.escape(script.marker.encode())
    frame = re.compile(
        rb"(?<![^\n])" + m + rb" BEGIN (\S+)\n(.*?)\n" + m + rb" END \1 (\d+|" + UNSUPPORTED.encode() + rb")\n"
        + m + rb" ERR \1\n(.*?)\n" + m + rb" ENDERR \1(?:\n|$)",
        re.S,
    )
    sections: dict[str, Section] = {}
    for match in frame.finditer(output):
        name = match.group(1).decode("utf-8", "replace")
        raw_status = match.group(3).decode()
        sections[name] = Section(
            name=name,
            stdout=match.group(2),
            status=None if raw_status == UNSUPPORTED else int(raw_status),
            stderr=match.group(4).decode("utf-8", "replace").strip(),
        )
    return sections
