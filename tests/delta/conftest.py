"""Work directories migrated into the sandbox, ready for a delta; helpers to read the outcome."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.twenty_sandbox import SandboxHandle
from tests.run.conftest import FIXTURES, KEY_ENV, dump, invoke, key_env, prepare

__all__ = [
    "FIXTURES",
    "KEY_ENV",
    "delta_writes",
    "dump",
    "invoke",
    "key_env",
    "manifest",
    "migrated",
    "patch_record",
    "store_rows",
]


def migrated(workdir: Path, sandbox: SandboxHandle, bundle: str | Path = "small_cp1252") -> Path:
    """A work directory whose export (a fixture name or a path) is fully run into the sandbox."""
    prepare(workdir, sandbox.base_url, str(bundle))
    invoke(workdir, "run", "--without-sample-approval")
    return workdir


def store_rows(workdir: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Rows of a read-only query on the work directory's store."""
    conn = sqlite3.connect(f"file:{workdir / 'ferry.db'}?mode=ro", uri=True)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def delta_writes(workdir: Path, run_id: str | None = None) -> dict[str, set[str]]:
    """Stream ids written by delta runs (or one run), by operation: create/update/soft_delete."""
    where = "AND e.run_id = ?" if run_id else ""
    rows = store_rows(
        workdir,
        "SELECT e.stream_id, json_extract(e.data, '$.outcome'), e.type FROM events e "
        "JOIN run_summary r ON r.run_id = e.run_id "
        "WHERE e.type IN ('RecordLoaded', 'RecordSoftDeleted') AND e.run_id IN "
        "(SELECT run_id FROM events WHERE type = 'RunStarted' "
        f"AND json_extract(data, '$.command') = 'delta') {where}",
        *((run_id,) if run_id else ()),
    )
    out: dict[str, set[str]] = {"created": set(), "updated": set(), "soft_deleted": set()}
    for stream_id, outcome, kind in rows:
        key = "soft_deleted" if kind == "RecordSoftDeleted" else outcome
        out.setdefault(key, set()).add(stream_id)
    return out


def patch_record(sandbox: SandboxHandle, plural: str, record_id: str, values: dict) -> None:
    """Edit a record directly in the sandbox, as a user of Twenty would."""
    response = httpx.patch(
        f"{sandbox.rest_url}/{plural}/{record_id}",
        json=values,
        headers={"Authorization": f"Bearer {sandbox.api_key}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text


def manifest(bundle: Path) -> dict[str, dict[str, list[str]]]:
    """The generator's manifest of a delta bundle."""
    for name in ("_generator_manifest.json", "_manifest.json"):
        if (bundle / name).exists():
            return json.loads((bundle / name).read_text(encoding="utf-8"))
    raise AssertionError(f"no manifest in {bundle}")


@pytest.fixture
def sandbox_key(twenty_sandbox: SandboxHandle, key_env: Callable[[str], None]) -> SandboxHandle:
    """The sandbox, with its key in the variable the work directories name."""
    key_env(twenty_sandbox.api_key)
    return twenty_sandbox
