"""Phones are sent as the national significant number Twenty stores."""

from __future__ import annotations

import msgspec

from core.mapping import Transformed, transform
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
