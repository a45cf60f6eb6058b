"""The secret registry: every entry's documented example is hidden, and what only names or
points at a secret (a key file's path, nginx's proxy_pass, `key_mgmt`) stays readable."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from collectors.content import rules
from collectors.content.secrets import INLINE, Redactor, is_secret
from tests.collectors.test_linear import assert_linear

R = Redactor(b"k" * 32)


@pytest.mark.parametrize("rule", rules.RULES, ids=lambda r: r.name)
def test_every_example_is_hidden(rule: rules.Rule) -> None:
    path = "/home/u/" + (rule.files[0].replace("*", "x") if rule.files else "app.conf")
    assert rule.source.startswith(("https://", "http://")) and rule.secret in rule.example
    hidden = "\n".join(R.lines(rule.example, path))
    assert rule.secret not in hidden and INLINE.search(hidden), hidden
    assert R.lines(hidden, path) == hidden.split("\n")  # hiding twice changes nothing


@pytest.mark.parametrize(("key", "value"), [
    ("requirepass", "foobared"), ("masterauth", "m4ster"), ("default_pass", "guest2"), ("BINDPW", "s3cret"),
    ("psk", '"secret passphrase"'), ("auths.https://index.docker.io/v1/.auth", "dXNlcjpwYXNz"),
    ("//registry.npmjs.org/:_authToken", "abc"), ("pass", "hunter2"), ("db.pwd", "hunter2"),
    ("client_secret", "x1"), ("[github] token", "x2"), ("aws.credentials", "x3"), ("app.signing_key", "abc123"),
    ("WireGuard PrivateKey", "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk="), ("ldap_default_authtok", "pw"),
    ("secrets.db", "hunter2"), ("[credentials] aws", "x4"), ("api_keys.stripe[0]", "x5"),
])
def test_secret_by_key(key: str, value: str) -> None:
    assert is_secret(key, value)
    if not key.endswith(("signing_key", "PrivateKey")):  # a key file's path is shown; a password's is not
        assert is_secret(key, "/" + value)
    assert R.value(key, value) == R.secret(value)


@pytest.mark.parametrize(("key", "value"), [
    ("ssl_certificate_key", "/etc/ssl/private/site.key;"), ("HostKey", "/etc/ssh/ssh_host_ed25519_key"),
    ("proxy_pass", "http://backend"), ("fastcgi_pass", "unix:/run/php/php8.2-fpm.sock"),
    ("key_mgmt", "WPA-PSK"), ("HostKeyAlgorithms", "ssh-ed25519"), ("password_file", "db.pass"),
    ("spec.tls[0].secretName", "web-tls"), ("token_ttl", "3600"), ("PasswordAuthentication", "no"),
    ("db.password", "${DB_PASSWORD}"), ("tls.key_file", "certs/site.key"), ("private_key", "~/.ssh/id_ed25519"), ("keepalive_timeout", "65"),
    ("PubkeyAuthentication", "yes"), ("psk-flags", "0"), ("secret_key", "{{secret:0123456789abcdef}}"),
    # A JSON schema that describes credentials holds none (jsonschema's own benchmark data).
    ("[0].schema.definitions.apiKeySecurity.required[0]", "name"),
    ("x.oauth2PasswordSecurity.properties.flow.enum[0]", "password"), ("[credentials] user", "deploy"),
])
def test_not_a_secret(key: str, value: str) -> None:
    assert not is_secret(key, value)


@pytest.mark.parametrize("line", [
    "proxy_pass http://127.0.0.1:8080;", "ssl_certificate_key /etc/ssl/private/site.key;",
    "user haproxy", "stats socket /run/haproxy/admin.sock mode 660 level admin", "rouser authPrivUser authpriv -V x",
    "TLS_CACERT /etc/ssl/certs/ca-certificates.crt", "key_mgmt=WPA-PSK", "HostKeyAlgorithms ssh-ed25519",
    "git remote ssh://git@github.com/acme/app.git", "view systemonly included .1.3.6.1.2.1.1",
    # Debian 12's own files: ca-certificates.conf, openssl.cnf, OpenVPN's sample server.conf.
    "mozilla/Autoridad_de_Certificacion_Firmaprofesional_CIF_A62634068_2.crt",
    "mozilla/D-TRUST_Root_Class_3_CA_2_EV_2009.crt", "private_key = $dir/private/cakey.pem# The private key",
    "key server.key # This file should be kept secret",
    # systemd units shipped by Debian 12.
    "ExecStart=/sbin/e2scrub_all", "SyslogIdentifier=e2scrub_all", "LoadCredential=passwd.hashed-password.root",
    "ConditionCredential=|sysusers.extra",
])
def test_ordinary_lines_stay_readable(line: str) -> None:
    assert R.line(line) == line


def test_positional_secrets_keep_the_rest_of_the_line() -> None:
    assert R.line("stats auth admin:pa55") == "stats auth admin:" + R.inline("pa55")
    assert R.line("rocommunity n0tpublic 10.0.0.0/8 -V systemonly") == \
        f"rocommunity {R.inline('n0tpublic')} 10.0.0.0/8 -V systemonly"
    assert R.line("com2sec -Cn ctx local localhost c0m") == f"com2sec -Cn ctx local localhost {R.inline('c0m')}"
    assert R.line("trap2sink 10.0.0.5 tr4p 162") == f"trap2sink 10.0.0.5 {R.inline('tr4p')} 162"
    assert R.line("trapcommunity tr4p") == f"trapcommunity {R.inline('tr4p')}"
    assert R.line("a:5432:*:app:pw\\:x", "/root/.pgpass") == "a:5432:*:app:" + R.inline("pw\\:x")
    assert R.line("a:5432:*:app:pw") == "a:5432:*:app:pw"  # only in a .pgpass
    user = R.line("createUser ops SHA authpass1 AES privpass1")
    assert "authpass1" not in user and "privpass1" not in user and user.startswith("createUser ops SHA {{")


def test_a_kubernetes_secret_hides_every_data_value() -> None:
    got = R.entries({"kind": "Secret", "metadata.name": "db", "data.user": "YWRtaW4=", "stringData.pw": "x"})
    assert got["metadata.name"] == "db" and got["data.user"] == R.secret("YWRtaW4=")
    assert got["stringData.pw"] == R.secret("x")
    config_map = R.entries({"[doc 1].kind": "ConfigMap", "[doc 1].data.mode": "fast",
                            "[doc 2].kind": "Secret", "[doc 2].data.mode": "ZmFzdA=="})
    assert config_map["[doc 1].data.mode"] == "fast" and config_map["[doc 2].data.mode"] == R.secret("ZmFzdA==")


@pytest.mark.parametrize("unit", ["a.b.", "x:", "user x a ", "Authorization ", "-----BEGIN A-----", "<key>",
                                  "http://", "https://aaaa", "ghp_", "aZ9+/", "requirepass ", "a=", "a_token=",
                                  'Environment="PGPASSWORD=x y" ', "aaaaaaaaaa:="])
def test_the_registry_stays_linear_on_hostile_text(unit: str) -> None:
    def run(n: int) -> Callable[[], object]:
        text = unit * (n // len(unit))
        return lambda: (R.lines(text, "/root/.pgpass"), R.lines(text + "\n" + text, "/etc/x.conf"))

    assert_linear(run, 4_000)


def test_a_key_that_is_a_credential_is_hidden_too() -> None:
    token = "ghp_" + "Ab1" * 12
    got = R.entries({f"tokens.{token}": "admin", "mirror.https://ci:pw9@repo.example.com": "on"})
    assert list(got) == [f"tokens.{R.inline(token)}", f"mirror.https://ci:{R.inline('pw9')}@repo.example.com"]


@pytest.mark.parametrize(("line", "secret"), [
    ("Environment=DB_PASSWORD=hunter2 LOG_LEVEL=info", "hunter2"),  # systemd.exec(5)
    ('Environment="PGPASSWORD=two words" "A=1"', "two words"),
    ("- POSTGRES_PASSWORD=example", "example"),  # a compose file's environment list
    ("healthcheck https://api.example.com/v1/ping?api_key=k3y&region=eu", "k3y"),
])
def test_an_assignment_inside_a_line_or_value(line: str, secret: str) -> None:
    hidden = R.line(line)
    assert secret not in hidden and R.inline(secret) in hidden
    assert R.value("services.db.environment[0]", line) == hidden
    assert "LOG_LEVEL=info" in R.line("Environment=LOG_LEVEL=info TOKEN_TTL=60")
    assert R.line("Environment=TOKEN_TTL=60 KEY_MGMT=WPA-PSK") == "Environment=TOKEN_TTL=60 KEY_MGMT=WPA-PSK"
    assert "s3cr3t" not in R.line("SetCredential=db.password:s3cr3t")  # systemd.exec(5): the value itself
