"""Inputs for test_odd_input: big outputs of distinct entries, and renames to odd names, per collector."""

from __future__ import annotations

import json
from collections.abc import Callable

from collectors.interface import CollectConfig

E = CollectConfig()
SHA = "a" * 64


def _addr_json(count: int = 1) -> str:
    return json.dumps([{"ifname": f"eth{i}", "addr_info": [{"local": f"10.{i}.0.5", "prefixlen": 24}]}
                       for i in range(count)])


def _ss(n: int) -> str:
    return "".join(f"tcp LISTEN 0 128 10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}:{1 + i % 60000} 0.0.0.0:* "
                   f'users:(("d {i}",pid={i},fd=3))\n' for i in range(n))


def _json_lines(items: list[object]) -> str:
    """A JSON list with one item per line (json.dumps with indent is pure Python and slow)."""
    return "[\n" + ",\n".join(json.dumps(item) for item in items) + "\n]"


def _nft(n: int) -> str:
    # Templates, not json.dumps per item: building the input must not cost more than parsing it.
    rule = ('{"rule": {"family": "inet", "table": "t", "chain": "c", "expr": [{"match": {"op": "==", '
            '"left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": %d}}, {"accept": null}]}}')
    nset = '{"set": {"family": "inet", "table": "t", "name": "s%d", "type": "ipv4_addr", "elem": ["10.0.%d.1"]}}'
    items = ['{"chain": {"family": "inet", "table": "t", "name": "c"}}']
    items += [rule % i for i in range(n // 2)] + [nset % (i, i % 256) for i in range(n // 2)]
    return '{"nftables": [\n' + ",\n".join(items) + "\n]}"


def _inspect(n: int) -> list[object]:
    return [{"Id": f"{i:064x}", "Name": f"/c{i}", "Image": f"sha256:{i:064x}", "State": {"Pid": i + 1},
             "Config": {"Image": "acme-app:1", "Env": [f"V{i}=x", "PATH=/bin"],
                        "Labels": {"com.docker.compose.service": f"s{i % 100}"}}} for i in range(n)]


def _container_packages(n: int) -> str:
    return ("@@runtime podman\n" + json.dumps(_inspect(1)) + "\n@@packages\n@@container " + f"{0:064x}\n@@dpkg\n"
            + "".join(f"Package: p{i}\nStatus: install ok installed\nVersion: 1.{i}\nArchitecture: all\n"
                      for i in range(n // 4)))


def _interfaces(n: int) -> str:
    link = ('{"ifname": "veth%d", "mtu": 1500, "operstate": "UP", "address": "02:00:00:00:00:01", '
            '"addr_info": [{"local": "10.%d.%d.1", "prefixlen": 24}]}')
    return "[\n" + ",\n".join(link % (i, i >> 8 & 255, i & 255) for i in range(n)) + "\n]"


BIG: dict[str, Callable[[int], tuple[str, CollectConfig]]] = {
    "dpkg": lambda n: ("".join(f"ii \tpkg-{i}\t1.{i}-1\tamd64\n" for i in range(n)), E),
    "rpm": lambda n: ("".join(f"pkg-{i}\t{i % 3}\t1.{i}\t1.el9\tx86_64\n" for i in range(n)), E),
    "apk": lambda n: ("".join(f"P:pkg-{i}\nV:1.{i}-r0\nA:x86_64\n" for i in range(n // 3)), E),
    "pip": lambda n: ("@@python /usr/bin/python3\n" + "".join(f"dist-{i}\t1.{i}\n" for i in range(n)),
                      CollectConfig(python=("/usr/bin/python3",))),
    "files": lambda n: ("".join(f"F {SHA} {i} 644 root root regular file\0/srv/d{i % 97}/f {i}.conf\0\0"
                                for i in range(n)), CollectConfig(files=("/srv/**/*.conf",))),
    "iptables": lambda n: ("*filter\n:INPUT ACCEPT [0:0]\n" + "".join(
        f":c{i} - [0:0]\n-A c{i} -s 10.{i >> 8 & 255}.{i & 255}.0/24 -j ACCEPT\n" for i in range(n // 2))
        + "COMMIT\n", E),
    "ip6tables": lambda n: ("*filter\n" + "".join(f":c{i} DROP [0:0]\n-A c{i} -p tcp --dport {i % 65535} -j ACCEPT\n"
                                                  for i in range(n // 2)) + "COMMIT\n", E),
    "nft": lambda n: (_nft(n), E),
    "ipset": lambda n: ("".join(f"create s{i} hash:net family inet hashsize 1024 maxelem 65536\n"
                                f"add s{i} 10.{i >> 8 & 255}.{i & 255}.0/24 timeout 30\n" for i in range(n // 2)), E),
    "interfaces": lambda n: (_interfaces(n), E),
    "routes": lambda n: (_addr_json(4) + "\n@@next\n" + _json_lines(
        [{"dst": f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}/32", "gateway": f"10.{i % 4}.0.1",
          "dev": f"eth{i % 4}"} for i in range(n)]) + "\n@@next\n[]\n", E),
    "listen": lambda n: (_addr_json() + "\n@@next\n" + _ss(n), E),
    "hosts": lambda n: ("web-01\n@@hosts\n" + "".join(f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255} h{i} h{i}.ex\n"
                                                      for i in range(n)), E),
    "dns": lambda n: ("".join(f"nameserver 10.0.{i >> 8 & 255}.{i & 255}\noptions o{i}\n" for i in range(n // 2)), E),
    "os": lambda n: ("kernel=6.1\narch=x86_64\nhostname=h\n" + "".join(f"os.X_{i}=v{i}\n" for i in range(n))
                     + "os.ID=debian\n", E),
    "sysctl": lambda n: ("".join(f"/proc/sys/net/k{i}/v:{i}\n" for i in range(n)), CollectConfig(sysctl=("net.*",))),
    "containers": lambda n: ("@@runtime docker\n" + json.dumps(_inspect(n // 4)), E),
    "container-packages": lambda n: (_container_packages(n), E),
    "systemd": lambda n: ("".join(f"u{i}.service enabled enabled\n" for i in range(n // 2)) + "@@units\n"
                          + "".join(f"u{i}.service loaded active running U {i}\n" for i in range(n // 2)), E),
}

# (text in the golden output, its replacement): names with spaces where the format can carry them,
# unicode everywhere. The replacement must survive into the facts.
NAMES: dict[str, list[tuple[str, str]]] = {
    "dpkg": [("\tadduser\t", "\tadd user ☃\t")],
    "rpm": [("bash", "bäsh shell")],
    "apk": [("busybox", "büsy box")],
    "pip": [("my venv", "mÿ vénv ☃")],
    "files": [("with space.conf", "wïth späce ☃.conf")],
    # The richest iptables fixture is netavark's: a comment with spaces, and a chain its rules jump to.
    "iptables": [("netavark portfw masq mark", "netavark pörtfw ☃ mark"), ("NETAVARK_FORWARD", "NETAVARK_FÖRWARD")],
    "ip6tables": [("ssh from the lab", "ssh für das Lab ☃")],
    "nft": [("web from allowed nets", "wéb from ☃ nets"), ("allowed_v4", "allowéd v4")],
    "ipset": [("blocklist", "blöcklist☃")],
    "interfaces": [("vl.100", "vl ☃ 100")],
    "routes": [("vl.100", "vl.1ö0")],
    "listen": [("acme worker", "acme wörker ☃")],
    "hosts": [("cache.acme.example", "cäche.acme.example")],
    "dns": [("corp.acme.example", "cörp.acme.example")],
    "os": [("Alpine Linux v3.19", "Alpïne Linux ☃ v3.19")],
    "sysctl": [("vl.100", "vlü 100")],
    "containers": [("acme-worker", "acmé wörker ☃")],
    "container-packages": [("busybox", "büsy box ☃")],
    "systemd": [("getty@tty1.service", "getty@ttÿ1.service")],
}
