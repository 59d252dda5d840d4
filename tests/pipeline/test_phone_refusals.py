"""When Twenty refuses phones, no patient value reaches a log, a report or the terminal.

Twenty's phone error names the number unquoted (`Provided phone number is invalid 4155550100`);
these records go through the real loader into the sandbox, then every place an operator reads
is searched for the numbers and names.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from adapters.twenty_sandbox import SandboxHandle
from core.config import TwentyConfig, WorkspaceConfig
from core.workspace import init_workspace
from events.types import LoadFailed
from tests.pipeline.migrated import Seed, client_for, invoke_ferry, load_entities, seed_validated

SMALL = Path(__file__).resolve().parents[2] / "fixtures" / "dental_exec" / "small_cp1252"
# Phones as a map writing the raw column (no country or calling code) would send them.
REFUSED = {
    "patient:10480": ("Laura", "Smith", {"primaryPhoneNumber": "4155550100"}),
    "patient:10481": ("David", "Okafor", {"primaryPhoneNumber": "5035550199",
                                          "primaryPhoneCountryCode": "ZZ"}),
    "patient:10482": ("Zoë", "Brandt", {"primaryPhoneNumber": "+1 971 555 0123",
                                        "primaryPhoneCallingCode": "+44"}),
}  # fmt: skip
LEAKS = ("4155550100", "5035550199", "971 555", "9715550123", "Laura", "Okafor", "Brandt")


def test_refused_phones_leave_no_patient_value_in_logs_reports_or_terminal(
    twenty_sandbox: SandboxHandle, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    export = tmp_path / "export"
    shutil.copytree(SMALL, export)
    config = WorkspaceConfig(source=str(export), twenty=TwentyConfig(url=twenty_sandbox.base_url))
    workspace = init_workspace(tmp_path / "work", config, ferry_version="test")
    seeds = [
        Seed(stream, "person", "people",
             {"name": {"firstName": first, "lastName": last}, "phones": phones})
        for stream, (first, last, phones) in REFUSED.items()
    ]  # fmt: skip
    seed_validated(workspace.store, seeds)
    caplog.set_level(logging.DEBUG)
    client = client_for(twenty_sandbox.base_url, twenty_sandbox.api_key)
    load_entities(workspace.store, client, ["patient"])
    failures = [workspace.store.read_stream(s)[-1].event for s in REFUSED]
    assert all(isinstance(f, LoadFailed) for f in failures), failures
    assert any("phone number is invalid" in f.message for f in failures)  # type: ignore[union-attr]
    workspace.close()

    seen = [caplog.text, *(f.message for f in failures)]  # type: ignore[union-attr]
    key = twenty_sandbox.api_key
    for args in (
        ("status",),
        ("status", "--json"),
        *(("trail", stream) for stream in REFUSED),
        ("report", "rejected"),
        ("report", "reconciliation"),
        ("report", "audit-log"),
        ("verify", "--json"),
    ):
        _, out = invoke_ferry(workspace.workdir, *args, key=key)
        seen.append(out)
    seen += [p.read_text("utf-8") for p in workspace.workdir.rglob("*") if _readable(p)]
    for text in seen:
        for leak in LEAKS:
            assert leak not in text, (leak, text[:400])


def _readable(path: Path) -> bool:
    """Reports and logs Ferry writes in the work directory (the event store excepted: it
    holds the payloads by design, encrypted at rest by the operator's disk)."""
    return path.is_file() and path.suffix in {".md", ".csv", ".json", ".jsonl", ".log", ".txt"}
