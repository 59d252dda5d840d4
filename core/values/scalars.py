"""Integers and IDs (Q11, Q12), per-file booleans (Q6), lists and file sizes."""

from __future__ import annotations

import re

from core.values.errors import ValueParseError

__all__ = ["parse_bool", "parse_file_size", "parse_id", "parse_int", "parse_list"]


def parse_int(text: str | None) -> int | None:
    """An integer, zero-padding ignored (`00010482` -> 10482, Q12); None for blank.

    Raises:
        ValueParseError: `bad_integer` when the text is not a whole number.
    """
    if text is None:
        return None
    stripped = text.strip()
    if not stripped:
        return None
    if not (stripped.isdecimal() or (stripped[0] == "-" and stripped[1:].isdecimal())):
        raise ValueParseError("bad_integer", "not a whole number")
    return int(stripped)


def parse_id(text: str | None) -> int | None:
    """A record ID; `0` means none (Q11) and is returned as None, like blank.

    Raises:
        ValueParseError: `bad_integer` when the text is not a whole number.
    """
    value = parse_int(text)
    return None if value == 0 else value


_TRUE = {"y", "yes", "1", "true", "t"}
_FALSE = {"n", "no", "0", "false", "f"}
_FLAVOURS = {
    "Y/N": ({"y"}, {"n"}),
    "Yes/No": ({"yes"}, {"no"}),
    "1/0": ({"1"}, {"0"}),
    "True/False": ({"true"}, {"false"}),
}


def parse_bool(text: str | None, flavour: str | None = None) -> bool | None:
    """A boolean in any of the Q6 spellings; None for blank (the caller decides what blank means).

    With a flavour (`Y/N`, `Yes/No`, `1/0`, `True/False`) only that file's spelling is accepted.

    Raises:
        ValueParseError: `bad_bool` when the text is not a boolean (in that flavour).
    """
    if text is None:
        return None
    lowered = text.strip().lower()
    if not lowered:
        return None
    truthy, falsy = _FLAVOURS[flavour] if flavour else (_TRUE, _FALSE)
    if lowered in truthy:
        return True
    if lowered in falsy:
        return False
    raise ValueParseError("bad_bool", f"not a boolean ({flavour or 'Y/N, Yes/No, 1/0'})")


def parse_list(text: str | None, separator: str = ";") -> tuple[str, ...]:
    """The trimmed, non-empty items of a separated list (`D0120; D0274;` -> two items)."""
    if text is None:
        return ()
    return tuple(item.strip() for item in text.split(separator) if item.strip())


_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*(b|bytes?|kb|k|mb|m|gb|g)?$")
_UNITS = {"": 1, "b": 1, "byte": 1, "bytes": 1, "k": 1024, "kb": 1024, "m": 1024**2}
_UNITS |= {"mb": 1024**2, "g": 1024**3, "gb": 1024**3}


def parse_file_size(text: str | None) -> int | None:
    """Bytes for `2457600`, `2.4 MB`, `512 KB`, `1,024` (binary units); None for blank.

    Raises:
        ValueParseError: `bad_size` when the text is not a size.
    """
    if text is None or not text.strip():
        return None
    match = _SIZE.match(text.strip().lower().replace(",", ""))
    if match is None:
        raise ValueParseError("bad_size", "not a file size (bytes or `2.4 MB`)")
    return round(float(match[1]) * _UNITS[match[2] or ""])
