"""Reference §13 item 5: data validation and the transformations Twenty applies on write."""

from __future__ import annotations

import json

import pytest

from tests.contracts.conftest import Api


@pytest.mark.parametrize(
    ("plural", "body", "fragment"),
    [
        ("people", {"foo": 1}, 'doesn\'t have any "foo" field'),
        ("people", {"emails": {"primaryEmaill": "a@b.co"}}, "Invalid subfield"),
        ("tasks", {"status": "FINISHED"}, "Invalid value 'FINISHED'"),
        ("people", {"emails": {"primaryEmail": "not-an-email"}}, "email"),
        ("tasks", {"dueAt": "31/12/2024"}, "Expected format"),
        ("people", {"taskTargets": []}, "One-to-many relation"),
        ("companies", {"idealCustomerProfile": "yes"}, "boolean"),
    ],
    ids=[
        "unknown-field",
        "unknown-subfield",
        "select",
        "email",
        "datetime",
        "one-to-many",
        "boolean",
    ],
)
def test_05_invalid_values_are_400(
    api: Api, plural: str, body: dict[str, object], fragment: str
) -> None:
    response = api.client.post(f"/{plural}", json=body)
    assert response.status_code == 400
    payload = response.json()
    assert payload["statusCode"] == 400 and payload["error"] == "BadRequestException"
    assert fragment in payload["messages"][0]


def test_05_emails_are_lower_cased(api: Api) -> None:
    person = api.create("people", {"emails": {"primaryEmail": f"Mixed.Case.{api.tag}@Example.COM"}})
    emails = person["emails"]
    assert isinstance(emails, dict)
    assert emails["primaryEmail"] == f"mixed.case.{api.tag}@example.com"


def test_05_rich_text_markdown_gets_blocknote(api: Api) -> None:
    note = api.create("notes", {"title": api.tag, "bodyV2": {"markdown": "Line one\nLine two"}})
    body = note["bodyV2"]
    assert isinstance(body, dict)
    assert body["markdown"] == "Line one\nLine two"
    assert isinstance(json.loads(str(body["blocknote"])), list)


def test_05_date_times_are_normalised_to_utc(api: Api) -> None:
    task = api.create("tasks", {"title": api.tag, "dueAt": "2024-03-01T09:30:00+02:00"})
    assert task["dueAt"] == "2024-03-01T07:30:00.000Z"
