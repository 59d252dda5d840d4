"""`ferry init`, ferry.toml and the work directory."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import ferry
from core.config import WorkspaceConfig, load_config, override, render_config, write_config
from core.errors import ConfigError
from core.workspace import init_workspace, open_workspace

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "dental_exec" / "small_cp1252"


def test_init_creates_private_files_and_one_namespace(tmp_path: Path) -> None:
    workdir = tmp_path / "wd"
    result = CliRunner().invoke(
        ferry,
        [
            "--workdir",
            str(workdir),
            "init",
            "--source",
            str(FIXTURE),
            "--twenty-url",
            "http://127.0.0.1:9",
            "--api-key-env",
            "MY_KEY",
        ],
    )
    assert result.exit_code == 0, result.output
    for path in (workdir, workdir / "reports", workdir / "ferry.toml", workdir / "ferry.db"):
        assert stat.S_IMODE(os.stat(path).st_mode) & 0o077 == 0, path
    config = load_config(workdir)
    assert (config.twenty.url, config.twenty.api_key_env) == ("http://127.0.0.1:9", "MY_KEY")
    first = open_workspace(workdir)
    namespace = first.namespace
    first.close()
    # Running init again keeps the namespace: ids already derived stay valid.
    again = CliRunner().invoke(ferry, ["--workdir", str(workdir), "init", "--source", str(FIXTURE)])
    assert again.exit_code == 0
    second = open_workspace(workdir)
    assert second.namespace == namespace
    assert second.store.stream_version("migration") == 1
    second.close()


def test_config_round_trips_through_toml(tmp_path: Path) -> None:
    config = override(
        WorkspaceConfig(source='C:\\exports\\"odd" name'),
        **{"twenty.batch_size": 200, "run.on_conflict": "skip"},
    )
    write_config(tmp_path, config)
    assert load_config(tmp_path) == config
    assert "api_key =" not in render_config(config)


def test_api_key_comes_from_the_named_variable_only(monkeypatch: pytest.MonkeyPatch) -> None:
    config = WorkspaceConfig(source="x")
    monkeypatch.delenv("TWENTY_API_KEY", raising=False)
    with pytest.raises(ConfigError, match=r"\$TWENTY_API_KEY"):
        config.api_key()
    monkeypatch.setenv("TWENTY_API_KEY", "k-123")
    assert config.api_key() == "k-123"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("source = 1\n[twenty]\nurl = 3\n", "Expected `str`"),
        ("source = \n", "Invalid"),
        ('source = "x"\n[twenty]\nbogus = 1\n', "unknown field"),
    ],
    ids=["wrong-type", "not-toml", "unknown-key"],
)
def test_bad_config_is_a_clear_error(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "ferry.toml").write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config(tmp_path)


def test_missing_workspace_says_to_init(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="ferry init"):
        open_workspace(tmp_path)


def test_init_refuses_a_missing_export(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        init_workspace(tmp_path, WorkspaceConfig(source=str(tmp_path / "nope")), ferry_version="t")
