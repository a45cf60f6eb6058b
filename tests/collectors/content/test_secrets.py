"""Secrets: found by key name or by look, replaced by a keyed hash, equal stays equal."""

from __future__ import annotations

import pytest

from collectors.content.secrets import Redactor, looks_secret
from drift.core.errors import CollectError

R = Redactor(b"k" * 32, ("pin",))


@pytest.mark.parametrize("key", ["password", "db_password", "DB_PASSWD", "api_key", "apiKey", "client_secret",
                                 "[smtp] api_token", "HostKey", "private_key_pem", "aws.credentials", "sim_pin"])
def test_secret_keys(key: str) -> None:
    assert R.key_is_secret(key)
    value = R.value(key, "s3cret-value")
    assert value == {"secret": True, "hmac": R.digest("s3cret-value")}


@pytest.mark.parametrize("key", ["PubkeyAuthentication", "keepalive_timeout", "ttl_seconds", "host", "monkey_patch"])
def test_ordinary_keys(key: str) -> None:
    assert not R.key_is_secret(key)
    assert R.value(key, "300") == "300"


def test_a_switch_is_never_a_secret() -> None:
    assert R.value("PasswordAuthentication", "no") == "no"
    assert R.line("PasswordAuthentication no") == "PasswordAuthentication no"


def test_equal_secrets_compare_equal_and_the_key_matters() -> None:
    assert R.value("password", "a") == R.value("db.password", "a") != R.value("password", "b")
    assert Redactor(b"x" * 32).digest("a") != R.digest("a")


def test_credentials_inside_values_and_lines() -> None:
    dsn = R.value("dsn", "postgresql://app:Pa55word@db:5432/app")
    assert isinstance(dsn, str) and "Pa55word" not in dsn and dsn.startswith("postgresql://app:{{secret:")
    token = "Zx81Qm2LpR7vK4nW9yT3bH6cJ0dF5gS"
    assert R.value("header", token)["secret"] is True  # type: ignore[index]
    line = R.line(f'proxy_set_header Authorization "Bearer {token}";')
    assert token not in line and "{{secret:" in line
    pem = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----"
    assert "b3BlbnNzaC1rZXktdjEAAAAA" not in R.text(f"key:\n{pem}\nafter")
    # Names no list foresees ([collect] secret_keys adds them).
    assert R.line("vaultunseal hunter2hunter2") == "vaultunseal hunter2hunter2"
    assert Redactor(b"k" * 32, ("unseal",)).line("vaultunseal hunter2hunter2") == \
        "vaultunseal " + R.inline("hunter2hunter2")


@pytest.mark.parametrize("value", ["/usr/lib/x86_64-linux-gnu/libssl.so.3", "123e4567-e89b-12d3-a456-426614174000",
                                   "0123456789abcdef0123456789abcdef01234567", "java.util.logging.ConsoleHandler",
                                   "short", "server_names_hash_bucket_size"])
def test_ordinary_values_stay_readable(value: str) -> None:
    assert not looks_secret(value)


def test_no_key_no_content() -> None:
    with pytest.raises(CollectError, match="secret key"):
        Redactor(b"")
