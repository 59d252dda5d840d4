"""The mapping file and the confirmation gate: hash, round trip, diff, refusals."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from adapters.dental_exec import open_export
from core.lifecycle import Lifecycle
from core.mapping import MappingError, dump_mapping, load_mapping, parse_mapping, write_mapping
from core.mapping.gate import (
    MappingNotConfirmedError,
    UnknownColumnError,
    check_gate,
    check_mapping,
    confirm_mapping,
    confirmed_hash,
    diff_mappings,
    load_confirmed,
)
from core.mapping.proposer import propose_mapping
from events.store import EventStore
from tests.mapping.conftest import BUNDLES, export


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    write_mapping(propose_mapping(export("small_utf8")).mapping, tmp_path / "mapping.toml")
    return tmp_path


@pytest.fixture
def store(workdir: Path) -> EventStore:
    opened = EventStore.open(workdir / "ferry.db", transition=Lifecycle().next_state)
    yield opened
    opened.close()


def test_dump_is_stable_and_round_trips() -> None:
    mapping = propose_mapping(export("small_utf8")).mapping
    text = dump_mapping(mapping)
    assert dump_mapping(parse_mapping(text)) == text
    assert dump_mapping(propose_mapping(export("small_utf8")).mapping) == text


def test_every_column_mapped_or_ignored_with_reason(workdir: Path) -> None:
    mapping = load_mapping(workdir / "mapping.toml")
    assert check_mapping(mapping) == []
    for file in mapping.files.values():
        for column in file.columns:
            assert column.target or (column.is_ignored and column.reason) or column.transform in {
                "context", "folded", "member_code", "member_email", "location",
            }  # fmt: skip


def test_confirm_records_hash_and_user(workdir: Path, store: EventStore) -> None:
    event = confirm_mapping(workdir / "mapping.toml", store, "alice")
    assert event.user == "alice"
    assert confirmed_hash(store) == event.mapping_hash
    assert len(event.mapping_hash) == 64
    assert check_gate(workdir / "mapping.toml", store).files


def test_gate_refuses_before_confirmation(workdir: Path, store: EventStore) -> None:
    with pytest.raises(MappingNotConfirmedError, match="not confirmed"):
        check_gate(workdir / "mapping.toml", store)


def test_gate_refuses_a_changed_mapping_and_diff_shows_it(workdir: Path, store: EventStore) -> None:
    path = workdir / "mapping.toml"
    confirm_mapping(path, store, "alice")
    path.write_text(path.read_text().replace('"M" = "MALE"', '"M" = "OTHER"'))
    with pytest.raises(MappingNotConfirmedError, match="ferry map diff"):
        check_gate(path, store)
    changes = diff_mappings(load_confirmed(path), load_mapping(path))
    assert [(c.where, c.before, c.after) for c in changes] == [
        ("value_maps.gender.values[M]", "MALE", "OTHER")
    ]


def test_gate_names_an_unknown_column(workdir: Path, store: EventStore, tmp_path: Path) -> None:
    confirm_mapping(workdir / "mapping.toml", store, "alice")
    bundle = tmp_path / "bundle"
    shutil.copytree(BUNDLES / "small_utf8", bundle)
    patients = bundle / "patients.csv"
    lines = patients.read_text(encoding="utf-8-sig").splitlines()
    lines[0] += ",Favourite Colour"
    lines[1:] = [line + "," for line in lines[1:]]
    patients.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(UnknownColumnError, match=r"'Favourite Colour' of patients\.csv"):
        check_gate(workdir / "mapping.toml", store, open_export(bundle))


def test_gate_accepts_the_export_it_was_proposed_for(workdir: Path, store: EventStore) -> None:
    confirm_mapping(workdir / "mapping.toml", store, "alice")
    assert check_gate(workdir / "mapping.toml", store, export("small_utf8"))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (('transform = "zip"', 'transform = "zipp"'), "unknown transform"),
        (('value_map = "gender"', 'value_map = "genders"'), "value map 'genders' is missing"),
    ],
    ids=["unknown-transform", "missing-value-map"],
)
def test_confirm_refuses_an_unusable_mapping(
    workdir: Path, store: EventStore, edit: tuple[str, str], message: str
) -> None:
    path = workdir / "mapping.toml"
    path.write_text(path.read_text().replace(*edit, 1))
    with pytest.raises(MappingError, match=message):
        confirm_mapping(path, store, "alice")


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "mapping.toml"
    path.write_text("version = [\n")
    with pytest.raises(MappingError, match=r"mapping\.toml: not valid TOML"):
        load_mapping(path)
