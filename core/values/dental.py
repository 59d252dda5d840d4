"""Dental values: CDT codes (Q16), teeth (FDI -> Universal), surfaces, recall intervals, NPI."""

from __future__ import annotations

import re

import msgspec

from core.values.errors import ValueParseError

__all__ = [
    "CdtCode",
    "Npi",
    "RecallInterval",
    "Tooth",
    "fdi_to_universal",
    "is_valid_npi",
    "normalize_cdt",
    "parse_npi",
    "parse_recall_interval",
    "parse_surfaces",
    "parse_tooth",
]


class CdtCode(msgspec.Struct, frozen=True):
    """A procedure code: `code` normalised (`D2740`) or the office code upper-cased; raw kept."""

    raw: str
    code: str
    is_standard: bool  # D + 4 digits after normalisation
    office_suffix: str | None = None  # `1` for `D2740.1`
    was_legacy_numeric: bool = False  # `02740`


_CDT = re.compile(r"^D\d{4}$")


def normalize_cdt(text: str | None) -> CdtCode | None:
    """Normalise a CDT code (Q16): trim, upper-case, `0dddd` -> `Ddddd`, drop a `.` suffix."""
    if text is None or not text.strip():
        return None
    code = text.strip().upper().replace(" ", "")
    suffix = None
    if "." in code:
        code, suffix = code.split(".", 1)
    is_legacy = len(code) == 5 and code.isdecimal() and code[0] == "0"
    if is_legacy:
        code = "D" + code[1:]
    return CdtCode(text, code, _CDT.match(code) is not None, suffix or None, is_legacy)


class Tooth(msgspec.Struct, frozen=True):
    """A tooth in Universal notation (`14`, `J`, `51`, `AS`)."""

    raw: str
    universal: str
    is_primary: bool = False
    is_supernumerary: bool = False


_PRIMARY_UNIVERSAL = "ABCDEFGHIJKLMNOPQRST"
# FDI primary quadrants 5-8, teeth 1-5 (central incisor outwards) -> Universal letters.
_FDI_PRIMARY = {
    5: "EDCBA",  # upper right: 51 = E ... 55 = A
    6: "FGHIJ",  # upper left: 61 = F ... 65 = J
    7: "ONMLK",  # lower left: 71 = O ... 75 = K
    8: "PQRST",  # lower right: 81 = P ... 85 = T
}


def fdi_to_universal(fdi: int) -> str:
    """Universal notation for an FDI (ISO 3950) tooth number (`18` -> `1`, `55` -> `A`).

    Raises:
        ValueParseError: `bad_tooth` when the number is not an FDI tooth.
    """
    quadrant, tooth = divmod(fdi, 10)
    if quadrant in (1, 2, 3, 4) and 1 <= tooth <= 8:
        base = {1: 9 - tooth, 2: 8 + tooth, 3: 25 - tooth, 4: 24 + tooth}[quadrant]
        return str(base)
    if quadrant in _FDI_PRIMARY and 1 <= tooth <= 5:
        return _FDI_PRIMARY[quadrant][tooth - 1]
    raise ValueParseError("bad_tooth", "not an FDI tooth number")


def parse_tooth(text: str | None, *, numbering: str = "Universal") -> Tooth | None:
    """Parse a tooth in the location's numbering (`Universal` or `FDI`) to Universal; None if blank.

    Raises:
        ValueParseError: `bad_tooth` when the text is not a tooth in that numbering.
    """
    if text is None or not text.strip():
        return None
    raw = text.strip().upper().lstrip("#")
    if numbering.strip().upper() == "FDI" and raw.isdecimal():
        universal = fdi_to_universal(int(raw))
        return Tooth(text, universal, is_primary=universal.isalpha())
    if raw.isdecimal():
        number = int(raw)
        if 1 <= number <= 32:
            return Tooth(text, str(number))
        if 51 <= number <= 82:
            return Tooth(text, str(number), is_supernumerary=True)
    elif len(raw) == 1 and raw in _PRIMARY_UNIVERSAL:
        return Tooth(text, raw, is_primary=True)
    elif len(raw) == 2 and raw[0] in _PRIMARY_UNIVERSAL and raw[1] == "S":
        return Tooth(text, raw, is_primary=True, is_supernumerary=True)
    raise ValueParseError("bad_tooth", "not a tooth number")


_SURFACES = "MODBFLIV"


def parse_surfaces(text: str | None) -> tuple[str, ...]:
    """Surface letters in first-seen order without repeats (`mod` -> ('M','O','D')); () if blank.

    Raises:
        ValueParseError: `bad_surface` when a letter is not a surface.
    """
    if text is None:
        return ()
    letters: list[str] = []
    for char in text.strip().upper():
        if char in " ,/":
            continue
        if char not in _SURFACES:
            raise ValueParseError("bad_surface", "not a surface letter (M O D B F L I V)")
        if char not in letters:
            letters.append(char)
    return tuple(letters)


class RecallInterval(msgspec.Struct, frozen=True):
    """A recall interval in months."""

    raw: str
    months: int


_INTERVAL = re.compile(
    r"^(?:q|every\s*)?(\d+)\s*(m|mo|mos|month|months|y|yr|yrs|year|years|w|wk|wks|weeks?)\.?$"
)
_PER_YEAR = re.compile(r"^(\d+)\s*x\s*/?\s*(?:yr|year|y)$")


def parse_recall_interval(text: str | None) -> RecallInterval | None:
    """Months for `6 Months`, `6M`, `q6mo`, `3 Mo.`, `1Y`, `1 yr`, `Yearly`, `2x/yr`; None if blank.

    Raises:
        ValueParseError: `bad_interval` when the text is not an interval.
    """
    if text is None or not text.strip():
        return None
    lowered = text.strip().lower()
    if lowered in {"yearly", "annual", "annually"}:
        return RecallInterval(text, 12)
    if lowered in {"semiannual", "semi-annual", "biannual"}:
        return RecallInterval(text, 6)
    if lowered == "quarterly":
        return RecallInterval(text, 3)
    match = _INTERVAL.match(lowered)
    if match is not None:
        count, unit = int(match[1]), match[2]
        if unit.startswith("y"):
            return RecallInterval(text, count * 12)
        if unit.startswith("w"):
            return RecallInterval(text, max(1, round(count / 4.345)))
        return RecallInterval(text, count)
    match = _PER_YEAR.match(lowered)
    if match is not None and int(match[1]) > 0 and 12 % int(match[1]) == 0:
        return RecallInterval(text, 12 // int(match[1]))
    raise ValueParseError("bad_interval", "not a recall interval (e.g. `6 Months`, `q6mo`)")


class Npi(msgspec.Struct, frozen=True):
    """An NPI: `value` when it is 10 digits with a valid check digit, else `problem`."""

    raw: str
    value: str | None
    problem: str | None = None  # "wrong_length", "bad_check_digit", "not_digits", "bad_prefix"


def _luhn_with_prefix(nine: str) -> int:
    total = 24  # the constant for the 80840 prefix
    for index, char in enumerate(reversed(nine)):
        digit = int(char)
        if index % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10


def parse_npi(text: str | None) -> Npi | None:
    """Check an NPI (10 digits, first 1 or 2, Luhn check digit with prefix 80840); None if blank."""
    if text is None or not text.strip():
        return None
    raw = text.strip()
    if not raw.isdecimal():
        return Npi(text, None, "not_digits")
    if len(raw) != 10:
        return Npi(text, None, "wrong_length")
    if raw[0] not in "12":
        return Npi(text, None, "bad_prefix")
    if _luhn_with_prefix(raw[:9]) != int(raw[9]):
        return Npi(text, None, "bad_check_digit")
    return Npi(text, raw)


def is_valid_npi(text: str | None) -> bool:
    """True when the text is a valid NPI."""
    parsed = parse_npi(text)
    return parsed is not None and parsed.value is not None
