"""The installation's key for hashing secrets: $DRIFT_SECRET_KEY, else `secret.key` beside the store.

Secret values in collected content are stored as HMAC-SHA256(key, value). The key stays on the
machine running drift (mode 0600); whoever compares snapshots from several machines (a CI runner
and a laptop) gives them the same $DRIFT_SECRET_KEY, or equal secrets would look changed.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from drift.core.errors import InputError

FILE_NAME = "secret.key"
MIN_LENGTH = 16


def load(store_path: Path, env: Mapping[str, str]) -> bytes:
    raw = env.get("DRIFT_SECRET_KEY")
    if raw is not None:
        if len(raw) < MIN_LENGTH:
            raise InputError(f"DRIFT_SECRET_KEY must be at least {MIN_LENGTH} characters")
        return raw.encode("utf-8")
    path = Path(store_path).parent / FILE_NAME
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # O_EXCL: two runs starting at once never both write a key; the loser reads the winner's.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32) + "\n")
        if path.stat().st_mode & 0o077:
            raise InputError("the secret key file is readable by others: chmod 600 it", path)
        key = path.read_text(encoding="ascii").strip()
    except OSError as exc:
        raise InputError(f"cannot read or create the secret key: {exc.strerror}", path) from None
    except UnicodeDecodeError:
        raise InputError("the secret key file is not ASCII text", path) from None
    if len(key) < MIN_LENGTH:
        raise InputError(f"the secret key is shorter than {MIN_LENGTH} characters", path)
    return key.encode("ascii")
