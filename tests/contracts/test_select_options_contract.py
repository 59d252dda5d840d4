"""What an options update of a SELECT / MULTI_SELECT field does to the values stored.

Twenty pairs the old and new options by id: a value whose option comes back with its id is
kept (renamed if the value changed); an option sent without an id is a new option, and a
stored value whose option id is gone is lost, even when an option of the same value is sent.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.contracts.conftest import Api


def _letters(tag: str) -> str:
    return "".join(chr(ord("a") + int(char, 16)) for char in tag)


@pytest.fixture
def visits(api: Api) -> Iterator[dict[str, Any]]:
    """A custom object with a SELECT `stage` and a MULTI_SELECT `tags`, removed afterwards."""
    name = f"visit{_letters(api.tag).capitalize()}"
    response = api.client.post(
        "/metadata/objects",
        json={
            "nameSingular": name,
            "namePlural": f"{name}s",
            "labelSingular": f"Visit {api.tag}",
            "labelPlural": f"Visits {api.tag}",
            "icon": "IconCalendar",
        },
    )
    assert response.status_code == 201, response.text
    obj: dict[str, Any] = response.json()["data"]["createOneObject"]
    fields = {}
    for type_, field_name in (("SELECT", "stage"), ("MULTI_SELECT", "tags")):
        created = api.client.post(
            "/metadata/fields",
            json={
                "objectMetadataId": obj["id"],
                "type": type_,
                "name": field_name,
                "label": field_name.capitalize(),
                "isNullable": True,
                "options": [
                    {"value": v, "label": v.title(), "position": i, "color": "blue"}
                    for i, v in enumerate(["BOOKED", "SEEN", "MISSED"])
                ],
            },
        )
        assert created.status_code == 201, created.text
        fields[field_name] = next(iter(created.json()["data"].values()))
    yield {"object": obj, "plural": f"{name}s", **fields}
    api.client.patch(f"/metadata/objects/{obj['id']}", json={"isActive": False})
    api.client.delete(f"/metadata/objects/{obj['id']}")


def _create(api: Api, plural: str, body: dict[str, Any]) -> str:
    response = api.client.post(f"/{plural}", json=body)
    assert response.status_code == 201, response.text
    return str(next(iter(response.json()["data"].values()))["id"])


def _read(api: Api, plural: str, record_id: str) -> dict[str, Any]:
    response = api.client.get(f"/{plural}/{record_id}")
    assert response.status_code == 200, response.text
    record: dict[str, Any] = next(iter(response.json()["data"].values()))
    return record


def _update_options(api: Api, field: dict[str, Any], options: list[dict[str, Any]]) -> None:
    response = api.client.patch(f"/metadata/fields/{field['id']}", json={"options": options})
    assert response.status_code == 200, response.text


def test_options_sent_back_with_their_ids_keep_the_stored_values(
    api: Api, visits: dict[str, Any]
) -> None:
    plural, stage = visits["plural"], visits["stage"]
    seen = _create(api, plural, {"stage": "SEEN"})
    missed = _create(api, plural, {"stage": "MISSED"})
    options = [dict(o) for o in stage["options"]]
    for option in options:
        option["label"] = option["label"] + " (edited)"
    renamed = next(o for o in options if o["value"] == "MISSED")
    renamed["value"] = "NO_SHOW"
    options.append({"value": "CANCELLED", "label": "Cancelled", "position": 3, "color": "red"})
    _update_options(api, stage, options)
    assert _read(api, plural, seen)["stage"] == "SEEN"
    assert _read(api, plural, missed)["stage"] == "NO_SHOW"  # followed its option's id


def test_options_sent_back_without_ids_are_new_options_and_values_are_lost(
    api: Api, visits: dict[str, Any]
) -> None:
    plural, stage = visits["plural"], visits["stage"]
    seen = _create(api, plural, {"stage": "SEEN"})
    without_ids = [{k: v for k, v in option.items() if k != "id"} for option in stage["options"]]
    _update_options(api, stage, without_ids)
    assert _read(api, plural, seen)["stage"] is None


def test_removing_an_option_nulls_its_values_and_keeps_the_others(
    api: Api, visits: dict[str, Any]
) -> None:
    plural, stage, tags = visits["plural"], visits["stage"], visits["tags"]
    removed = _create(api, plural, {"stage": "MISSED", "tags": ["MISSED"]})
    kept = _create(api, plural, {"stage": "SEEN", "tags": ["SEEN", "BOOKED"]})
    _update_options(api, stage, [o for o in stage["options"] if o["value"] != "MISSED"])
    _update_options(api, tags, [o for o in tags["options"] if o["value"] != "MISSED"])
    first, second = _read(api, plural, removed), _read(api, plural, kept)
    assert first["stage"] is None and first["tags"] is None
    assert second["stage"] == "SEEN" and second["tags"] == ["SEEN", "BOOKED"]
