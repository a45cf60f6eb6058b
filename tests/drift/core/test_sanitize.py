"""Text that reaches a terminal: escape sequences, controls, bidi overrides and lone surrogates go,
line breaks fold in names. The quick check for clean text must never let any of them through."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from drift.core.sanitize import clean, name

_HOSTILE = "ab \t\n\r\x1b[31m\x1b]0;x\x07\x1b\\\x85\u2028\u2029\u202e\u2066\ud800é€\x00\x7f\x9f"


def _clean_every_way(text: str) -> str:  # the substitutions alone, without the quick check
    text = re.sub(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]", "", text)
    text = re.sub(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", "", text)
    return re.sub(r"[\ud800-\udfff]", "\ufffd", text)


@given(st.text(alphabet=st.sampled_from(_HOSTILE), max_size=16) | st.text(max_size=16))
def test_the_quick_check_agrees_with_the_substitutions(text):
    assert clean(text) == _clean_every_way(text)
    assert name(text) == re.sub(r"[\t\n\r\u2028\u2029\x85]+", " ", _clean_every_way(text))


def test_clean_text_is_returned_as_it_is():
    text = "prd-web-3 has libssl3 3.0.19-1~deb12u9; its 2 web peers in prod have 3.0.19-1~deb12u2 é€"
    assert clean(text) is text and name(text) is text


def test_examples():
    assert name("a\x1b[2Jb\nc\u202ed") == "ab cd"
    assert clean("tab\tand\nnewline\x07") == "tab\tand\nnewline"
