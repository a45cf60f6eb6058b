"""What the lab builds: the hosts, their per-host content, and the drift injected into prod.

Everything here is data plus pure functions, so tests can read EXPECTED without a lab.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

SUBNETS = {"staging": 1, "prod": 2, "mirror": 3, "broken": 4, "bench": 5, "access": 6, "faults": 7}


@dataclass(frozen=True)
class HostSpec:
    name: str
    env: str
    role: str
    index: int  # last octet of the address, and part of interface names
    kind: str = "ssh"  # ssh | down (nothing answers) | silent (accepts TCP, never speaks SSH)

    @property
    def address(self) -> str:
        return f"10.213.{SUBNETS[self.env]}.{self.index}"

    @property
    def gateway(self) -> str:
        return f"10.213.{SUBNETS[self.env]}.1"

    @property
    def netns(self) -> str:
        return f"drlab-{self.name}"


def _env(env: str, prefix: str) -> list[HostSpec]:
    return [HostSpec(f"{prefix}-web-1", env, "web", 11), HostSpec(f"{prefix}-web-2", env, "web", 12),
            *([HostSpec(f"{prefix}-web-3", env, "web", 13)] if env == "prod" else []),
            HostSpec(f"{prefix}-db-1", env, "db", 21)]


# -- access paths and faults (issue 11; tests/lab/access.py builds them) ------------------------
# Their own environments, never in the lab's default inventory, so the drift injected above is
# all that `compare staging prod` sees.
BASTION = HostSpec("acc-bastion", "access", "bastion", 5)  # sshd's default MaxStartups 10:30:100
RPM_HOST = HostSpec("acc-rpm-1", "access", "db", 31)  # a real rpm database in /var/lib/rpm
INNER = HostSpec("acc-inner-1", "access", "web", 41)  # reachable only through the bastion
DIES = HostSpec("flt-dies-1", "faults", "web", 51)  # dpkg-query hangs half-way when asked to
SLOW = HostSpec("flt-slow-1", "faults", "web", 52)  # root's login shell sleeps when asked to
ACCESS: tuple[HostSpec, ...] = (BASTION, RPM_HOST, INNER, DIES, SLOW)
# Login users on ACCESS hosts (besides root): name -> uid. deploy may run the firewall reads
# through sudo without a password; nosudo may run nothing through sudo.
LOGIN_USERS = {"deploy": 2901, "nosudo": 2902}
SUDO_NOPASSWD = ("/usr/sbin/iptables-save", "/usr/sbin/ip6tables-save", "/usr/sbin/nft -j list ruleset")
# -----------------------------------------------------------------------------------------------

FLEET: tuple[HostSpec, ...] = (
    *_env("staging", "stg"),
    *_env("prod", "prd"),
    *_env("mirror", "mir"),
    HostSpec("broken-down", "broken", "web", 9, kind="down"),
    HostSpec("broken-silent", "broken", "web", 8, kind="silent"),
    *ACCESS,
)

LIVE = tuple(h for h in FLEET if h.kind == "ssh" and h.env in ("staging", "prod", "mirror"))


def bench_fleet(n: int) -> tuple[HostSpec, ...]:
    """n alike web hosts for the benchmark (addresses 10.213.5.10 and up)."""
    if not 1 <= n <= 240:
        raise ValueError("the benchmark fleet holds 1 to 240 hosts")
    return tuple(HostSpec(f"bench-{i:03d}", "bench", "web", 10 + i) for i in range(n))


@dataclass(frozen=True)
class Drift:
    """One injected difference, as `drift compare staging prod` must report it."""

    category: str
    path: str  # fact path, as the collectors key it
    kind: str  # only_left | only_right | changed | outlier
    role: str
    hosts: tuple[str, ...] = field(default=())  # the hosts that carry it (for outliers: the odd ones)


VENV_PYTHON = "venv/bin/python"  # relative to the lab directory

EXPECTED: tuple[Drift, ...] = (
    Drift("packages", "packages/deb/libssl3", "changed", "web"),
    Drift("packages", "packages/deb/libssl3", "changed", "db"),
    Drift("packages", "packages/deb/acme-agent", "only_right", "web"),
    Drift("packages", "packages/deb/tzdata", "outlier", "web", ("prd-web-3",)),
    Drift("files", "files/etc/acme/app.conf", "outlier", "web", ("prd-web-2",)),
    Drift("firewall", "firewall/iptables/filter/INPUT", "changed", "web"),
    Drift("firewall", "firewall/nft/inet acme/input", "changed", "web"),
    Drift("topology", "topology/listen/tcp/*:9187", "only_right", "web"),
    Drift("system", "system/sysctl/net.core.somaxconn", "changed", "db"),
    Drift("topology", "topology/routes/v4/10.99.0.0/16", "only_right", "web"),
    Drift("packages", "packages/pip:{lab}/venv/bin/python/acme-lib", "changed", "web"),
    Drift("packages", "packages/pip:{lab}/venv/bin/python/acme-lib", "changed", "db"),
)


def is_prod_web(h: HostSpec) -> bool:
    return h.env == "prod" and h.role == "web"


def dpkg_status(base: str, h: HostSpec) -> str:
    """This machine's dpkg status, edited for host h."""
    text = base
    if h.env == "prod":
        text = _set_version(text, "libssl3", lambda v: v + "+lab1")
        text += _STANZA_AGENT if h.role == "web" else ""
    if h.name == "prd-web-3":
        text = _set_version(text, "tzdata", lambda v: "2024a-0+deb12u1")
    return text


_STANZA_AGENT = """
Package: acme-agent
Status: install ok installed
Priority: optional
Section: admin
Installed-Size: 120
Maintainer: Acme Ops <ops@acme.invalid>
Architecture: all
Version: 2.4.1-1
Description: Acme monitoring agent (lab)
"""


def _set_version(text: str, package: str, change) -> str:  # type: ignore[no-untyped-def]
    pattern = re.compile(rf"(^Package: {re.escape(package)}\n(?:(?!\n\n).)*?^Version: )([^\n]+)", re.M | re.S)
    new, count = pattern.subn(lambda m: m.group(1) + change(m.group(2)), text, count=1)
    if count != 1:
        raise RuntimeError(f"lab: package {package} is not in this machine's dpkg status")
    return new


def app_conf(h: HostSpec) -> str:
    workers = 16 if h.name == "prd-web-2" else 8  # edited by hand on one prod host
    return f"[server]\nworkers = {workers}\nlisten = 0.0.0.0:8080\n"


def etc_hosts(h: HostSpec) -> str:
    return f"127.0.0.1\tlocalhost\n127.0.1.1\t{h.name}\n::1\tlocalhost ip6-localhost\n"


RESOLV = "nameserver 10.213.0.53\nsearch lab.internal\noptions timeout:1\n"


def acme_lib_version(h: HostSpec) -> str:
    return "1.3.0" if h.env == "prod" else "1.2.0"


DISTRIBUTIONS = {"requests-lite": "2.31.0", "Acme_Utils": "0.9.1"}


def somaxconn(h: HostSpec) -> int:
    return 1024 if h.name == "prd-db-1" else 4096


def listen_ports(h: HostSpec) -> list[int]:
    ports = [8080] if h.role == "web" else [5432]
    if is_prod_web(h):
        ports.append(9187)
    return ports


def iptables_rules(h: HostSpec) -> str:
    extra = "-A INPUT -p tcp -m tcp --dport 9187 -j ACCEPT\n" if is_prod_web(h) else ""
    return (
        "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"
        "-A INPUT -i lo -j ACCEPT\n"
        "-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n"
        '-A INPUT -p tcp -m tcp --dport 22 -m comment --comment "ssh from the lab" -j ACCEPT\n'
        f"{extra}COMMIT\n"
    )


def nft_rules(h: HostSpec) -> str:
    extra = '    tcp dport 9187 ct state new accept comment "metrics exporter"\n' if is_prod_web(h) else ""
    return (
        "table inet acme {\n  chain input {\n    type filter hook input priority 10; policy accept;\n"
        '    tcp dport { 8080, 5432 } accept\n'
        f"{extra}  }}\n}}\n"
    )


def extra_routes(h: HostSpec) -> list[str]:
    return [f"10.99.0.0/16 via {h.gateway}"] if is_prod_web(h) else []
