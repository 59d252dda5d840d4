"""Schema apply against the sandbox's metadata API: idempotent, resumable, probed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
import pytest

from adapters.twenty import TwentyClient
from core.schema import SchemaChange, SchemaConflictError, apply, plan, probe
from core.schema_spec import default_spec
from tests.destination.conftest import Target, make_client


def _run(client: TwentyClient, body: Callable[[TwentyClient], Any]) -> Any:
    async def main() -> Any:
        async with client:
            return await body(client)

    return anyio.run(main)


def test_apply_creates_everything_once_and_the_probe_reads_it_back(
    faulty: Callable[..., Target],
) -> None:
    target = faulty()
    spec = default_spec()
    applied: list[tuple[SchemaChange, str]] = []

    async def body(client: TwentyClient) -> Any:
        first = await apply(spec, client, lambda change, mid: applied.append((change, mid)))
        again = await apply(spec, client)
        after = plan(spec, await client.list_objects())
        return first, again, after, await probe(spec, client)

    first, again, after, probes = _run(make_client(target), body)
    assert len(applied) == len(first.changes) > 80 and all(mid for _, mid in applied)
    assert again.changes == () and after.is_complete
    assert [(p.object_name, p.ok, p.missing_fields) for p in probes] == [
        (o.name_singular, True, ()) for o in spec.objects
    ]


def test_apply_resumes_after_a_partial_run(faulty: Callable[..., Target]) -> None:
    target = faulty()
    spec = default_spec()
    done: list[SchemaChange] = []

    class Stop(Exception):
        pass

    def stop_after_ten(change: SchemaChange, metadata_id: str) -> None:
        done.append(change)
        if len(done) == 10:
            raise Stop

    async def body(client: TwentyClient) -> Any:
        with pytest.raises(Stop):
            await apply(spec, client, stop_after_ten)
        return await apply(spec, client), plan(spec, await client.list_objects())

    rest, after = _run(make_client(target), body)
    assert len(done) + len(rest.changes) == len(plan(spec, []).changes) + _standard_fields(spec)
    assert after.is_complete


def _standard_fields(spec: Any) -> int:
    # plan(spec, []) cannot see the standard objects, so their fields are counted apart.
    return sum(len(o.fields) for o in spec.objects if not o.is_custom)


def test_a_field_of_another_type_stops_apply_before_any_change(
    faulty: Callable[..., Target],
) -> None:
    target = faulty()
    spec = default_spec()

    async def body(client: TwentyClient) -> Any:
        person = next(o for o in await client.list_objects() if o.name_singular == "person")
        await client.create_field(
            {"objectMetadataId": person.id, "type": "NUMBER", "name": "dentalExecId",
             "label": "Dental-Exec ID"}
        )  # fmt: skip
        before = len(await client.list_objects())
        with pytest.raises(SchemaConflictError, match=r"person\.dentalExecId: Ferry needs TEXT"):
            await apply(spec, client)
        return before, len(await client.list_objects())

    before, after = _run(make_client(target), body)
    assert before == after


def test_adding_options_keeps_the_existing_ones_and_the_values_stored(
    faulty: Callable[..., Target],
) -> None:
    target = faulty()
    spec = default_spec()

    async def body(client: TwentyClient) -> Any:
        person = next(o for o in await client.list_objects() if o.name_singular == "person")
        gender = await client.create_field(
            {"objectMetadataId": person.id, "type": "SELECT", "name": "gender",
             "label": "Gender", "options": [
                 {"value": "FEMALE", "label": "Woman", "position": 0, "color": "red"},
                 {"value": "MALE", "label": "Man", "position": 1, "color": "green"},
             ]}
        )  # fmt: skip
        created = await client.create_one("people", {"gender": "FEMALE"})
        await apply(spec, client)
        after = next(o for o in await client.list_objects() if o.name_singular == "person")
        found = await client.find_by_ids("people", [str(created["id"])])
        return gender, after.field("gender"), found[0] if found else None

    before, after, record = _run(make_client(target), body)
    assert record is not None and record["gender"] == "FEMALE"
    assert after is not None
    assert after.option_details[:2] == before.option_details  # ids, labels, colours kept
    assert [(o.value, o.position) for o in after.option_details[2:]] == [
        ("UNKNOWN", 2),
        ("OTHER", 3),
    ]
