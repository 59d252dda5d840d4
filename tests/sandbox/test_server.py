"""The sandbox as a process: persistence across restarts, members seeding, the CLI."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

import cli
from adapters.twenty_sandbox import SandboxConfig, SandboxConfigError, SandboxHandle
from adapters.twenty_sandbox.config import RateWindow, parse_rate_window
from adapters.twenty_sandbox.members import read_members
from tests.conftest import SandboxProcess


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_data_and_custom_objects_persist_across_restarts(
    start_sandbox_process: Callable[..., SandboxProcess], tmp_path: Path
) -> None:
    db_path = tmp_path / "workspace.db"
    first = start_sandbox_process(db_path=db_path)
    headers = _auth(first.api_key)
    created = httpx.post(f"{first.rest_url}/notes", json={"title": "kept"}, headers=headers)
    assert created.status_code == 201
    custom = httpx.post(
        f"{first.rest_url}/metadata/objects",
        json={
            "nameSingular": "visit",
            "namePlural": "visits",
            "labelSingular": "Visit",
            "labelPlural": "Visits",
        },
        headers=headers,
    )
    assert custom.status_code == 201
    first.stop()
    second = start_sandbox_process(db_path=db_path)
    notes = httpx.get(f"{second.rest_url}/notes", headers=headers).json()
    assert [n["title"] for n in notes["data"]["notes"]] == ["kept"]
    assert httpx.get(f"{second.rest_url}/visits", headers=headers).status_code == 200


def test_members_are_seeded_listed_and_never_created_by_api(
    start_sandbox: Callable[..., SandboxHandle], tmp_path: Path
) -> None:
    members_csv = tmp_path / "members.csv"
    members_csv.write_text("name,email\nAna Silva,Ana@Clinic.example\nBo Lee,bo@clinic.example\n")
    handle = start_sandbox(members_csv=members_csv)
    headers = _auth(handle.api_key)
    listed = httpx.get(f"{handle.rest_url}/workspaceMembers", headers=headers).json()
    members = listed["data"]["workspaceMembers"]
    assert sorted(m["userEmail"] for m in members) == ["ana@clinic.example", "bo@clinic.example"]
    ana = next(m for m in members if m["userEmail"] == "ana@clinic.example")
    assert ana["name"] == {"firstName": "Ana", "lastName": "Silva"} and ana["userId"]
    refused = httpx.post(f"{handle.rest_url}/workspaceMembers", json={}, headers=headers)
    assert refused.status_code == 403 and refused.json()["code"] == "PERMISSION_DENIED"
    task = httpx.post(f"{handle.rest_url}/tasks", json={"assigneeId": ana["id"]}, headers=headers)
    assert task.json()["data"]["createTask"]["assigneeId"] == ana["id"]


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("who,mail\nA,a@b.c\n", ":1: the members file needs a header"),
        ("name,email\nA,not-an-email\n", ":2 column 'email'"),
    ],
    ids=["bad-header", "bad-email"],
)
def test_bad_members_file_names_file_and_line(tmp_path: Path, content: str, fragment: str) -> None:
    path = tmp_path / "members.csv"
    path.write_text(content)
    with pytest.raises(SandboxConfigError) as error:
        read_members(path)
    assert fragment in str(error.value)
    assert "not-an-email" not in str(error.value)


@pytest.mark.parametrize(
    ("text", "window"),
    [
        ("100/60s", RateWindow(100, 60_000)),
        ("100/s", RateWindow(100, 1000)),
        ("3/500ms", RateWindow(3, 500)),
        ("50/1m", RateWindow(50, 60_000)),
    ],
    ids=["per-minute-in-s", "per-second", "ms", "minutes"],
)
def test_rate_windows_parse(text: str, window: RateWindow) -> None:
    assert parse_rate_window(text) == window


@pytest.mark.parametrize(
    "options",
    [{"fail_rate": 1.5}, {"batch_max": 201}, {"latency_ms": -1}],
    ids=["probability", "batch-over-twenty", "negative-latency"],
)
def test_bad_options_are_refused(options: dict[str, float]) -> None:
    with pytest.raises(SandboxConfigError):
        SandboxConfig(**options)  # type: ignore[arg-type]


def test_cli_refuses_a_malformed_rate_limit(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli.ferry, ["sandbox", "serve", "--db", str(tmp_path / "x.db"), "--rate-limit", "fast"]
    )
    assert result.exit_code != 0
    assert "write it like 100/60s" in str(result.exception) + result.output


def test_cli_serves_with_options(start_sandbox_process: Callable[..., SandboxProcess]) -> None:
    process = start_sandbox_process("--rate-limit", "1/60s", "--rate-limit-headers")
    headers = _auth(process.api_key)
    assert httpx.get(f"{process.rest_url}/people", headers=headers).status_code == 200
    throttled = httpx.get(f"{process.rest_url}/people", headers=headers)
    assert throttled.status_code == 429 and "retry-after" in throttled.headers
