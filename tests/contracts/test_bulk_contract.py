"""Bulk writes (docs/destination.md, "Bulk writes"): delete-, destroy-, restore- and upsert-many.

Only requests that are harmless on a shared workspace: every filter names this run's records.
Refusals of a filterless update- or restore-many, and the caps, are sandbox-only
(tests/sandbox/test_bulk.py): an older Twenty would apply them to every record.
"""

from __future__ import annotations

import uuid

from tests.contracts.conftest import Api

GONE = str(uuid.uuid4())


def _notes(api: Api, titles: list[str]) -> list[str]:
    response = api.client.post("/batch/notes", json=[{"title": title} for title in titles])
    assert response.status_code == 201, response.text
    created = response.json()["data"]["createNotes"]
    api.track("notes", created)
    return [str(note["id"]) for note in created]


def _in(ids: list[str]) -> str:
    return f"id[in]:[{','.join(ids)}]"


def _alive(api: Api, ids: list[str]) -> set[str]:
    found = api.client.get("/notes", params={"filter": _in(ids)}).json()["data"]["notes"]
    return {str(note["id"]) for note in found}


def _deleted(api: Api, ids: list[str]) -> dict[str, object]:
    params = {"filter": f"{_in(ids)},deletedAt[is]:NOT_NULL"}
    found = api.client.get("/notes", params=params).json()["data"]["notes"]
    return {str(note["id"]): note["deletedAt"] for note in found}


def test_bulk_delete_without_a_filter_is_refused(api: Api) -> None:
    for soft, operation in (("true", "delete"), ("false", "destroy")):
        response = api.client.delete("/notes", params={"soft_delete": soft})
        assert response.status_code == 400
        body = response.json()
        assert body["error"] == "BadRequestException"
        assert body["messages"][0].startswith(
            f"Filters are mandatory for bulk {operation} operations"
        )


def test_soft_delete_many_answers_ids_skips_missing_and_restamps_deleted_rows(api: Api) -> None:
    a, b, c = _notes(api, [api.tag] * 3)
    first = api.client.delete("/notes", params={"filter": _in([a, GONE]), "soft_delete": "true"})
    assert first.status_code == 200, first.text
    assert first.json() == {"data": {"deleteNotes": [{"id": a}]}}
    stamped = _deleted(api, [a])[a]
    again = api.client.delete("/notes", params={"filter": _in([a, b]), "soft_delete": "true"})
    assert sorted(n["id"] for n in again.json()["data"]["deleteNotes"]) == sorted([a, b])
    assert str(_deleted(api, [a])[a]) >= str(stamped)
    assert _alive(api, [a, b, c]) == {c}


def test_destroy_many_reaches_soft_deleted_rows(api: Api) -> None:
    a, b = _notes(api, [api.tag] * 2)
    api.client.delete(f"/notes/{a}", params={"soft_delete": "true"})
    destroyed = api.client.delete("/notes", params={"filter": _in([a, b, GONE])})
    assert destroyed.status_code == 200, destroyed.text
    assert sorted(n["id"] for n in destroyed.json()["data"]["deleteNotes"]) == sorted([a, b])
    assert _deleted(api, [a, b]) == {} and _alive(api, [a, b]) == set()


def test_restore_many_answers_whole_records(api: Api) -> None:
    a, b = _notes(api, [api.tag] * 2)
    api.client.delete("/notes", params={"filter": _in([a, b]), "soft_delete": "true"})
    restored = api.client.patch("/notes/restore", params={"filter": _in([a, b, GONE])})
    assert restored.status_code == 200, restored.text
    records = restored.json()["data"]["restoreNotes"]
    assert sorted(r["id"] for r in records) == sorted([a, b])
    assert all(r["deletedAt"] is None and r["title"] == api.tag for r in records)
    assert _alive(api, [a, b]) == {a, b}


def test_in_list_items_are_not_trimmed(api: Api) -> None:
    _notes(api, [f"{api.tag}-a", f"{api.tag}-b"])
    spaced = {"filter": f"title[in]:[{api.tag}-a, {api.tag}-b]"}
    found = api.client.get("/notes", params=spaced).json()["data"]["notes"]
    assert [n["title"] for n in found] == [f"{api.tag}-a"]
    tight = {"filter": f"title[in]:[{api.tag}-a,{api.tag}-b]"}
    assert api.client.get("/notes", params=tight).json()["totalCount"] == 2


def test_batch_upsert_writes_only_the_fields_sent_and_restores(api: Api) -> None:
    person = api.create("people", {"jobTitle": "Dentist", "avatarUrl": "Lyon"})
    api.client.delete(f"/people/{person['id']}", params={"soft_delete": "true"})
    new_id = str(uuid.uuid4())
    response = api.client.post(
        "/batch/people",
        params={"upsert": "true"},
        json=[{"id": person["id"], "jobTitle": "Hygienist"}, {"id": new_id, "avatarUrl": None}],
    )
    assert response.status_code == 201, response.text
    api.track("people", [{"id": new_id}])
    by_id = {r["id"]: r for r in response.json()["data"]["createPeople"]}
    kept = by_id[person["id"]]
    assert kept["jobTitle"] == "Hygienist" and kept["avatarUrl"] == "Lyon"
    assert kept["deletedAt"] is None and kept["createdAt"] == person["createdAt"]
    cleared = api.client.post(
        "/batch/people", params={"upsert": "true"}, json=[{"id": person["id"], "avatarUrl": None}]
    )
    assert cleared.json()["data"]["createPeople"][0]["avatarUrl"] is None
    assert by_id[new_id]["deletedAt"] is None
