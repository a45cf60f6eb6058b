"""A container's command line is stored through the secret rules (found in review: a
`redis-server --requirepass X` container kept its password in the snapshot)."""

from __future__ import annotations

from collectors.content import secrets

ARGV = ["redis-server", "--requirepass", "hunter2x", "--masterauth=hunter2y", "--port", "6379",
        "--url=redis://:pw0rd@db/0", "DB_PASSWORD=abc123xyz", "--token-file", "/run/secrets/t"]


def test_secret_options_and_inline_secrets_are_hidden_and_the_rest_kept():
    for redactor in (secrets.Redactor(b"k" * 32), None):
        out = secrets.argv(ARGV, redactor)
        text = " ".join(out)
        assert not any(s in text for s in ("hunter2x", "hunter2y", "pw0rd", "abc123xyz")), out
        assert out[:2] == ["redis-server", "--requirepass"] and out[4:6] == ["--port", "6379"]
        assert out[-2:] == ["--token-file", "/run/secrets/t"]  # a path to a secret is no secret


def test_a_changed_secret_shows_as_a_change_only_with_a_key():
    keyed = secrets.Redactor(b"k" * 32)
    assert secrets.argv(["--requirepass", "a1b2c3d4"], keyed) != secrets.argv(["--requirepass", "z9y8x7w6"], keyed)
    assert secrets.argv(["--requirepass", "a1b2c3d4"], None) == secrets.argv(["--requirepass", "z9y8x7w6"], None)
