"""Twenty's own REST integration suites, re-expressed for an API-key caller.

Each test names the suite and case of twentyhq/twenty's
`packages/twenty-server/test/integration/rest/suites/` it restates, in our words and with our
own records (tagged, so a shared workspace works: the suites' `deleteAllRecords` is replaced
by a tag filter, their seeded ids by fresh ones). Assertions that need a user's token, the
dev seed's custom fields (`city`) or Postgres' own wording are left out; docs/sandbox.md
counts what was re-expressed, held and skipped.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.contracts.conftest import Api, Target

# A JWT-shaped token no server signed (the authentication suite's INVALID_ACCESS_TOKEN).
FORGED = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIyMDIwMjAyMCJ9."
    "c2lnbmF0dXJlLW5vdC1tYWRlLWJ5LXR3ZW50eQ"
)


def _company(api: Api) -> dict[str, Any]:
    # TEST_PRIMARY_LINK_URL is https://test.com/; ours is unique per run.
    return api.create("companies", {"name": api.tag, "domainName": {
        "primaryLinkUrl": f"https://{api.tag}.test.com/"}})  # fmt: skip


# --- rest-api-core-authentication ---------------------------------------------------------------


def test_authentication(twenty_target: Target) -> None:
    for authorization, status, error, message in (
        (None, 403, "FORBIDDEN_EXCEPTION", "Missing authentication token"),
        (f"Bearer {FORGED}", 401, "UNAUTHENTICATED", "Token invalid."),
        ("Bearer invalid-token", 401, "UNAUTHENTICATED", "Token invalid."),
    ):
        headers = {"Authorization": authorization} if authorization else {}
        response = httpx.post(f"{twenty_target.rest_url}/people", headers=headers, json={})
        assert response.status_code == status
        assert response.json()["error"] == error
        assert response.json()["messages"][0] == message


# --- rest-api-core-create-one / create-many -----------------------------------------------------


def _created_by_the_api(api: Api, batch: bool) -> None:
    """createdBy is the API's unless the body names a source; the key is no member."""
    ids = [str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())]
    bodies: list[dict[str, Any]] = [
        {"id": ids[0]},
        {"id": ids[1], "createdBy": {"source": "EMAIL"}},
        {"id": ids[2], "createdBy": {"source": "MANUAL"}},
    ]
    if batch:
        response = api.client.post("/batch/people", json=bodies)
        assert response.status_code == 201
        answered = response.json()["data"]["createPeople"]
        api.track("people", answered)
        assert len(answered) == 3
    else:
        answered = [api.create("people", body) for body in bodies]
    created = {p["id"]: p for p in answered}
    assert set(created) == set(ids)
    assert created[ids[0]]["createdBy"]["source"] == "API"
    assert created[ids[1]]["createdBy"]["source"] == "EMAIL"
    assert created[ids[2]]["createdBy"]["source"] == "MANUAL"
    assert all(p["createdBy"]["workspaceMemberId"] is None for p in answered)
    again = api.client.post("/batch/people" if batch else "/people",
                            json=[bodies[0]] if batch else bodies[0])  # fmt: skip
    assert again.status_code == 400
    assert again.json()["error"] == "BadRequestException"


@pytest.mark.parametrize("batch", [False, True], ids=["create-one", "create-many"])
def test_create(api: Api, batch: bool) -> None:
    _created_by_the_api(api, batch)
    company = _company(api)
    path = "/batch/people" if batch else "/people"

    def post(depth: str) -> httpx.Response:
        body: Any = {"jobTitle": api.tag, "companyId": company["id"]}
        response = api.client.post(path, params={"depth": depth}, json=[body] if batch else body)
        if response.status_code == 201:
            data = next(iter(response.json()["data"].values()))
            api.track("people", data if batch else [data])
        return response

    def first(response: httpx.Response) -> dict[str, Any]:
        data = next(iter(response.json()["data"].values()))
        return dict(data[0] if batch else data)

    flat = first(post("0"))
    assert flat["companyId"] == company["id"] and "company" not in flat
    deep = first(post("1"))
    assert deep["company"]["domainName"]["primaryLinkUrl"] == f"https://{api.tag}.test.com"
    assert "people" not in deep["company"]
    assert post("2").status_code == 400
    if not batch:
        enum = api.client.post("/opportunities", json={"stage": "INVALID_ENUM_VALUE"})
        assert enum.status_code == 400
        assert enum.json()["error"] == "BadRequestException"


# --- rest-api-core-find-one ---------------------------------------------------------------------


def test_find_one(api: Api) -> None:
    company = _company(api)
    person = api.create("people", {"jobTitle": api.tag, "companyId": company["id"]})
    found = api.client.get(f"/people/{person['id']}")
    assert found.status_code == 200 and found.json()["data"]["person"]["id"] == person["id"]
    missing = api.client.get(f"/people/{uuid.uuid4()}")
    assert missing.status_code == 404
    assert missing.json()["error"] == "NotFoundException"
    assert missing.json()["messages"][0] == "Record not found"
    malformed = api.client.get("/people/malformed-uuid")
    assert malformed.status_code == 400
    assert malformed.json()["error"] == "BadRequestException"
    assert "'malformed-uuid' is not a valid UUID" in malformed.json()["messages"][0]
    flat_response = api.client.get(f"/people/{person['id']}", params={"depth": "0"})
    assert flat_response.status_code == 200
    flat = flat_response.json()
    assert flat["data"]["person"]["companyId"] == company["id"]
    assert "company" not in flat["data"]["person"]
    deep = api.client.get(f"/people/{person['id']}", params={"depth": "1"}).json()
    assert deep["data"]["person"]["company"]["domainName"]["primaryLinkUrl"] == (
        f"https://{api.tag}.test.com"
    )
    assert "people" not in deep["data"]["person"]["company"]
    assert api.client.get(f"/people/{person['id']}", params={"depth": "2"}).status_code == 400


# --- rest-api-core-find-many --------------------------------------------------------------------


@pytest.fixture
def four(api: Api) -> list[dict[str, Any]]:
    """Four tagged people at positions 0-3 with one company, as the suite's beforeAll."""
    company = _company(api)
    return [
        api.create("people", {"jobTitle": api.tag, "position": i, "companyId": company["id"]})
        for i in range(4)
    ]


def _people(api: Api, **params: str) -> dict[str, Any]:
    response = api.client.get("/people", params={"filter": f"jobTitle[eq]:{api.tag}", **params})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_find_many_lists_counts_pages_and_orders(api: Api, four: list[dict[str, Any]]) -> None:
    everyone = _people(api)
    assert {p["id"] for p in everyone["data"]["people"]} == {p["id"] for p in four}
    assert everyone["pageInfo"]["startCursor"] and everyone["pageInfo"]["endCursor"]
    assert everyone["totalCount"] == 4 and everyone["pageInfo"]["hasNextPage"] is False
    limited = _people(api, limit="3")
    assert len(limited["data"]["people"]) == 3 and limited["totalCount"] == 4
    assert limited["pageInfo"]["hasNextPage"] is True
    filtered = api.client.get(
        "/people", params={"filter": f"jobTitle[eq]:{api.tag},position[lte]:1"}
    ).json()
    assert len(filtered["data"]["people"]) == 2 and filtered["totalCount"] == 2
    assert filtered["pageInfo"]["hasNextPage"] is False
    fewer = api.client.get(
        "/people", params={"filter": f"jobTitle[eq]:{api.tag},position[lt]:2"}
    ).json()
    assert len(fewer["data"]["people"]) == 2
    _ordering(api)


def test_find_many_cursors_relations_and_depth(api: Api, four: list[dict[str, Any]]) -> None:
    first_two = _people(api, limit="2", order_by="position[AscNullsLast]")
    people = first_two["data"]["people"]
    after = _people(api, limit="1", order_by="position[AscNullsLast]",
                    starting_after=first_two["pageInfo"]["startCursor"])  # fmt: skip
    assert [p["id"] for p in after["data"]["people"]] == [people[1]["id"]]
    all_four = _people(api, limit="4", order_by="position[AscNullsLast]")["data"]["people"]
    end = _people(api, limit="4", order_by="position[AscNullsLast]")["pageInfo"]["endCursor"]
    before = _people(api, limit="2", order_by="position[AscNullsLast]", ending_before=end)
    assert [p["id"] for p in before["data"]["people"]] == [all_four[1]["id"], all_four[2]["id"]]
    bad = api.client.get("/people", params={"starting_after": "invalid-cursor"}).json()
    assert bad["error"] == "BadRequestException" and "Invalid cursor" in bad["messages"][0]
    _relations_and_depth(api, four)


def _ordering(api: Api) -> None:
    ascending = _people(api, order_by="position[AscNullsLast]")["data"]["people"]
    assert [p["position"] for p in ascending] == sorted(p["position"] for p in ascending)
    descending = _people(api, order_by="position[DescNullsLast]")["data"]["people"]
    assert [p["position"] for p in descending] == sorted(
        (p["position"] for p in descending), reverse=True
    )
    page = _people(api, order_by="position[DescNullsLast]", limit="2")
    assert page["pageInfo"]["hasNextPage"] is True and len(page["data"]["people"]) == 2
    last = page["data"]["people"][-1]["position"]
    assert last == 2
    more = _people(api, order_by="position[DescNullsLast]", limit="2",
                   starting_after=page["pageInfo"]["endCursor"])  # fmt: skip
    assert len(more["data"]["people"]) == 2 and more["data"]["people"][0]["position"] == last - 1
    combined = api.client.get("/people", params={
        "filter": f"jobTitle[eq]:{api.tag},position[gt]:0",
        "order_by": "jobTitle[AscNullsFirst]", "limit": "2"}).json()  # fmt: skip
    assert len(combined["data"]["people"]) <= 2 and combined["pageInfo"]
    composite = api.client.get("/people", params={"order_by": "name[AscNullsLast]"})
    assert composite.status_code == 400


def _relations_and_depth(api: Api, four: list[dict[str, Any]]) -> None:
    company_id = four[0]["companyId"]
    by_company = api.client.get("/people", params={"filter": f'companyId[in]:["{company_id}"]'})
    assert len(by_company.json()["data"]["people"]) > 0
    flat = _people(api, depth="0")["data"]["people"][0]
    assert flat["companyId"] == company_id and "company" not in flat
    deep = _people(api, depth="1")["data"]["people"][0]
    assert deep["company"]["domainName"]["primaryLinkUrl"] == f"https://{api.tag}.test.com"
    assert "people" not in deep["company"]
    assert api.client.get("/people", params={"depth": "2"}).status_code == 400


# --- rest-api-core-update -----------------------------------------------------------------------


def test_update_one_then_delete(api: Api) -> None:
    company = _company(api)
    person = api.create("people", {"companyId": company["id"]})
    changes = {
        "name": {"firstName": "Updated", "lastName": "Person"},
        "emails": {"primaryEmail": api.email("updated"), "additionalEmails": [api.email("x")]},
    }
    response = api.client.patch(f"/people/{person['id']}", json=changes)
    assert response.status_code == 200
    updated = response.json()["data"]["updatePerson"]
    assert updated["id"] == person["id"]
    assert updated["name"] == {"firstName": "Updated", "lastName": "Person"}
    assert updated["emails"]["primaryEmail"] == changes["emails"]["primaryEmail"]
    assert updated["emails"]["additionalEmails"] == changes["emails"]["additionalEmails"]
    assert updated["jobTitle"] == "" and updated["companyId"] == company["id"]
    flat = api.client.patch(f"/people/{person['id']}", params={"depth": "0"}, json=changes)
    assert flat.status_code == 200
    assert flat.json()["data"]["updatePerson"]["companyId"] == company["id"]
    assert "company" not in flat.json()["data"]["updatePerson"]
    deep = api.client.patch(f"/people/{person['id']}", params={"depth": "1"}, json=changes)
    embedded = deep.json()["data"]["updatePerson"]["company"]
    assert embedded["domainName"]["primaryLinkUrl"] == f"https://{api.tag}.test.com"
    assert "people" not in embedded
    too_deep = api.client.patch(f"/people/{person['id']}", params={"depth": "2"}, json=changes)
    assert too_deep.status_code == 400
    _delete(api)


# --- rest-api-core-delete -----------------------------------------------------------------------


def _delete(api: Api) -> None:
    person = api.create("people", {"jobTitle": api.tag})
    deleted = api.client.delete(f"/people/{person['id']}")
    assert deleted.status_code == 200
    assert deleted.json()["data"]["deletePerson"] == {"id": person["id"]}
    missing = api.client.delete(f"/people/{uuid.uuid4()}")
    assert missing.status_code == 404
    assert missing.json()["error"] == "NotFoundException"
    assert missing.json()["messages"][0] == "Record not found"
    for soft, operation in (("true", "delete"), ("false", "destroy")):
        bulk = api.client.delete("/people", params={"soft_delete": soft})
        assert bulk.status_code == 400
        assert bulk.json()["error"] == "BadRequestException"
        assert (
            f"Filters are mandatory for bulk {operation} operations" in bulk.json()["messages"][0]
        )


# --- rest-api-core-restore and rest-api-core-field-projection -----------------------------------


@pytest.mark.parametrize("batch", [False, True], ids=["one", "many"])
def test_create_and_restore_answers_are_projected_by_fields(api: Api, batch: bool) -> None:
    pid = str(uuid.uuid4())
    person = {"id": pid, "jobTitle": f"Projection {api.tag}"}
    path = "/batch/people" if batch else "/people"
    body: Any = [person] if batch else person
    created = api.client.post(path, params={"fields": "id"}, json=body)
    assert created.status_code == 201
    api.track("people", [{"id": pid}])
    data = created.json()["data"]
    assert (data["createPeople"] if batch else [data["createPerson"]]) == [{"id": pid}]
    assert api.client.delete(f"/people/{pid}", params={"soft_delete": "true"}).status_code == 200
    if batch:
        restored = api.client.patch("/people/restore",
                                    params={"filter": f"id[eq]:{pid}", "fields": "id"})  # fmt: skip
        assert restored.json()["data"]["restorePeople"] == [{"id": pid}]
    else:
        restored = api.client.patch(f"/people/{pid}/restore", params={"fields": "id"})
        assert restored.json()["data"]["restorePerson"] == {"id": pid}
    assert restored.status_code == 200
    fetched = api.client.get(f"/people/{pid}").json()["data"]["person"]
    assert fetched["id"] == pid and fetched["jobTitle"] == person["jobTitle"]
