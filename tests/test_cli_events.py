"""`ferry status`, `events list|verify`, `replay` and `trail` through click's CliRunner."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from cli import ferry
from core.lifecycle import Lifecycle
from events.store import EventStore, NewEvent
from events.types import Event
from tests.events.factories import every_event, record_event


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    store = EventStore.open(tmp_path / "ferry.db", transition=Lifecycle().next_state)
    pairs = _events()
    migration = [p for p in pairs if not p[0].startswith("patient")]
    store.append([NewEvent(s, e) for s, e in migration], run_id="r1")
    store.append([NewEvent(s, e) for s, e in pairs[len(migration) :]], run_id="r1")
    store.append([NewEvent("appointment:9", record_event("RecordExtracted", "9"))], run_id="r2")
    store.close()
    return tmp_path


def _events() -> list[tuple[str, Event]]:
    """Every migration-level event, then patients 1-3's histories (rolled back, rejected,
    skipped): a fixed set, so that the counts below do not move when event types are added."""
    pairs = every_event()
    return [p for p in pairs if p[0].split(":")[0] in ("migration", "run")] + [
        p for p in pairs if p[0] in ("patient:1", "patient:2", "patient:3")
    ]


def _run(workdir: Path, *args: str) -> click.testing.Result:
    return CliRunner().invoke(ferry, ["--workdir", str(workdir), *args], catch_exceptions=False)


def test_status_json_has_entities_and_totals(workdir: Path) -> None:
    result = _run(workdir, "status", "--json")
    assert result.exit_code == 0
    body = json.loads(result.output)
    assert body["entities"] == {
        "appointment": {"extracted": 1},
        "patient": {"rejected": 1, "rolled_back": 1, "skipped": 1},
    }
    assert body["totals"] == {"extracted": 1, "rejected": 1, "rolled_back": 1, "skipped": 1}
    assert {run["run_id"] for run in body["runs"]} == {"r1", "r2"}


def test_status_table_is_readable(workdir: Path) -> None:
    result = _run(workdir, "status")
    assert result.exit_code == 0
    assert "patient" in result.output and "rolled_back" in result.output


@pytest.mark.parametrize(
    ("args", "expected_types"),
    [
        (["--type", "RecordRejected"], {"RecordRejected"}),
        (["--stream", "patient:3"], {"RecordExtracted", "RecordSkipped"}),
        (["--run", "r2"], {"RecordExtracted"}),
    ],
    ids=["by-type", "by-stream", "by-run"],
)
def test_events_list_filters(workdir: Path, args: list[str], expected_types: set[str]) -> None:
    result = _run(workdir, "events", "list", *args, "--format", "json")
    assert result.exit_code == 0
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert {r["type"] for r in rows} == expected_types


def test_events_list_csv_and_time_window(workdir: Path) -> None:
    result = _run(
        workdir,
        "events",
        "list",
        "--format",
        "csv",
        "--since",
        "2000-01-01",
        "--until",
        "2999-01-01",
    )
    lines = result.output.splitlines()
    assert lines[0].startswith('"position","stream_id","version","type"')
    assert len(lines) == 1 + len(_events()) + 1
    rows = list(csv.DictReader(io.StringIO(result.output, newline="")))
    assert len(rows) == len(lines) - 1  # one record a line: no cell spans lines
    assert [int(row["position"]) for row in rows] == list(range(1, len(rows) + 1))
    none = _run(workdir, "events", "list", "--format", "json", "--until", "2000-01-01")
    assert none.output == ""


def test_events_verify_ok_then_tampered(workdir: Path) -> None:
    assert "OK" in _run(workdir, "events", "verify").output
    conn = sqlite3.connect(workdir / "ferry.db")
    conn.execute("DROP TRIGGER events_no_update")
    conn.execute(
        "UPDATE events SET data = replace(data, 'Birth', 'Berth') WHERE type = 'RecordRejected'"
    )
    conn.commit()
    conn.close()
    result = CliRunner().invoke(ferry, ["--workdir", str(workdir), "events", "verify"])
    assert result.exit_code == 1
    assert "FAILED at position" in result.output


def test_replay_check_and_until(workdir: Path, tmp_path: Path) -> None:
    checked = _run(workdir, "replay", "--check")
    assert checked.exit_code == 0 and "equal the live ones" in checked.output
    first_record = len([s for s, _ in _events() if not s.startswith("patient")]) + 1
    early = _run(workdir, "replay", "--until", str(first_record), "--json")
    assert json.loads(early.output)["totals"] == {"extracted": 1}
    out = tmp_path / "snapshot.db"
    _run(workdir, "replay", "--until", "2999-01-01T00:00:00Z", "--out", str(out))
    assert sqlite3.connect(out).execute("SELECT COUNT(*) FROM record_state").fetchone()[0] == 4


def test_replay_check_finds_a_drifted_projection(workdir: Path) -> None:
    conn = sqlite3.connect(workdir / "ferry.db")
    conn.execute("UPDATE record_state SET state = 'verified' WHERE stream_id = 'patient:2'")
    conn.commit()
    conn.close()
    result = CliRunner().invoke(ferry, ["--workdir", str(workdir), "replay", "--check"])
    assert result.exit_code == 1
    assert "MISMATCH record_state patient:2" in result.output


def test_trail_hides_patient_values_unless_asked(workdir: Path) -> None:
    hidden = _run(workdir, "trail", "patient:1")
    assert "RecordExtracted" in hidden.output and "RecordRolledBack" in hidden.output
    assert "Doe" not in hidden.output and "fields hidden" in hidden.output
    shown = _run(workdir, "trail", "patient:1", "--show-data")
    assert "Doe" in shown.output


@pytest.mark.parametrize(
    "args",
    [["status"], ["events", "list"], ["events", "verify"], ["replay"], ["trail", "patient:1"]],
    ids=["status", "list", "verify", "replay", "trail"],
)
def test_missing_store_is_one_clear_line(tmp_path: Path, args: list[str]) -> None:
    from cli import main

    with pytest.raises(SystemExit) as exited:
        main(["--workdir", str(tmp_path / "nowhere"), *args])
    assert exited.value.code == 1


def test_missing_store_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from cli import main

    with pytest.raises(SystemExit):
        main(["--workdir", str(tmp_path), "status"])
    err = capsys.readouterr().err
    assert err.startswith("Error: no Ferry store at") and "Traceback" not in err


def test_version() -> None:
    result = CliRunner().invoke(ferry, ["--version"])
    assert result.exit_code == 0 and result.output.startswith("ferry, version ")


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = []
    for name, command in group.commands.items():
        found.append((f"{prefix}{name}", command))
        if isinstance(command, click.Group):
            found.extend(_commands(command, f"{prefix}{name} "))
    return found


@pytest.mark.parametrize(
    ("name", "command"), _commands(ferry), ids=lambda v: v if isinstance(v, str) else ""
)
def test_every_command_and_option_is_documented(name: str, command: click.Command) -> None:
    assert (command.help or "").strip(), f"`ferry {name}` has no help text"
    for param in command.params:
        if isinstance(param, click.Option):
            assert (param.help or "").strip(), f"`ferry {name}` option {param.opts} has no help"


def test_trail_takes_a_bare_key_when_one_record_has_it(workdir: Path) -> None:
    bare = _run(workdir, "trail", "3")
    assert bare.exit_code == 0, bare.output
    assert bare.output == _run(workdir, "trail", "patient:3").output
    assert "RecordSkipped" in bare.output


def test_trail_help_names_the_id_forms() -> None:
    result = CliRunner().invoke(ferry, ["trail", "--help"])
    assert "patient:10038" in result.output and "the source key alone" in result.output


@pytest.mark.parametrize(
    ("key", "says"),
    [("9", None), ("77", "no events for '77'; give <entity>:<source key>"),
     ("patient:77", "`ferry events list` shows the streams")],
    ids=["ambiguous", "unknown-key", "unknown-stream"],
)  # fmt: skip
def test_trail_explains_a_key_it_cannot_use(workdir: Path, key: str, says: str | None) -> None:
    if says is None:  # the key of two records: both are named, none is guessed
        store = EventStore.open(workdir / "ferry.db", transition=Lifecycle().next_state)
        store.append([NewEvent("patient:9", record_event("RecordExtracted", "9"))], run_id="r3")
        store.close()
        says = "'9' is the key of 2 records (appointment:9, patient:9); give one of them"
    result = CliRunner().invoke(ferry, ["--workdir", str(workdir), "trail", key])
    assert result.exit_code == 1
    assert says in result.output and "Traceback" not in result.output
