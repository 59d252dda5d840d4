"""Field-by-field comparison of what was sent to Twenty with what Twenty gives back.

Only what we sent is compared: the payload is flattened into leaf paths (`name.firstName`,
`emails.primaryEmail`, `patientId`) and each leaf is looked up in the record read back.
Sub-fields Twenty fills in by itself (a phone's country code, an address's latitude, the
BlockNote document derived from our markdown) are not leaves of the payload and are ignored.

The normalisations are the ones Twenty applies on write, so that a difference reported is a
real one, never noise:

- emails are trimmed and canonical: lower-cased, an internationalised domain in punycode
  (`transform-emails-value`, `canonicalizeEmail`);
- link URLs have their origin lower-cased and one trailing `/` removed (`transform-links-value`);
- text is trimmed (`transform-text-field`); an empty string and null are the same value;
- numbers compare by value whatever their JSON type (`1500000000` = `1500000000.0` =
  `"1500000000"`: NUMBER is a float column and NUMERIC comes back as text);
- DATE_TIME values compare as instants (`09:30-08:00` = `17:30:00.000Z`; no zone means UTC);
  DATE values compare by calendar date;
- RICH_TEXT_V2 markdown compares with line endings and trailing blanks normalised;
- phone numbers compare as the national number Twenty stores (`+1 415-555-0100` =
  `4155550100`; `transform-phones-value`), other phone text by its digits;
- ids (relation join columns) compare case-insensitively; option lists (MULTI_SELECT) as sets.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec

from core.values import canonical_email, national_number, stored_link

__all__ = ["FieldCheck", "compare_record", "flatten", "read_path", "values_agree"]

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_EMAIL_LEAVES = {"primaryEmail", "additionalEmails"}
_LINK_LEAVES = {"primaryLinkUrl", "url"}


class FieldCheck(msgspec.Struct, frozen=True):
    """One leaf field: the value sent, the value read back, and whether they agree."""

    path: str
    sent: Any
    read: Any
    agrees: bool


def flatten(payload: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted path, value) for every leaf of a payload; lists are leaves."""
    for key, value in payload.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            yield from flatten(value, f"{path}.")
        else:
            yield path, value


def read_path(record: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path of a record read back (None where absent)."""
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def compare_record(sent: Mapping[str, Any], read: Mapping[str, Any]) -> list[FieldCheck]:
    """A FieldCheck for every leaf that was sent, in payload order."""
    checks = []
    for path, value in flatten(sent):
        actual = read_path(read, path)
        checks.append(FieldCheck(path, value, actual, values_agree(path, value, actual)))
    return checks


def values_agree(path: str, sent: Any, read: Any) -> bool:
    """Whether a value read back is the value sent, under Twenty's own normalisations."""
    leaf = path.rsplit(".", 1)[-1]
    if _is_empty(sent) or _is_empty(read):
        return _is_empty(sent) and _is_empty(read)
    if isinstance(sent, list) or isinstance(read, list):
        return _lists_agree(leaf, sent, read)
    return _scalars_agree(leaf, sent, read)


def _is_empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, list | dict) and not value


def _lists_agree(leaf: str, sent: Any, read: Any) -> bool:
    if not (isinstance(sent, list) and isinstance(read, list)) or len(sent) != len(read):
        return False
    if all(isinstance(v, str) for v in (*sent, *read)):
        # MULTI_SELECT and ARRAY: Twenty keeps the values, not necessarily their order.
        return sorted(_text(leaf, v) for v in sent) == sorted(_text(leaf, v) for v in read)
    return all(_items_agree(leaf, a, b) for a, b in zip(sent, read, strict=True))


def _items_agree(leaf: str, sent: Any, read: Any) -> bool:
    if isinstance(sent, Mapping) and isinstance(read, Mapping):
        return all(values_agree(f"{leaf}.{k}", v, read.get(k)) for k, v in sent.items())
    return values_agree(leaf, sent, read)


def _scalars_agree(leaf: str, sent: Any, read: Any) -> bool:
    if isinstance(sent, bool) or isinstance(read, bool):
        return sent is read
    if isinstance(sent, int | float) or isinstance(read, int | float):
        return _number(sent) is not None and _number(sent) == _number(read)
    if isinstance(sent, str) and isinstance(read, str):
        return _strings_agree(leaf, sent, read)
    if isinstance(sent, Mapping) and isinstance(read, Mapping):
        return all(values_agree(f"{leaf}.{k}", v, read.get(k)) for k, v in sent.items())
    return bool(sent == read)


def _strings_agree(leaf: str, sent: str, read: str) -> bool:
    if leaf == "blocknote":
        return bool(_blocknote(sent) == _blocknote(read))
    if leaf == "markdown":
        return _markdown(sent) == _markdown(read)
    if _DATE.match(sent.strip()) and _DATE_TIME.match(read.strip()):
        return read.strip().startswith(sent.strip())
    if _DATE_TIME.match(sent.strip()):
        return _instant(sent) is not None and _instant(sent) == _instant(read)
    return _text(leaf, sent) == _text(leaf, read)


def _text(leaf: str, value: str) -> str:
    text = value.strip()
    if leaf in _EMAIL_LEAVES:
        return canonical_email(text)
    if _UUID.match(text):
        return text.lower()
    if leaf in _LINK_LEAVES:
        return stored_link(text)
    if leaf.endswith("PhoneNumber") or leaf == "number":
        return national_number(text)
    return text


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return Decimal(str(value).strip())
    except InvalidOperation:
        return None


def _instant(text: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        try:
            day = date.fromisoformat(text.strip())
        except ValueError:
            return None
        parsed = datetime(day.year, day.month, day.day)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _markdown(text: str) -> str:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip("\n")


def _blocknote(text: str) -> Any:
    """A BlockNote document without its block ids (Twenty generates them)."""
    try:
        document = json.loads(text)
    except ValueError:
        return text
    return _without_ids(document)


def _without_ids(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _without_ids(v) for k, v in node.items() if k != "id"}
    if isinstance(node, list):
        return [_without_ids(v) for v in node]
    return node
