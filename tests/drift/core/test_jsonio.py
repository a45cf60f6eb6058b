"""Bounded, strict JSON in; strict JSON out."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drift.core import jsonio
from drift.core.jsonio import JsonInputError
from tests.timing import best_cpu_time


@pytest.mark.parametrize("text, words", [
    ("[" * 100_000 + "]" * 100_000, "nested deeper than 64"),
    ("[" * 100_000, "nested deeper than 64"),
    ('{"a":' * 65 + "1" + "}" * 65, "nested deeper than 64"),
    ("9" * 5000, "5,000 digits"),
    ("-" + "9" * 41, "digits"),
    ("NaN", "NaN"), ("[Infinity]", "Infinity"), ("[-Infinity]", "Infinity"), ("1e999", "out of range"),
    ('{"a": 1', "Expecting"),
])
def test_refused_with_a_message(text: str, words: str) -> None:
    with pytest.raises(JsonInputError, match=words):
        jsonio.loads(text)


def test_within_bounds_is_plain_json() -> None:
    assert jsonio.loads("[" * 64 + "]" * 64) is not None
    assert jsonio.loads('["[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["]')[0][0] == "["
    assert jsonio.loads('{"n": 340282366920938463463374607431768211455}')["n"] == 2**128 - 1


@pytest.mark.parametrize("text, value", [
    (r'["\ud800"]', ["\ufffd"]),
    (r'["a\udfffb"]', ["a\ufffdb"]),
    (r'["\ud83d\ude00"]', ["\U0001F600"]),           # a real pair is one character
    (r'["\\ud800"]', ["\\ud800"]),                    # an escaped backslash, then text
    (r'{"\uDBFF": "\uD800\uD800"}', {"\ufffd": "\ufffd\ufffd"}),
])
def test_lone_surrogates_become_replacement_characters(text: str, value: object) -> None:
    got = jsonio.loads(text)
    assert got == value
    jsonio.dumps(got).encode("utf-8")


def test_dumps_is_strict() -> None:
    with pytest.raises(ValueError):
        jsonio.dumps({"x": float("nan")})


def _time(fn, arg) -> float:
    return best_cpu_time(lambda: fn(arg), runs=3)


@pytest.mark.parametrize("make", [
    lambda n: "[" * n + "]" * n,
    lambda n: json.dumps([{"a": [str(i), "[{"]} for i in range(n)]),
    lambda n: '["' + "\\ud800" * n + '"]',
    lambda n: '"' + "[" * n + '"',
])
def test_linear(make) -> None:
    def attempt(arg: str) -> None:
        with contextlib.suppress(JsonInputError):
            jsonio.loads(arg)
    small, big = make(20_000), make(200_000)
    assert _time(attempt, big) < 40 * max(_time(attempt, small), 1e-4), "super-linear"


JSON = st.recursive(st.none() | st.booleans() | st.integers(-2**127, 2**127) | st.text()
                    | st.floats(allow_nan=False, allow_infinity=False),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4))


@given(JSON)
def test_round_trip(value: object) -> None:
    assert jsonio.loads(jsonio.dumps(value)) == value


@given(st.text())
def test_any_text_is_a_value_or_a_clean_error(text: str) -> None:
    try:
        jsonio.dumps(jsonio.loads(text)).encode("utf-8")
    except JsonInputError as exc:
        assert exc.message


@pytest.mark.parametrize("data, risky", [
    (b'{"sha256": "9e123456e999e0001234"}', False),  # hex digests: letters and digits, not exponents
    (b'{"n": 1e999}', False),  # msgspec refuses a float out of range itself
    (b'{"n": ' + b"9" * 41 + b"}", True),
    (b'["' + b"\\ud800" + b'"]', True),
    (b'["' + b"\\\\" + b'"]', False),
    (b"[" * 65 + b"]" * 65, True),
    (b"[" * 64 + b"]" * 64, False),
])
def test_risky_flags_what_only_the_exact_reader_handles(data: bytes, risky: bool) -> None:
    assert jsonio.risky(data) is risky
