"""Format parsers on real files (golden fixtures) and odd input: never a crash, never content in a note."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collectors.content import formats
from collectors.content.formats import Unreadable

FIXTURES = sorted((Path(__file__).parent / "fixtures").glob("*.json"))


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_golden(path: Path) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    fmt = formats.format_of(doc["path"], doc["text"])
    assert fmt == doc["format"]
    if fmt == "lines":
        assert formats.significant_lines(doc["text"]) == doc["lines"]
    else:
        assert formats.entries(fmt, doc["text"]) == doc["entries"]


def test_formats_are_chosen_by_name_then_by_content() -> None:
    assert formats.format_of("/srv/.env", "A=1") == "env"
    assert formats.format_of("/srv/app.yml", "a: 1") == "yaml"
    assert formats.format_of("/etc/app.conf", "[s]\nk = v\n") == "ini"
    assert formats.format_of("/etc/nginx/nginx.conf", "server {\n listen 80;\n}\n") == "lines"
    assert formats.format_of("/etc/crontab", "* * * * * root true\n") == "lines"


def test_ini_sections_continuations_duplicates_crlf_and_comments() -> None:
    text = "; head\r\n[cache]\r\nttl = 300\r\nttl = 30\r\nhosts = a\r\n  b\r\n# c\r\n[smtp]\r\nhost: mail\r\n"
    assert formats.ini(text) == {"[cache] ttl": "30", "[cache] hosts": "a\nb", "[smtp] host": "mail"}


def test_env_and_properties() -> None:
    assert formats.entries("env", 'export A="x y"\nB=\'z\'\n# no\n') == {"A": "x y", "B": "z"}
    assert formats.entries("properties", "! comment\na.b = 1\nc:2\nd 3\n") == {"a.b": "1", "c": "2", "d": "3"}


def test_structured_formats_flatten_to_paths() -> None:
    assert formats.entries("json", '{"a": {"b": [1, {"c": null}]}, "d": true, "e": {}}') == \
        {"a.b[0]": "1", "a.b[1].c": "null", "d": "true", "e": "{}"}
    assert formats.entries("toml", '[s]\nk = 1979-05-27\nl = [1.5]\n') == {"s.k": "1979-05-27", "s.l[0]": "1.5"}
    assert formats.entries("yaml", "---\na: 1\n---\nb: [x]\n") == {"[doc 1].a": "1", "[doc 2].b[0]": "x"}
    assert formats.entries("json", '{"a": 1, "a": 2}') == {"a": "2"}  # duplicate keys: the last counts


SECRET = "hunter2-never-in-a-note"


@pytest.mark.parametrize(("fmt", "text", "note"), [
    ("json", '{"password": "' + SECRET + '",\n', "invalid JSON at line"),
    ("yaml", "a: 1\npassword: " + SECRET + "\n  - : [\n", "invalid YAML at line"),
    ("yaml", "a: !!python/object/apply:os.system ['" + SECRET + "']\n", "invalid YAML"),
    ("toml", "a = 1\npassword = " + SECRET + "\n", "invalid TOML at line 2"),
    ("toml", "a = 1\na = 2\n", "invalid TOML"),
    ("ini", "[s]\njust words " + SECRET + "\n", "line 2: not a key = value line"),
    ("json", "[" * 100_000, "JSON nested too deep"),
])
def test_unreadable_input_is_a_note_that_names_a_line_and_never_the_text(fmt: str, text: str, note: str) -> None:
    with pytest.raises(Unreadable) as caught:
        formats.entries(fmt, text)
    assert note in str(caught.value)
    assert SECRET not in str(caught.value)


def test_a_yaml_alias_bomb_stops_at_the_key_cap() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(8))
    with pytest.raises(Unreadable, match="more than"):
        formats.entries("yaml", bomb)


def test_ten_megabytes_is_linear() -> None:
    line = "key_{} = value {}\n"
    big = "".join(line.format(i % 5000, i) for i in range(400_000))  # ~10 MB
    assert len(big) > 9_000_000
    start = time.thread_time()  # CPU time: a busy neighbour on the machine cannot stretch it
    assert len(formats.entries("env", big)) == 5000
    assert len(formats.significant_lines(big)) == 400_000
    assert time.thread_time() - start < 20  # seconds, on a loaded 2-core CI machine


@given(st.text(max_size=300))
@settings(max_examples=200, deadline=None)
def test_any_text_parses_or_is_unreadable(text: str) -> None:
    for fmt in ("ini", "env", "properties", "json", "toml", "yaml"):
        try:
            result = formats.entries(fmt, text)
        except Unreadable:
            continue
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in result.items())
    formats.format_of("/x.conf", text)
    formats.significant_lines(text)


def test_a_directive_with_an_equals_sign_is_a_line_not_an_ini_key() -> None:
    # ldap.conf: `BINDPW pa=ss` would otherwise be key `BINDPW pa` with value `ss`.
    assert formats.format_of("/etc/ldap/ldap.conf", "BASE dc=example,dc=com\nBINDPW pa=ss\n") == "lines"
    assert formats.format_of("/etc/rabbitmq/rabbitmq.conf", "default_pass = x\nlisteners.tcp.default = 5672\n") == "ini"
