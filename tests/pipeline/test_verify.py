"""Verification against the sandbox over loopback: records loaded by the real loader, read back."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

from adapters.twenty_sandbox import SandboxHandle
from core.pipeline.verify import VerifySettings, VerifySummary, verify
from events.store import EventStore
from events.types import RecordVerified, VerificationFailed
from tests.pipeline.migrated import (
    Seed,
    client_for,
    load_entities,
    open_store,
    seed_validated,
)


def _seeds() -> list[Seed]:
    company = Seed(
        "practice:1", "company", "companies",
        {"name": "Springfield Dental", "employees": 12,
         "address": {"addressCity": "Springfield", "addressPostcode": "97477"},
         "annualRecurringRevenue": {"amountMicros": 1_500_000_000, "currencyCode": "USD"}},
    )  # fmt: skip
    people = [
        Seed(
            f"patient:{10480 + i}",
            "person",
            "people",
            {
                "name": {"firstName": f"Probe{i}", "lastName": "Smith "},
                "emails": {"primaryEmail": f"Probe{i}.Smith@MAIL.example"},
                "phones": {"primaryPhoneNumber": "5555550143", "primaryPhoneCallingCode": "+1"},
                "avatarUrl": "Springfield",
            },
            refs={"companyId": "practice:1"},
        )
        for i in range(5)
    ]
    tasks = [
        Seed(
            f"appointment:{583300 + i}",
            "task",
            "tasks",
            {
                "title": f"Recall {i}",
                "dueAt": "2025-11-02T01:30:00-07:00",
                "status": "TODO",
                "bodyV2": {"markdown": "Mom asks for appts after 3pm.\nNo metal."},
            },
        )
        for i in range(3)
    ]
    return [company, *people, *tasks]


@pytest.fixture
def migrated(twenty_sandbox: SandboxHandle, tmp_path: Path) -> tuple[EventStore, SandboxHandle]:
    store = open_store(tmp_path / "ferry.db")
    seed_validated(store, _seeds())
    client = client_for(twenty_sandbox.base_url, twenty_sandbox.api_key)
    assert load_entities(store, client, ["practice", "patient", "appointment"]) == []
    return store, twenty_sandbox


def _verify(store: EventStore, sandbox: SandboxHandle, **options: Any) -> VerifySummary:
    client = client_for(sandbox.base_url, sandbox.api_key)

    async def main() -> VerifySummary:
        async with client:
            return await verify(store, client, VerifySettings(**options))

    return anyio.run(main)


def _twenty(sandbox: SandboxHandle, work: Callable[[Any], Any]) -> None:
    async def main() -> None:
        async with client_for(sandbox.base_url, sandbox.api_key) as client:
            await work(client)

    anyio.run(main)


def _last(store: EventStore, stream_id: str) -> Any:
    return store.read_stream(stream_id)[-1].event


def _dest(store: EventStore, stream_id: str) -> str:
    row = store.connection.execute(
        "SELECT destination_id FROM record_state WHERE stream_id = ?", (stream_id,)
    ).fetchone()
    return str(row[0])


def test_everything_loaded_reads_back_equal_under_twentys_normalisations(
    migrated: tuple[EventStore, SandboxHandle],
) -> None:
    store, sandbox = migrated
    summary = _verify(store, sandbox, run_id="verify-1")
    assert (summary.checked, summary.failed) == (9, 0)
    assert {e: (c.verified, c.mismatched, c.missing) for e, c in summary.entities.items()} == {
        "appointment": (3, 0, 0), "patient": (5, 0, 0), "practice": (1, 0, 0),
    }  # fmt: skip
    assert isinstance(_last(store, "patient:10480"), RecordVerified)
    states = dict(store.connection.execute("SELECT state, COUNT(*) FROM record_state GROUP BY 1"))
    assert states == {"verified": 9}


def test_a_changed_field_a_deleted_and_a_soft_deleted_record_are_named(
    migrated: tuple[EventStore, SandboxHandle],
) -> None:
    store, sandbox = migrated
    changed, gone, hidden = "patient:10482", "appointment:583301", "patient:10484"

    async def corrupt(client: Any) -> None:
        await client.update_one("people", _dest(store, changed), {"avatarUrl": "Shelbyville"})
        await client.delete_one("tasks", _dest(store, gone), soft=False)
        await client.delete_one("people", _dest(store, hidden), soft=True)

    _twenty(sandbox, corrupt)
    summary = _verify(store, sandbox)
    assert (summary.checked, summary.failed) == (9, 3)
    assert summary.entities["patient"].mismatched == 2
    assert summary.entities["appointment"].missing == 1
    assert summary.fields == {"people.avatarUrl": 1, "people.deletedAt": 1}

    event = _last(store, changed)
    assert isinstance(event, VerificationFailed) and not event.missing
    assert [(d.field, d.expected, d.actual) for d in event.diffs] == [
        ("avatarUrl", "Springfield", "Shelbyville")
    ]
    missing = _last(store, gone)
    assert isinstance(missing, VerificationFailed) and missing.missing and missing.diffs == []
    soft = _last(store, hidden)
    assert isinstance(soft, VerificationFailed)
    assert [d.field for d in soft.diffs] == ["deletedAt"]
    codes = dict(
        store.connection.execute(
            "SELECT stream_id, last_error_code FROM record_state WHERE state = 'verify_failed'"
        )
    )
    assert codes == {changed: "MISMATCH", gone: "MISSING", hidden: "MISMATCH"}


def test_a_changed_relation_is_a_difference(migrated: tuple[EventStore, SandboxHandle]) -> None:
    store, sandbox = migrated

    async def unlink(client: Any) -> None:
        await client.update_one("people", _dest(store, "patient:10481"), {"companyId": None})

    _twenty(sandbox, unlink)
    summary = _verify(store, sandbox)
    event = _last(store, "patient:10481")
    assert isinstance(event, VerificationFailed)
    assert [(d.field, d.actual) for d in event.diffs] == [("companyId", None)]
    assert event.diffs[0].expected == _dest(store, "practice:1")
    assert summary.fields == {"people.companyId": 1}


def test_small_pages_and_one_entity(migrated: tuple[EventStore, SandboxHandle]) -> None:
    store, sandbox = migrated
    pages: list[int] = []
    client = client_for(sandbox.base_url, sandbox.api_key)

    async def main() -> VerifySummary:
        async with client:
            settings = VerifySettings(entity="patient", page_size=2)
            return await verify(store, client, settings, on_page=pages.append)

    summary = anyio.run(main)
    assert pages == [2, 2, 1]
    assert list(summary.entities) == ["patient"] and summary.checked == 5
    assert isinstance(_last(store, "practice:1"), type(_last(store, "practice:1")))
    untouched = store.connection.execute(
        "SELECT state FROM record_state WHERE stream_id = 'practice:1'"
    ).fetchone()
    assert untouched == ("loaded",)


def test_reverifying_after_a_repair_turns_the_record_verified(
    migrated: tuple[EventStore, SandboxHandle],
) -> None:
    store, sandbox = migrated
    dest = _dest(store, "patient:10483")

    async def change(client: Any) -> None:
        await client.update_one("people", dest, {"name": {"firstName": "Other"}})

    async def repair(client: Any) -> None:
        await client.update_one("people", dest, {"name": {"firstName": "Probe3"}})

    _twenty(sandbox, change)
    assert _verify(store, sandbox).failed == 1
    _twenty(sandbox, repair)
    assert _verify(store, sandbox).failed == 0
    assert isinstance(_last(store, "patient:10483"), RecordVerified)


def test_a_clean_pass_reads_each_object_once_and_only_the_absent_again(
    migrated: tuple[EventStore, SandboxHandle],
) -> None:
    store, sandbox = migrated

    def requests() -> int:
        client = client_for(sandbox.base_url, sandbox.api_key)

        async def main() -> int:
            async with client:
                await verify(store, client)
            return client.requests_sent

        return anyio.run(main)

    assert requests() == 3  # companies, people, tasks: one lookup each

    async def drop(client: Any) -> None:
        await client.delete_one("tasks", _dest(store, "appointment:583302"), soft=False)

    _twenty(sandbox, drop)
    assert requests() == 3 + 1  # the absent task looked up among live and deleted rows at once
