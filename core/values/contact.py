"""Phones (Q5), emails (Q8, Q9) and ZIP codes (Q14)."""

from __future__ import annotations

import functools
import re
import unicodedata

import msgspec
import phonenumbers

from core.values.errors import ValueParseError
from core.values.links import ascii_host

__all__ = [
    "PLACEHOLDER_EMAILS",
    "Email",
    "Phone",
    "Zip",
    "canonical_email",
    "is_twenty_email",
    "national_number",
    "parse_email",
    "parse_phone",
    "parse_zip",
]

_NO_PHONE = {"none", "n/a", "na", "no phone", "unknown", "-", "0"}


class Phone(msgspec.Struct, frozen=True):
    """A phone: `e164` when it has a full number, the raw text always kept."""

    raw: str
    e164: str | None
    extension: str | None = None
    problem: str | None = None  # "no_area_code", "not_a_number", "placeholder"


def parse_phone(text: str | None, *, region: str = "US") -> Phone | None:
    """Parse a free-text phone (`(555) 555-0142`, `555.555.0142 x204`, `none`); None for blank."""
    if text is None or not text.strip():
        return None
    return _parse_stripped(text.strip(), region)


# Parsing with phonenumbers costs ~100 us; phones repeat (a family shares its home phone, a
# practice its main line), and a Phone is immutable, so answers are remembered (bounded).
@functools.lru_cache(maxsize=8192)
def _parse_stripped(raw: str, region: str) -> Phone:
    if raw.lower() in _NO_PHONE:
        return Phone(raw, None, problem="placeholder")
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return Phone(raw, None, problem="not_a_number")
    national = str(number.national_number)
    extension = number.extension or None
    if number.country_code == 1 and len(national) == 7:
        return Phone(raw, None, extension, problem="no_area_code")
    if not phonenumbers.is_possible_number(number):
        return Phone(raw, None, extension, problem="not_a_number")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return Phone(raw, e164, extension)


PLACEHOLDER_EMAILS = frozenset(
    {
        "none@none.com",
        "noemail@dental-exec.example",
        "noemail@noemail.com",
        "none@email.com",
        "no@email.com",
        "na@na.com",
    }
)
_PLACEHOLDER_WORDS = {"none", "refused", "declined", "n/a", "na", "no email", "noemail", "-"}
# The pattern Twenty's server checks a stored email against (zod's `z.email()`): an ASCII
# domain with an alphabetic top level, so an internationalised domain passes as punycode.
_EMAIL = re.compile(
    r"^(?!\.)(?!.*\.\.)([A-Za-z0-9_'+\-.]*)[A-Za-z0-9_+-]@([A-Za-z0-9][A-Za-z0-9\-]*\.)+[A-Za-z]{2,}$"
)
_UNSAFE_DOMAIN = re.compile(r"[\s/\\?#@:\[\]]")


def canonical_email(text: str) -> str:
    """An email as Twenty stores it: the local part lower-cased, the domain NFKC-normalised,
    lower-cased, in its IDNA (punycode) form, without trailing dots (`...@MÜNCHEN.DE.` ->
    `...@xn--mnchen-3ya.de`)."""
    at = text.rfind("@")
    if at <= 0 or at == len(text) - 1:
        return text.lower()
    domain = unicodedata.normalize("NFKC", text[at + 1 :]).lower()
    if not _UNSAFE_DOMAIN.search(domain):
        domain = ascii_host(domain.rstrip(".")).rstrip(".")
    return f"{text[:at].lower()}@{domain}"


class Email(msgspec.Struct, frozen=True):
    """An email: `address` is trimmed and lower-cased when usable, None for placeholders."""

    raw: str
    address: str | None
    problem: str | None = None  # "placeholder", "invalid"


def parse_email(text: str | None) -> Email | None:
    """Normalise an email as Twenty stores it (trimmed, `canonical_email`) and detect
    placeholders (Q8); None for blank. An address Twenty would refuse is `invalid`."""
    if text is None or not text.strip():
        return None
    raw = text
    lowered = canonical_email(text.strip())
    if lowered in _PLACEHOLDER_WORDS or lowered in PLACEHOLDER_EMAILS:
        return Email(raw, None, "placeholder")
    local = lowered.split("@", 1)[0]
    if local in {"none", "noemail", "no.email", "nomail", "donotemail"}:
        return Email(raw, None, "placeholder")
    if _EMAIL.match(lowered) is None:
        return Email(raw, None, "invalid")
    return Email(raw, lowered)


def is_twenty_email(address: str) -> bool:
    """Whether Twenty stores `address` as it is (canonical and of the accepted shape)."""
    return address == canonical_email(address) and _EMAIL.match(address) is not None


def national_number(text: str) -> str:
    """A phone's digits as Twenty stores them: the national significant number of an
    international (`+...`) number, the digits of any other text."""
    digits = re.sub(r"\D+", "", text)
    if text.strip().startswith("+"):
        try:
            return phonenumbers.national_significant_number(phonenumbers.parse(text))
        except phonenumbers.NumberParseException:
            return digits
    return digits


class Zip(msgspec.Struct, frozen=True):
    """A US ZIP: five digits (leading zeros restored, Q14) and the optional +4."""

    raw: str
    zip5: str
    plus4: str | None = None
    was_padded: bool = False


_ZIP = re.compile(r"^(\d{3,5})(?:-?(\d{4}))?$")


def parse_zip(text: str | None) -> Zip | None:
    """Parse `02134`, `2134`, `02134-1201` or `021341201`; None for blank.

    Raises:
        ValueParseError: `bad_zip` when the text is not a US ZIP code.
    """
    if text is None or not text.strip():
        return None
    raw = text.strip()
    digits = raw.replace(" ", "")
    if digits.isdecimal() and 7 <= len(digits) <= 9:
        # ZIP+4 stored as a number: the +4 is the last four digits.
        head, plus4 = digits[:-4], digits[-4:]
    else:
        match = _ZIP.match(digits)
        if match is None:
            raise ValueParseError("bad_zip", "not a US ZIP code")
        head, plus4 = match[1], match[2]
    if len(head) < 3 or len(head) > 5:
        raise ValueParseError("bad_zip", "not a US ZIP code")
    return Zip(raw, head.zfill(5), plus4, len(head) < 5)
