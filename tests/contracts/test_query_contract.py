"""Reference §13 item 4: limit, cursors, totalCount, pageInfo, order_by, depth, filters."""

from __future__ import annotations

import pytest

from tests.contracts.conftest import Api


def _notes(api: Api, count: int) -> list[dict[str, object]]:
    created: list[dict[str, object]] = []
    for start in range(0, count, 200):
        size = min(200, count - start)
        body = [{"title": f"{api.tag}-{start + i:03d}"} for i in range(size)]
        response = api.client.post("/batch/notes", json=body)
        assert response.status_code == 201, response.text
        created += response.json()["data"]["createNotes"]
    api.track("notes", created)
    return created


def test_04_limit_defaults_to_60_and_clamps_at_200(api: Api) -> None:
    _notes(api, 201)
    tagged = f"title[startsWith]:{api.tag}"
    default = api.client.get("/notes", params={"filter": tagged}).json()
    assert len(default["data"]["notes"]) == 60 and default["totalCount"] == 201
    clamped = api.client.get("/notes", params={"filter": tagged, "limit": "1000"}).json()
    assert len(clamped["data"]["notes"]) == 200 and clamped["pageInfo"]["hasNextPage"]
    assert api.client.get("/notes", params={"limit": "-1"}).status_code == 400


def test_04_cursors_walk_forward_and_back_with_order_by(api: Api) -> None:
    _notes(api, 7)
    params = {
        "filter": f"title[startsWith]:{api.tag}",
        "order_by": "title[DescNullsLast]",
        "limit": "3",
    }
    seen: list[str] = []
    cursor = None
    while True:
        extra = {"starting_after": cursor} if cursor else {}
        page = api.client.get("/notes", params={**params, **extra}).json()
        seen += [n["title"] for n in page["data"]["notes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        cursor = page["pageInfo"]["endCursor"]
    assert seen == sorted(seen, reverse=True) and len(seen) == 7
    # `cursor` is the end of page two (seen[5]); the three before it are seen[2:5].
    back = api.client.get("/notes", params={**params, "ending_before": cursor}).json()
    assert [n["title"] for n in back["data"]["notes"]] == seen[2:5]
    assert back["pageInfo"]["hasPreviousPage"]
    bad = api.client.get("/notes", params={"starting_after": "not-a-cursor"})
    assert bad.status_code == 400 and "Invalid cursor" in bad.json()["messages"][0]


def test_04_order_by_ties_break_on_id(api: Api) -> None:
    body = [{"title": api.tag} for _ in range(5)]
    created = api.client.post("/batch/notes", json=body).json()["data"]["createNotes"]
    api.track("notes", created)
    listed = api.client.get(
        "/notes", params={"filter": f"title[eq]:{api.tag}", "order_by": "title"}
    ).json()["data"]["notes"]
    assert [n["id"] for n in listed] == sorted(n["id"] for n in created)


def test_04_depth_embeds_relations_one_level(api: Api) -> None:
    company = api.create("companies", {"name": api.tag})
    person = api.create("people", {"companyId": company["id"], "jobTitle": api.tag})
    flat = api.client.get(f"/people/{person['id']}").json()["data"]["person"]
    assert flat["companyId"] == company["id"] and "company" not in flat
    deep = api.client.get(f"/people/{person['id']}", params={"depth": "1"}).json()
    assert deep["data"]["person"]["company"]["name"] == api.tag
    assert api.client.get("/people", params={"depth": "2"}).status_code == 400


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("jobTitle[eq]:{tag}", {"ana", "bo", "cy"}),
        ('and(jobTitle[eq]:{tag},name.firstName[in]:["ana","bo"])', {"ana", "bo"}),
        ("and(jobTitle[eq]:{tag},or(name.firstName[eq]:ana,avatarUrl[eq]:Faro))", {"ana", "cy"}),
        ("and(jobTitle[eq]:{tag},not(name.firstName[eq]:ana))", {"bo", "cy"}),
        ("jobTitle[eq]:{tag},name.firstName[ilike]:%B%", {"bo"}),
        ("jobTitle[eq]:{tag},name.firstName[like]:%B%", set()),
        ("jobTitle[eq]:{tag},name.firstName[startsWith]:c", {"cy"}),
        ("jobTitle[eq]:{tag},avatarUrl[is]:NULL", set()),
        ("jobTitle[eq]:{tag},emails.primaryEmail[neq]:''", {"ana"}),
    ],
    ids=["eq", "in", "or", "not", "ilike", "like-case", "startsWith", "is-null", "composite"],
)
def test_04_filter_grammar(api: Api, template: str, expected: set[str]) -> None:
    api.create(
        "people",
        {
            "jobTitle": api.tag,
            "name": {"firstName": "ana"},
            "emails": {"primaryEmail": api.email("ana")},
        },
    )
    api.create("people", {"jobTitle": api.tag, "name": {"firstName": "bo"}})
    api.create("people", {"jobTitle": api.tag, "name": {"firstName": "cy"}, "avatarUrl": "Faro"})
    response = api.client.get("/people", params={"filter": template.format(tag=api.tag)})
    assert response.status_code == 200, response.text
    assert {p["name"]["firstName"] for p in response.json()["data"]["people"]} == expected


def test_04_soft_deleted_rows_show_only_when_filter_names_deleted_at(api: Api) -> None:
    note = api.create("notes", {"title": api.tag})
    api.client.delete(f"/notes/{note['id']}", params={"soft_delete": "true"})
    plain = api.client.get("/notes", params={"filter": f"title[eq]:{api.tag}"}).json()
    assert plain["totalCount"] == 0
    deleted = api.client.get(
        "/notes", params={"filter": f"title[eq]:{api.tag},deletedAt[is]:NOT_NULL"}
    ).json()
    assert [n["id"] for n in deleted["data"]["notes"]] == [note["id"]]


def test_04_unbalanced_parentheses_in_a_value_break_the_filter(api: Api) -> None:
    response = api.client.get("/people", params={"filter": 'phones.primaryPhoneNumber[eq]:"(555"'})
    assert response.status_code == 400
    assert "close bracket is missing" in response.json()["messages"][0]
    unknown = api.client.get("/people", params={"filter": "jobTitle[near]:x"})
    assert unknown.status_code == 400
