"""Pure parsers for Dental-Exec values, one per quirk; the reader, audit and mapping share them.

Every parser takes the raw (possibly None) text and returns a typed result, None for blank,
or raises `ValueParseError` with a stable `code`; messages never repeat the value (it may be
patient data).
"""

from core.values.contact import (
    PLACEHOLDER_EMAILS,
    Email,
    Phone,
    Zip,
    canonical_email,
    is_twenty_email,
    national_number,
    parse_email,
    parse_phone,
    parse_zip,
)
from core.values.dates import (
    LocalInstant,
    ParsedDate,
    localize,
    parse_date,
    parse_datetime,
    parse_time,
    parse_zone,
)
from core.values.dental import (
    CdtCode,
    Npi,
    RecallInterval,
    Tooth,
    fdi_to_universal,
    is_valid_npi,
    normalize_cdt,
    parse_npi,
    parse_recall_interval,
    parse_surfaces,
    parse_tooth,
)
from core.values.errors import ValueParseError
from core.values.links import stored_link
from core.values.money import cents_to_micros, parse_money
from core.values.scalars import parse_bool, parse_file_size, parse_id, parse_int, parse_list

__all__ = [
    "PLACEHOLDER_EMAILS",
    "CdtCode",
    "Email",
    "LocalInstant",
    "Npi",
    "ParsedDate",
    "Phone",
    "RecallInterval",
    "Tooth",
    "ValueParseError",
    "Zip",
    "canonical_email",
    "cents_to_micros",
    "fdi_to_universal",
    "is_twenty_email",
    "is_valid_npi",
    "localize",
    "national_number",
    "normalize_cdt",
    "parse_bool",
    "parse_date",
    "parse_datetime",
    "parse_email",
    "parse_file_size",
    "parse_id",
    "parse_int",
    "parse_list",
    "parse_money",
    "parse_npi",
    "parse_phone",
    "parse_recall_interval",
    "parse_surfaces",
    "parse_time",
    "parse_tooth",
    "parse_zip",
    "parse_zone",
    "stored_link",
]
