"""The one exception the value parsers raise."""

from __future__ import annotations

from core.errors import FerryError


class ValueParseError(FerryError):
    """A value does not parse; `code` says why, the message never repeats the value.

    Attributes:
        code: a stable machine-readable reason (`bad_date`, `bad_money`, ...).
    """

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)
