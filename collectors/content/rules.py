"""Where credentials sit in the config files fleets have: one entry per format or directive.

Each entry names the documentation that says the value is a credential and carries an example
(tests/collectors/content/test_rules.py checks every example is hidden). Three kinds:

- `keys`: directive or key names whose whole value is a credential (`requirepass`, `psk`), matched
  against a key's own name (its last part) in key/value files and the first word of a line;
- `line`: a pattern over one significant line (comments dropped, whitespace folded) whose groups
  named `s…` are the credentials: positional fields (`stats auth user:PASS`, `.pgpass`);
- `text`: a pattern over a file's whole text or any value (a PEM block, a token with a known prefix).

`files` limits an entry to file names (fnmatch globs); without it the entry applies everywhere.
To add a format: add an entry here with its source and an example, and run that test.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fnmatch import fnmatch


@dataclass(frozen=True)
class Rule:
    name: str
    source: str  # the documentation that says this value is a credential
    example: str  # a line (or text) as the format has it, with `secret` planted in it
    secret: str
    keys: tuple[str, ...] = ()
    line: re.Pattern[str] | None = None
    text: re.Pattern[str] | None = None
    files: tuple[str, ...] = field(default_factory=tuple)

    def applies(self, path: str) -> bool:
        name = path.rsplit("/", 1)[-1]
        return not self.files or any(fnmatch(name, glob) for glob in self.files)


def _line(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.I)


RULES: tuple[Rule, ...] = (
    # Directives whose value is a credential.
    Rule("redis password", "https://redis.io/docs/latest/operate/oss_and_stack/management/config-file/",
         "requirepass Planted-redis-1", "Planted-redis-1", keys=("requirepass", "masterauth")),
    Rule("redis sentinel password", "https://redis.io/docs/latest/operate/oss_and_stack/management/sentinel/",
         "sentinel auth-pass mymaster Planted-sent-1", "Planted-sent-1",
         line=_line(r"^sentinel\s+auth-pass\s+\S+\s+(?P<s>.+)")),
    Rule("redis ACL user password", "https://redis.io/docs/latest/operate/oss_and_stack/management/security/acl/",
         "user worker on >Planted-acl-1 ~cached:* +get", "Planted-acl-1",
         line=_line(r"^user\s+\S+.*?\s[>#](?P<s>\S+)(?:.*?\s[>#](?P<s2>\S+))?")),
    Rule("HAProxy stats auth", "https://docs.haproxy.org/2.6/configuration.html#4-stats%20auth",
         "stats auth admin:Planted-hap-1", "Planted-hap-1", line=_line(r"^stats\s+auth\s+[^:\s]*:(?P<s>\S+)")),
    Rule("HAProxy userlist password", "https://docs.haproxy.org/2.6/configuration.html#3.4-user",
         "user admin insecure-password Planted-hap-2 groups ops", "Planted-hap-2",
         line=_line(r"^user\s+\S+\s+(?:insecure-)?password\s+(?P<s>\S+)")),
    Rule("RabbitMQ default user", "https://www.rabbitmq.com/docs/configure#config-items",
         "default_pass = Planted-rmq-1", "Planted-rmq-1", keys=("default_pass", "pass")),
    Rule("OpenLDAP / nslcd bind password", "https://www.openldap.org/software/man.cgi?query=ldap.conf",
         "BINDPW Planted-ldap-1", "Planted-ldap-1", keys=("bindpw", "rootpw")),
    Rule("SSSD LDAP auth token", "https://man.archlinux.org/man/sssd-ldap.5",
         "ldap_default_authtok = Planted-sssd-1", "Planted-sssd-1", keys=("authtok",)),
    Rule("SNMP communities", "http://www.net-snmp.org/docs/man/snmpd.conf.html",
         "rocommunity Planted-snmp-1 10.0.0.0/8", "Planted-snmp-1",
         line=_line(r"^(?:(?:ro|rw)community6?\s+(?P<s>\S+)|com2sec6?\s+(?:-Cn\s+\S+\s+)?\S+\s+\S+\s+(?P<s2>\S+)"
                    r"|(?:trap2?sink|informsink)\s+\S+\s+(?P<s3>\S+)|trapcommunity\s+(?P<s4>\S+))")),
    Rule("SNMPv3 user", "http://www.net-snmp.org/docs/man/snmpd.conf.html",
         "createUser ops SHA Planted-snmp-4 AES Planted-snmp-5", "Planted-snmp-4",
         line=_line(r"^createUser\s+(?:-e\s+\S+\s+)?\S+\s+\S+\s+(?P<s>\S+)(?:\s+\S+\s+(?P<s2>\S+))?")),
    Rule("wpa_supplicant / NetworkManager PSK", "https://w1.fi/cgit/hostap/plain/wpa_supplicant/wpa_supplicant.conf",
         'psk="Planted wifi 1"', "Planted wifi 1",
         keys=("psk", "sae_password", "wep_key0", "wep_key1", "wep_key2", "wep_key3", "wep-key0", "wep-key1",
               "wep-key2", "wep-key3", "private_key_passwd", "leap-password")),
    Rule(".netrc", "https://www.gnu.org/software/inetutils/manual/html_node/The-_002enetrc-file.html",
         "machine api.example.com login deploy password Planted-netrc-1", "Planted-netrc-1",
         line=_line(r"(?:^|\s)(?:password|account)\s+(?P<s>\S+)"), files=(".netrc", "_netrc", "*.netrc")),
    Rule(".pgpass", "https://www.postgresql.org/docs/current/libpq-pgpass.html",
         r"db.example.com:5432:app:app:Planted-pg-1", "Planted-pg-1",
         line=_line(r"^(?:[^:\\]|\\.)*:(?:[^:\\]|\\.)*:(?:[^:\\]|\\.)*:(?:[^:\\]|\\.)*:(?P<s>.+)"),
         files=(".pgpass", "pgpass.conf", "*.pgpass")),
    Rule(".npmrc auth", "https://docs.npmjs.com/cli/v10/configuring-npm/npmrc#auth-related-configuration",
         "//registry.npmjs.org/:_authToken=Planted-npm-1", "Planted-npm-1",
         text=re.compile(r"(?:^|:)_(?:authToken|auth|password)\s*=\s*(?P<s>[^\s\"']+)", re.M)),
    Rule("Docker config auth", "https://docs.docker.com/reference/cli/docker/login/#credential-stores",
         '"auth": "Planted-docker-1"', "Planted-docker-1", keys=("auth", "_auth", "identitytoken")),
    Rule("HTTP Authorization header", "https://www.rfc-editor.org/rfc/rfc9110#name-authorization",
         'proxy_set_header Authorization "Basic Planted-basic-1";', "Planted-basic-1",
         text=re.compile(r"(?i)authorization\W+(?:basic|bearer|token|digest)\s+(?P<s>[A-Za-z0-9+/._~-]+=*)")),
    Rule("URL credentials", "https://www.rfc-editor.org/rfc/rfc3986#section-3.2.1",
         "index-url = https://ci:Planted-url-1@pypi.example.com/simple", "Planted-url-1",
         text=re.compile(r"(?<![\w+.-])[A-Za-z][A-Za-z0-9+.-]{0,30}://[^\s:/@{}]*:(?P<s>[^\s@/]+)@")),
    Rule("URL with a key as its user (Sentry DSN)", "https://docs.sentry.io/concepts/key-terms/dsn-explainer/",
         "SENTRY_DSN=https://0a1b2c3d4e5f60718293a4b5c6d7e8f9@o1.ingest.sentry.io/42",
         "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
         text=re.compile(r"(?<![\w+.-])[A-Za-z][A-Za-z0-9+.-]{0,30}://(?P<s>(?=[^\s:/@]*\d)[A-Za-z0-9_-]{16,})@")),
    # Value shapes, wherever they stand.
    Rule("PEM block", "https://www.rfc-editor.org/rfc/rfc7468",
         "-----BEGIN PRIVATE KEY-----\nMIIPlantedPem1\n-----END PRIVATE KEY-----", "MIIPlantedPem1",
         text=re.compile(r"(?P<s>-----BEGIN [A-Za-z0-9 ]+-----.*?(?:-----END [A-Za-z0-9 ]+-----|\Z))", re.S)),
    Rule("OpenVPN inline key", "https://openvpn.net/community-resources/reference-manual-for-openvpn-2-6/",
         "<tls-crypt>\n6b1f0aPlantedVpn1\n</tls-crypt>", "6b1f0aPlantedVpn1",
         text=re.compile(r"<(?P<tag>secret|tls-auth|tls-crypt|tls-crypt-v2|key|pkcs12|auth-user-pass)>"
                         r"(?P<s>.*?)(?:</(?P=tag)>|\Z)", re.S)),
    Rule("known token prefixes", "https://docs.github.com/en/authentication/keeping-your-account-and-data-secure/"
         "about-authentication-to-github#githubs-token-formats",
         "GITHUB_TOKEN=ghp_Planted0123456789abcdefghijABCDEFGHIJ", "ghp_Planted0123456789abcdefghijABCDEFGHIJ",
         text=re.compile(r"(?<![A-Za-z0-9])(?P<s>(?:AKIA|ASIA)[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{30,}"
                         r"|github_pat_[A-Za-z0-9_]{30,}|glpat-[A-Za-z0-9_-]{20,}|xox[abposr]-[A-Za-z0-9-]{10,}"
                         r"|[sr]k_(?:live|test)_[A-Za-z0-9]{16,}|npm_[A-Za-z0-9]{36}|pypi-[A-Za-z0-9_-]{50,}"
                         r"|AIza[0-9A-Za-z_-]{35}|SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43})")),
)

# Keys that name where a secret is, or say something about it, and are not one: nginx's upstream
# directives, `password_file`, `secret_name`, `token_ttl`.
NOT_SECRET_KEYS = frozenset({"proxy_pass", "fastcgi_pass", "uwsgi_pass", "scgi_pass", "grpc_pass", "memcached_pass",
                             # systemd.exec(5): these name a credential; SetCredential= holds one.
                             "loadcredential", "loadcredentialencrypted", "importcredential",
                             "conditioncredential", "assertcredential"})
NOT_SECRET_LAST_WORDS = frozenset({
    "name", "names", "file", "files", "path", "dir", "ref", "type", "length", "len", "size", "ttl", "timeout",
    "expiry", "expires", "lifetime", "algorithm", "algorithms", "mode", "format", "enabled", "enable", "required",
    "policy", "url", "uri", "user", "username", "header", "cookie", "field", "env", "command", "cmd", "helper",
    "mgmt", "flags", "bits", "min", "max", "age", "count", "hint", "store", "backend", "provider", "prompt"})

# Lines and keys that only look like credentials: a PAM stack's `password` type, nsswitch's
# `passwd` database. (glob over the file's path, pattern over a significant line or `key = value`.)
_PAM = re.compile(r"-?(?:password|auth|account|session)\s+(?:required|requisite|sufficient|optional"
                  r"|include|substack|\[[^]]*\])\s.*")  # pam.conf(5)
PLAIN: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("*/pam.d/*", _PAM), ("*/pam.conf", _PAM),
    ("*/nsswitch.conf", re.compile(r"(?:passwd|shadow|gshadow)\s*[:=].*")),  # nsswitch.conf(5)
)

DIRECTIVE_KEYS = frozenset(k.lower() for rule in RULES for k in rule.keys)
LINE_RULES = tuple(rule for rule in RULES if rule.line is not None)
TEXT_RULES = tuple(rule for rule in RULES if rule.text is not None)
