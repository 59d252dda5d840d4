"""The files Ferry writes by hand: valid TOML whatever the text, owner-only whatever the umask."""

from __future__ import annotations

import os
import stat
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.config import WorkspaceConfig, load_config, write_config
from core.mapping.model import ColumnMapping, FileMapping, Mapping, load_mapping, write_mapping
from core.toml_text import toml_key, toml_string, toml_value

# Every C0 control character, DEL (U+007F, which TOML forbids raw but JSON does not) and C1.
CONTROL = "".join(chr(c) for c in (*range(0x20), 0x7F, *range(0x80, 0xA0)))
ODD_PATH = f'C:\\exports\\"odd"\x7f name\t{CONTROL}/straße'


def _mapping(source: str) -> Mapping:
    column = ColumnMapping(header=f"Last{CONTROL}", column="last_name", transform="text")
    column.target = "name.lastName"
    file = FileMapping(file=f"patients{CONTROL}.csv", target="person", plural="people")
    file.columns.append(column)
    return Mapping(version=1, source=source, files={"patient": file})


@pytest.fixture
def umask_022() -> Iterator[None]:
    before = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(before)


@given(st.text(st.characters(blacklist_categories=("Cs",))))
def test_any_text_round_trips_as_a_toml_string_key_and_value(text: str) -> None:
    document = f"{toml_key(text or 'k')} = {toml_string(text)}\nv = {toml_value([text, 1, True])}"
    assert tomllib.loads(document) == {text or "k": text, "v": [text, 1, True]}


def test_a_source_path_with_control_characters_round_trips_through_ferry_toml(
    tmp_path: Path,
) -> None:
    config = WorkspaceConfig(source=ODD_PATH)
    path = write_config(tmp_path, config)
    assert tomllib.loads(path.read_text(encoding="utf-8"))["source"] == ODD_PATH
    assert load_config(tmp_path) == config


def test_a_source_path_with_control_characters_round_trips_through_mapping_toml(
    tmp_path: Path,
) -> None:
    mapping = _mapping(ODD_PATH)
    write_mapping(mapping, tmp_path / "mapping.toml")
    assert load_mapping(tmp_path / "mapping.toml") == mapping


@pytest.mark.usefixtures("umask_022")
def test_config_and_mapping_are_owner_only_under_a_permissive_umask(tmp_path: Path) -> None:
    config = write_config(tmp_path / "new", WorkspaceConfig(source="export"))
    mapping = tmp_path / "mapping.toml"
    mapping.write_text("", encoding="utf-8")  # an existing file keeps no wider mode either
    os.chmod(mapping, 0o644)
    write_mapping(_mapping("export"), mapping)
    for path in (config, mapping):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE(config.parent.stat().st_mode) == 0o700
