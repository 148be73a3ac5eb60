"""Untrusted text (labels from files and replies, file names, error messages quoting them) made safe to print."""
from __future__ import annotations

import re

# C0 and C1 control characters, DEL, and the Unicode bidi/format controls that can reorder or hide text
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_controls(text: object, *, keep_newlines: bool = False) -> str:
    """str(text) with every control character written as a visible escape (\\x1b, \\x0a, \\u202e...).

    keep_newlines leaves '\\n' alone (for messages the program itself splits into lines)."""
    text = str(text)
    if keep_newlines:
        return "\n".join(_CONTROLS.sub(_escape, part) for part in text.split("\n"))
    return _CONTROLS.sub(_escape, text)
