"""Matching Dental-Exec providers to workspace members by email."""

from __future__ import annotations

import pytest

from core.members import (
    MemberReport,
    ProviderContact,
    match_members,
    normalise_email,
    providers_from_rows,
)
from core.ports.destination import Member
from core.ports.source import SourceRow

MEMBERS = [
    Member(id="m-okafor", email="A.Okafor@BrightSmiles.example"),
    Member(id="m-office", email="office@brightsmiles.example"),
    Member(id="m-front", email="frontdesk@brightsmiles.example"),
]


def _report(placeholder: str | None = "office@brightsmiles.example") -> MemberReport:
    providers = [
        ProviderContact("DDS1", normalise_email("  a.okafor@brightsmiles.EXAMPLE ")),
        ProviderContact("HYG2", normalise_email("hyg2@personal.example")),
        ProviderContact("ASST3", None),
        ProviderContact("FD1", "frontdesk@brightsmiles.example"),
        ProviderContact("FD2", "frontdesk@brightsmiles.example"),
    ]
    return match_members(providers, MEMBERS, placeholder)


def test_emails_match_trimmed_and_lower_cased() -> None:
    assert _report().matched == {"DDS1": "m-okafor"}


def test_unmatched_missing_and_shared_are_reported() -> None:
    report = _report()
    assert report.unmatched == {"HYG2": "hyg2@personal.example"}
    assert report.missing == ("ASST3",)
    assert report.shared == {"frontdesk@brightsmiles.example": ("FD1", "FD2")}
    assert report.defaulted == ("ASST3", "FD1", "FD2", "HYG2")


@pytest.mark.parametrize(
    ("code", "expected"),
    [("DDS1", ("m-okafor", False)), (" dds1 ", ("m-okafor", False)), ("FD1", ("m-office", True)),
     ("NOPE", ("m-office", True)), (None, ("m-office", True))],
    ids=["matched", "code-drift", "shared", "unknown", "blank"],
)  # fmt: skip
def test_owner_for_falls_back_to_the_placeholder(
    code: str | None, expected: tuple[str, bool]
) -> None:
    assert _report().owner_for(code) == expected


@pytest.mark.parametrize(
    ("placeholder", "problem"),
    [(None, "no placeholder"), ("ghost@brightsmiles.example", "not a workspace member")],
    ids=["not-configured", "not-a-member"],
)
def test_placeholder_problems_are_explained(placeholder: str | None, problem: str) -> None:
    report = _report(placeholder)
    assert report.placeholder is None and problem in report.placeholder_problem
    assert report.owner_for("HYG2") == (None, True)


def test_providers_from_export_rows() -> None:
    rows = [
        SourceRow("provider", "providers.csv", 2, "14", "h",
                  {"code": " dds1", "email": "A@B.example ", "active": "Y"}),
        SourceRow("provider", "providers.csv", 3, "15", "h",
                  {"code": "ASST3", "email": None, "active": "N"}),
        SourceRow("provider", "providers.csv", 4, "16", "h", {"code": None, "email": None}),
    ]  # fmt: skip
    assert providers_from_rows(rows) == [
        ProviderContact("DDS1", "a@b.example", True),
        ProviderContact("ASST3", None, False),
    ]
