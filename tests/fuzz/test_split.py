"""The section splitter, fuzzed: whatever the host prints, and wherever the output is cut, split()
returns exactly the sections that were complete, each byte for byte, and never raises."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drift.collect.script import Script, Section, split

pytestmark = pytest.mark.fuzz
MARK = "@@DRIFT-00112233445566778899aabb"
NAME = st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=8)
# Host bytes may hold anything but the run's random marker; they do hold look-alikes.
BODY = st.lists(st.one_of(st.binary(max_size=30), st.sampled_from(
    [b"\n", b"@@DRIFT-0 BEGIN x\n", b" END ", b"\nENDERR", b"BEGIN", b"\r\n", b"\x00", MARK[:12].encode()])),
    max_size=8).map(b"".join)


def frame(name: str, stdout: bytes, status: int | None, stderr: bytes) -> bytes:
    """Exactly what the composed script prints for one section."""
    m, n = MARK.encode(), name.encode()
    code = b"unsupported" if status is None else str(status).encode()
    return (m + b" BEGIN " + n + b"\n" + stdout + b"\n" + m + b" END " + n + b" " + code + b"\n"
            + m + b" ERR " + n + b"\n" + stderr + b"\n" + m + b" ENDERR " + n + b"\n")


SECTIONS = st.lists(st.tuples(NAME, BODY, st.one_of(st.none(), st.integers(0, 255)), BODY),
                    max_size=6, unique_by=lambda s: s[0])


@given(SECTIONS, st.binary(max_size=40))
def test_complete_output_gives_every_section_exactly(sections: list, noise: bytes) -> None:
    out = noise.replace(MARK.encode(), b"") + b"\n" + b"".join(frame(*s) for s in sections)
    got = split(Script(MARK, "", ()), out)
    assert set(got) == {s[0] for s in sections}
    for name, stdout, status, stderr in sections:
        assert got[name] == Section(name, stdout, status, stderr.decode("utf-8", "replace").strip())


@given(SECTIONS, st.floats(0, 1), st.binary(max_size=20))
def test_cut_or_spliced_output_loses_only_what_was_cut(sections: list, where: float, junk: bytes) -> None:
    full = b"".join(frame(*s) for s in sections)
    at = int(where * len(full))
    out = full[:at] + junk.replace(MARK.encode(), b"")
    got = split(Script(MARK, "", ()), out)
    whole = {s[0]: s for s in sections}
    for name, section in got.items():
        _, stdout, status, _ = whole[name]
        assert section.stdout == stdout and section.status == status
