"""Reference §13 item 12: the metadata API's shapes and rules; new objects usable at once."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.contracts.conftest import Api


def _letters(tag: str) -> str:
    """Metadata names must equal their own camelCase, so digits are out."""
    return "".join(chr(ord("a") + int(char, 16)) for char in tag)


def _objects(api: Api) -> dict[str, dict[str, object]]:
    response = api.client.get("/metadata/objects", params={"limit": "200"})
    assert response.status_code == 200
    return {o["nameSingular"]: o for o in response.json()["data"]["objects"]}


@pytest.fixture
def custom_object(api: Api) -> Iterator[dict[str, object]]:
    """A custom object for this test, deactivated and deleted afterwards."""
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
    obj: dict[str, object] = response.json()["data"]["createOneObject"]
    yield obj
    api.client.patch(f"/metadata/objects/{obj['id']}", json={"isActive": False})
    api.client.delete(f"/metadata/objects/{obj['id']}")


def test_12_objects_list_in_legacy_shape_with_fields(api: Api) -> None:
    person = _objects(api)["person"]
    assert person["namePlural"] == "people"
    fields = {f["name"]: f for f in person["fields"]}  # type: ignore[attr-defined]
    assert fields["emails"]["type"] == "EMAILS" and fields["emails"]["isUnique"]
    assert fields["company"]["relation"]["type"] == "MANY_TO_ONE"


@pytest.mark.parametrize(
    ("singular", "plural"),
    [("Visit", "visits"), ("event", "events"), ("visit", "visit"), ("my_visit", "myVisits")],
    ids=["not-camel", "reserved", "same-names", "snake"],
)
def test_12_object_names_are_checked(api: Api, singular: str, plural: str) -> None:
    response = api.client.post(
        "/metadata/objects",
        json={
            "nameSingular": singular,
            "namePlural": plural,
            "labelSingular": "A",
            "labelPlural": "Bs",
        },
    )
    assert response.status_code == 400


def test_12_new_object_gets_routes_fields_and_relations(
    api: Api, custom_object: dict[str, object]
) -> None:
    plural = str(custom_object["namePlural"])
    person_id = _objects(api)["person"]["id"]
    fields = [
        {
            "type": "SELECT",
            "name": "kind",
            "label": "Kind",
            "defaultValue": "'CALL'",
            "options": [
                {"value": "CALL", "label": "Call", "position": 0, "color": "green"},
                {"value": "VISIT", "label": "Visit", "position": 1, "color": "blue"},
            ],
        },
        {"type": "TEXT", "name": "legacyId", "label": "Legacy id", "isUnique": True},
        {
            "type": "RELATION",
            "name": "patient",
            "label": "Patient",
            "relationCreationPayload": {
                "type": "MANY_TO_ONE",
                "targetObjectMetadataId": person_id,
                "targetFieldLabel": f"Visits {_letters(api.tag)}",
                "targetFieldIcon": "IconCalendar",
            },
        },
    ]
    for field in fields:
        created = api.client.post(
            "/metadata/fields", json={"objectMetadataId": custom_object["id"], **field}
        )
        assert created.status_code == 201, created.text
    person = api.create("people", {"jobTitle": api.tag})
    visit = api.create(plural, {"name": "first", "patientId": person["id"], "legacyId": "L-1"})
    assert visit["kind"] == "CALL" and visit["patientId"] == person["id"]
    assert api.client.post(f"/{plural}", json={"legacyId": "L-1"}).status_code == 400
    singular = str(custom_object["nameSingular"])
    target_key = f"target{singular[0].upper()}{singular[1:]}Id"
    task = api.create("tasks", {"title": api.tag})
    link = api.create("taskTargets", {"taskId": task["id"], target_key: visit["id"]})
    assert link[target_key] == visit["id"]


@pytest.mark.parametrize(
    "options",
    [
        [{"value": "lower", "label": "Lower", "position": 0}],
        [{"value": "A", "label": "With, comma", "position": 0}],
        [{"value": "A", "label": "A", "position": 0}, {"value": "A", "label": "B", "position": 1}],
        [],
    ],
    ids=["not-upper-snake", "comma-label", "duplicate-value", "empty"],
)
def test_12_select_options_are_checked(
    api: Api, custom_object: dict[str, object], options: list[dict[str, object]]
) -> None:
    response = api.client.post(
        "/metadata/fields",
        json={
            "objectMetadataId": custom_object["id"],
            "type": "SELECT",
            "name": "stage",
            "label": "Stage",
            "options": options,
        },
    )
    assert response.status_code == 400


def test_12_unknown_metadata_ids(api: Api) -> None:
    unknown = "9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d"
    assert api.client.get(f"/metadata/objects/{unknown}").status_code == 404
    assert api.client.get("/metadata/objects/nope").status_code == 400
    assert api.client.patch(f"/metadata/fields/{unknown}", json={"label": "x"}).status_code == 400
    assert isinstance(api.client, httpx.Client)
