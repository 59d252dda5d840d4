"""Phones are sent as Twenty stores them, and never without a country or calling code."""

from __future__ import annotations

import msgspec

from core.mapping import Rejected, Transformed, transform
from core.mapping.spec import schema_spec_from_mapping
from core.mapping.validation import SpecChecks, validate
from tests.mapping.test_steps import Pair


def test_an_italian_number_keeps_its_leading_zero(utf8_context: Pair) -> None:
    # Twenty stores libphonenumber's nationalNumber, which keeps Italy's leading 0; sending
    # the bare integer would make every such phone differ when verified.
    source, ctx = utf8_context
    row = next(iter(source.rows("patient")))
    milan = msgspec.structs.replace(row, values={**row.values, "cell_phone": "+39 02 8720 5000"})
    outcome = transform(milan, ctx)
    assert isinstance(outcome, Transformed)
    phones = outcome.payload["phones"]
    assert phones["primaryPhoneNumber"] == "0287205000"
    assert (phones["primaryPhoneCountryCode"], phones["primaryPhoneCallingCode"]) == ("IT", "+39")


def test_a_phone_without_country_or_calling_code_is_rejected_before_loading(
    utf8_context: Pair,
) -> None:
    # Twenty answers `Provided phone number is invalid <number>` for it: refused here, with a
    # reason that names the field and not the number.
    _, ctx = utf8_context
    spec = SpecChecks(schema_spec_from_mapping(ctx.mapping))
    for phones in (
        {"primaryPhoneNumber": "4155550100"},
        {"primaryPhoneNumber": "4155550100", "primaryPhoneCountryCode": ""},
    ):
        outcome = Transformed(
            stream_id="patient:1", destination_id="d", target_object="person",
            target_plural="people", payload={"name": {"firstName": "A"}, "phones": phones},
        )  # fmt: skip
        rejected = validate(outcome, spec)
        assert isinstance(rejected, Rejected)
        (reason,) = rejected.reasons
        assert (reason.field, reason.code) == ("phones", "BAD_FORMAT")
        assert "4155550100" not in reason.message
    coded = {"primaryPhoneNumber": "4155550100", "primaryPhoneCallingCode": "+1"}
    outcome = Transformed(
        stream_id="patient:1", destination_id="d", target_object="person",
        target_plural="people", payload={"name": {"firstName": "A"}, "phones": coded},
    )  # fmt: skip
    assert isinstance(validate(outcome, spec), Transformed)
