"""Values as an engineer writes them: `via 10.0.2.1 dev eth0 metric 100`, `1.2 KiB, 0644 root:root`,
`version: 1.2.0 → 1.3.0`. Never a Python repr, never JSON punctuation.

Comparison works on normalised facts (a gateway is `eth0 net+1` so that two environments addressed
differently compare equal); what a person reads is the real value on a real host, rebuilt here from
that host's own addresses, which the snapshot keeps as identity facts.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections import Counter
from typing import Any

from drift.model.snapshot import Snapshot

ARROW = "→"
_RELATIVE = re.compile(r"^(\S+) net\+(\d+)$")
_CONNECTED = re.compile(r"^(?:connected|link-local) (\S+) /(\d+)$")


def scalar(value: Any) -> str:
    if value is None:
        return "absent"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return value if value else "(empty)"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, list):
        return ", ".join(scalar(x) for x in value) if value else "none"
    if isinstance(value, dict):
        if value.get("secret") is True:
            return "(value hidden)"  # the same words everywhere; the keyed hash stays in the JSON values
        return ", ".join(f"{k} {scalar(v)}" for k, v in sorted(value.items()) if v not in (None, [], ""))
    return json.dumps(value, default=str)


def size(n: Any) -> str:
    if not isinstance(n, int):
        return scalar(n)
    if n < 1024:
        return f"{n} B"
    value = float(n)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        value /= 1024
        if value < 1024 or unit == "TiB":
            break
    return f"{value:.1f} {unit}"


def file_text(v: dict[str, Any]) -> str:
    kind = v.get("type", "file")
    owner = f"{v.get('owner')}:{v.get('group')}" if v.get("owner") is not None else ""
    perms = " ".join(x for x in (str(v.get("mode") or ""), owner) if x)
    if kind == "symlink":
        return f"symlink {ARROW} {v.get('target')}"
    if kind != "file":
        return f"{kind} {perms}".strip()
    sha = v.get("sha256")
    content = f"sha256 {sha[:12]}" if isinstance(sha, str) else "unreadable" if "sha256" in v else ""
    return ", ".join(x for x in (size(v["size"]) if "size" in v else "", perms, content) if x)


def contrast(path: str, a: Any, b: Any) -> tuple[str, str]:
    """Two values of one fact, each told by what sets it apart: for two files that differ only in
    mode, `0600 root:root` against `0644 root:root`, not two full descriptions."""
    if (path.startswith("files/") and isinstance(a, dict) and isinstance(b, dict)
            and a.get("type", "file") == b.get("type", "file") == "file"):
        keep = {k for k in ("size", "mode", "owner", "group", "sha256") if a.get(k) != b.get(k)}
        if keep & {"owner", "group", "mode"}:
            keep |= {"mode", "owner", "group"}
        if "sha256" in keep:
            keep.add("size")
        return (file_text({k: v for k, v in a.items() if k in keep or k == "type"}),
                file_text({k: v for k, v in b.items() if k in keep or k == "type"}))
    if (path.startswith("containers/") and path.endswith("/image") and isinstance(a, dict) and isinstance(b, dict)
            and "ref" in a and "ref" in b and a["ref"] != b["ref"]):
        return image_text(a, digest=False), image_text(b, digest=False)  # the tags tell them apart
    return text(path, a), text(path, b)


def route_text(v: dict[str, Any]) -> str:
    """In `ip route` order: [type] via GW dev DEV proto P scope S metric M; multipath next hops after."""
    words = [str(v["network"])] if v.get("network") else []
    words += [str(v["type"])] if v.get("type") not in (None, "unicast") else []
    for key, label in (("via", "via"), ("dev", "dev"), ("protocol", "proto"), ("scope", "scope"),
                       ("metric", "metric")):
        if v.get(key) is not None and not (key == "dev" and str(v.get("via", "")).startswith(f"{v[key]} net+")):
            words.append(f"{label} {v[key]}")
    words += [f"nexthop {hop}" for hop in v.get("nexthops") or []]
    return " ".join(words)


def listen_text(v: dict[str, Any]) -> str:
    families = "/".join(str(f) for f in v.get("families") or [])
    return f"{v.get('process') or 'unknown process'}" + (f" ({families})" if families else "")


def in_container(path: str) -> bool:
    """containers/<service>/packages/<manager>/<name>: a package inside a container's image."""
    parts = path.split("/")
    return len(parts) == 5 and parts[0] == "containers" and parts[2] == "packages"


def image_text(v: dict[str, Any], digest: bool = True) -> str:
    """`acme-app:2.4.1@sha256:3e0858a87165`: the reference, and the image's digest cut to 12 digits."""
    sha = str(v.get("digest") or "")
    return f"{v.get('ref')}@{sha[:19]}" if digest and sha else str(v.get("ref"))


def text(path: str, value: Any) -> str:
    """One value of fact `path`, in words."""
    if isinstance(value, dict) and path.startswith("containers/"):
        if "varies" in value and isinstance(value["varies"], list):
            return "replicas differ: " + "; ".join(text(path, v) for v in value["varies"])
        if path.endswith("/image") and "ref" in value:
            return image_text(value)
        if in_container(path) and "version" in value:
            return str(value["version"])
    if isinstance(value, dict):
        if path.startswith("files/") and ("sha256" in value or "type" in value):
            return file_text(value)
        if path.startswith("topology/routes/"):
            return route_text(value)
        if path.startswith("topology/listen/"):
            return listen_text(value)
        if path.startswith("packages/") and "version" in value:
            return str(value["version"])
    return scalar(value)


def real(path: str, value: Any, snap: Snapshot | None) -> Any:
    """The value as `snap` has it: relative gateways made real again from its own addresses."""
    if snap is None or not path.startswith("topology/routes/") or not isinstance(value, dict):
        return value
    family = path.split("/")[2] if path.count("/") >= 2 else ""
    out = dict(value)
    connected = _CONNECTED.match(path.split("/", 3)[-1])
    if connected:  # `connected eth0 /24` on a host whose eth0 is 10.0.2.10/24 is 10.0.2.0/24
        nets = {str(n) for n in _networks(snap, connected.group(1), family) if n.prefixlen == int(connected.group(2))}
        if len(nets) == 1:
            out = {"network": nets.pop(), **out}
    if isinstance(out.get("via"), str):
        out["via"] = gateway(out["via"], family, snap)
    if isinstance(out.get("nexthops"), list):
        out["nexthops"] = [re.sub(r"via (\S+ net\+\d+)", lambda m: f"via {gateway(m.group(1), family, snap)}"
                                  + f" dev {m.group(1).split()[0]}", str(h)) for h in out["nexthops"]]
    return out


def gateway(via: str, family: str, snap: Snapshot) -> str:
    """`eth0 net+1` on a host whose eth0 is 10.0.2.10/24 is 10.0.2.1; kept relative when the
    host's addresses are unknown or say two things."""
    m = _RELATIVE.match(via)
    if not m:
        return via
    iface, offset = m.group(1), int(m.group(2))
    found = {str(net.network_address + offset) for net in _networks(snap, iface, family) if offset < net.num_addresses}
    return found.pop() if len(found) == 1 else via


def _networks(snap: Snapshot, iface: str, family: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """The subnets of `iface` on `snap`, from its interface addresses (identity facts)."""
    out = []
    for result in snap.collectors.values():
        addresses = result.facts.get(f"topology/interfaces/{iface}/addresses") if result.status == "ok" else None
        for a in addresses if isinstance(addresses, list) else ():
            try:
                net = ipaddress.ip_interface(str(a)).network
            except ValueError:
                continue
            if family in ("", f"v{net.version}"):
                out.append(net)
    return out


def diff(path: str, old: Any, new: Any, where: str = "") -> list[str]:
    """What changed inside a value, one line per change: `mode: 0644 → 0600`, `nameservers: + 10.0.0.3`."""
    label = f"{where}: " if where else ""
    if old == new:
        return []
    if isinstance(old, dict) and isinstance(new, dict) and not _atomic(path, old, new):
        lines: list[str] = []
        for key in sorted(set(old) | set(new), key=str):
            sub = f"{where}.{key}" if where else str(key)
            if key not in old:
                lines.append(f"{sub}: added {_field(path, key, new[key])}")
            elif key not in new:
                lines.append(f"{sub}: removed {_field(path, key, old[key])}")
            else:
                lines += diff(path, old[key], new[key], sub) if isinstance(old[key], (dict, list)) else \
                    ([f"{sub}: {_field(path, key, old[key])} {ARROW} {_field(path, key, new[key])}"]
                     if old[key] != new[key] else [])
        return lines
    if isinstance(old, list) and isinstance(new, list):
        o, n = Counter(map(_key, old)), Counter(map(_key, new))
        parts = [f"+ {x}" for x in sorted((n - o).elements())] + [f"- {x}" for x in sorted((o - n).elements())]
        return [f"{label}{'; '.join(parts) if parts else 'same items, another order'}"]
    if isinstance(old, dict) or isinstance(new, dict) or old is None or new is None:
        return [f"{label}{text(path, old)} {ARROW} {text(path, new)}"]
    return [f"{label}{scalar(old)} {ARROW} {scalar(new)}"]


def _atomic(path: str, old: dict[str, Any], new: dict[str, Any]) -> bool:
    return old.get("secret") is True or new.get("secret") is True


def _field(path: str, key: Any, value: Any) -> str:
    if path.startswith("files/") and key == "size":
        return size(value)
    if path.startswith("files/") and key == "sha256" and isinstance(value, str):
        return value[:12]
    return scalar(value)


def _key(x: Any) -> str:
    return x if isinstance(x, str) else scalar(x)
