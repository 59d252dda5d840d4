"""The local stages without Twenty: change detection by content hash, duplicate keys."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

from adapters.dental_exec import open_export
from core.lifecycle import Lifecycle
from core.mapping import TransformSettings, prepare_context
from core.mapping.proposer import propose_mapping
from core.mapping.spec import schema_spec_from_mapping
from core.pipeline.local import LocalStage
from events.store import EventStore
from tests.run.conftest import FIXTURES


def _stage(export: Path, store: EventStore) -> tuple[LocalStage, object]:
    source = open_export(export)
    mapping = propose_mapping(source).mapping
    context = prepare_context(source, mapping, TransformSettings(namespace=uuid.UUID(int=1)))
    stage = LocalStage(
        store, context, schema_spec_from_mapping(mapping), run_id="r", mapping_hash="m"
    )
    return stage, source


def _with_duplicate_patient(tmp_path: Path) -> Path:
    export = tmp_path / "export"
    shutil.copytree(FIXTURES / "small_utf8", export)
    patients = export / "patients.csv"
    lines = patients.read_bytes().split(b"\r\n")
    first = lines[1]
    # The same Patient ID again, on the last line, with another chart number.
    duplicate = first.replace(b"SMILA0040", b"DUPLICATE1", 1)
    body = [line for line in lines if line]
    patients.write_bytes(b"\r\n".join([*body, duplicate]) + b"\r\n")
    return export


def test_a_repeated_key_is_rejected_on_its_own_stream_and_never_overwrites(tmp_path: Path) -> None:
    export = _with_duplicate_patient(tmp_path)
    store = EventStore.open(tmp_path / "ferry.db", transition=Lifecycle().next_state)
    stage, source = _stage(export, store)
    summary = stage.run(source.rows("patient"))  # type: ignore[attr-defined]
    assert summary.rejected == 1
    conn = store.connection
    rejected = conn.execute(
        "SELECT stream_id, last_error_code FROM record_state WHERE state = 'rejected'"
    ).fetchall()
    assert len(rejected) == 1
    assert rejected[0][0].startswith("patient:@patients.csv:") and rejected[0][1] == "DUPLICATE_KEY"
    first = conn.execute(
        "SELECT state FROM record_state WHERE stream_id = 'patient:10480'"
    ).fetchone()
    assert first == ("validated",)
    # A second pass changes nothing: the first row still owns the key.
    again = stage.run(source.rows("patient"))  # type: ignore[attr-defined]
    assert again.extracted == 0 and again.unchanged == again.read
    store.close()


def test_only_changed_rows_are_extracted_again(tmp_path: Path) -> None:
    export = tmp_path / "export"
    shutil.copytree(FIXTURES / "small_utf8", export)
    store = EventStore.open(tmp_path / "ferry.db", transition=Lifecycle().next_state)
    stage, source = _stage(export, store)
    first = stage.run(source.rows("patient"))  # type: ignore[attr-defined]
    assert first.extracted == first.read > 0
    patients = export / "patients.csv"
    patients.write_bytes(patients.read_bytes().replace(b"SMILA0040", b"SMILA0099", 1))
    stage, source = _stage(export, store)
    second = stage.run(source.rows("patient"))  # type: ignore[attr-defined]
    assert (second.extracted, second.unchanged) == (1, second.read - 1)
    store.close()
