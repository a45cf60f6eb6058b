import base64
import hashlib
import hmac

from drift.collect.known_hosts import KnownHosts, parse

KEY = "AAAAC3NzaC1lZDI1NTE5AAAAIDeBcRurh5T/yD2YB0nlBvJLPzZcSZDaT29kzIeSpL0y"


def hashed(token: str) -> str:
    salt = b"0123456789abcdefghij"
    digest = hmac.new(salt, token.encode(), hashlib.sha1).digest()
    return f"|1|{base64.b64encode(salt).decode()}|{base64.b64encode(digest).decode()}"


def test_plain_bracketed_wildcard_negated_and_hashed(tmp_path):
    f = tmp_path / "known_hosts"
    f.write_text(
        "# comment\n\n"
        f"[10.0.0.1]:2222 ssh-ed25519 {KEY}\n"
        f"web-*.example,!web-9.example ssh-ed25519 {KEY}\n"
        f"{hashed('db.example')} ssh-ed25519 {KEY}\n"
        f"@cert-authority *.example ssh-ed25519 {KEY}\n"
        f"@revoked bad.example ssh-ed25519 {KEY}\n"
    )
    k = KnownHosts(f)
    assert k.lookup("10.0.0.1", 2222) and not k.lookup("10.0.0.1", 22)
    assert k.lookup("web-1.example", 22) and not k.lookup("web-9.example", 22)
    assert k.lookup("db.example", 22) and not k.lookup("db2.example", 22)
    assert k.lookup("bad.example", 22)[0].revoked


def test_accept_new_appends_on_its_own_line(tmp_path):
    f = tmp_path / "known_hosts"
    f.write_text(f"a ssh-ed25519 {KEY}")  # no trailing newline
    k = KnownHosts(f)
    k.add("10.0.0.2", 2200, "ssh-ed25519", KEY)
    assert len(parse(f.read_text())) == 2
    assert KnownHosts(f).lookup("10.0.0.2", 2200)


def test_missing_file_is_empty(tmp_path):
    assert KnownHosts(tmp_path / "nope").lookup("x", 22) == []
