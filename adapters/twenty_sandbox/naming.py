"""Metadata naming rules: camelCase, 63 characters, reserved words, select options (§5.1, §6.2)."""

from __future__ import annotations

import re
import uuid
from typing import Any

from adapters.twenty_sandbox.problems import bad_request
from adapters.twenty_sandbox.values import is_valid_uuid

_NAME = re.compile(r"^[a-z][a-zA-Z0-9]*$")
_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_OPTION_VALUE = re.compile(r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$")
# twenty-shared `RESERVED_METADATA_NAME_KEYWORDS` (CORE_OBJECT_NAMES plus keywords): `fullNames`
# is reserved but `fullName` is not; `billing` alone is not.
_CORE_OBJECT_NAMES = [
    "approvedAccessDomain",
    "appToken",
    "billingCustomer",
    "billingEntitlement",
    "billingMeter",
    "billingProduct",
    "billingSubscription",
    "billingSubscriptionItem",
    "featureFlag",
    "job",
    "keyValuePair",
    "pageLayout",
    "pageLayoutTab",
    "pageLayoutWidget",
    "postgresCredential",
    "twoFactorMethod",
    "user",
    "userWorkspace",
    "workspace",
    "role",
    "userWorkspaceRole",
]
RESERVED_NAMES = frozenset(
    [name for singular in _CORE_OBJECT_NAMES for name in (singular, f"{singular}s")]
    + [
        *("plan", "plans", "event", "events", "field", "fields", "link", "links"),
        *("currency", "currencies", "fullNames", "address", "addresses", "type", "types"),
        *("object", "objects", "index", "relation", "relations", "aggregate"),
    ]
)
COLORS = frozenset(
    [
        "red",
        "ruby",
        "crimson",
        "tomato",
        "orange",
        "amber",
        "yellow",
        "lime",
        "grass",
        "green",
        "jade",
        "mint",
        "turquoise",
        "cyan",
        "sky",
        "blue",
        "iris",
        "violet",
        "purple",
        "plum",
        "pink",
        "bronze",
        "gold",
        "brown",
        "gray",
    ]
)


def camel_case(text: str) -> str:
    """lodash-style camelCase: words split on case changes, digits and separators."""
    words = _WORDS.findall(text)
    if not words:
        return ""
    head, *rest = [str(word) for word in words]
    return head.lower() + "".join(word[:1].upper() + word[1:].lower() for word in rest)


def check_name(name: Any, what: str) -> str:
    """A metadata name that Twenty accepts.

    Raises:
        ApiProblem: 400 when not camelCase, too long, or reserved.
    """
    if not isinstance(name, str) or not name:
        raise bad_request(f"{what} is required")
    if len(name) > 63:
        raise bad_request(f"{what} '{name}' exceeds 63 characters")
    if not _NAME.match(name) or camel_case(name) != name:
        raise bad_request(f"{what} '{name}' should be in camelCase")
    if name in RESERVED_NAMES:
        raise bad_request(f'The name "{name}" is not available')
    return name


def check_label(label: Any, what: str) -> str:
    """A non-blank label of at most 63 characters.

    Raises:
        ApiProblem: 400 otherwise.
    """
    if not isinstance(label, str) or not label.strip():
        raise bad_request(f"{what} is required")
    if len(label) > 63:
        raise bad_request(f"{what} '{label}' exceeds 63 characters")
    return label


def check_options(options: Any) -> list[dict[str, Any]]:
    """SELECT / MULTI_SELECT options normalised with ids and positions.

    Raises:
        ApiProblem: 400 for a missing list, bad values or labels, or duplicates.
    """
    if not isinstance(options, list) or not options:
        raise bad_request("Options are required for select fields")
    checked = [_check_option(option, index) for index, option in enumerate(options)]
    for key in ("value", "id", "position"):
        seen = [option[key] for option in checked]
        if len(seen) != len(set(seen)):
            raise bad_request(f"Duplicated option {key}")
    return checked


def _check_option(option: Any, index: int) -> dict[str, Any]:
    if not isinstance(option, dict):
        raise bad_request("Each option must be an object with value and label")
    value, label = option.get("value"), option.get("label")
    if not isinstance(value, str) or not 1 <= len(value) <= 63:
        raise bad_request("Option value is required and must be 1 to 63 characters")
    if not _OPTION_VALUE.match(value) or "__" in value:
        raise bad_request(f'Value must be in UPPER_CASE and follow snake_case "{value}"')
    if not isinstance(label, str) or not label.strip() or len(label) > 63:
        raise bad_request("Option label is required and must be 1 to 63 characters")
    if "," in label:
        raise bad_request(f'Label must not contain a comma "{label}"')
    color = option.get("color", "gray")
    if color not in COLORS:
        raise bad_request(f'Invalid option color "{color}"')
    option_id = option.get("id") or str(uuid.uuid4())
    if not is_valid_uuid(option_id):
        raise bad_request(f"Option id '{option_id}' is not a valid UUID")
    position = option.get("position", index)
    return {"id": option_id, "value": value, "label": label, "position": position, "color": color}


def check_select_default(default: Any, options: list[dict[str, Any]], multi: bool) -> Any:
    """A select default: `"'VALUE'"` (or a list of them) naming existing options.

    Raises:
        ApiProblem: 400 otherwise.
    """
    if default is None:
        return None
    values = {option["value"] for option in options}
    items = default if multi and isinstance(default, list) else [default]
    if multi and (not isinstance(default, list) or not default or len(set(items)) != len(items)):
        raise bad_request("Default value for a multi-select must be a non-empty array of options")
    for item in items:
        if not (isinstance(item, str) and len(item) > 2 and item[0] == item[-1] == "'"):
            raise bad_request(f"Default value {item!r} must be a quoted option value like \"'A'\"")
        if item[1:-1] not in values:
            raise bad_request(f"Default value {item} is not one of the field's options")
    return default
