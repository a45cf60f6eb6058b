"""Version ordering, checked on examples from each ecosystem's own documentation and test suites."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drift.versions import Change, compare, describe

# (manager, older, newer). Sources: Debian Policy 5.6.12 and dpkg's tests; rpm's rpmvercmp tests
# (tests/rpmvercmp.at); apk-tools' test/version.data; PEP 440's ordering section.
ORDERED = [
    ("deb", "1.0~rc1", "1.0"),
    ("deb", "1.0~~", "1.0~"),
    ("deb", "1.0", "1.0-1"),
    ("deb", "1.0-1", "1.0-1ubuntu1"),
    ("deb", "2.0", "1:0.1"),
    ("deb", "3.0.19-1~deb12u2", "3.0.19-1~deb12u9"),
    ("deb", "3.0.19-1~deb12u9", "3.0.19-1"),
    ("deb", "1.2.3", "1.2.10"),
    ("deb", "1.0a", "1.0b"),
    ("deb", "1.0+b1", "1.0.1"),
    ("rpm", "1.0", "1.0.1"),
    ("rpm", "1.0", "2.0"),
    ("rpm", "2.0.1", "2.0.1a"),
    ("rpm", "5.5p1", "5.5p2"),
    ("rpm", "5.5p1", "5.5p10"),
    ("rpm", "10xyz", "10.1xyz"),
    ("rpm", "xyz10", "xyz10.1"),
    ("rpm", "a", "1"),
    ("rpm", "1.0~rc1", "1.0"),
    ("rpm", "1.0~rc1", "1.0~rc2"),
    ("rpm", "1.0~rc1~git123", "1.0~rc1"),
    ("rpm", "1.0", "1.0^"),
    ("rpm", "1.0^", "1.0^git1"),
    ("rpm", "1.0^git1", "1.01"),
    ("rpm", "1.0^20160101", "1.0.1"),
    ("rpm", "1.0~rc1", "1.0^git1"),
    ("rpm", "1.0-1", "1.0-2"),
    ("rpm", "2.0-1", "1:1.0-1"),
    ("apk", "1.0", "1.0.1"),
    ("apk", "1.0_alpha1", "1.0_beta1"),
    ("apk", "1.0_beta1", "1.0_pre1"),
    ("apk", "1.0_rc1", "1.0"),
    ("apk", "1.0", "1.0_p1"),
    ("apk", "1.0", "1.0a"),
    ("apk", "1.0-r0", "1.0-r1"),
    ("apk", "1.0-r9", "1.0-r10"),
    ("apk", "2.8.0-r3", "2.9.0-r0"),
    ("pip", "1.0.dev0", "1.0a1"),
    ("pip", "1.0a1", "1.0b1"),
    ("pip", "1.0rc1", "1.0"),
    ("pip", "1.0", "1.0.post1"),
    ("pip", "1.0", "1.0+local"),
    ("pip", "1.9", "1.10"),
    ("pip", "2.0", "1!1.0"),
]
EQUAL = [("deb", "1.0", "0:1.0"), ("rpm", "1.0", "1.0"), ("rpm", "1.0", "1_0"), ("rpm", "1.01", "1.1"),
         ("pip", "1.0", "1.0.0"), ("pip", "1.0", "v1.0"), ("apk", "1.0", "1.0-r0")]


@pytest.mark.parametrize("manager,older,newer", ORDERED)
def test_ordering_both_ways(manager, older, newer):
    assert compare(manager, older, newer) == -1
    assert compare(manager, newer, older) == 1


@pytest.mark.parametrize("manager,a,b", EQUAL)
def test_equal_versions(manager, a, b):
    assert compare(manager, a, b) == 0


@pytest.mark.parametrize("manager,old,new,change", [
    ("deb", "3.0.19-1~deb12u2", "3.0.19-1~deb12u9", Change("upgrade", "revision")),
    ("deb", "3.0.19-1", "3.0.18-1", Change("downgrade", "version")),
    ("deb", "2.0", "1:1.0", Change("upgrade", "epoch")),
    ("rpm", "1.0-1.el9", "1.0-2.el9", Change("upgrade", "revision")),
    ("rpm", "1:1.0-1", "1.1-1", Change("downgrade", "epoch")),
    ("apk", "1.0-r1", "1.0-r0", Change("downgrade", "revision")),
    ("apk", "1.0-r1", "1.1-r0", Change("upgrade", "version")),
    ("pip", "1.2.0", "1.3.0", Change("upgrade", "version")),
    ("pip", "1.2.0", "1.2.0.post1", Change("upgrade", "revision")),
    ("pip", "1.2.0", "1!1.0", Change("upgrade", "epoch")),
    ("pip", "1.2", "1.2.0", Change("same", "equal")),
    ("pip", "not a version", "1.0", Change("unknown", "unknown")),
])
def test_describe(manager, old, new, change):
    assert describe(manager, old, new) == change


def test_unknown_manager_and_garbage_fall_back_to_string_order():
    assert compare("nix", "a", "b") == -1
    assert compare("pip", "zz", "1.0") == 1
    assert compare("apk", "1.0!!", "1.0!!") == 0


versions = st.text(alphabet="0123456789.~^:-+_abcrpz", max_size=12)


@given(st.sampled_from(["deb", "rpm", "apk", "pip", "other"]), versions, versions)
def test_compare_is_antisymmetric_and_never_raises(manager, a, b):
    assert compare(manager, a, b) == -compare(manager, b, a)
    assert compare(manager, a, a) == 0
    describe(manager, a, b)
