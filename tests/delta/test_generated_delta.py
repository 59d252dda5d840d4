"""A generated export and its generated delta: the records sent are the records changed and new.

The generator's manifest says which keys changed, are new and were soft-deleted. Records of
entities with a Twenty record of their own must be sent exactly when their row changed or is
new; a changed custom field, referral, procedure line or claim may also update the record it
folds into (its owner), and nothing else may be written.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from adapters.dental_exec import open_export
from adapters.twenty_sandbox import SandboxHandle
from tests.delta.conftest import delta_writes, dump, invoke, manifest, migrated, store_rows

FOLDED = {"custom_field", "provider"}  # no Twenty record of their own (in-referrals: skipped)
TARGETS = ("task_target", "note_target")
OWNER_COLUMN = {"referral": "patient_id", "procedure": "plan_id", "claim": "policy_id"}
OWNER_ENTITY = {"referral": "patient", "procedure": "treatment_plan", "claim": "insurance_policy"}
CUSTOM_OWNER = {"patient": "patient", "plan": "treatment_plan", "policy": "insurance_policy",
                "claim": "claim", "procedure": "procedure", "location": "practice"}  # fmt: skip


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("generated")
    invoke(root, "fixtures", "generate", "--out", str(root / "base"), "--patients", "120",
           "--seed", "5")  # fmt: skip
    invoke(root, "fixtures", "generate", "--delta-from", str(root / "base"),
           "--out", str(root / "delta"), "--seed", "6", "--change-rate", "0.08",
           "--new-rate", "0.03", "--delete-rate", "0.03")  # fmt: skip
    return root / "base", root / "delta"


def _keys(bundle: Path, kind: str) -> set[str]:
    return {f"{e}:{k}" for e, keys in manifest(bundle)[kind].items() for k in keys}


def _owners(bundle: Path, changed: set[str]) -> set[str]:
    """The records the changed or new folded rows fold into."""
    owners = set()
    export = open_export(bundle)
    for entity in ("referral", "procedure", "claim"):
        for row in export.rows(entity):
            if row.stream_id in changed and row.values.get(OWNER_COLUMN[entity]):
                owners.add(f"{OWNER_ENTITY[entity]}:{int(row.values[OWNER_COLUMN[entity]])}")
    for stream in changed:
        if stream.startswith("custom_field:"):
            kind, owner_id = stream.split(":")[1:3]
            owners.add(f"{CUSTOM_OWNER.get(kind.lower(), kind.lower())}:{int(owner_id)}")
    return owners


def test_records_sent_are_the_records_changed_and_new(
    sandbox_key: SandboxHandle, tmp_path: Path, exports: tuple[Path, Path]
) -> None:
    base, delta = exports
    workdir = migrated(tmp_path / "wd", sandbox_key, base)
    states = dict(store_rows(workdir, "SELECT stream_id, state FROM record_state"))
    before = dump(sandbox_key.rest_url, sandbox_key.api_key, volatile=frozenset())
    invoke(workdir, "delta", str(delta))
    writes = delta_writes(workdir)
    changed, new = _keys(delta, "changed"), _keys(delta, "new")
    own = lambda keys: {s for s in keys if s.split(":")[0] not in FOLDED}  # noqa: E731
    in_twenty = {s for s in own(changed) if states.get(s) in ("loaded", "verified")}
    after = dict(store_rows(workdir, "SELECT stream_id, state FROM record_state"))
    new_sent = {s for s in own(new) if after.get(s) not in ("rejected", "skipped")}
    # New rows: created, with their task/note targets; nothing else is created.
    assert new_sent and new_sent <= writes["created"]
    extra_created = writes["created"] - new_sent
    assert all(s.split(":")[0] in TARGETS and s.partition(":")[2] in new_sent
               for s in extra_created)  # fmt: skip
    # Changed rows of records in Twenty: updated, unless the patient they belong to was
    # deleted in the same delta (then they are orphans, removed with it); anything else
    # updated is an owner.
    orphans = {s for s in in_twenty if after[s] == "removed"}
    assert in_twenty - orphans and in_twenty - orphans <= writes["updated"]
    owners = _owners(delta, changed | new | _keys(delta, "soft_deleted"))
    assert writes["updated"] - in_twenty <= owners
    assert writes["soft_deleted"] == set()
    # Twenty changed exactly where a write was recorded.
    after_content = dump(sandbox_key.rest_url, sandbox_key.api_key, volatile=frozenset())
    ids = dict(store_rows(workdir, "SELECT stream_id, destination_id FROM record_state"))
    touched = {rid for plural, records in after_content.items() for rid, record in
               records.items() if before[plural].get(rid) != record}  # fmt: skip
    assert touched == {ids[s] for s in writes["created"] | writes["updated"]}
    # With --apply-deletes the soft-deleted rows of records in Twenty go (with their targets).
    invoke(workdir, "delta", str(delta), "--apply-deletes")
    deleted = {s for s in own(_keys(delta, "soft_deleted")) if states.get(s) == "loaded"}
    # Orphans: records in Twenty re-derived (changed, or owners refreshed) under a patient
    # deleted in this delta; they were marked removed by the first delta.
    deleted |= {s for s, state in after.items() if state == "removed"}
    gone = delta_writes(workdir)["soft_deleted"]
    assert deleted and deleted <= gone
    extra = {s for s in gone - deleted if s.partition(":")[2] not in deleted}
    assert not extra


def _overlapping(delta: Path, out: Path, updated: set[str]) -> tuple[Path, str]:
    """The delta again plus one more change to a patient it updated: the next day's bundle."""
    shutil.copytree(delta, out)
    path = out / "patients.csv"
    with path.open(encoding="cp1252", newline="") as stream:
        rows = list(csv.reader(stream))
    note = rows[0].index("Patient Note")
    row = next(r for r in rows[1:] if f"patient:{int(r[0])}" in updated)
    row[note] = (row[note] + " (next day)").strip()
    with path.open("w", encoding="cp1252", newline="") as stream:
        csv.writer(stream, lineterminator="\r\n").writerows(rows)
    return out, f"patient:{int(row[0])}"


def test_overlapping_deltas_send_only_what_is_new(
    sandbox_key: SandboxHandle, tmp_path: Path, exports: tuple[Path, Path]
) -> None:
    base, delta = exports
    workdir = migrated(tmp_path / "wd", sandbox_key, base)
    invoke(workdir, "delta", str(delta))
    first = delta_writes(workdir)
    overlap, patient = _overlapping(delta, tmp_path / "delta-2", first["updated"])
    out = invoke(workdir, "delta", str(overlap))
    second = delta_writes(workdir)
    assert second["created"] == first["created"]
    assert second["updated"] - first["updated"] <= {patient}
    assert "sent: 0 created, 1 updated, 0 soft-deleted" in out
    out = invoke(workdir, "delta", str(overlap))
    assert "sent: 0 created, 0 updated, 0 soft-deleted" in out
