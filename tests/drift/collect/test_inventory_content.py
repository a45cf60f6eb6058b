"""[collect] content, content_max_bytes and secret_keys (issue 12)."""

from __future__ import annotations

import pytest

from drift.collect.inventory import load
from drift.core.errors import InventoryError


def write(tmp_path, collect: str):
    path = tmp_path / "drift.toml"
    path.write_text(f"[collect]\n{collect}\n[environments.s]\nhosts = [{{ name = \"a\" }}]\n")
    return path


def test_content_settings_load(tmp_path) -> None:
    inv = load(write(tmp_path, 'files = ["/etc/acme/**", "/etc/hosts"]\ncontent = ["/etc/acme/*.ini", "/etc/hosts"]\n'
                               'content_max_bytes = 4096\nsecret_keys = ["requirepass"]'), {})
    assert inv.collect.content == ("/etc/acme/*.ini", "/etc/hosts")
    assert inv.collect.content_max_bytes == 4096 and inv.collect.secret_keys == ("requirepass",)
    assert load(write(tmp_path, 'files = ["/etc/hosts"]'), {}).collect.content_max_bytes == 256 * 1024


@pytest.mark.parametrize(("collect", "words"), [
    ('files = ["/etc/hosts"]\ncontent = ["/etc/acme/app.ini"]', "not among collect.files"),
    ('files = ["/etc//hosts"]', "holds `//`"),
    ('files = ["/etc/hosts"]\ncontent_max_bytes = 0', "content_max_bytes must be"),
    ('files = ["/etc/hosts"]\ncontent = "/etc/hosts"', "must be a list"),
])
def test_bad_content_settings_name_the_key_and_line(tmp_path, collect: str, words: str) -> None:
    with pytest.raises(InventoryError) as caught:
        load(write(tmp_path, collect), {})
    assert words in str(caught.value) and "drift.toml:" in str(caught.value)
