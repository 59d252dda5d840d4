"""The values Twenty stores and answers: links, phones, emails, numbers, dates, empty lists,
reserved names, the current person's standard fields, duplicate bodies, paging and order.

Each test names the piece of Twenty's server (twentyhq/twenty) it re-expresses; docs/sandbox.md
lists the source paths read and the REST integration-suite assertions covered.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.contracts.conftest import Api, Target
from tests.contracts.test_metadata_contract import custom_object

__all__ = ["custom_object"]  # the fixture, imported for the DATE and naming tests


def _company(api: Api, links: dict[str, Any]) -> dict[str, Any]:
    return api.create("companies", {"name": api.tag, "domainName": links})


def _refused(api: Api, plural: str, body: Any, path: str = "") -> dict[str, Any]:
    response = api.client.post(f"/{path or plural}", json=body)
    assert response.status_code == 400, response.text
    result: dict[str, Any] = response.json()
    return result


# --- LINKS (transform-links-value, remove-empty-links, lowercaseUrlOriginAndRemoveTrailingSlash)


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("https://DUP-{tag}.Example/", "https://dup-{tag}.example"),
        (
            "HTTPS://Www.{tag}.Example.COM/Path/Keep?Q=1",
            "https://www.{tag}.example.com/Path/Keep?Q=1",
        ),
        ("https://{tag}.example:443/", "https://{tag}.example"),
    ],
    ids=["host-and-slash", "path-case-kept", "default-port"],
)
def test_links_are_stored_with_a_lower_case_origin_and_no_trailing_slash(
    api: Api, sent: str, stored: str
) -> None:
    company = _company(api, {"primaryLinkUrl": sent.format(tag=api.tag)})
    assert company["domainName"]["primaryLinkUrl"] == stored.format(tag=api.tag)


def test_links_that_normalise_alike_are_one_domain_for_uniqueness_and_upsert(api: Api) -> None:
    first = _company(api, {"primaryLinkUrl": f"https://DUP-{api.tag}.example/"})
    body = {"domainName": {"primaryLinkUrl": f"https://dup-{api.tag}.example"}}
    duplicate = _refused(api, "companies", body)
    assert duplicate["messages"][0].startswith("A duplicate entry was detected")
    upsert = api.client.post(
        "/batch/companies",
        params={"upsert": "true"},
        json=[{"domainName": {"primaryLinkUrl": f"https://Dup-{api.tag}.EXAMPLE"}, "name": "up"}],
    )
    assert upsert.status_code == 201, upsert.text
    (matched,) = upsert.json()["data"]["createCompanies"]
    assert matched["id"] == first["id"] and matched["name"] == "up"


@pytest.mark.parametrize(
    "links",
    [
        {"primaryLinkUrl": "not a url"},
        {"primaryLinkUrl": "https://exa mple.com"},
        {"primaryLinkUrl": "ftp://files.example.com"},
        {"primaryLinkUrl": "https://localhostish"},
        {"primaryLinkUrl": "https://ok.example.com", "secondaryLinks": [{"url": "nope"}]},
    ],
    ids=["words", "space-in-host", "ftp", "no-tld", "bad-secondary"],
)
def test_invalid_urls_are_refused(api: Api, links: dict[str, Any]) -> None:
    refused = _refused(api, "companies", {"name": api.tag, "domainName": links})
    assert refused["messages"] == ["The URL of the link is not valid"]


def test_an_invalid_url_fails_its_whole_batch(api: Api) -> None:
    good = {"name": api.tag, "domainName": {"primaryLinkUrl": f"https://{api.tag}.example"}}
    bad = {"name": api.tag, "domainName": {"primaryLinkUrl": "not a url"}}
    refused = _refused(api, "companies", [good, bad], path="batch/companies")
    assert refused["messages"] == ["The URL of the link is not valid"]
    listed = api.client.get("/companies", params={"filter": f"name[eq]:{api.tag}"})
    assert listed.json()["data"]["companies"] == []


def test_an_empty_primary_link_takes_the_first_secondary_one(api: Api) -> None:
    company = _company(
        api,
        {
            "primaryLinkUrl": "",
            "secondaryLinks": [{"url": f"https://A-{api.tag}.example/", "label": "a"}],
        },
    )
    links = company["domainName"]
    assert links["primaryLinkUrl"] == f"https://a-{api.tag}.example"
    assert links["primaryLinkLabel"] == "a" and links["secondaryLinks"] == []


# --- PHONES (transform-phones-value) -----------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ({"primaryPhoneNumber": "+1 415-555-0100"}, ("4155550100", "US", "+1")),
        (
            {"primaryPhoneNumber": "(415) 555-0100", "primaryPhoneCountryCode": "US"},
            ("4155550100", "US", "+1"),
        ),
        (
            {"primaryPhoneNumber": "(415) 555-0100", "primaryPhoneCallingCode": "+1"},
            ("4155550100", "", "+1"),
        ),
        ({"primaryPhoneNumber": "+44 20 7946 0958"}, ("2079460958", "GB", "+44")),
        ({"primaryPhoneNumber": "+39 02 8720 5000"}, ("0287205000", "IT", "+39")),
    ],
    ids=["e164", "national-with-country", "national-with-calling-code", "foreign", "leading-0"],
)
def test_phones_store_the_national_number_and_infer_the_codes(
    api: Api, sent: dict[str, str], stored: tuple[str, str, str]
) -> None:
    phones = api.create("people", {"jobTitle": api.tag, "phones": sent})["phones"]
    number, country, calling = stored
    assert phones["primaryPhoneNumber"] == number
    assert phones["primaryPhoneCallingCode"] == calling
    if country:
        assert phones["primaryPhoneCountryCode"] == country


def test_additional_phones_are_parsed_too(api: Api) -> None:
    phones = {
        "primaryPhoneNumber": "+14155550100",
        "additionalPhones": [{"number": "+33142685300"}],
    }
    stored = api.create("people", {"jobTitle": api.tag, "phones": phones})["phones"]
    assert stored["additionalPhones"] == [
        {"number": "142685300", "countryCode": "FR", "callingCode": "+33"}
    ]


@pytest.mark.parametrize(
    ("phones", "message"),
    [
        ({"primaryPhoneNumber": "4155550100"}, "Provided phone number is invalid 4155550100"),
        (
            {"primaryPhoneNumber": "4155550100", "primaryPhoneCountryCode": "XX"},
            "Invalid country code XX",
        ),
        (
            {"primaryPhoneNumber": "4155550100", "primaryPhoneCallingCode": "+999"},
            "Invalid calling code +999",
        ),
        (
            {"primaryPhoneNumber": "4155550100", "primaryPhoneCountryCode": "GB",
             "primaryPhoneCallingCode": "+1"},
            "Provided country code and calling code are conflicting",
        ),
        ({"primaryPhoneNumber": "call me"}, "Provided phone number is invalid call me"),
        (
            {"primaryPhoneNumber": "+14155550100", "additionalPhones": [{"number": "0142685300"}]},
            "Provided phone number is invalid 0142685300",
        ),
    ],
    ids=["no-codes", "bad-country", "bad-calling-code", "codes-conflict", "words", "additional"],
)  # fmt: skip
def test_phones_twenty_cannot_parse_are_refused(
    api: Api, phones: dict[str, Any], message: str
) -> None:
    refused = _refused(api, "people", {"jobTitle": api.tag, "phones": phones})
    assert refused["messages"][0].startswith(message)


# --- EMAILS (transform-emails-value, canonicalizeEmail, validate-email-value-or-throw) ----------


def test_emails_are_lower_cased_with_internationalised_domains_as_punycode(api: Api) -> None:
    emails = {
        "primaryEmail": f"{api.tag.upper()}@MÜNCHEN．DE.",
        "additionalEmails": [f"{api.tag}-other@💩。LA."],
    }
    stored = api.create("people", {"jobTitle": api.tag, "emails": emails})["emails"]
    assert stored == {
        "primaryEmail": f"{api.tag}@xn--mnchen-3ya.de",
        "additionalEmails": [f"{api.tag}-other@xn--ls8h.la"],
    }
    # emails-domain-canonicalization, update: the two spellings swapped, and a sharp s kept
    # as UTS 46 keeps it (not folded to "ss").
    others = [f"{api.tag}-other@💩．LA.", f"{api.tag}@Straße.Example"]
    swapped = {"primaryEmail": f"{api.tag}@MÜNCHEN｡DE.", "additionalEmails": others}
    patched = api.client.patch(f"/people/{api.created[-1][1]}", json={"emails": swapped})
    assert patched.status_code == 200, patched.text
    assert patched.json()["data"]["updatePerson"]["emails"] == {
        "primaryEmail": f"{api.tag}@xn--mnchen-3ya.de",
        "additionalEmails": [f"{api.tag}-other@xn--ls8h.la", f"{api.tag}@xn--strae-oqa.example"],
    }


@pytest.mark.parametrize(
    "email",
    ["jöe@example.com", "dot.@example.com", "a@b.c", "a..b@example.com"],
    ids=["unicode-local-part", "dot-before-at", "one-letter-tld", "double-dot"],
)
def test_emails_twenty_refuses(api: Api, email: str) -> None:
    refused = _refused(api, "people", {"emails": {"primaryEmail": email}})
    assert 'for email field "emails"' in refused["messages"][0]


# --- NUMBER, empty lists, DATE ------------------------------------------------------------------


@pytest.mark.parametrize("value", ["42", "1e3"], ids=["numeric-text", "exponent-text"])
def test_number_fields_take_numbers_only(api: Api, value: Any) -> None:
    _refused(api, "companies", {"name": api.tag, "employees": value})
    assert api.create("companies", {"name": api.tag, "employees": 42})["employees"] == 42


def test_empty_composite_lists_read_back_as_empty_lists(api: Api) -> None:
    person = api.create("people", {"jobTitle": api.tag})
    assert person["emails"]["additionalEmails"] == []
    assert person["phones"]["additionalPhones"] == []
    assert person["linkedinLink"]["secondaryLinks"] == []
    cleared = api.client.patch(
        f"/people/{person['id']}", json={"emails": {"additionalEmails": None}}
    )
    assert cleared.json()["data"]["updatePerson"]["emails"]["additionalEmails"] == []
    read = api.client.get(f"/people/{person['id']}").json()["data"]["person"]
    assert read["phones"]["additionalPhones"] == []


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("03/04/2024", "2024-03-04"),
        ("Mar 4, 2024", "2024-03-04"),
        ("March 4, 2024", "2024-03-04"),
        ("04-Mar-2024", "2024-03-04"),
        ("2024.03.04", "2024-03-04"),
    ],
    ids=["us-slashes", "short-month", "long-month", "dd-MMM-yyyy", "dotted"],
)
def test_date_fields_accept_twentys_date_formats(
    api: Api, custom_object: dict[str, object], sent: str, stored: str
) -> None:
    _date_field(api, custom_object)
    record = api.create(str(custom_object["namePlural"]), {"visitedOn": sent})
    assert record["visitedOn"] == stored


@pytest.mark.parametrize("sent", ["04/03/24", "2024-13-01", "next week", "13/04/2024"])
def test_date_fields_refuse_other_text(
    api: Api, custom_object: dict[str, object], sent: str
) -> None:
    _date_field(api, custom_object)
    refused = _refused(api, str(custom_object["namePlural"]), {"visitedOn": sent})
    assert 'for date field "visitedOn"' in refused["messages"][0]


def _date_field(api: Api, obj: dict[str, object]) -> None:
    body = {"objectMetadataId": obj["id"], "type": "DATE", "name": "visitedOn", "label": "On"}
    response = api.client.post("/metadata/fields", json=body)
    assert response.status_code == 201, response.text


# --- metadata: reserved names, the person's standard fields ------------------------------------


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("appToken", 400),
        ("keyValuePairs", 400),
        ("twoFactorMethod", 400),
        ("approvedAccessDomains", 400),
        ("fullName", 201),
        ("billing", 201),
    ],
)
def test_reserved_field_names_are_exactly_twentys_list(
    api: Api, custom_object: dict[str, object], name: str, status: int
) -> None:
    body = {"objectMetadataId": custom_object["id"], "type": "TEXT", "name": name, "label": name}
    response = api.client.post("/metadata/fields", json=body)
    assert response.status_code == status, response.text


def test_a_current_person_has_no_city_or_x_link(api: Api) -> None:
    objects = api.client.get("/metadata/objects", params={"limit": "200"}).json()["data"]
    person = next(o for o in objects["objects"] if o["nameSingular"] == "person")
    names = {f["name"] for f in person["fields"]}
    assert {"name", "emails", "phones", "linkedinLink", "jobTitle", "avatarUrl"} <= names
    assert not {"city", "xLink"} & names
    refused = _refused(api, "people", {"city": "Faro"})
    assert "city" in refused["messages"][0]


# --- errors, paging, ordering -------------------------------------------------------------------


def test_a_duplicate_entry_body_has_twentys_message_and_no_code(api: Api) -> None:
    person = api.create("people", {"jobTitle": api.tag})
    again = _refused(api, "people", {"id": person["id"], "jobTitle": api.tag})
    assert again["messages"][0].startswith("A duplicate entry was detected")
    assert "code" not in again and again["error"] == "BadRequestException"
    email = api.email("dup")
    api.create("people", {"emails": {"primaryEmail": email}})
    taken = _refused(api, "people", {"emails": {"primaryEmail": email.upper()}})
    assert taken["messages"][0].startswith("A duplicate entry was detected")
    assert "code" not in taken


def test_a_forward_page_after_a_cursor_has_a_previous_page(api: Api) -> None:
    for _ in range(3):
        api.create("people", {"jobTitle": api.tag})
    query = {"filter": f"jobTitle[eq]:{api.tag}", "limit": "1"}
    first = api.client.get("/people", params=query).json()
    assert first["pageInfo"]["hasPreviousPage"] is False
    cursor = first["pageInfo"]["endCursor"]
    second = api.client.get("/people", params={**query, "starting_after": cursor}).json()
    assert second["pageInfo"]["hasPreviousPage"] is True
    assert second["pageInfo"]["hasNextPage"] is True


def test_a_batch_answer_is_not_in_input_order(api: Api, twenty_target: Target) -> None:
    ids = sorted((str(uuid.uuid4()) for _ in range(6)), reverse=True)
    response = api.client.post("/batch/people", json=[{"id": i, "jobTitle": api.tag} for i in ids])
    assert response.status_code == 201, response.text
    answered = [p["id"] for p in response.json()["data"]["createPeople"]]
    api.track("people", [{"id": i} for i in ids])
    assert sorted(answered) == sorted(ids)  # every record, each once; order is Twenty's
    if twenty_target.is_sandbox:
        assert answered != ids  # the sandbox answers sorted by id so no client relies on order


@pytest.mark.parametrize("order_by", ["name[AscNullsLast]", "emails", "phones[DescNullsFirst]"])
def test_ordering_by_a_composite_field_is_refused(api: Api, order_by: str) -> None:
    response = api.client.get("/people", params={"order_by": order_by})
    assert response.status_code == 400, response.text
    ordered = api.client.get("/people", params={"order_by": "name.firstName[AscNullsLast]"})
    assert ordered.status_code == 200
