"""`ferry map propose|confirm|diff` through click's CliRunner."""

from __future__ import annotations

from pathlib import Path

import click
from click.testing import CliRunner

from cli import ferry
from core.lifecycle import Lifecycle
from events.store import EventStore
from tests.mapping.conftest import BUNDLES


def _run(workdir: Path, *args: str) -> click.testing.Result:
    return CliRunner().invoke(ferry, ["--workdir", str(workdir), *args], catch_exceptions=False)


def test_propose_confirm_diff(tmp_path: Path) -> None:
    proposed = _run(tmp_path, "map", "propose", str(BUNDLES / "small_utf8"))
    assert proposed.exit_code == 0, proposed.output
    assert (tmp_path / "mapping.toml").exists()
    assert f"to edit:\n  {tmp_path / 'mapping.toml'}\n" in proposed.output
    confirmed = _run(tmp_path, "map", "confirm", "--user", "alice")
    assert confirmed.exit_code == 0, confirmed.output
    assert "confirmed by alice" in confirmed.output
    with EventStore.open(tmp_path / "ferry.db", transition=Lifecycle().next_state) as store:
        (event,) = list(store.read("type = 'MappingConfirmed'"))
    assert event.event.user == "alice"
    assert "0 change(s)" in _run(tmp_path, "map", "diff").output
    path = tmp_path / "mapping.toml"
    path.write_text(path.read_text().replace('"Active" = "ACTIVE"', '"Active" = "INACTIVE"', 1))
    assert "1 change(s)" in _run(tmp_path, "map", "diff").output


def test_propose_lists_lowest_confidence_first(tmp_path: Path) -> None:
    out = tmp_path / "elsewhere.toml"
    result = _run(tmp_path, "map", "propose", str(BUNDLES / "small_cp1252"), "--out", str(out))
    assert result.exit_code == 0
    assert out.exists()
    confidences = [
        float(line.split()[0]) for line in result.output.splitlines() if line.startswith("  0.")
    ]
    assert confidences and confidences == sorted(confidences)


def test_confirm_without_mapping_is_a_clean_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(ferry, ["--workdir", str(tmp_path), "map", "confirm"])
    assert result.exit_code != 0
    assert "ferry map propose" in str(result.exception or result.output)


def test_every_map_option_has_help() -> None:
    group = ferry.commands["map"]
    assert isinstance(group, click.Group)
    for command in group.commands.values():
        for param in command.params:
            if isinstance(param, click.Option):
                assert param.help, f"{command.name} {param.name} has no help"
