"""Plain values: real gateways from the host's own addresses, `old → new`, sizes and modes."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from drift.analysis import plain
from tests.drift.factory import snap


def _host(addresses, iface="eth0"):
    path = f"topology/interfaces/{iface}/addresses"
    return snap("h", "prod", "web", {path: addresses}, identity=(path,))


def test_a_relative_gateway_is_shown_as_the_real_address():
    h = _host(["10.0.2.10/24", "fd00:2::10/64"])
    assert plain.gateway("eth0 net+1", "v4", h) == "10.0.2.1"
    assert plain.gateway("eth0 net+1", "v6", h) == "fd00:2::1"
    route = plain.real("topology/routes/v4/default", {"dev": "eth0", "via": "eth0 net+254", "metric": 100}, h)
    assert plain.route_text(route) == "via 10.0.2.254 dev eth0 metric 100"


def test_a_gateway_stays_relative_when_the_addresses_are_unknown_or_ambiguous():
    assert plain.gateway("eth0 net+1", "v4", snap("h", "prod", "web", {})) == "eth0 net+1"
    assert plain.gateway("eth0 net+1", "v4", _host(["10.0.2.10/24", "10.0.3.10/24"])) == "eth0 net+1"
    assert plain.gateway("192.0.2.1", "v4", _host(["10.0.2.10/24"])) == "192.0.2.1"
    assert plain.gateway("eth0 net+300", "v4", _host(["10.0.2.10/24"])) == "eth0 net+300"


def test_multipath_next_hops_name_their_real_gateways():
    h = _host(["10.0.2.10/24"])
    route = plain.real("topology/routes/v4/default", {"nexthops": ["via eth0 net+2 weight 1"]}, h)
    assert route["nexthops"] == ["via 10.0.2.2 dev eth0 weight 1"]
    assert plain.route_text({"type": "blackhole"}) == "blackhole"


def test_files_show_size_mode_owner_and_content():
    v = {"sha256": "ab" * 32, "size": 1834, "mode": "0644", "owner": "root", "group": "adm", "type": "file"}
    assert plain.text("files/etc/x", v) == "1.8 KiB, 0644 root:adm, sha256 abababababab"
    assert plain.text("files/etc/l", {"type": "symlink", "target": "/etc/y", "sha256": None}) == "symlink → /etc/y"
    mode_only = plain.contrast("files/etc/x", v, {**v, "mode": "0600"})
    assert mode_only == ("0644 root:adm", "0600 root:adm")
    assert plain.size(512) == "512 B" and plain.size(5 * 1024 ** 3) == "5.0 GiB"


def test_diff_lines_read_like_a_person_wrote_them():
    assert plain.diff("packages/deb/x", {"version": "1.2.0", "arch": "all"}, {"version": "1.3.0", "arch": "all"}) \
        == ["version: 1.2.0 → 1.3.0"]
    assert plain.diff("topology/dns/nameservers", ["10.0.0.2"], ["10.0.0.2", "10.0.0.3"]) == ["+ 10.0.0.3"]
    assert plain.diff("x/y", {"a": {"b": 1}}, {"a": {"b": 2}, "c": True}) == ["a.b: 1 → 2", "c: added yes"]
    assert plain.diff("x/y", ["a", "b"], ["b", "a"]) == ["same items, another order"]
    assert plain.diff("files/f", {"size": 10, "sha256": "a" * 64}, {"size": 2048, "sha256": "b" * 64}) \
        == ["sha256: aaaaaaaaaaaa → bbbbbbbbbbbb", "size: 10 B → 2.0 KiB"]
    assert plain.diff("x/y", None, {"a": 1}) == ["absent → a 1"]


words = st.text(alphabet="abxyz019 .-:/", max_size=10)
json_values = st.recursive(st.none() | st.booleans() | st.integers() | words,
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(words, inner,
                                                                                        max_size=4), max_leaves=20)


@settings(max_examples=200, deadline=None)
@given(json_values, json_values)
def test_diff_never_leaks_reprs_and_is_empty_only_for_equal_values(a, b):
    lines = plain.diff("system/x", a, b)
    assert (lines == []) == (a == b)
    for line in lines:
        assert "['" not in line and "{'" not in line and "None" not in line and '"' not in line


def test_a_connected_route_shows_its_real_network():
    h = _host(["10.0.2.10/24"])
    route = plain.real("topology/routes/v4/connected eth0 /24", {"dev": "eth0", "protocol": "kernel"}, h)
    assert plain.route_text(route) == "10.0.2.0/24 dev eth0 proto kernel"
    unknown = plain.real("topology/routes/v4/connected eth1 /24", {"dev": "eth1"}, h)
    assert plain.route_text(unknown) == "dev eth1"
