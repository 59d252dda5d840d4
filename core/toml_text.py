"""TOML text for the files Ferry writes by hand (`ferry.toml`, `mapping.toml`).

Both files are written line by line rather than by a generic TOML writer because they carry
comments for the operator and a stable, reviewable layout (a confirmed mapping has one hash).
Only the values go through here, so every string is escaped the same way: a JSON string is a
TOML basic string, except that TOML also forbids the control character U+007F raw.
"""

from __future__ import annotations

import json
import re

__all__ = ["toml_key", "toml_string", "toml_value"]

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def toml_string(text: str) -> str:
    """`text` as a TOML basic string (quoted, with every control character escaped)."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def toml_key(text: str) -> str:
    """`text` as a TOML key: bare when it may be, quoted otherwise."""
    return text if _BARE_KEY.match(text) else toml_string(text)


def toml_value(value: object) -> str:
    """A boolean, number, list or (anything else, as its text) string as a TOML value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return toml_string(str(value))
