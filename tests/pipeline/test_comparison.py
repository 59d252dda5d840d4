"""What counts as the same value when Twenty gives a field back: noise is equal, changes are not."""

from __future__ import annotations

from typing import Any

import pytest

from core.pipeline.comparison import compare_record, flatten, values_agree

SAME = [
    ("emails.primaryEmail", "Laura.Smith@MAIL.example ", "laura.smith@mail.example"),
    ("emails.additionalEmails", ["B@X.example", "a@x.example"], ["a@x.example", "b@x.example"]),
    ("amount.amountMicros", 1_500_000_000, 1_500_000_000.0),
    ("amount.amountMicros", 245_000_000, "245000000"),
    ("durationMinutes", 30, 30.0),
    ("dueAt", "2025-11-02T01:30:00-07:00", "2025-11-02T08:30:00.000Z"),
    ("dueAt", "2025-03-09T02:30:00", "2025-03-09T02:30:00.000Z"),
    ("birthDate", "1984-02-11", "1984-02-11"),
    ("birthDate", "1984-02-11", "1984-02-11T00:00:00.000Z"),
    ("bodyV2.markdown", "a\r\nb  \n", "a\nb"),
    ("phones.primaryPhoneNumber", "(555) 555-0143", "5555550143"),
    ("companyId", "6F1C1F0E-5D7A-4A53-9A56-0D9B1B0C2A11", "6f1c1f0e-5d7a-4a53-9a56-0d9b1b0c2a11"),
    ("medicalAlerts", ["SMOKER", "CARDIAC"], ["CARDIAC", "SMOKER"]),
    ("jobTitle", "", None),
    ("jobTitle", None, ""),
    ("city", "Springfield ", "Springfield"),
    ("voided", False, False),
]
DIFFERENT = [
    ("city", "Springfield", "Shelbyville"),
    ("name.firstName", "Zoë", "Zoe"),
    ("emails.primaryEmail", "a@x.example", "b@x.example"),
    ("amount.amountMicros", 245_000_000, 24_500_000),
    ("dueAt", "2025-11-02T01:30:00-07:00", "2025-11-02T01:30:00.000Z"),
    ("birthDate", "1984-02-11", "1984-11-02"),
    ("bodyV2.markdown", 'Pt says "no more metal"', "Pt says no more metal"),
    ("voided", False, None),
    ("voided", True, "true"),
    ("employees", 12, "twelve"),
    ("medicalAlerts", ["SMOKER", "CARDIAC"], ["SMOKER"]),
    ("companyId", "6f1c1f0e-5d7a-4a53-9a56-0d9b1b0c2a11", None),
    ("patientStatus", "ACTIVE", "INACTIVE"),
]


@pytest.mark.parametrize(("path", "sent", "read"), SAME, ids=[f"same-{c[0]}" for c in SAME])
def test_twentys_normalisations_are_not_differences(path: str, sent: Any, read: Any) -> None:
    assert values_agree(path, sent, read)


@pytest.mark.parametrize(
    ("path", "sent", "read"), DIFFERENT, ids=[f"diff-{c[0]}" for c in DIFFERENT]
)
def test_real_changes_are_differences(path: str, sent: Any, read: Any) -> None:
    assert not values_agree(path, sent, read)


def test_only_what_was_sent_is_compared() -> None:
    sent = {"name": {"firstName": "Ana"}, "phones": {"primaryPhoneNumber": "5550100"}}
    read = {
        "id": "x",
        "name": {"firstName": "Ana", "lastName": "Silva"},
        "phones": {"primaryPhoneNumber": "5550100", "primaryPhoneCountryCode": "US",
                   "additionalPhones": []},
        "createdAt": "2026-01-01T00:00:00.000Z",
    }  # fmt: skip
    checks = compare_record(sent, read)
    assert [(c.path, c.agrees) for c in checks] == [
        ("name.firstName", True),
        ("phones.primaryPhoneNumber", True),
    ]


def test_flatten_keeps_lists_and_empty_composites_as_leaves() -> None:
    payload = {"a": {"b": 1, "c": {"d": [1, 2]}}, "e": {}, "f": None}
    assert list(flatten(payload)) == [("a.b", 1), ("a.c.d", [1, 2]), ("e", {}), ("f", None)]


# Values read back as Twenty stores them (links, phones, emails), and what stays a change.
AS_STORED = [
    ("domainName.primaryLinkUrl", "HTTPS://Smile-Dental.EXAMPLE/", "https://smile-dental.example"),
    ("domainName.primaryLinkUrl", "https://smile.example:443/", "https://smile.example"),
    (
        "domainName.secondaryLinks",
        [{"url": "https://Www.X.example/", "label": ""}],
        [{"url": "https://www.x.example", "label": ""}],
    ),
    ("phones.primaryPhoneNumber", "+1 415-555-0100", "4155550100"),
    ("phones.primaryPhoneNumber", "+44 20 7946 0958", "2079460958"),
    ("phones.primaryPhoneNumber", "+39 02 8720 5000", "0287205000"),
    (
        "phones.additionalPhones",
        [{"number": "+33 1 42 68 53 00", "countryCode": "FR"}],
        [{"number": "142685300", "countryCode": "FR", "callingCode": "+33"}],
    ),
    ("emails.primaryEmail", "X@MÜNCHEN．DE.", "x@xn--mnchen-3ya.de"),
    ("emails.additionalEmails", ["a@Straße.example"], ["a@xn--strae-oqa.example"]),
]
STILL_CHANGED = [
    ("domainName.primaryLinkUrl", "https://smile.example/Path", "https://smile.example/path"),
    ("domainName.primaryLinkUrl", "https://smile.example", "https://smile.example.org"),
    ("phones.primaryPhoneNumber", "+44 20 7946 0958", "4155550100"),
    ("emails.primaryEmail", "x@münchen.de", "x@munchen.de"),
]


def test_values_compare_in_the_form_twenty_stores_them() -> None:
    for path, sent, read in AS_STORED:
        assert values_agree(path, sent, read), (path, sent, read)
    for path, sent, read in STILL_CHANGED:
        assert not values_agree(path, sent, read), (path, sent, read)
