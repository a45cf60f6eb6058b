"""Which container runtimes hold state on this host, and how each is asked, locally and only locally.

The on-host part of the `containers` and `container-packages` collectors. A runtime is asked only
where its state exists, so listing never initialises one. Each is asked at an explicit local
endpoint, never through the session's configuration: `DOCKER_HOST=tcp://…`, a docker context, podman's
`CONTAINER_HOST` or crictl's configured endpoint can name another machine, whose containers would
otherwise read as this host's. A runtime the script can see but not ask (another user's rootless
docker socket or podman storage, root's podman seen by a user, a daemon configured only remotely)
prints `@@unknown CODE ARGS`: the parser fails the collector with the reason, never reads it as none.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from collectors.interface import NotApplicable
from drift.core.errors import CollectError
from drift.core.sanitize import quote

NONE = "@@no-container-runtime"
RUNTIME = "@@runtime "
UNKNOWN = "@@unknown "
ITEM = "@@item"

# Sockets that are another runtime's under docker's name: podman's API (podman-docker links
# docker.sock to it; podman is asked directly) and cri-dockerd (docker's own containers again).
_NOT_DOCKER = "/run/podman/podman.sock /run/user/[0-9]*/podman/podman.sock /run/cri-dockerd.sock"
_HELPERS = (
    f"__none=1; set -- {_NOT_DOCKER}\n"
    # __new SOCKET SEEN...: true where SOCKET is none of the sockets already asked (-ef: one file
    # under two names, /var/run/docker.sock and /run/docker.sock, is one daemon).
    '__new() { __p=$1; shift; for __o in "$@"; do if [ "$__p" -ef "$__o" ]; then return 1; fi; done; return 0; }\n'
    "__unix() { case $1 in unix://?*) printf '%s' \"${1#unix://}\";; esac; }\n"
    "__far() { case $1 in ''|unix://*) return 1;; esac; return 0; }\n"
    "__uid=$(id -u)"
)
# containers.conf `[engine] remote = true` makes podman a client of a service it names, and no
# flag turns that off (podman 4.3 ignores --remote=false then); CONTAINERS_CONF alone replaces the rest.
_PODMAN_CONF = (
    "__conf() { cat \"$@\" 2>/dev/null | sed -n 's/^[[:space:]]*remote[[:space:]]*=[[:space:]]*\\([a-z]*\\).*/\\1/p'"
    " | tail -n 1; }\n"
    '__cfg=${XDG_CONFIG_HOME:-${HOME:-/nonexistent}/.config}/containers\n'
    'if [ -n "${CONTAINERS_CONF:-}" ]; then __pr=$(__conf "$CONTAINERS_CONF" "${CONTAINERS_CONF_OVERRIDE:-}"); '
    "else __pr=$(__conf /usr/share/containers/containers.conf /usr/share/containers/containers.conf.d/*.conf "
    '/etc/containers/containers.conf /etc/containers/containers.conf.d/*.conf "$__cfg/containers.conf" '
    '"$__cfg"/containers.conf.d/*.conf "${CONTAINERS_CONF_OVERRIDE:-}"); fi\n'
    '[ "$__pr" = true ] && __pr=conf || __pr=\n'
    'if [ -z "$__pr" ] && { [ -n "${CONTAINER_CONNECTION:-}" ] || __far "${CONTAINER_HOST:-}"; }; then __pr=env; fi\n'
    "unset CONTAINER_HOST CONTAINER_CONNECTION"
)
# Root's podman keeps its state under /var/lib/containers, anyone else's under their home: asking
# podman as a user whose state does not exist would create it. Root's storage directory is
# world-searchable while libpod inside it is not; /var/lib/containers alone holds no state.
_PODMAN_STATE = ('if [ "$__uid" = 0 ]; then __st=/var/lib/containers/storage/libpod; '
                 'else __st=${HOME:-/nonexistent}/.local/share/containers/storage/libpod; fi')
_PODMAN_OTHERS = (
    'if [ "$__uid" != 0 ] && [ -d /var/lib/containers/storage ]; then echo @@unknown podman-root; fi\n'
    "while IFS=: read -r __n __x __u __x __x __h __x; do "
    'if [ "$__u" != 0 ] && [ "$__u" != "$__uid" ] && [ -d "$__h/.local/share/containers/storage/libpod" ]; '
    "then printf '@@unknown podman-user %s\\n' \"$__n\"; fi; done </etc/passwd"
)
# The docker CLI ignores DOCKER_HOST and any context given -H; DOCKER_TLS_VERIFY would still ask a
# unix socket for TLS. podman-docker's `docker` is a script running podman, which has no -H.
_DOCKER_SETUP = (
    "__dh=${DOCKER_HOST:-}; unset DOCKER_HOST DOCKER_TLS_VERIFY DOCKER_TLS DOCKER_CERT_PATH\n"
    "__d=$(command -v docker) || __d=\n"
    "case $(head -c 2 \"$__d\" 2>/dev/null) in '#!') if grep -q podman \"$__d\"; then __d=; fi;; esac\n"
    "__dc=; if [ -n \"$__d\" ]; then __dc=$(docker context inspect --format '{{.Endpoints.docker.Host}}' "
    "2>/dev/null) || __dc=; fi\n"
    "unset DOCKER_CONTEXT"
)
_DOCKER_SOCKETS = ('/var/run/docker.sock /run/user/[0-9]*/docker.sock "${XDG_RUNTIME_DIR:-/nonexistent}/docker.sock" '
                   '"$(__unix "$__dh")" "$(__unix "$__dc")"')
_DOCKER_FAR = ('if __far "$__dh"; then printf \'@@unknown docker-remote DOCKER_HOST %s\\n\' "${__dh%%://*}"; '
               'elif [ -n "$__d" ] && __far "$__dc"; then '
               'printf \'@@unknown docker-remote context %s\\n\' "${__dc%%://*}"; fi')
_CRI_SETUP = (
    "__ce=${CONTAINER_RUNTIME_ENDPOINT:-}; unset CONTAINER_RUNTIME_ENDPOINT IMAGE_SERVICE_ENDPOINT\n"
    "__cf=$(sed -n 's/^runtime-endpoint:[[:space:]]*//p' \"${CRI_CONFIG_FILE:-/etc/crictl.yaml}\" 2>/dev/null "
    "| tr -d \"\\\"' \" | tail -n 1)\n"
    "__c=$(command -v crictl) || __c=\n"
    # containerd also runs docker's containers (in its own namespace, not CRI's): its socket means
    # CRI containers only on a Kubernetes node, or where crictl is configured for it.
    "__k=; if [ -d /var/lib/kubelet/pods ]; then __k=/run/containerd/containerd.sock; fi"
)
_CRI_SOCKETS = ('"$(__unix "$__ce")" "$(__unix "$__cf")" /var/run/crio/crio.sock "$__k" '
                '"${__k:+/run/k3s/containerd/containerd.sock}"')
_CRI_FAR = ('if __far "$__ce"; then '
            'printf \'@@unknown crictl-remote CONTAINER_RUNTIME_ENDPOINT %s\\n\' "${__ce%%://*}"; '
            'elif __far "$__cf"; then printf \'@@unknown crictl-remote crictl.yaml %s\\n\' "${__cf%%://*}"; fi')


def listing(per_container: Callable[[str, str], str] = lambda runtime, cli: "") -> str:
    """The running containers of every runtime present, as `@@runtime NAME` then its inspect JSON.

    `per_container(runtime, cli)`, run after a runtime's JSON with `$__ids` set, adds output per
    container (container_packages reads their roots); `cli` is the runtime's command with its
    endpoint. Ids come from the runtime (hex), so `$__ids` is split unquoted on purpose.
    """
    def ask(runtime: str, cli: str, inspect: str) -> str:
        return (f"__none=; __ids=$({cli} ps -q --no-trunc) || exit $?; printf '{RUNTIME}%s\\n' {runtime}; "
                f'if [ -n "$__ids" ]; then {inspect} || exit $?; {per_container(runtime, cli)} fi')

    def by_socket(runtime: str, sockets: str, setup: str, cli: str, inspect: str, far: str) -> str:
        # Every local socket is its own daemon (root's and a user's rootless docker both run here).
        tool = "$__d" if runtime == "docker" else "$__c"
        return (f"{setup}\n__any=\nfor __sock in {sockets}; do\n"
                '  if [ -S "$__sock" ] && __new "$__sock" "$@"; then set -- "$@" "$__sock"; __any=1; '
                'else continue; fi\n'
                f"  if [ -z \"{tool}\" ]; then printf '{UNKNOWN}{runtime}-cli %s\\n' \"$__sock\"\n"
                f"  elif [ ! -w \"$__sock\" ]; then printf '{UNKNOWN}{runtime}-socket %s\\n' \"$__sock\"\n"
                f"  else {ask(runtime, cli, inspect)}; fi\ndone\n"
                f'if [ -z "$__any" ]; then {far}; fi')

    docker = 'docker -H "unix://$__sock"'
    cri = 'crictl --runtime-endpoint "unix://$__sock" --image-endpoint "unix://$__sock"'
    return "\n".join([
        _HELPERS,
        "if command -v podman >/dev/null 2>&1; then",
        _PODMAN_CONF, _PODMAN_STATE,
        'if [ -d "$__st" ] && [ "$__pr" = conf ]; then echo @@unknown podman-remote conf',
        f'elif [ -d "$__st" ]; then {ask("podman", "podman", "podman container inspect $__ids")}',
        'elif [ -n "$__pr" ]; then echo "@@unknown podman-remote $__pr"; fi',
        _PODMAN_OTHERS,
        "fi",
        by_socket("docker", _DOCKER_SOCKETS, _DOCKER_SETUP, docker, f"{docker} container inspect $__ids",
                  _DOCKER_FAR),
        by_socket("crictl", _CRI_SOCKETS, _CRI_SETUP, cri,
                  f'for __i in $__ids; do echo {ITEM}; {cri} inspect -o json "$__i" || exit $?; done', _CRI_FAR),
        f'if [ -n "$__none" ]; then echo {NONE}; fi',
    ])


_SCHEMES = ("tcp", "ssh", "http", "https", "fd", "npipe", "unix")
_USER = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,31}\$?")


def _reason(words: list[str]) -> str:
    """What an `@@unknown` line means, in words; host text in it is checked or quoted."""
    code, args = words[0], words[1:]
    arg = " ".join(args)
    where = quote(arg, 80)
    far = f"{args[-1]}://…" if args and args[-1] in _SCHEMES else "a non-local address"
    match code:
        case "podman-root":
            return "podman holds root's containers here, which this user cannot list: connect as root"
        case "podman-user":
            user = arg if _USER.fullmatch(arg) else where
            return (f"user {user} has rootless podman containers (storage under its home), which only that "
                    "user's podman lists")
        case "podman-remote":
            how = "containers.conf sets engine remote = true" if arg == "conf" else \
                "CONTAINER_HOST or CONTAINER_CONNECTION names a service"
            return f"podman here is a remote client ({how}): what it lists may be another machine's"
        case "docker-socket" | "crictl-socket":
            return f"the socket {where} is not this user's to use (another user's rootless daemon?)"
        case "docker-cli" | "crictl-cli":
            return f"a {code.split('-')[0]} socket ({where}) and no {code.split('-')[0]} command to ask it"
        case "docker-remote" | "crictl-remote":
            what = {"DOCKER_HOST": "DOCKER_HOST", "context": "the docker context",
                    "CONTAINER_RUNTIME_ENDPOINT": "CONTAINER_RUNTIME_ENDPOINT", "crictl.yaml": "crictl.yaml"}.get(
                        args[0] if args else "", "its configuration")
            return (f"the only {code.split('-')[0]} configured here is remote ({what} points at {far}): "
                    "its containers are another machine's, and this host's are not known")
    return f"an unknown runtime state {quote(' '.join(words), 60)}"


def sections(output: str) -> list[tuple[str, str]]:
    """(runtime, its JSON text) per `@@runtime` block.

    CollectError where a runtime could not be asked (its containers are unknown); NotApplicable
    where no runtime has state.
    """
    found: list[tuple[str, list[str]]] = []
    unknown: dict[str, None] = {}  # reasons, once each, in order
    none = False
    for number, line in enumerate(output.split("\n"), 1):
        line = line.removesuffix("\r")
        if line.startswith(RUNTIME):
            runtime = line[len(RUNTIME):].strip()
            if runtime not in ("podman", "docker", "crictl"):
                raise CollectError(f"line {number}: unknown runtime {quote(runtime, 40)}")
            found.append((runtime, []))
        elif line.startswith(UNKNOWN):
            unknown[_reason(line[len(UNKNOWN):].split() or ["?"])] = None
        elif line == NONE:
            none = True
        elif found:
            found[-1][1].append(line)
        elif line.strip():
            raise CollectError(f"line {number}: output before any runtime: {quote(line, 60)}")
    if unknown:
        reasons = list(unknown)
        more = f"; and {len(reasons) - 3} more" if len(reasons) > 3 else ""
        raise CollectError("containers unknown: " + "; ".join(reasons[:3]) + more)
    if none and not found:
        raise NotApplicable("no container runtime state on this host (podman, docker, crictl)")
    if not found:
        raise CollectError("no runtime in the output (cut short?)")
    return [(runtime, "\n".join(body)) for runtime, body in found]
