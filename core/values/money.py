"""Money (Q4): `$1,234.50`, `($45.00)`, `-$45.00`, blank; integer cents and micros."""

from __future__ import annotations

import re

from core.values.errors import ValueParseError

__all__ = ["cents_to_micros", "parse_money"]

_MONEY = re.compile(r"^(-)?\$?(-)?(\d{1,3}(?:,\d{3})+|\d+)?(?:\.(\d{1,2}))?$")


def parse_money(text: str | None) -> int | None:
    """Integer cents for a money text (`$1,234.50` -> 123450, `($45.00)` -> -4500); blank None.

    Raises:
        ValueParseError: `bad_money` when the text is not an amount.
    """
    if text is None:
        return None
    stripped = text.strip().replace(" ", "")
    if not stripped:
        return None
    is_negative = False
    if stripped.startswith("(") and stripped.endswith(")"):
        is_negative, stripped = True, stripped[1:-1]
    match = _MONEY.match(stripped)
    if match is None or (match[3] is None and match[4] is None):
        raise ValueParseError("bad_money", "not an amount (expected $1,234.50)")
    if match[1] and match[2]:
        raise ValueParseError("bad_money", "two minus signs")
    whole = int((match[3] or "0").replace(",", ""))
    fraction = int((match[4] or "0").ljust(2, "0"))
    cents = whole * 100 + fraction
    return -cents if (is_negative or match[1] or match[2]) else cents


def cents_to_micros(cents: int) -> int:
    """Twenty's `amountMicros` for an amount in cents."""
    return cents * 10_000
