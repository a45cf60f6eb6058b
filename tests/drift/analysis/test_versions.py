"""Version ordering, checked against each ecosystem's own documentation and test suites.

Every ordered pair is checked both ways, compare(a, b) == -compare(b, a).
"""

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drift.analysis.versions import Change, compare, describe, rpmvercmp


def table(manager: str, text: str) -> list[tuple[str, str, str, int]]:
    """Rows of `a b result` (apt's and rpm's layout) or `a op b` (apk's layout)."""
    rows = []
    for line in text.strip().splitlines():
        a, mid, b = line.split("#")[0].split()
        if mid in "<=>":
            rows.append((manager, a, b, "<=>".index(mid) - 1))
        else:
            rows.append((manager, a, mid, int(b)))
    return rows


# apt's test/libapt/versions.lst (also checked there against dpkg --compare-versions).
DEB = table("deb", """
7.6p2-4 7.6-0 1
1.0.3-3 1.0-1 1
1.3 1.2.2-2 1
1:0.4 10.3 1
1:1.25-4 1:1.25-8 -1
0:1.18.36 1.18.36 0
0:1.18.36 1.18.35 1
9:1.18.36:5.4-20 10:0.5.1-22 -1
9:1.18.36:5.4-20 9:1.18.36:5.5-1 -1
1.18.36-0.17.35-18 1.18.36-19 1
1:1.2.13-3 1:1.2.13-3.1 -1
2.0.7pre1-4 2.0.7r-1 -1
0-pre 0-pree -1
1.1.6r2-2 1.1.6r-1 1
2.6b2-1 2.6b-2 1
98.1p5-1 98.1-pre2-b6-2 -1
1:3.0.5-2 1:3.0.5.1 -1
3.0~rc1-1 3.0-1 -1
1.0 1.0-0 0
1.0 1.0-0+b1 -1
1.0 1.0-0~ 1
0:0-0-0 0-0 1
0 00 0
57:1.2.3abYZ+~-4-5 57:1.2.3abYZ+~-4-5 0
009ab5 9ab5 0
0.5.0~git 0.5.0~git2 -1
2a 21 -1
1.2a+~bCd3 1.2a++ -1
1.2a+~bCd3 1.2a+~ 1
5:2 304:2 -1
1:2:123 1:12:3 -1
1.2-5 1.2-3-5 -1
5.10.0 5.005 1
3a9.8 3.10.2 -1
3a9.8 3~10 1
1.4+OOo3.0.0~ 1.4+OOo3.0.0-4 -1
2.4.7-1 2.4.7-z -1
1.002-1+b2 1.00 1
""") + table("deb", """
1.0~~ < 1.0~~a
1.0~~a < 1.0~
1.0~ < 1.0
1.0 < 1.0a
1.0~rc1 < 1.0
1:0.1 > 2.0
1.0-1 < 1.0-1ubuntu1
""")  # the last block: Debian Policy 5.6.12 ("~~, ~~a, ~, the empty part, a") and examples

# rpm's tests/rpmvercmp.at (reverse duplicates dropped: we check both ways anyway).
RPM = table("rpm", """
1.0 2.0 -1
2.0 2.0.1 -1
2.0.1a 2.0.1 1
5.5p1 5.5p2 -1
5.5p1 5.5p10 -1
10xyz 10.1xyz -1
xyz10 xyz10.1 -1
xyz.4 8 -1
xyz.4 2 -1
5.5p2 5.6p1 -1
5.6p1 6.5p1 -1
6.0.rc1 6.0 1
10b2 10a1 1
1.0a 1.0aa -1
10.0001 10.1 0
10.0001 10.0039 -1
4.999.9 5.0 -1
20101121 20101122 -1
2.0 2_0 0
a+ a_ 0
+a _a 0
_+ +_ 0
+ _ 0
1.0~rc1 1.0 -1
1.0~rc1 1.0~rc2 -1
1.0~rc1~git123 1.0~rc1 -1
1.0^ 1.0 1
1.0^git1 1.0 1
1.0^git1 1.0^git2 -1
1.0^git1 1.01 -1
1.0^20160101 1.0.1 -1
1.0^20160102 1.0^20160101^git1 1
1.0~rc1^git1 1.0~rc1 1
1.0^git1 1.0^git1~pre 1
""")

# apk-tools' test/version.data (a sample; the last row is from its newer unit-test data).
APK = table("apk", """
2.34 > 0.1.0_alpha
23_foo > 4_beta
1.0 < 1.0bc
0.1.0_alpha2 > 0.1.0_alpha
1.1 > 1.1_alpha1
1.3_alpha2 < 1.3_alpha3
0.8_beta1 < 0.8_beta2
2.3.0b-r1 < 2.3.0b-r2
0.12.3 > 0.12
3.1_p16 < 3.1_p17
1.06-r6 < 006
1.2.2-r1 > 1.2.2
2.5.1-r8 < 2.5.1a-r1
3.0.0-r2 < 021109-r3
1.0.0 < 10-r1
20060720 > 3.0.20060720
0.10.0 < 0.10.1_rc1
2.1_pre20 < 2.1_pre26
1.2.07.8 < 1.2.12.04
1.07-r1 < 1.07.5
1.3.5-r10 > 1.3.5-r8
4.5_p1-r1 > 4.5_p1
0.9.8c-r1 < 0.9.8d
1.7 < 1.7b
1.8.5 < 1.8.5_p2
2.9.11_pre20051101-r3 > 2.9.11_pre20051101
0.9.28.1 < 087-r1
2.12r-r4 < 2.12r-r5
7.0.17 < 7.0.174
1.3_pre1-r1 < 1.3.2
1.0_p10-r0 > 1.0_p9-r0
0.1.0_alpha_pre2 < 0.1.0_alpha
1.0.0_pre20191002222144-r0 < 1.0.0_pre20210530193627-r0
6.0_pre1 < 6.0
6.0_p1 > 6.0
0.2.0-r1 = 0.2.0-r1
8.2.0015 < 8.2.002
""")

# PEP 440, "Summary of permitted suffixes and relative ordering" and the epoch example, in order.
PEP440 = ["1.dev0", "1.0.dev456", "1.0a1", "1.0a2.dev456", "1.0a12.dev456", "1.0a12", "1.0b1.dev456", "1.0b2", "1.0b2.post345.dev456", "1.0b2.post345", "1.0rc1.dev456", "1.0rc1", "1.0", "1.0+abc.5", "1.0+abc.7", "1.0+5", "1.0.post456.dev34", "1.0.post456", "1.0.15", "1.1.dev1"]
PIP = [("pip", a, b, -1) for a, b in itertools.pairwise(PEP440)] + table("pip", """
2013.10 < 2014.04
2014.04 < 1!1.0
1!1.0 < 1!2.0
1.0 = 1.0.0
1.1RC1 = 1.1rc1
1.0-1 = 1.0.post1
v1.0 = 1.0
1.0alpha1 = 1.0a1
1.9 < 1.10
""")


@pytest.mark.parametrize("manager,a,b,expected", DEB + RPM + APK + PIP)
def test_documented_ordering_both_ways(manager, a, b, expected):
    assert compare(manager, a, b) == expected
    assert compare(manager, b, a) == -expected


def test_rpm_epoch_and_release():
    assert compare("rpm", "1:1.0-1", "2.0-1") == 1
    assert compare("rpm", "1.0-1.el9", "1.0-2.el9") == -1
    assert compare("rpm", "0:1.0-1", "1.0-1") == 0
    assert compare("rpm", "1.0", "1.0-3") == 0  # rpm skips the release when one side has none
    assert rpmvercmp("1.0~rc1", "1.0") == -1


@pytest.mark.parametrize("manager,old,new,change", [
    ("deb", "3.0.19-1~deb12u2", "3.0.19-1~deb12u9", Change("upgrade", "revision")),
    ("deb", "1.0-1", "1.0-1ubuntu1", Change("upgrade", "revision")),
    ("deb", "3.0.19-1", "3.0.18-1", Change("downgrade", "version")),
    ("deb", "1.0~rc1-1", "1.0-1", Change("upgrade", "version")),
    ("deb", "2.0", "1:2.0", Change("upgrade", "epoch")),
    ("deb", "1:2.0", "2.0", Change("downgrade", "epoch")),
    ("deb", "1.0", "1.0-0", Change("same", "equal")),
    ("rpm", "1.0-1.el9", "1.0-2.el9", Change("upgrade", "revision")),
    ("rpm", "1:1.0-1", "1.1-1", Change("downgrade", "epoch")),
    ("rpm", "1.0-5", "1.0^git1-1", Change("upgrade", "version")),
    ("rpm", "1.0", "1.0-3", Change("same", "equal")),
    ("apk", "1.0-r1", "1.0-r0", Change("downgrade", "revision")),
    ("apk", "1.0", "1.0-r0", Change("upgrade", "revision")),
    ("apk", "1.0-r1", "1.1-r0", Change("upgrade", "version")),
    ("apk", "1.0_rc1-r5", "1.0-r0", Change("upgrade", "version")),
    ("pip", "1.2.0", "1.3.0", Change("upgrade", "version")),
    ("pip", "1.0rc1", "1.0", Change("upgrade", "version")),
    ("pip", "1.2.0", "1.2.0.post1", Change("upgrade", "revision")),
    ("pip", "1.0.dev1", "1.0", Change("upgrade", "revision")),
    ("pip", "1.0+local.2", "1.0+local.1", Change("downgrade", "revision")),
    ("pip", "1.2.0", "1!1.0", Change("upgrade", "epoch")),
    ("pip", "1.2", "1.2.0", Change("same", "equal")),
    ("pip", "not a version", "1.0", Change("unknown", "version")),
    ("apk", "1.0bc", "1.0", Change("unknown", "version")),
    ("rpm", "1.1.α", "1.1.β", Change("unknown", "version")),
    ("nix", "a", "b", Change("unknown", "version")),
    ("nix", "a", "a", Change("same", "equal")),
])
def test_describe(manager, old, new, change):
    assert describe(manager, old, new) == change


def test_fallbacks_are_plain_string_order():
    assert compare("nix", "a", "b") == -1
    assert compare("pip", "zz", "1.0") == 1
    assert compare("deb", "1.0\n", "1.0") == 1  # python-debian alone would call these equal
    assert compare("apk", "1.0bc", "1.0bd") == -1  # apk ties them; text breaks the tie
    assert compare("rpm", "", "1.0") == -1


@pytest.mark.parametrize("manager", ["deb", "rpm", "apk", "pip"])
def test_huge_numbers_do_not_raise(manager):
    # int() refuses more than 4300 digits; a version string from a host must not crash us.
    big = "9" * 5000
    assert compare(manager, big, "1") == 1
    assert compare(manager, "1", big) == -1
    describe(manager, big, "1")


MANAGERS = st.sampled_from(["deb", "rpm", "apk", "pip", "nix"])
VERSIONS = st.one_of(
    st.text(alphabet="0123456789.~^:-+_abcrpz!", max_size=14),
    st.from_regex(r"\A([0-9]{1,3}:)?[0-9]{1,3}(\.[0-9]{1,3}){0,3}[a-z~^+]?[0-9]{0,2}(-[0-9a-z.~]{1,5})?\Z"),
    st.from_regex(r"\A[0-9]{1,3}(\.[0-9]{1,3}){0,3}[a-z]?(_(alpha|beta|pre|rc|p|git)[0-9]{0,2}){0,2}"
                  r"(~[0-9a-f]{1,4})?(-r[0-9]{1,2})?\Z"),
    st.from_regex(r"\A([0-9]!)?[0-9]{1,3}(\.[0-9]{1,3}){0,2}((a|b|rc)[0-9])?(\.post[0-9])?(\.dev[0-9])?"
                  r"(\+[a-z0-9]{1,3})?\Z"),
    st.text(max_size=10),
)


@settings(max_examples=600)
@given(MANAGERS, VERSIONS, VERSIONS)
def test_compare_is_antisymmetric_reflexive_and_never_raises(manager, a, b):
    assert compare(manager, a, b) == -compare(manager, b, a)
    assert compare(manager, a, a) == 0
    change = describe(manager, a, b)
    if change.direction != "unknown":
        expected = {-1: "upgrade", 0: "same", 1: "downgrade"}[compare(manager, a, b)]
        assert change.direction == expected
        assert (change.how == "equal") == (expected == "same")
