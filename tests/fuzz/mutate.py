"""Mutations of real seeds (the golden fixtures): the shapes a hostile host, a cut transfer or a
hand-edited file produce. Shared by every fuzz test."""

from __future__ import annotations

from hypothesis import strategies as st

# Text that breaks parsers in practice: deep nesting, huge or non-finite numbers, lone surrogate
# escapes, control and bidi characters, separators, markers, CRLF, NUL, very long runs.
NASTY = [
    "[" * 2000, "{\"a\":" * 300, "]", "}", "1e999", "-1e999", "NaN", "Infinity", "9" * 5000, "-0", "0.0",
    "\\ud800", "\\udfff", "\\ud83d\\ude00", "\\\\", "\"", "'", "\x00", "\x1b[2J", "\x9b", "\u202e", "\u2028",
    "\r\n", "\n", "\t", " ", ":", "=", ",", "/", "@@next", "@@hosts", "@@units", "@@absent x", "@@python /p",
    "COMMIT", "*filter", ":INPUT ACCEPT [0:0]", "-A INPUT", "P:", "V:", "A:", "F - 1 644 r r x", "os.ID=x",
    "/proc/sys/x:1", "null", "true", "[]", "{}", "\"dst\":", "\"ifname\":", "users:((\"", "x" * 3000,
]

EDIT = st.one_of(
    st.tuples(st.just("cut"), st.floats(0, 1)),
    st.tuples(st.just("insert"), st.floats(0, 1), st.one_of(st.sampled_from(NASTY), st.text(max_size=20))),
    st.tuples(st.just("delete"), st.floats(0, 1), st.integers(1, 200)),
    st.tuples(st.just("repeat"), st.floats(0, 1), st.integers(1, 200)),
)


def apply(text: str, edits: list[tuple]) -> str:  # type: ignore[type-arg]
    for edit in edits:
        at = int(edit[1] * len(text))
        if edit[0] == "cut":
            text = text[:at]
        elif edit[0] == "insert":
            text = text[:at] + edit[2] + text[at:]
        elif edit[0] == "delete":
            text = text[:at] + text[at + edit[2]:]
        else:
            text = text[:at] + text[at:at + edit[2]] * 3 + text[at:]
    return text


def mutated(seeds: list[str]) -> st.SearchStrategy[str]:
    """A seed, edited a few times; sometimes two seeds spliced."""
    one = st.builds(apply, st.sampled_from(seeds), st.lists(EDIT, max_size=6))
    two = st.builds(lambda a, b, k: a[: int(k * len(a))] + b[int(k * len(b)):],
                    st.sampled_from(seeds), st.sampled_from(seeds), st.floats(0, 1))
    return st.one_of(one, one, two)
