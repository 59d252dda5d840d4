"""Ferry's client and loader follow what Twenty does to values: refusals name no patient value,
and a website spelled differently still finds the company that holds it."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import anyio
import pytest

from adapters.twenty import redact
from core.identity import destination_id
from core.lifecycle import Lifecycle
from core.loader import Loader, LoadItem, LoadSettings
from core.ports.destination import BatchOutcome
from events.store import EventStore, NewEvent
from events.types import RecordExtracted, RecordLoaded, RecordTransformed, RecordValidated
from tests.destination.conftest import Target, make_client

# (message as Twenty words it, a patient value it carries): values Twenty leaves unquoted or
# double-quoted; single-quoted ones and `Key (...)=(...)` are in test_twenty_protocol.py.
HOSTILE_MESSAGES = [
    ("Provided phone number is invalid 4155550100", "4155550100"),
    ("Provided phone number is invalid (415) 555-0100", "555-0100"),
    ("Provided phone number is invalid +1 415 555 0100 ext. 12", "415 555"),
    ("Provided phone number is invalid call Laura", "Laura"),
    ('Invalid value: "Laura Smith"', "Laura"),
    ("Invalid value for date: \"02/11/1984\". Expected format: 'YYYY-MM-DD'", "1984"),
    ('Invalid value 1984-02-11 for date field "birthDate"', "1984"),
    ("Email laura.smith@mail.example is not valid", "laura.smith"),
    ("A duplicate entry was detected: unique constraint violated by 555-0142", "555-0142"),
    ('Invalid value "Smith" in filter', "Smith"),
]


@pytest.mark.parametrize(("message", "value"), HOSTILE_MESSAGES)
def test_redact_removes_patient_values_however_twenty_quotes_them(message: str, value: str) -> None:
    clean = redact(message)
    assert value not in clean
    assert "…" in clean


def test_redact_keeps_field_names_record_ids_and_the_words() -> None:
    record = "6f1c1f0e-5d7a-4a53-9a56-0d9b1b0c2a11"
    message = f'Related person record {record} for field "companyId" does not exist'
    assert redact(message) == message
    assert redact('Object person doesn\'t have any "city" field.').endswith('"city" field.')
    street = "Invalid value '12 Elm St' for text field \"homeAddress.addressStreet1\""
    assert redact(street) == "Invalid value '…' for text field \"homeAddress.addressStreet1\""
    assert redact("Provided phone number is invalid 4155550100") == (
        "Provided phone number is invalid …"
    )


def _create_batch(target: Target, records: list[dict[str, Any]]) -> BatchOutcome:
    async def main() -> BatchOutcome:
        async with make_client(target) as client:
            return await client.create_batch("people", records)

    return anyio.run(main)


def test_twentys_refusals_reach_ferry_without_the_refused_values(twenty: Target) -> None:
    people = [
        {"id": str(uuid.uuid4()), "phones": {"primaryPhoneNumber": "4155550100"}},
        {"id": str(uuid.uuid4()), "emails": {"primaryEmail": "jöe.smith@mail.example"}},
        {"id": str(uuid.uuid4()), "phones": {"primaryPhoneNumber": "+1 415 555 0101",
                                             "primaryPhoneCountryCode": "XX"}},
    ]  # fmt: skip
    outcome = _create_batch(twenty, people)
    assert outcome.created == ()
    messages = [str(error) for error in outcome.rejected.values()]
    assert len(messages) == 3
    for message in messages:
        assert not any(leak in message for leak in ("4155550100", "jöe", "smith", "0101")), message


def _company_items(store: EventStore, urls: list[str]) -> list[LoadItem]:
    namespace = uuid.uuid4()
    items, events = [], []
    for i, url in enumerate(urls):
        stream = f"practice:{i}"
        payload = {"name": f"Practice {i}", "domainName": {"primaryLinkUrl": url}}
        events += [
            NewEvent(stream, RecordExtracted(source_file="practices.csv", line=i + 2,
                                             source_key=str(i), content_hash="h"), 0),
            NewEvent(stream, RecordTransformed(target_object="company", payload=payload), 1),
            NewEvent(stream, RecordValidated(), 2),
        ]  # fmt: skip
        items.append(LoadItem(
            stream_id=stream, object_singular="company", object_plural="companies",
            destination_id=destination_id(namespace, "practice", str(i)), payload=payload,
            version=3,
        ))  # fmt: skip
    store.append(events)
    return items


def test_a_website_spelled_differently_finds_the_company_holding_it(
    twenty: Target, tmp_path: Path
) -> None:
    holder = {"id": str(uuid.uuid4()), "name": "Smile", "domainName": {
        "primaryLinkUrl": f"https://smile-{uuid.uuid4().hex[:8]}.example"}}  # fmt: skip
    assert _create_batch_companies(twenty, [holder])
    stored = holder["domainName"]["primaryLinkUrl"]  # type: ignore[index]
    spellings = [stored.upper().replace("HTTPS", "https") + "/", stored.replace("https", "HTTPS")]
    store = EventStore.open(tmp_path / "ferry.db", transition=Lifecycle().next_state)
    items = _company_items(store, spellings)

    async def main() -> Any:
        async with make_client(twenty) as client:
            return await Loader(store, client, LoadSettings(on_conflict="link")).load(items)

    summary = anyio.run(main)
    assert (summary.linked, summary.created) == (2, 0)
    for item in items:
        last = store.read_stream(item.stream_id)[-1].event
        assert isinstance(last, RecordLoaded) and last.destination_id == holder["id"]


def _create_batch_companies(target: Target, records: list[dict[str, Any]]) -> bool:
    async def main() -> bool:
        async with make_client(target) as client:
            outcome = await client.create_batch("companies", records)
            return len(outcome.created) == len(records)

    return anyio.run(main)
