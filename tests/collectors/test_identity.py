"""Identity normalisation: the host's awk program and the controller's Python agree, value for value."""

from __future__ import annotations

import os
import subprocess

from hypothesis import given, settings
from hypothesis import strategies as st

from collectors import identity

IDS = ("host web-1\nhost web-1\nfqdn web-1.lab.internal\naddr:eth0 10.0.2.1\naddr6:eth0 fd00::1\n"
       "host db\nhost ma;rm -rf /\naddr 10.0.2.10\n")


def awk(text: str, ids: str = IDS) -> tuple[str, str]:
    """(normalised text, summary line) from the real awk program."""
    done = subprocess.run(["sh", "-c", 'awk "$DRIFT_NORM" 4>&2'], input=text.encode(), capture_output=True,
                          env={"DRIFT_IDS": ids, "DRIFT_NORM": identity.NORMALISE_AWK, "PATH": os.environ["PATH"]},
                          check=True)
    return done.stdout.decode(), done.stderr.decode()


def test_own_names_and_addresses_become_tokens_only_where_they_stand_alone() -> None:
    text = ("10.0.2.1 web-1.lab.internal web-1\nlisten 10.0.2.1:80; 10.0.2.10 10.0.2.100\n"
            "web-12 xweb-1 web-1.other [fd00::1]:443 fd00::10 ma;rm -rf /\n")
    want = ("{{addr:eth0}} {{fqdn}} {{host}}\nlisten {{addr:eth0}}:80; {{addr}} 10.0.2.100\n"
            "web-12 xweb-1 {{host}}.other [{{addr6:eth0}}]:443 fd00::10 {{host}}\n")
    out, summary = awk(text)
    assert out == want
    count, size, tokens = summary.split()
    assert (int(count), int(size)) == (8, len(want))
    assert set(tokens.split(",")) == {"{{addr:eth0}}", "{{fqdn}}", "{{host}}", "{{addr}}", "{{addr6:eth0}}"}
    values = identity.parse_values(IDS)
    assert identity.normalise(text, values)[0] == want
    assert "db" not in [v for vs in values.values() for v in vs]  # too short to be told from a word


@given(st.lists(st.sampled_from(["web-1", "10.0.2.1", "10.0.2.10", " ", ".", ":", "x", "-", "fd00::1", "{{", "}}",
                                 "web-1.lab.internal", "\n", "1", "ä"]), max_size=30))
@settings(max_examples=60, deadline=None)
def test_awk_and_python_agree(parts: list[str]) -> None:
    text = "".join(parts) + "\n"
    assert awk(text)[0] == identity.normalise(text, identity.parse_values(IDS))[0]


def test_inventory_values_are_data() -> None:
    assert identity.inventory_lines("web-1", "10.0.2.10") == ["host web-1", "addr 10.0.2.10"]
    assert identity.inventory_lines("$(reboot)", "a'b") == []
    assert identity.inventory_lines("web-1.prod.example", "fd00::1") == ["fqdn web-1.prod.example", "addr fd00::1"]
    out = subprocess.run(["sh", "-c", identity.gather_command(["host x'; echo PWNED; '"])],
                         capture_output=True, text=True, check=True).stdout
    assert "host x'; echo PWNED; '" in out.splitlines() and "PWNED\n" not in out


def test_localhost_is_nobody_s_identity() -> None:
    assert identity.inventory_lines("localhost", "127.0.0.1") == []
    ids = "host localhost\nhost localhost.localdomain\naddr 10.0.0.5\n"
    text = "127.0.0.1 localhost localhost.localdomain 10.0.0.5\n"
    assert awk(text, ids)[0] == identity.normalise(text, identity.parse_values(ids))[0] == \
        "127.0.0.1 localhost localhost.localdomain {{addr}}\n"
