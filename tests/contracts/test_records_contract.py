"""Reference §13 items 1-3, 6-9, 11, 13, 14: auth, routes, ids, uniqueness, upsert, delete,
restore, createdBy, the batch cap, task targets and workspace members."""

from __future__ import annotations

import uuid

import httpx

from tests.contracts.conftest import Api, Target


def test_01_missing_key_is_403_and_wrong_key_is_401(twenty_target: Target) -> None:
    # Twenty's rest-api-core-authentication suite: no token (or an empty Bearer) is a 403
    # FORBIDDEN_EXCEPTION, a token that is not a key a 401 UNAUTHENTICATED "Token invalid.".
    for headers in ({}, {"Authorization": "Bearer"}):
        response = httpx.get(f"{twenty_target.rest_url}/people", headers=headers)
        assert response.status_code == 403
        assert response.json()["error"] == "FORBIDDEN_EXCEPTION"
        assert response.json()["messages"] == ["Missing authentication token"]
    for token in ("not-the-key", "invalid-token"):
        headers = {"Authorization": f"Bearer {token}"}
        response = httpx.get(f"{twenty_target.rest_url}/people", headers=headers)
        assert response.status_code == 401
        assert response.json()["error"] == "UNAUTHENTICATED"
        assert response.json()["messages"] == ["Token invalid."]


def test_02_routes_and_envelopes(api: Api) -> None:
    person = api.create("people", {"name": {"firstName": "Env", "lastName": api.tag}})
    pid = person["id"]
    batch = api.client.post("/batch/people", json=[{"jobTitle": api.tag}, {"jobTitle": api.tag}])
    assert batch.status_code == 201
    api.track("people", batch.json()["data"]["createPeople"])
    listed = api.client.get("/people", params={"filter": f"jobTitle[eq]:{api.tag}"})
    assert listed.status_code == 200
    body = listed.json()
    assert len(body["data"]["people"]) == 2 and body["totalCount"] == 2
    assert set(body["pageInfo"]) >= {"hasNextPage", "startCursor", "endCursor"}
    assert api.client.get(f"/people/{pid}").json()["data"]["person"]["id"] == pid
    updated = api.client.patch(f"/people/{pid}", json={"jobTitle": "x"})
    assert updated.json()["data"]["updatePerson"]["jobTitle"] == "x"
    many = api.client.patch(
        "/people", params={"filter": f"jobTitle[eq]:{api.tag}"}, json={"avatarUrl": "Lisbon"}
    )
    assert [p["avatarUrl"] for p in many.json()["data"]["updatePeople"]] == ["Lisbon", "Lisbon"]
    missing = api.client.get("/person")
    assert missing.status_code == 400
    assert "Did you mean 'people'?" in missing.json()["messages"][0]


def test_03_uuid_versions_1_to_5_only(api: Api) -> None:
    v7 = "01890a5d-ac96-774b-bcce-b302099a8057"
    assert api.client.get(f"/people/{v7}").json()["messages"] == [f"'{v7}' is not a valid UUID"]
    assert api.client.post("/people", json={"id": v7}).status_code == 400
    chosen = str(uuid.uuid4())
    assert api.create("people", {"id": chosen})["id"] == chosen
    assert api.client.get(f"/people/{uuid.uuid4()}").status_code == 404


def test_06_unique_email_and_domain_hold_even_when_soft_deleted(api: Api) -> None:
    email = api.email("unique")
    person = api.create("people", {"emails": {"primaryEmail": email}})
    duplicate = api.client.post("/people", json={"emails": {"primaryEmail": email.upper()}})
    assert duplicate.status_code == 400
    assert duplicate.json()["messages"][0].startswith("A duplicate entry")
    api.client.delete(f"/people/{person['id']}", params={"soft_delete": "true"})
    again = api.client.post("/people", json={"emails": {"primaryEmail": email}})
    assert again.status_code == 400
    domain = f"https://{api.tag}.example"
    api.create("companies", {"domainName": {"primaryLinkUrl": domain}})
    twin = api.client.post("/companies", json={"domainName": {"primaryLinkUrl": domain}})
    assert twin.status_code == 400


def test_07_upsert_restores_soft_deleted_match_and_keeps_created_by(api: Api) -> None:
    email = api.email("upsert")
    first = api.create(
        "people", {"emails": {"primaryEmail": email}, "createdBy": {"source": "IMPORT"}}
    )
    api.client.delete(f"/people/{first['id']}", params={"soft_delete": "true"})
    upserted = api.client.post(
        "/people",
        params={"upsert": "true"},
        json={"emails": {"primaryEmail": email}, "jobTitle": "Hygienist"},
    )
    assert upserted.status_code == 201
    record = upserted.json()["data"]["createPerson"]
    assert record["id"] == first["id"]
    assert record["deletedAt"] is None and record["jobTitle"] == "Hygienist"
    assert record["createdBy"]["source"] == "IMPORT"
    batch = api.client.post(
        "/batch/people",
        params={"upsert": "true"},
        json=[{"emails": {"primaryEmail": email}, "avatarUrl": "Porto"}],
    )
    assert batch.json()["data"]["createPeople"][0]["id"] == first["id"]


def test_08_delete_destroys_by_default_soft_delete_and_restore(api: Api) -> None:
    gone = api.create("notes", {"title": api.tag})
    destroyed = api.client.delete(f"/notes/{gone['id']}")
    assert destroyed.json() == {"data": {"deleteNote": {"id": gone["id"]}}}
    hidden = api.client.get(
        "/notes", params={"filter": f"id[eq]:{gone['id']},deletedAt[is]:NOT_NULL"}
    )
    assert hidden.json()["totalCount"] == 0
    note = api.create("notes", {"title": api.tag})
    soft = api.client.delete(f"/notes/{note['id']}", params={"soft_delete": "true"})
    assert soft.json()["data"]["deleteNote"]["deletedAt"] is not None
    assert api.client.get(f"/notes/{note['id']}").status_code == 404
    restored = api.client.patch(f"/notes/{note['id']}/restore")
    assert restored.json()["data"]["restoreNote"]["deletedAt"] is None
    api.client.delete(f"/notes/{note['id']}", params={"soft_delete": "true"})
    many = api.client.patch("/notes/restore", params={"filter": f"id[eq]:{note['id']}"})
    assert [n["id"] for n in many.json()["data"]["restoreNotes"]] == [note["id"]]
    assert api.client.delete("/notes").status_code == 400


def test_09_created_by_is_injected_and_client_values_are_honoured(api: Api) -> None:
    injected = api.create("notes", {"title": api.tag})
    assert injected["createdBy"]["source"] == "API"
    assert injected["createdBy"]["workspaceMemberId"] is None
    kept = api.create(
        "notes",
        {
            "title": api.tag,
            "createdBy": {"source": "IMPORT"},
            "createdAt": "1999-01-01T00:00:00.000Z",
        },
    )
    assert kept["createdBy"]["source"] == "IMPORT"
    assert kept["createdAt"] == "1999-01-01T00:00:00.000Z"
    later = api.client.patch(f"/notes/{kept['id']}", json={"title": "changed"})
    assert later.json()["data"]["updateNote"]["updatedAt"] > kept["updatedAt"]


def test_11_batch_over_200_is_refused_whole(api: Api) -> None:
    response = api.client.post("/batch/notes", json=[{"title": api.tag}] * 201)
    assert response.status_code == 400
    assert response.json()["messages"] == ["Maximum number of records to upsert is 200."]
    count = api.client.get("/notes", params={"filter": f"title[eq]:{api.tag}"})
    assert count.json()["totalCount"] == 0


def test_13_task_targets_take_target_person_id_and_refuse_target_person(api: Api) -> None:
    person = api.create("people", {"jobTitle": api.tag})
    task = api.create("tasks", {"title": api.tag, "status": "DONE"})
    target = api.create("taskTargets", {"taskId": task["id"], "targetPersonId": person["id"]})
    assert target["targetPersonId"] == person["id"]
    refused = api.client.post(
        "/taskTargets", json={"taskId": task["id"], "targetPerson": person["id"]}
    )
    assert refused.status_code == 400


def test_14_workspace_members_list_but_cannot_be_created(api: Api) -> None:
    listed = api.client.get("/workspaceMembers")
    assert listed.status_code == 200
    assert isinstance(listed.json()["data"]["workspaceMembers"], list)
    for path, body in (("/workspaceMembers", {}), ("/batch/workspaceMembers", [{}])):
        refused = api.client.post(path, json=body)
        assert 400 <= refused.status_code < 500
        assert refused.json().get("code") == "PERMISSION_DENIED"
