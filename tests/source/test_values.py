"""Value parsers: one parametrized table per quirk."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.values import (
    ValueParseError,
    fdi_to_universal,
    is_valid_npi,
    localize,
    normalize_cdt,
    parse_bool,
    parse_date,
    parse_datetime,
    parse_email,
    parse_file_size,
    parse_id,
    parse_int,
    parse_list,
    parse_money,
    parse_npi,
    parse_phone,
    parse_recall_interval,
    parse_surfaces,
    parse_time,
    parse_tooth,
    parse_zip,
    parse_zone,
)


@pytest.mark.parametrize(
    ("text", "value", "sentinel", "short"),
    [
        ("03/14/2025", date(2025, 3, 14), None, False),
        ("3/4/2025", date(2025, 3, 4), None, False),
        ("03/04/98", date(1998, 3, 4), None, True),
        ("03/04/25", date(2025, 3, 4), None, True),
        ("02/29/88", date(1988, 2, 29), None, True),
        ("01/01/1900", None, "unknown", False),
        ("12/31/9999", None, "no_end", False),
    ],
    ids=["plain", "no-leading-zeros", "two-digit-19xx", "two-digit-20xx", "leap", "dob-unknown",
         "no-end-date"],
)  # fmt: skip
def test_dates_q3_q11(text: str, value: date | None, sentinel: str | None, short: bool) -> None:
    parsed = parse_date(text)
    assert parsed is not None
    assert (parsed.value, parsed.sentinel, parsed.is_two_digit_year) == (value, sentinel, short)


@pytest.mark.parametrize("text", ["13/01/2025", "02/30/2025", "2025-03-14", "soon"], ids=str)
def test_bad_dates_raise_with_code(text: str) -> None:
    with pytest.raises(ValueParseError) as caught:
        parse_date(text)
    assert caught.value.code == "bad_date"
    assert text not in str(caught.value)  # messages never repeat the value


@pytest.mark.parametrize(
    ("text", "expected"),
    [("9:40 AM", time(9, 40)), ("12:05 am", time(0, 5)), ("12:00 PM", time(12)),
     ("04:07:55 PM", time(16, 7, 55)), ("14:30", time(14, 30)), ("", None)],
    ids=["morning", "midnight", "noon", "seconds", "24h", "blank"],
)  # fmt: skip
def test_times_12_hour(text: str, expected: time | None) -> None:
    assert parse_time(text) == expected


def test_datetime_12_hour() -> None:
    assert parse_datetime("03/14/2025 04:07:55 PM") == datetime(2025, 3, 14, 16, 7, 55)
    with pytest.raises(ValueParseError) as caught:
        parse_datetime("03/14/2025 25:00:00 PM")
    assert caught.value.code == "bad_datetime"


@pytest.mark.parametrize(
    ("local", "utc", "ambiguous", "nonexistent"),
    [
        (datetime(2024, 11, 3, 1, 30), datetime(2024, 11, 3, 8, 30, tzinfo=UTC), True, False),
        (datetime(2024, 3, 10, 2, 30), datetime(2024, 3, 10, 10, 30, tzinfo=UTC), False, True),
        (datetime(2024, 6, 1, 9, 0), datetime(2024, 6, 1, 16, 0, tzinfo=UTC), False, False),
    ],
    ids=["autumn-ambiguous-first-occurrence", "spring-gap", "summer"],
)
def test_dst_q19(local: datetime, utc: datetime, ambiguous: bool, nonexistent: bool) -> None:
    resolved = localize(local, ZoneInfo("America/Los_Angeles"))
    assert (resolved.utc, resolved.is_ambiguous, resolved.is_nonexistent) == (
        utc,
        ambiguous,
        nonexistent,
    )


@pytest.mark.parametrize(
    ("text", "zone"),
    [("Pacific", "America/Los_Angeles"), ("PST", "America/Los_Angeles"),
     ("America/New_York", "America/New_York"), ("Eastern Time", "America/New_York")],
    ids=["word", "abbreviation", "iana", "with-time"],
)  # fmt: skip
def test_zones(text: str, zone: str) -> None:
    assert parse_zone(text) == ZoneInfo(zone)


@pytest.mark.parametrize(
    ("text", "cents"),
    [("$1,234.50", 123450), ("($45.00)", -4500), ("-$45.00", -4500), ("$0.00", 0), ("", None),
     ("$312,455.10", 31245510), ("45", 4500), ("$.5", 50), (" $ 20.00 ", 2000)],
    ids=["thousands", "parentheses", "minus", "zero", "blank", "big", "bare", "cents-only",
         "spaces"],
)  # fmt: skip
def test_money_q4(text: str, cents: int | None) -> None:
    assert parse_money(text) == cents


@pytest.mark.parametrize("text", ["$1,23.00", "abc", "--$4", "$"], ids=str)
def test_bad_money(text: str) -> None:
    with pytest.raises(ValueParseError) as caught:
        parse_money(text)
    assert caught.value.code == "bad_money"


@pytest.mark.parametrize(
    ("text", "e164", "extension", "problem"),
    [
        ("(555) 555-0142", "+15555550142", None, None),
        ("555-555-0142", "+15555550142", None, None),
        ("5555550142", "+15555550142", None, None),
        ("555.555.0142 x204", "+15555550142", "204", None),
        ("+1 555 555 0142", "+15555550142", None, None),
        ("555-0142", None, None, "no_area_code"),
        ("none", None, None, "placeholder"),
        ("call mom", None, None, "not_a_number"),
    ],
    ids=["parens", "dashes", "digits", "extension", "plus-one", "no-area-code", "none", "text"],
)
def test_phones_q5(text: str, e164: str | None, extension: str | None, problem: str | None) -> None:
    phone = parse_phone(text)
    assert phone is not None
    assert (phone.e164, phone.extension, phone.problem, phone.raw) == (
        e164,
        extension,
        problem,
        text,
    )


@pytest.mark.parametrize(
    ("text", "flavour", "expected"),
    [("Y", "Y/N", True), ("N", "Y/N", False), ("Yes", "Yes/No", True), ("1", "1/0", True),
     ("0", "1/0", False), ("True", "True/False", True), ("false", "True/False", False),
     ("", "Y/N", None), ("yes", None, True)],
    ids=["Y", "N", "Yes", "1", "0", "True", "false", "blank", "any-flavour"],
)  # fmt: skip
def test_booleans_q6(text: str, flavour: str | None, expected: bool | None) -> None:
    assert parse_bool(text, flavour) is expected


def test_boolean_outside_flavour_is_an_error() -> None:
    with pytest.raises(ValueParseError) as caught:
        parse_bool("Yes", "Y/N")
    assert caught.value.code == "bad_bool"


@pytest.mark.parametrize(
    ("text", "address", "problem"),
    [("jon.smith@mail.example", "jon.smith@mail.example", None),
     ("Laura.Smith@MAIL.example  ", "laura.smith@mail.example", None),
     ("none@none.com", None, "placeholder"), ("noemail@dental-exec.example", None, "placeholder"),
     ("refused", None, "placeholder"), ("NONE", None, "placeholder"),
     ("jon at mail", None, "invalid")],
    ids=["plain", "case-and-spaces", "none-at-none", "noemail", "refused", "upper-none",
         "invalid"],
)  # fmt: skip
def test_emails_q8(text: str, address: str | None, problem: str | None) -> None:
    email = parse_email(text)
    assert email is not None
    assert (email.address, email.problem) == (address, problem)


@pytest.mark.parametrize(
    ("text", "zip5", "plus4", "padded"),
    [("97477", "97477", None, False), ("2134", "02134", None, True),
     ("02134-1201", "02134", "1201", False), ("021341201", "02134", "1201", False),
     ("21341201", "02134", "1201", True)],
    ids=["plain", "lost-zero", "zip4-dash", "zip4-number", "zip4-lost-zero"],
)  # fmt: skip
def test_zip_q14(text: str, zip5: str, plus4: str | None, padded: bool) -> None:
    parsed = parse_zip(text)
    assert parsed is not None
    assert (parsed.zip5, parsed.plus4, parsed.was_padded) == (zip5, plus4, padded)


@pytest.mark.parametrize(
    ("text", "code", "standard", "suffix", "legacy"),
    [("D2740", "D2740", True, None, False), ("d2740", "D2740", True, None, False),
     ("D2740 ", "D2740", True, None, False), ("02740", "D2740", True, None, True),
     ("D2740.1", "D2740", True, "1", False), ("WHITEN", "WHITEN", False, None, False),
     ("nsf", "NSF", False, None, False)],
    ids=["plain", "lower", "space", "legacy-numeric", "office-suffix", "office-code", "nsf"],
)  # fmt: skip
def test_cdt_q16(text: str, code: str, standard: bool, suffix: str | None, legacy: bool) -> None:
    parsed = normalize_cdt(text)
    assert parsed is not None
    assert (parsed.code, parsed.is_standard, parsed.office_suffix) == (code, standard, suffix)
    assert (parsed.was_legacy_numeric, parsed.raw) == (legacy, text)


@pytest.mark.parametrize(
    ("fdi", "universal"),
    [(18, "1"), (11, "8"), (21, "9"), (28, "16"), (38, "17"), (31, "24"), (41, "25"),
     (48, "32"), (36, "19"), (55, "A"), (51, "E"), (61, "F"), (65, "J"), (75, "K"),
     (71, "O"), (81, "P"), (85, "T")],
    ids=str,
)  # fmt: skip
def test_fdi_to_universal(fdi: int, universal: str) -> None:
    assert fdi_to_universal(fdi) == universal


@pytest.mark.parametrize(
    ("text", "numbering", "universal"),
    [("14", "Universal", "14"), ("36", "FDI", "19"), ("J", "Universal", "J"),
     ("#3", "Universal", "3"), ("55", "FDI", "A"), ("AS", "Universal", "AS")],
    ids=["universal", "fdi-permanent", "primary", "hash-prefix", "fdi-primary", "supernumerary"],
)  # fmt: skip
def test_teeth_by_location_setting(text: str, numbering: str, universal: str) -> None:
    tooth = parse_tooth(text, numbering=numbering)
    assert tooth is not None and tooth.universal == universal


@pytest.mark.parametrize("text", ["33", "19", "Z"], ids=["33-universal", "19-fdi", "Z"])
def test_bad_teeth(text: str) -> None:
    with pytest.raises(ValueParseError):
        parse_tooth(text, numbering="FDI" if text == "19" else "Universal")


def test_surfaces() -> None:
    assert parse_surfaces("mod") == ("M", "O", "D")
    assert parse_surfaces("MODBL") == ("M", "O", "D", "B", "L")
    assert parse_surfaces("DOD") == ("D", "O")
    with pytest.raises(ValueParseError):
        parse_surfaces("MOX")


@pytest.mark.parametrize(
    ("text", "months"),
    [("6 Months", 6), ("6 mo", 6), ("6M", 6), ("q6mo", 6), ("3 Mo.", 3), ("1Y", 12),
     ("12 months", 12), ("1 yr", 12), ("Yearly", 12), ("2x/yr", 6), ("5 yrs", 60)],
    ids=str,
)  # fmt: skip
def test_recall_intervals(text: str, months: int) -> None:
    parsed = parse_recall_interval(text)
    assert parsed is not None and parsed.months == months


@pytest.mark.parametrize(
    ("text", "problem"),
    [("1234567893", None), ("1048576320", None), ("1203948579", None), ("1987654328", None),
     ("1543287605", None), ("2009384753", None), ("1234567890", "bad_check_digit"),
     ("120394857", "wrong_length"), ("1987-654-328", "not_digits"), ("3234567893", "bad_prefix")],
    ids=["cms-example", "v2", "v3", "v4", "v5", "type2", "bad-check", "nine-digits", "dashes",
         "prefix"],
)  # fmt: skip
def test_npi_check_digit(text: str, problem: str | None) -> None:
    parsed = parse_npi(text)
    assert parsed is not None and parsed.problem == problem
    assert is_valid_npi(text) is (problem is None)


@pytest.mark.parametrize(
    ("text", "size"),
    [("2457600", 2457600), ("2.4 MB", 2516582), ("310 KB", 317440), ("1,024", 1024), ("", None)],
    ids=["bytes", "mb", "kb", "thousands", "blank"],
)  # fmt: skip
def test_file_sizes(text: str, size: int | None) -> None:
    assert parse_file_size(text) == size


def test_ids_q11_q12() -> None:
    assert parse_int("00010482") == 10482
    assert parse_id("0") is None
    assert parse_id("00010482") == 10482
    with pytest.raises(ValueParseError) as caught:
        parse_int("1O")
    assert caught.value.code == "bad_integer"


def test_lists() -> None:
    assert parse_list("D0120; D0274;;D1110 ") == ("D0120", "D0274", "D1110")
    assert parse_list(None) == ()


@given(st.integers(min_value=-(10**9), max_value=10**9))
def test_money_round_trip(cents: int) -> None:
    text = f"${abs(cents) // 100:,}.{abs(cents) % 100:02d}"
    assert parse_money(f"({text})" if cents < 0 else text) == cents
    assert parse_money(f"-{text}" if cents < 0 else text) == cents


@given(st.dates(min_value=date(1901, 1, 1), max_value=date(9998, 12, 31)))
def test_date_round_trip(day: date) -> None:
    parsed = parse_date(f"{day.month}/{day.day}/{day.year:04d}")
    assert parsed is not None and parsed.value == day
