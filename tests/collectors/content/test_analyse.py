"""One opted-in file end to end through the files parser: odd content is a note, never a crash, and
nothing but opted-in, redacted content becomes a fact."""

from __future__ import annotations

import base64
import json
import re
import subprocess

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from collectors import files
from collectors.interface import CollectConfig, Parsed
from drift.core.errors import CollectError

KEY = b"k" * 32
CFG = CollectConfig(files=("/etc/app/*",), content=("/etc/app/*.ini", "/etc/app/*.json", "/etc/app/*.yaml",
                                                     "/etc/app/*.conf"), secret_key=KEY)
SHA = "0" * 64
IDS = "host web-1\naddr:eth0 10.0.2.11\n"


def output(path: str, data: bytes, header: str = "B") -> str:
    encoded = base64.encodebytes(data).decode() if header == "B" else ""
    return (f"I\0\0{IDS}\0F - {len(data)} 644 root root regular file\0{path}\0\0"
            f"{header}\0{path}\0{encoded}\0")


def facts(path: str, data: bytes, cfg: CollectConfig = CFG, header: str = "B") -> dict:
    parsed = files.parse(output(path, data, header), cfg)
    assert isinstance(parsed, Parsed)
    json.dumps(parsed.facts)  # storable
    return parsed.facts


@pytest.mark.parametrize(("name", "data", "note"), [
    ("bin.conf", b"\x7fELF\x00\x01\x02", "hash only: binary content"),
    ("latin.ini", b"name = caf\xe9\n", "hash only: not UTF-8 text (byte 10)"),
    ("bad.json", b'{"password": "hunter2hunter2", ', "hash only: JSON not readable: invalid JSON at line 1"),
    ("bad.yaml", b"password: hunter2hunter2\n  - x: [\n", "hash only: YAML not readable: invalid YAML at line"),
])
def test_odd_content_is_a_note_with_no_content(name: str, data: bytes, note: str) -> None:
    got = facts(f"/etc/app/{name}", data)
    meta = got[f"files/etc/app/{name}"]
    assert meta["content"].startswith(note) and meta["sha256"]
    assert "hunter2" not in json.dumps(got)
    assert not [k for k in got if "//" in k and not k.startswith("files//")]


def test_bom_crlf_duplicates_identity_and_secrets() -> None:
    data = "\ufeff[cache]\r\nttl = 300\r\nttl = 30\r\nnode = web-1\r\n[smtp]\r\npassword = hunter2hunter2\r\n"
    got = facts("/etc/app/s.ini", data.encode())
    assert got["files/etc/app/s.ini//[cache] ttl"] == "30"
    assert got["files/etc/app/s.ini//[cache] node"] == "{{host}}"
    assert got["files/etc/app/s.ini//[smtp] password"]["secret"] is True
    assert got["files/etc/app/s.ini"] == {"mode": "0644", "owner": "root", "group": "root", "type": "file",
                                          "content": "ini"}
    assert got["files//raw"]["/etc/app/s.ini"]["tokens"] == ["{{host}}"]
    assert "hunter2" not in json.dumps(got)


def test_ten_megabytes_of_content_parse() -> None:
    data = b"".join(b"line %d listen 10.0.2.11:%d;\n" % (i, i % 100) for i in range(330_000))
    assert len(data) > 10_000_000
    got = facts("/etc/app/big.conf", data, CollectConfig(files=CFG.files, content=CFG.content,
                                                          content_max_bytes=16 * 1024 * 1024, secret_key=KEY))
    lines = got["files/etc/app/big.conf//lines"]
    assert len(lines) == 330_000 and lines[0] == "line 0 listen {{addr:eth0}}:0;"


def test_over_the_cap_is_hash_only_with_a_note() -> None:
    got = facts("/etc/app/x.conf", b"", header="B over")
    assert got["files/etc/app/x.conf"]["content"] == "hash only: over the 256 KiB content limit"


def test_content_nobody_opted_into_is_dropped() -> None:
    got = facts("/etc/app/notes.txt", b"password = hunter2hunter2\n")
    assert not [k for k in got if k.startswith("files/etc/app/notes.txt//")]
    assert "hunter2" not in json.dumps(got)


def test_no_key_no_content_facts() -> None:
    with pytest.raises(CollectError, match="secret key"):
        files.parse(output("/etc/app/s.ini", b"a = 1\n"), CollectConfig(files=CFG.files, content=CFG.content))


def test_content_globs_are_exact_on_the_host_too(tmp_path) -> None:
    """A case pattern's `*` crosses `/`; the depth check keeps sub/deep.ini's content on the host."""
    (tmp_path / "sub").mkdir()
    for rel in ("top.ini", "sub/deep.ini", "sub/x.conf", "my app.ini"):
        (tmp_path / rel).write_text("password = hunter2hunter2\n")
    base = str(tmp_path)
    cfg = CollectConfig(files=(base + "/**",), content=(base + "/*.ini", base + "/**/x.conf"), secret_key=KEY)
    out = subprocess.run(["sh", "-c", files.command(cfg)], capture_output=True, check=True).stdout.decode()
    fields = out.split("\0")
    sent = {fields[i + 1] for i in range(0, len(fields) - 1, 3) if fields[i] == "B"}
    assert sent == {base + "/top.ini", base + "/my app.ini", base + "/sub/x.conf"}
    got = files.parse(out, cfg).facts  # type: ignore[union-attr]
    assert got[f"files{base}/top.ini//password"]["secret"] is True
    assert "hunter2" not in json.dumps(got)


_VALUE = st.text(st.characters(min_codepoint=33, max_codepoint=126, exclude_characters="#;\"'=:\\"), min_size=6,
                 max_size=40).filter(lambda v: v.lower() not in ("yes", "true", "false", "none", "null"))


@given(st.sampled_from(["password", "db_passwd", "apiToken", "client-secret", "PRIVATE_KEY", "aws_credentials"]),
       _VALUE, st.sampled_from(["s.ini", "s.env", "s.json", "s.yaml", "s.toml", "s.conf"]))
@settings(max_examples=150, deadline=None)
def test_a_value_under_a_secret_key_never_becomes_a_fact(key: str, value: str, name: str) -> None:
    # The path of a key file, and a ${VARIABLE} reference, are shown (collectors.content.secrets).
    assume(not (key == "PRIVATE_KEY" and value.startswith(("/", "~/", "./", "../", "file:"))))
    assume(not re.fullmatch(r"\$\{\w+\}|\$[A-Z_][A-Z0-9_]{2,}", value))
    quoted = json.dumps(value)
    text = {"s.ini": f"[x]\n{key} = {value}\n", "s.env": f"{key}={value}\n", "s.json": f'{{"{key}": {quoted}}}',
            "s.yaml": f"{key}: {quoted}\n", "s.toml": f"{key} = {quoted}\n", "s.conf": f"{key} {value}\n"}[name]
    got = facts(f"/etc/app/{name}", text.encode(),
                CollectConfig(files=("/etc/app/*",), content=("/etc/app/*",), secret_key=KEY))
    mine = [v for k, v in got.items() if k.startswith(f"files/etc/app/{name}//")]
    assert mine and value not in json.dumps(mine, ensure_ascii=False)


def test_no_base64_on_the_host_or_a_failed_read_is_a_note() -> None:
    got = facts("/etc/app/x.conf", b"", header="B none")
    assert got["files/etc/app/x.conf"]["content"] == "hash only: no base64 on the host to bring the content back"
    text = output("/etc/app/y.conf", b"a = 1\n").replace("YSA9IDEK\n", "YSA9!")  # base64 failed half-way
    meta = files.parse(text, CFG).facts["files/etc/app/y.conf"]  # type: ignore[union-attr]
    assert meta["content"] == "hash only: the content could not be read on the host"
    assert meta["error"].startswith("unreadable")


def test_without_base64_the_host_hashes_instead(tmp_path) -> None:
    (tmp_path / "a.ini").write_text("password = hunter2hunter2\n")
    cfg = CollectConfig(files=(str(tmp_path / "a.ini"),), content=(str(tmp_path / "a.ini"),), secret_key=KEY)
    script = files.command(cfg).replace("DRIFT_B64=$(command -v base64)", "DRIFT_B64=")
    out = subprocess.run(["sh", "-c", script], capture_output=True, check=True).stdout.decode()
    meta = files.parse(out, cfg).facts[f"files{tmp_path}/a.ini"]  # type: ignore[union-attr]
    assert meta["content"].startswith("hash only: no base64") and len(meta["sha256"]) == 64
    assert "hunter2" not in out


def test_scrub_renames_a_key_that_was_a_credential_and_counts_what_it_hid() -> None:
    from collectors.content.scrub import scrub
    from collectors.content.secrets import Redactor

    token = "ghp_" + "Ab1" * 12
    old = {f"files/etc/app/a.json//tokens.{token}": "admin", "files/etc/app/a.json//pool": "5",
           "files/etc/app/r.conf//lines": ["port 6379", "requirepass hunter2"], "packages/deb/x": "1"}
    new, n = scrub(old, Redactor(KEY))
    assert n == 2 and token not in json.dumps(new) and "hunter2" not in json.dumps(new)
    assert new["files/etc/app/a.json//pool"] == "5" and new["packages/deb/x"] == "1"
    assert scrub(new, Redactor(KEY)) == (new, 0)
