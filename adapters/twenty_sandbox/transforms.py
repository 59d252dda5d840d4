"""What Twenty's record transformer does to LINKS, PHONES and EMAILS values before storing them.

Written from twentyhq/twenty's `record-transformer/utils/` (`transform-links-value`,
`remove-empty-links`, `transform-phones-value`, `transform-emails-value`) and the
twenty-shared helpers they call (`lowercaseUrlOriginAndRemoveTrailingSlash`, `isValidUrl`,
`canonicalizeEmail`); docs/sandbox.md lists the revisions read.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any
from urllib.parse import urlsplit

import idna
import phonenumbers

from adapters.twenty_sandbox.problems import bad_request

# twenty-shared `isValidUrl`: optional http(s) scheme, a dotted host with an alphabetic TLD, an
# IPv4 address or localhost, an optional port, path and query.
_VALID_URL = re.compile(
    r"^(https?://)?((([a-zA-Z0-9-]+\.)+[a-zA-Z]{2,})|(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})"
    r"|(localhost))(:\d+)?(/\S*)?(\?\S*)?$",
    re.IGNORECASE,
)
# zod 4's `z.email()` pattern, which Twenty's `validateEmailValueOrThrow` applies.
_ZOD_EMAIL = re.compile(
    r"^(?!\.)(?!.*\.\.)([A-Za-z0-9_'+\-.]*)[A-Za-z0-9_+-]@([A-Za-z0-9][A-Za-z0-9\-]*\.)+[A-Za-z]{2,}$"
)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise_url(raw: str) -> str:
    """`lowercaseUrlOriginAndRemoveTrailingSlash`: an http(s) URL's origin lower-cased, the
    rest kept as written, one trailing `/` removed; anything else unchanged."""
    scheme_end = raw.find("://")
    if scheme_end == -1:
        return raw
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        return raw
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return raw
    origin = f"{scheme}://{_ascii_host(parts.hostname)}"
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        origin += f":{port}"
    rest_at = len(raw)
    for mark in "/\\?#":
        index = raw.find(mark, scheme_end + 3)
        if index != -1:
            rest_at = min(rest_at, index)
    return (origin + raw[rest_at:]).removesuffix("/")


def _ascii_host(host: str) -> str:
    """A host in ASCII as the WHATWG URL parser writes it (UTS 46, non-transitional); what
    the `idna` package refuses under IDNA 2008 (emoji) falls back to the stdlib codec."""
    try:
        return idna.encode(host, uts46=True, transitional=False).decode("ascii").lower()
    except idna.IDNAError:
        pass
    try:
        return host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return host.lower()


def transform_links(value: dict[str, Any]) -> dict[str, Any]:
    """A LINKS input as Twenty stores it: empty links dropped, the first remaining one primary,
    every URL checked and normalised.

    Raises:
        ApiProblem: 400 `The URL of the link is not valid`.
    """
    links: list[dict[str, Any]] = []
    primary = value.get("primaryLinkUrl")
    if isinstance(primary, str) and primary:
        links.append({"url": primary, "label": value.get("primaryLinkLabel")})
    secondary = value.get("secondaryLinks")
    for link in secondary if isinstance(secondary, list) else []:
        if isinstance(link, dict) and isinstance(link.get("url"), str) and link["url"]:
            links.append({"url": link["url"], "label": link.get("label")})
    for link in links:
        if not _VALID_URL.match(link["url"]):
            raise bad_request("The URL of the link is not valid")
        link["url"] = normalise_url(link["url"])
    first = links[0] if links else {"url": "", "label": ""}
    return {
        **value,
        "primaryLinkUrl": first["url"],
        "primaryLinkLabel": first["label"] or "",
        "secondaryLinks": links[1:],
    }


def canonical_email(email: str) -> str:
    """twenty-shared `canonicalizeEmail`: local part lower-cased, the domain NFKC-normalised,
    lower-cased, converted to its IDNA (punycode) form and stripped of trailing dots."""
    at = email.rfind("@")
    if at <= 0 or at == len(email) - 1:
        return email.lower()
    domain = unicodedata.normalize("NFKC", email[at + 1 :]).lower()
    if not re.search(r"[\s/\\?#@:\[\]]", domain):
        domain = _ascii_host(domain.rstrip(".")).rstrip(".")
    return f"{email[:at].lower()}@{domain}"


def check_email(value: Any, field_name: str) -> str:
    """An email canonicalised, then checked as Twenty's validator does (lower-case, zod's
    pattern: an ASCII domain, so an internationalised one must have become punycode).

    Raises:
        ApiProblem: 400 `Invalid string value '...' for email field "..."`.
    """
    if not isinstance(value, str):
        raise bad_request(f"Invalid string value '{value}' for email field \"{field_name}\"")
    if value == "":
        return value
    canonical = canonical_email(value)
    if not _ZOD_EMAIL.match(canonical.strip()):
        raise bad_request(f"Invalid string value '{value}' for email field \"{field_name}\"")
    return canonical


def transform_phones(value: dict[str, Any]) -> dict[str, Any]:
    """A PHONES input as Twenty stores it: each number parsed with libphonenumber, its national
    number kept and its country and calling code inferred when not given.

    Raises:
        ApiProblem: 400 for an invalid country code, calling code or number, or codes that
        conflict with each other or with the number.
    """
    result = dict(value)
    primary = _phone(
        value.get("primaryPhoneNumber"),
        value.get("primaryPhoneCountryCode"),
        value.get("primaryPhoneCallingCode"),
    )
    for key, sub in (
        ("primaryPhoneNumber", "number"),
        ("primaryPhoneCountryCode", "countryCode"),
        ("primaryPhoneCallingCode", "callingCode"),
    ):
        if primary.get(sub) is not None or key in value:
            result[key] = primary.get(sub)
    additional = value.get("additionalPhones")
    if isinstance(additional, list):
        result["additionalPhones"] = [
            _phone(p.get("number"), p.get("countryCode"), p.get("callingCode"))
            if isinstance(p, dict)
            else p
            for p in additional
        ]
    return result


def _phone(number: Any, country: Any, calling: Any) -> dict[str, Any]:
    if isinstance(country, str) and country and country not in phonenumbers.SUPPORTED_REGIONS:
        raise bad_request(f"Invalid country code {country}")
    expected: tuple[str, ...] = ()
    if isinstance(calling, str) and calling:
        digits = calling.replace("+", "")
        codes = phonenumbers.region_codes_for_country_code(int(digits)) if digits.isdigit() else ()
        expected = tuple(code for code in codes if code != "001")
        if not expected:
            raise bad_request(f"Invalid calling code {calling}")
        if isinstance(country, str) and country and country not in expected:
            raise bad_request("Provided country code and calling code are conflicting")
    if not isinstance(number, str) or not number:
        return {"number": number, "countryCode": country, "callingCode": calling}
    parsed = _parse_number(number, country, calling)
    inferred_country = phonenumbers.region_code_for_number(parsed)
    if inferred_country and country and inferred_country != country:
        raise bad_request("Provided and inferred country code are conflicting")
    if calling and str(parsed.country_code) != str(calling).replace("+", ""):
        raise bad_request("Provided and inferred calling code are conflicting")
    return {
        "number": phonenumbers.national_significant_number(parsed),
        "countryCode": country or inferred_country,
        "callingCode": calling or f"+{parsed.country_code}",
    }


def _parse_number(number: str, country: Any, calling: Any) -> phonenumbers.PhoneNumber:
    text = number
    region = country if isinstance(country, str) and country else None
    if region is None and isinstance(calling, str) and calling and not text.startswith("+"):
        text = f"+{calling.replace('+', '')}{text}"
    try:
        return phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        # Twenty's message names the number unquoted; it is what clients must redact.
        raise bad_request(f"Provided phone number is invalid {number}") from None
