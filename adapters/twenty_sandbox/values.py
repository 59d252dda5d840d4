"""Checking and normalising one field value the way Twenty's data processor does (reference §5)."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, date, datetime
from typing import Any

from adapters.twenty_sandbox.problems import bad_request
from adapters.twenty_sandbox.schema import COMPOSITES, FieldMeta
from adapters.twenty_sandbox.transforms import check_email, transform_links, transform_phones

UUID_PATTERN = re.compile(
    r"^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", re.IGNORECASE
)
_DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")
ACTOR_SOURCES = frozenset(
    {
        "EMAIL",
        "CALENDAR",
        "WORKFLOW",
        "AGENT",
        "API",
        "IMPORT",
        "MANUAL",
        "SYSTEM",
        "WEBHOOK",
        "APPLICATION",
    }
)


def is_valid_uuid(text: object) -> bool:
    """True for a UUID of versions 1-5 (Twenty's `isValidUuid`; v7 is refused)."""
    return isinstance(text, str) and UUID_PATTERN.match(text) is not None


def format_instant(instant: datetime) -> str:
    """An instant as Twenty returns DATE_TIME values: UTC, milliseconds, `Z`."""
    text = instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
    return f"{text[:-3]}Z"


def parse_datetime(value: Any, field_name: str) -> str:
    """An ISO-8601 string normalised to a UTC instant.

    Raises:
        ApiProblem: 400 when the value is not a date-time Twenty would accept.
    """
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            parsed = None
        if parsed is not None:
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=UTC)
            return format_instant(parsed)
    raise bad_request(
        f"Invalid date time value '{value}' for field \"{field_name}\" - "
        "Expected format: 'YYYY-MM-DDTHH:mm:ssZ'"
    )


# twenty-shared ACCEPTED_DATE_FORMATS besides ISO (date-fns patterns -> strptime), each with
# the shape date-fns requires (two-digit `MM`/`dd`, one or two digits for `d`).
_DATE_FORMATS = (
    (r"\d{8}", "%Y%m%d"),
    (r"\d{4}\.\d{2}\.\d{2}", "%Y.%m.%d"),
    (r"\d{4}/\d{2}/\d{2}", "%Y/%m/%d"),
    (r"\d{2}-\d{2}-\d{4}", "%m-%d-%Y"),
    (r"\d{2}/\d{2}/\d{4}", "%m/%d/%Y"),
    (r"\d{2}\.\d{2}\.\d{4}", "%m.%d.%Y"),
    (r"[A-Za-z]{4,} \d{1,2}, \d{4}", "%B %d, %Y"),
    (r"[A-Za-z]{3} \d{1,2}, \d{4}", "%b %d, %Y"),
    (r"\d{1,2} [A-Za-z]{4,} \d{4}", "%d %B %Y"),
    (r"\d{1,2} [A-Za-z]{3} \d{4}", "%d %b %Y"),
    (r"\d{2}-[A-Za-z]{3}-\d{4}", "%d-%b-%Y"),
    (r"\d{4}-[A-Za-z]{3}-\d{2}", "%Y-%b-%d"),
)


def parse_date(value: Any, field_name: str) -> str:
    """A calendar date as `YYYY-MM-DD` from any format Twenty's DATE validator accepts
    (ISO dates and date-times, `yyyyMMdd`, `MM/dd/yyyy`, `MMM d, yyyy`, ...).

    Raises:
        ApiProblem: 400 when the value is not a date.
    """
    if isinstance(value, str):
        text = value.strip()
        try:
            if _DATE_PATTERN.match(text):
                return date.fromisoformat(text).isoformat()
            return datetime.fromisoformat(text).date().isoformat()
        except ValueError:
            pass
        for shape, pattern in _DATE_FORMATS:
            if re.fullmatch(shape, text):
                try:
                    return datetime.strptime(text, pattern).date().isoformat()
                except ValueError:
                    pass
    raise bad_request(
        f"Invalid value '{value}' for date field \"{field_name}\". Expected format: 'YYYY-MM-DD'"
    )


def check_value(field: FieldMeta, value: Any, current: Any = None) -> Any:
    """The stored form of `value` for `field`; `current` is merged into partial composites.

    Raises:
        ApiProblem: 400 naming the field when the value has the wrong shape.
    """
    if value is None:
        return None
    if field.type in COMPOSITES:
        return _check_composite(field, value, current)
    checker = _SCALAR_CHECKS.get(field.type)
    return checker(field, value) if checker else value


def _invalid(field: FieldMeta, value: Any, kind: str) -> Exception:
    return bad_request(f"Invalid value '{value}' for {kind} field \"{field.name}\"")


def _check_text(field: FieldMeta, value: Any) -> Any:
    if not isinstance(value, str):
        raise _invalid(field, value, "text")
    return value


def _check_number(field: FieldMeta, value: Any) -> Any:
    """NUMBER takes JSON numbers only (`validate-number-field-or-throw`): `"42"` is refused."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise bad_request(f"Invalid number value '{value}' for field \"{field.name}\"")
    return value


def _check_numeric(field: FieldMeta, value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        if isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                raise _invalid(field, value, "number") from None
            return int(number) if number.is_integer() and "." not in value else number
        raise _invalid(field, value, "number")
    return value


def _check_boolean(field: FieldMeta, value: Any) -> Any:
    if not isinstance(value, bool):
        raise _invalid(field, value, "boolean")
    return value


def _check_uuid(field: FieldMeta, value: Any) -> Any:
    if not is_valid_uuid(value):
        raise bad_request(f"Invalid UUID value '{value}' for field \"{field.name}\"")
    return str(value).lower()


def _option_values(field: FieldMeta) -> set[str]:
    return {str(option["value"]) for option in field.options or []}


def _check_select(field: FieldMeta, value: Any) -> Any:
    if not isinstance(value, str) or value not in _option_values(field):
        raise bad_request(f"Invalid value '{value}' for field \"{field.name}\"")
    return value


def _check_multi_select(field: FieldMeta, value: Any) -> Any:
    if not isinstance(value, list):
        raise bad_request(f"Invalid value '{value}' for field \"{field.name}\"")
    allowed = _option_values(field)
    for item in value:
        if not isinstance(item, str) or item not in allowed:
            raise bad_request(f"Invalid value '{item}' for field \"{field.name}\"")
    return value


def _check_array(field: FieldMeta, value: Any) -> Any:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _invalid(field, value, "array")
    return value


def _check_raw_json(field: FieldMeta, value: Any) -> Any:
    if not isinstance(value, dict | list):
        raise _invalid(field, value, "raw json")
    return value


def _check_position(field: FieldMeta, value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _invalid(field, value, "position")
    return value


def _check_rating(field: FieldMeta, value: Any) -> Any:
    if value not in {f"RATING_{n}" for n in range(1, 6)}:
        raise bad_request(f"Invalid value '{value}' for field \"{field.name}\"")
    return value


_SCALAR_CHECKS = {
    "TEXT": _check_text,
    "NUMBER": _check_number,
    "NUMERIC": _check_numeric,
    "BOOLEAN": _check_boolean,
    "UUID": _check_uuid,
    "DATE": lambda f, v: parse_date(v, f.name),
    "DATE_TIME": lambda f, v: parse_datetime(v, f.name),
    "SELECT": _check_select,
    "MULTI_SELECT": _check_multi_select,
    "ARRAY": _check_array,
    "RAW_JSON": _check_raw_json,
    "POSITION": _check_position,
    "RATING": _check_rating,
}


def _check_composite(field: FieldMeta, value: Any, current: Any) -> dict[str, Any]:
    shape = COMPOSITES[field.type]
    if not isinstance(value, dict):
        raise bad_request(
            f"Invalid value '{value}' for {field.type.lower()} field \"{field.name}\""
        )
    checked: dict[str, Any] = {}
    for key, sub_value in value.items():
        if key not in shape:
            kind = field.type.lower().replace("_", " ")
            raise bad_request(f'Invalid subfield {key} for {kind} field "{field.name}"')
        checked[key] = _check_subfield(field, key, shape[key][0], sub_value)
    if field.type == "PHONES":
        checked = transform_phones(checked)
    elif field.type == "LINKS" and ("primaryLinkUrl" in checked or "secondaryLinks" in checked):
        checked = transform_links(checked)
    merged = dict(current) if isinstance(current, dict) else composite_default(field.type)
    merged.update(checked)
    if field.type == "RICH_TEXT_V2":
        merged = _complete_rich_text(merged, value)
    return merged


def _check_subfield(field: FieldMeta, key: str, kind: str, value: Any) -> Any:
    if value is None:
        # Twenty reads an empty list sub-field back as [] and an empty text one as "".
        return [] if kind.endswith("_list") else None
    label = f"{field.name}.{key}"
    if kind == "email":
        return check_email(value, field.name)
    if kind == "email_list":
        if not isinstance(value, list):
            raise bad_request(f'Invalid value for field "{label}": expected an array')
        return [check_email(item, field.name) for item in value]
    if kind == "number":
        return _check_numeric(
            FieldMeta(id="", object_id="", name=label, label="", type="NUMBER"), value
        )
    if kind == "object_list":
        if not isinstance(value, list) or not all(isinstance(i, dict) for i in value):
            raise bad_request(f'Invalid value for field "{label}": expected an array of objects')
        return value
    if kind == "actor_source":
        if value not in ACTOR_SOURCES:
            raise bad_request(f"Invalid value '{value}' for field \"{label}\"")
        return value
    if kind == "uuid":
        if not is_valid_uuid(value):
            raise bad_request(f"Invalid UUID value '{value}' for field \"{label}\"")
        return value
    if kind == "json":
        return value
    if not isinstance(value, str):
        raise bad_request(f"Invalid value '{value}' for text field \"{label}\"")
    return value


def composite_default(type_: str) -> dict[str, Any]:
    """A composite value with every sub-field at its default."""
    return {key: _copy(default) for key, (_, default) in COMPOSITES[type_].items()}


def _copy(value: Any) -> Any:
    if isinstance(value, list):
        return list(value)
    return dict(value) if isinstance(value, dict) else value


def _complete_rich_text(merged: dict[str, Any], sent: dict[str, Any]) -> dict[str, Any]:
    """Derive blocknote from markdown (or markdown from blocknote) as Twenty's transformer does."""
    if "markdown" in sent and "blocknote" not in sent:
        merged["blocknote"] = markdown_to_blocknote(merged.get("markdown"))
    elif "blocknote" in sent and "markdown" not in sent:
        merged["markdown"] = blocknote_to_markdown(merged.get("blocknote"))
    return merged


def markdown_to_blocknote(markdown: str | None) -> str | None:
    """A BlockNote document (JSON text): one paragraph block per markdown line."""
    if markdown is None:
        return None
    blocks = [
        {
            "id": str(uuid.uuid4()),
            "type": "paragraph",
            "props": {
                "textColor": "default",
                "backgroundColor": "default",
                "textAlignment": "left",
            },
            "content": [{"type": "text", "text": line, "styles": {}}] if line else [],
            "children": [],
        }
        for line in markdown.split("\n")
    ]
    return json.dumps(blocks)


def blocknote_to_markdown(blocknote: str | None) -> str | None:
    """The plain text of a BlockNote document, one line per block (best effort)."""
    if blocknote is None:
        return None
    try:
        blocks = json.loads(blocknote)
    except ValueError:
        raise bad_request('Invalid value for field "blocknote": not a JSON document') from None
    lines = []
    for block in blocks if isinstance(blocks, list) else []:
        content = block.get("content") if isinstance(block, dict) else None
        lines.append(
            "".join(part.get("text", "") for part in content or [] if isinstance(part, dict))
        )
    return "\n".join(lines)
