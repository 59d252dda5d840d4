"""`ferry verify` and `ferry plan` through click's CliRunner, against the sandbox."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import anyio

from adapters.twenty_sandbox import SandboxHandle
from core.config import TwentyConfig, WorkspaceConfig
from core.workspace import Workspace, init_workspace
from tests.pipeline.migrated import (
    Seed,
    client_for,
    invoke_ferry,
    load_entities,
    seed_rejected,
    seed_validated,
)

SMALL = Path(__file__).resolve().parents[2] / "fixtures" / "dental_exec" / "small_cp1252"


def _workspace(tmp_path: Path, url: str = "http://127.0.0.1:9") -> Workspace:
    export = tmp_path / "export"
    shutil.copytree(SMALL, export)
    config = WorkspaceConfig(source=str(export), twenty=TwentyConfig(url=url))
    return init_workspace(tmp_path / "work", config, ferry_version="test")


def _people(n: int) -> list[Seed]:
    return [
        Seed(f"patient:{10480 + i}", "person", "people",
             {"name": {"firstName": f"P{i}", "lastName": "Q"}, "avatarUrl": "Springfield"})
        for i in range(n)
    ]  # fmt: skip


def test_verify_writes_the_reconciliation_and_prints_json(
    twenty_sandbox: SandboxHandle, tmp_path: Path
) -> None:
    workspace = _workspace(tmp_path, twenty_sandbox.base_url)
    seed_validated(workspace.store, _people(3))
    seed_rejected(workspace.store, "patient:10490")
    client = client_for(twenty_sandbox.base_url, twenty_sandbox.api_key)
    load_entities(workspace.store, client, ["patient"])
    workspace.close()
    shutil.rmtree(tmp_path / "export")  # cannot be counted: the source side cannot be checked

    code, out = invoke_ferry(workspace.workdir, "verify", "--json", key=twenty_sandbox.api_key)
    assert code == 1, out  # never "adds up" without checking
    data = json.loads(out)
    assert (data["checked"], data["failed"]) == (3, 0)
    assert data["reconciliation"]["adds_up"] is False
    assert data["reconciliation"]["source_problem"].startswith("cannot check")
    (patient,) = data["reconciliation"]["entities"]
    assert (patient["verified"], patient["rejected"], patient["source_rows"]) == (3, 1, None)
    report = (workspace.workdir / "reports" / "reconciliation.md").read_text(encoding="utf-8")
    assert report.startswith("# Reconciliation (cannot check the source)")
    assert "**Cannot check**" in report
    assert (workspace.workdir / "reports" / "reconciliation.md").stat().st_mode & 0o077 == 0


def test_verify_exits_1_and_names_the_field_that_differs(
    twenty_sandbox: SandboxHandle, tmp_path: Path
) -> None:
    workspace = _workspace(tmp_path, twenty_sandbox.base_url)
    seed_validated(workspace.store, _people(2))
    load_entities(
        workspace.store, client_for(twenty_sandbox.base_url, twenty_sandbox.api_key), ["patient"]
    )
    dest = workspace.store.connection.execute(
        "SELECT destination_id FROM record_state WHERE stream_id = 'patient:10481'"
    ).fetchone()[0]
    workspace.close()

    async def corrupt() -> None:
        async with client_for(twenty_sandbox.base_url, twenty_sandbox.api_key) as client:
            await client.update_one("people", dest, {"avatarUrl": "Elsewhere"})

    anyio.run(corrupt)
    code, out = invoke_ferry(workspace.workdir, "verify", key=twenty_sandbox.api_key)
    assert code == 1
    assert "differs: people.avatarUrl in 1 record(s)" in out
    assert "reconciliation DOES NOT add up" in out  # the export holds rows never extracted
    assert "Elsewhere" not in out and "Springfield" not in out


def test_plan_offline_lists_blockers_and_exits_1(tmp_path: Path) -> None:
    workspace = _workspace(tmp_path)
    workspace.close()
    code, out = invoke_ferry(workspace.workdir, "plan", "--offline", "--json")
    assert code == 1
    data = json.loads(out)
    assert data["is_ready"] is False and data["counted_from"] == "export"
    codes = {f["code"]: f for f in data["findings"]}
    assert codes["MAPPING"]["severity"] == "blocker"
    assert "ferry map propose" in codes["MAPPING"]["what"]
    assert codes["SAMPLE_NOT_APPROVED"]["severity"] == "blocker"
    patient = next(e for e in data["entities"] if e["entity"] == "patient")
    assert (patient["to_send"], patient["load_requests"]) == (18, 1)


def test_plan_against_twenty_reports_the_missing_schema(
    twenty_sandbox: SandboxHandle, tmp_path: Path
) -> None:
    workspace = _workspace(tmp_path, twenty_sandbox.base_url)
    workspace.close()
    code, out = invoke_ferry(workspace.workdir, "plan", key=twenty_sandbox.api_key)
    assert code == 1
    assert "BLOCKER SCHEMA_MISSING" in out and "ferry schema apply" in out
    assert "not ready: resolve the blockers above" in out
