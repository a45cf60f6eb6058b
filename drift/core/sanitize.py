"""Host output is data: strip what a terminal would interpret before anyone prints it."""

from __future__ import annotations

import re

# CSI / OSC / other ESC sequences, then any remaining C0/C1 control except tab and newline.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean(text: str) -> str:
    return _CONTROLS.sub("", _ESCAPES.sub("", text))
