"""What the lab builds: the hosts, their per-host content, and the drift injected into prod.

Everything here is data plus pure functions, so tests can read EXPECTED without a lab.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

SUBNETS = {"staging": 1, "prod": 2, "mirror": 3, "broken": 4, "bench": 5, "access": 6, "faults": 7}


@dataclass(frozen=True)
class HostSpec:
    name: str
    env: str
    role: str
    index: int  # last octet of the address, and part of interface names
    kind: str = "ssh"  # ssh | down (nothing answers) | silent (accepts TCP, never speaks SSH)
    roles: tuple[str, ...] = ()  # several roles on this host (role is the first); empty: (role,)

    @property
    def all_roles(self) -> tuple[str, ...]:
        return self.roles or (self.role,)

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
SUDO_NOPASSWD = ("/usr/sbin/iptables-save", "/usr/sbin/ip6tables-save", "/usr/sbin/nft -j list ruleset",
                 "/usr/sbin/ipset save")
# -----------------------------------------------------------------------------------------------

FLEET: tuple[HostSpec, ...] = (
    *_env("staging", "stg"),
    *_env("prod", "prd"),
    *_env("mirror", "mir"),
    HostSpec("broken-down", "broken", "web", 9, kind="down"),
    HostSpec("broken-silent", "broken", "web", 8, kind="silent"),
    *ACCESS,
)

# --- reach (issue 13): a worker role. Staging (and mirror, built like staging) runs it on a web
# host; prod gives it its own host, and prod's db admits 5432 only from the web hosts' block, so
# worker → db:5432 is admitted in staging and refused in prod.
SHARED_WORKER = ("stg-web-1", "mir-web-1")
FLEET = (*(replace(h, roles=(h.role, "worker")) if h.name in SHARED_WORKER else h for h in FLEET),
         HostSpec("prd-worker-1", "prod", "worker", 31))
PRD_DB_ADMITS = "10.213.2.8/29"  # prd-web-1..3 (.11-.13), not prd-worker-1 (.31)
UDP_ECHO = 8125  # a UDP port the web hosts answer on, so reach is checked over UDP too


def udp_ports(h: HostSpec) -> list[int]:
    return [UDP_ECHO] if "web" in h.all_roles else []
# --- end reach


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


# --- reach (issue 13): what the worker role and prd-db-1's firewall add to `compare staging prod`
EXPECTED += (
    Drift("packages", "packages/deb/libssl3", "changed", "worker"),
    Drift("packages", "packages/pip:{lab}/venv/bin/python/acme-lib", "changed", "worker"),
    Drift("firewall", "firewall/iptables/filter/INPUT", "changed", "db"),  # -s PRD_DB_ADMITS --dport 5432 ACCEPT
    Drift("firewall", "firewall/iptables/filter/INPUT", "changed", "db"),  # its policy, ACCEPT -> DROP
    Drift("topology", "topology/reach/worker/db/tcp/5432", "changed", "worker"),
    Drift("topology", "topology/reach/*/web/tcp/9187", "only_right", "web"),
    Drift("topology", "topology/layout/web+worker", "only_left", "web"),
)
# --- end reach


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
    # The line for the host's own address and FQDN differs on every host by nature (issue 12).
    return (f"127.0.0.1\tlocalhost\n127.0.1.1\t{h.name}\n{h.address}\t{h.name}.lab.internal {h.name}\n"
            "::1\tlocalhost ip6-localhost\n")


RESOLV = "nameserver 10.213.0.53\nsearch lab.internal\noptions timeout:1\n"


def acme_lib_version(h: HostSpec) -> str:
    return "1.3.0" if h.env == "prod" else "1.2.0"


DISTRIBUTIONS = {"requests-lite": "2.31.0", "Acme_Utils": "0.9.1"}


def somaxconn(h: HostSpec) -> int:
    return 1024 if h.name == "prd-db-1" else 4096


def listen_ports(h: HostSpec) -> list[int]:
    ports = [8080] if h.role == "web" else [5432] if h.role == "db" else []
    if is_prod_web(h):
        ports.append(9187)
    return ports


def iptables_rules(h: HostSpec) -> str:
    extra = "-A INPUT -p tcp -m tcp --dport 9187 -j ACCEPT\n" if is_prod_web(h) else ""
    if h.name == "prd-db-1":  # reach: only the web hosts may reach the database
        extra = f"-A INPUT -s {PRD_DB_ADMITS} -p tcp -m tcp --dport 5432 -j ACCEPT\n"
    policy = "DROP" if h.name == "prd-db-1" else "ACCEPT"
    return (
        f"*filter\n:INPUT {policy} [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"
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


# -- file content (issue 12): per-host lines that are not drift, keys that are, planted secrets ----
# Every planted secret starts with PLANTED, so one grep over every artefact proves none leaked.
PLANTED = "LabPlanted"
SECRETS = {
    "smtp_staging": "LabPlanted-smtp-token-stg-4Kq9",
    "smtp_prod": "LabPlanted-smtp-token-prd-7Zx2",
    "db_password": "LabPlanted-db-pass-91xZ",
    "dsn_password": "LabPlantedDsnPw55",
    "bearer": "LabPlantedQ7mZ2xK9vR4tW8yN3pL6sD1fH5jB0c",
    # Issue 25: formats whose credentials no key word names (equal on every host: no finding).
    "redis_pass": "LabPlanted-redis-req",
    "redis_master": "LabPlanted-redis-mst",
    "redis_acl": "LabPlanted-redis-acl",
    "snmp_community": "LabPlanted-snmp-ro",
    "snmp_com2sec": "LabPlanted-snmp-c2s",
    "haproxy_stats": "LabPlanted-hap-stats",
}
CONTENT_FILES = ("/etc/acme/settings.ini", "/etc/acme/site.conf", "/etc/acme/redis.conf", "/etc/acme/snmpd.conf")


def redis_conf(h: HostSpec) -> str:
    return (f"bind 127.0.0.1 -::1\nport 6379\nrequirepass {SECRETS['redis_pass']}\n"
            f"masterauth {SECRETS['redis_master']}\nuser worker on >{SECRETS['redis_acl']} ~cached:* +get\n")


def snmpd_conf(h: HostSpec) -> str:
    return (f"sysLocation lab rack\nrocommunity {SECRETS['snmp_community']} default -V systemonly\n"
            f"com2sec local localhost {SECRETS['snmp_com2sec']}\n"
            f"# haproxy-style, in the same file\nstats auth admin:{SECRETS['haproxy_stats']}\n")


def settings_ini(h: HostSpec) -> str:
    token = SECRETS["smtp_prod"] if h.env == "prod" else SECRETS["smtp_staging"]
    return (
        "# acme settings\n[cache]\n"
        f"ttl_seconds = {30 if h.env == 'prod' else 300}\n"
        f"max_entries = {2048 if h.name == 'prd-web-1' else 1024}\n"
        f"node = {h.name}\nbind = {h.address}:6379\n"
        f"[smtp]\nhost = smtp.lab.internal\napi_token = {token}\n"
        f"[db]\npassword = {SECRETS['db_password']}\n"
        f"dsn = postgresql://app:{SECRETS['dsn_password']}@db.lab.internal/app\n"
    )


def site_conf(h: HostSpec) -> str:
    extra = "    client_max_body_size 64m;\n" if is_prod_web(h) else ""
    return (
        "# nginx-like site, rendered per host\nserver {\n"
        f"    listen {h.address}:80;\n    server_name {h.name}.lab.internal {h.name};\n"
        f'    proxy_set_header Authorization "Bearer {SECRETS["bearer"]}";\n'
        f"{extra}}}\n"
    )


CONTENT_EXPECTED: tuple[Drift, ...] = (
    Drift("files", "files/etc/acme/settings.ini//[cache] ttl_seconds", "changed", "web"),
    Drift("files", "files/etc/acme/settings.ini//[cache] ttl_seconds", "changed", "db"),
    Drift("files", "files/etc/acme/settings.ini//[cache] ttl_seconds", "changed", "worker"),  # prd-worker-1 too
    Drift("files", "files/etc/acme/settings.ini//[cache] max_entries", "outlier", "web", ("prd-web-1",)),
    Drift("files", "files/etc/acme/settings.ini//[smtp] api_token", "changed", "web"),
    Drift("files", "files/etc/acme/settings.ini//[smtp] api_token", "changed", "db"),
    Drift("files", "files/etc/acme/settings.ini//[smtp] api_token", "changed", "worker"),
    Drift("files", "files/etc/acme/site.conf//lines", "changed", "web"),
)
EXPECTED = EXPECTED + CONTENT_EXPECTED
