"""The dry run's destination: bulk writes are recorded per record and nothing is sent."""

from __future__ import annotations

import anyio

from adapters.twenty import TwentyClient
from adapters.twenty_sandbox import SandboxHandle
from core.pipeline.delta_dry import PlannedWrite, RecordingDestination
from core.ports.destination import DestinationSettings
from core.rate_limit import RateLimiter, parse_windows

A = "0f0e0d0c-0b0a-4909-8807-060504030201"
B = "0f0e0d0c-0b0a-4909-8807-060504030202"


def test_bulk_writes_are_planned_per_record_and_never_sent(
    twenty_sandbox: SandboxHandle,
) -> None:
    async def main() -> tuple[RecordingDestination, list[object]]:
        async with TwentyClient(
            DestinationSettings(url=twenty_sandbox.base_url, mutation_max_records=7),
            gate=RateLimiter(parse_windows("1000/1s")),
            environ={"TWENTY_API_KEY": twenty_sandbox.api_key},
        ) as real:
            dry = RecordingDestination(real)
            answers = [
                dry.mutation_max_records,
                await dry.delete_many("people", [A, B], soft=True),
                await dry.delete_many("notes", [A], soft=False),
                await dry.restore_many("people", [B]),
                await dry.upsert_many("people", [{"id": A, "jobTitle": "x", "city": None}]),
            ]
            return dry, answers

    dry, answers = anyio.run(main)
    assert answers == [
        7,
        [A, B],
        [A],
        [{"id": B, "deletedAt": None}],
        [{"id": A, "jobTitle": "x", "city": None}],
    ]
    assert dry.planned == [
        PlannedWrite("soft_delete", "people", A),
        PlannedWrite("soft_delete", "people", B),
        PlannedWrite("delete", "notes", A),
        PlannedWrite("restore", "people", B),
        PlannedWrite("update", "people", A, ("jobTitle", "city")),
    ]
    assert twenty_sandbox.stats()["requests"] == 0
