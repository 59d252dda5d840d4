"""`ferry schema ...` and `ferry members check` against the sandbox, through click's runner."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from cli import ferry
from core.lifecycle import Lifecycle
from events.store import EventStore
from events.types import SchemaChangeApplied
from tests.destination.conftest import Target

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "dental_exec" / "small_utf8"


def _invoke(target: Target, workdir: Path, *args: str) -> Any:
    env = {"TWENTY_API_URL": target.url, "FERRY_TEST_KEY": target.key}
    return CliRunner().invoke(
        ferry,
        [
            "--workdir",
            str(workdir),
            *args,
            "--api-key-env",
            "FERRY_TEST_KEY",
            "--rate-limit",
            "1000/1s",
        ],
        env=env,
    )


def _workdir(target: Target, workdir: Path) -> None:
    """A work directory on the fixture with a confirmed mapping (ferry init, propose, confirm)."""
    runner = CliRunner()
    base = ["--workdir", str(workdir)]
    for args in (
        [
            "init",
            "--source",
            str(FIXTURE),
            "--twenty-url",
            target.url,
            "--api-key-env",
            "FERRY_TEST_KEY",
        ],
        ["map", "propose", str(FIXTURE)],
        ["map", "confirm"],
    ):
        result = runner.invoke(ferry, [*base, *args])
        assert result.exit_code == 0, result.output


def test_schema_plan_apply_plan(faulty: Callable[..., Target], tmp_path: Path) -> None:
    target = faulty()
    _workdir(target, tmp_path)
    before = _invoke(target, tmp_path, "schema", "plan")
    assert before.exit_code == 0, before.output
    assert "+ create object treatment" in before.output
    applied = _invoke(target, tmp_path, "schema", "apply")
    assert applied.exit_code == 0, applied.output
    assert "probe communication: ok" in applied.output
    after = _invoke(target, tmp_path, "schema", "plan")
    assert "0 change(s) to make, 0 conflict(s)" in after.output
    with EventStore.open(tmp_path / "ferry.db", transition=Lifecycle().next_state) as store:
        recorded = [
            e.event
            for e in store.read_stream("migration")
            if isinstance(e.event, SchemaChangeApplied)
        ]
    assert recorded
    assert {e.object_name for e in recorded if e.change == "create_object"} == {
        "treatment", "procedure", "insurance", "claim", "payment", "communication",
    }  # fmt: skip


def test_schema_checklist_writes_markdown(tmp_path: Path) -> None:
    out = tmp_path / "checklist.md"
    result = CliRunner().invoke(ferry, ["schema", "checklist", "--out", str(out)], env={})
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").startswith("# Twenty data model")


def test_members_check_reports_every_provider(
    faulty: Callable[..., Target], tmp_path: Path
) -> None:
    members = tmp_path / "members.csv"
    members.write_text(
        "name,email\nAdaeze Okafor,A.Okafor@brightsmiles.example\n"
        "Office,office@brightsmiles.example\n",
        encoding="utf-8",
    )
    target = faulty(members_csv=members)
    result = _invoke(
        target, tmp_path, "members", "check", "--export", str(FIXTURE),
        "--placeholder", "office@brightsmiles.example",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "DDS1" in result.output and "matched" in result.output
    assert "placeholder owner: office@brightsmiles.example" in result.output


def test_a_missing_key_is_one_clear_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        ferry, ["schema", "plan", "--twenty-url", "http://127.0.0.1:9", "--api-key-env", "NOPE"],
        env={"NOPE": ""},
    )  # fmt: skip
    assert result.exit_code != 0
    assert "set the environment variable NOPE" in str(result.exception or result.output)


def test_schema_apply_refuses_a_mapping_changed_since_confirmation(
    faulty: Callable[..., Target], tmp_path: Path
) -> None:
    target = faulty()
    _workdir(target, tmp_path)
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(mapping.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    refused = _invoke(target, tmp_path, "schema", "apply")
    assert refused.exit_code != 0
    assert "changed since it was confirmed" in str(refused.exception or refused.output)
