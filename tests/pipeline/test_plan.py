"""`ferry plan`: requests and duration under the budget, and every blocker with its fix."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from adapters.dental_exec import open_export
from adapters.twenty_sandbox import SandboxHandle
from core.errors import ConfigError, FerryError
from core.members import MemberReport, ProviderContact
from core.pipeline.plan import (
    PlanInputs,
    check_destination,
    estimate_seconds,
    make_plan,
    requests_for,
)
from core.schema import SchemaPlan
from core.schema_spec import default_spec
from tests.pipeline.fates import seed_fates
from tests.pipeline.migrated import client_for, open_store

SMALL = Path(__file__).resolve().parents[2] / "fixtures" / "dental_exec" / "small_cp1252"


@pytest.mark.parametrize(
    ("records", "batch", "budget", "requests", "seconds"),
    [
        (10_000, 60, "100/60s", 167, 100.2),
        (10_000, 200, "100/60s", 50, 30.0),
        (10_000, 60, "100/1s,100/60s", 167, 100.2),  # the tightest window decides
        (10_000, 60, "50/5s", 167, 16.7),
        (0, 60, "100/60s", 0, 0.0),
        (1, 60, "6000/h", 1, 0.6),
    ],
    ids=["cloud-60", "self-hosted-200", "two-windows", "50-per-5s", "nothing", "hourly"],
)
def test_requests_and_duration(
    records: int, batch: int, budget: str, requests: int, seconds: float
) -> None:
    assert requests_for(records, batch) == requests
    assert estimate_seconds(requests, budget) == pytest.approx(seconds)


def test_a_bad_budget_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="not valid"):
        estimate_seconds(10, "lots")


def test_from_the_store_counts_what_is_left_and_lists_rejections(tmp_path: Path) -> None:
    store = open_store(tmp_path / "ferry.db")
    seed_fates(store, "patient", ["pending"] * 130 + ["verified"] * 10 + ["rejected"] * 3)
    plan = make_plan(store.connection, PlanInputs(batch_size=60, rate_limit="100/60s"))
    (patients,) = plan.entities
    assert (plan.counted_from, patients.to_send, patients.in_twenty) == ("store", 130, 10)
    assert (patients.load_requests, patients.verify_requests) == (3, 2)  # 100 ids a lookup
    assert plan.load_seconds == pytest.approx(1.8)
    codes = {f.code: f for f in plan.findings}
    assert codes["ROWS_REJECTED"].what == "3 row(s) rejected (BAD_DATE 3)"
    assert codes["ROWS_REJECTED"].severity == "warning"
    assert {"MAPPING_NOT_CHECKED", "SCHEMA_NOT_CHECKED"} <= set(codes)
    assert plan.is_ready  # warnings only


def test_before_the_local_stages_the_export_is_counted(tmp_path: Path) -> None:
    store = open_store(tmp_path / "ferry.db")
    plan = make_plan(store.connection, PlanInputs(source=open_export(SMALL)))
    counts = {e.entity: e.to_send for e in plan.entities}
    assert plan.counted_from == "export"
    assert counts["patient"] == 18 and counts["appointment"] == 16


def test_after_a_sample_the_unread_rows_of_the_export_still_count(tmp_path: Path) -> None:
    store = open_store(tmp_path / "ferry.db")
    seed_fates(store, "patient", ["verified"] * 4 + ["pending"])
    plan = make_plan(store.connection, PlanInputs(source=open_export(SMALL)))
    patient = next(e for e in plan.entities if e.entity == "patient")
    assert plan.counted_from == "store and export"
    assert (patient.to_send, patient.in_twenty) == (18 - 5 + 1, 4)


def _unconfirmed() -> None:
    raise FerryError("mapping.toml changed since it was confirmed")


def test_every_blocker_says_what_to_do(twenty_sandbox: SandboxHandle, tmp_path: Path) -> None:
    store = open_store(tmp_path / "ferry.db")
    client = client_for(twenty_sandbox.base_url, twenty_sandbox.api_key)
    providers = [ProviderContact("DDS1", "dds1@practice.example")]

    async def check() -> tuple[SchemaPlan, MemberReport]:
        async with client:
            return await check_destination(default_spec(), client, client, providers, None)

    schema, members = anyio.run(check)
    inputs = PlanInputs(
        mapping_check=_unconfirmed, sample_approved=lambda: False,
        schema=schema, members=members,
    )  # fmt: skip
    plan = make_plan(store.connection, inputs)
    blockers = {f.code: f for f in plan.findings if f.severity == "blocker"}
    assert set(blockers) == {"MAPPING", "SAMPLE_NOT_APPROVED", "SCHEMA_MISSING",
                             "MEMBERS_UNMATCHED"}  # fmt: skip
    assert "changed since it was confirmed" in blockers["MAPPING"].what
    assert "ferry map confirm" in blockers["MAPPING"].fix
    assert "ferry sample approve" in blockers["SAMPLE_NOT_APPROVED"].fix
    assert "ferry schema apply" in blockers["SCHEMA_MISSING"].fix
    assert "DDS1" in blockers["MEMBERS_UNMATCHED"].what
    assert not plan.is_ready
