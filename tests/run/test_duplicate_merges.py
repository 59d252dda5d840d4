"""The practice's duplicate decisions, end to end on a generated export.

The audit lists the generator's planted duplicates; the practice fills in the list (one pair
merged into the patient it looks like, one pair merged the other way round, so that the
merged patient is the one holding the plans and appointments, one pair kept separate) and
saves it from a spreadsheet with semicolons. After `ferry source decide duplicates` and a run,
Twenty holds one person per merged pair, every record of a merged patient links to the kept
person and nothing links to a merged one; verify reconciles. A decision the run acted on is
refused until a rollback, after which the next run migrates the patient on its own.
"""

from __future__ import annotations

import csv
import json
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from adapters.dental_exec import open_export
from adapters.dental_exec.generator import MANIFEST, GeneratorOptions, generate_export
from adapters.twenty_sandbox import SandboxHandle
from cli import ferry, main
from core.config import load_config
from core.identity import destination_id
from tests.run.conftest import KEY_ENV, dump, invoke


def _fill(listed: Path, decisions: dict[str, tuple[str, str]]) -> None:
    """The list as a spreadsheet saves it back: BOM, semicolons, CRLF; some rows decided."""
    written = listed.with_suffix(".as-written")
    if not written.exists():
        written.write_bytes(listed.read_bytes())
    with written.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    header = list(rows[0])
    lines = [";".join(header)]
    for row in rows:
        decision, keep = decisions.get(row["patient_id"], ("", ""))
        row.update(decision=decision, keep_patient_id=keep)
        lines.append(";".join(row[c] for c in header))
    listed.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode("utf-8"))


def _rows_of(export: Path, entity: str, patient: str) -> list[str]:
    """Keys of the live rows of `entity` pointing at `patient` (ids may be zero-padded)."""
    return [
        row.key
        for row in open_export(export).rows(entity)
        if (row.values.get("patient_id") or "").lstrip("0") == patient
        and not row.is_deleted
        and row.key
    ]


def _plans_of(export: Path, patient: str) -> list[str]:
    return _rows_of(export, "treatment_plan", patient)


def _appointments_of(export: Path, patient: str) -> list[str]:
    return _rows_of(export, "appointment", patient)


def _skips(workdir: Path) -> dict[str, str]:
    with sqlite3.connect(workdir / "ferry.db") as conn:
        rows = conn.execute(
            "SELECT stream_id, json_extract(data, '$.code') FROM events "
            "WHERE type = 'RecordSkipped' AND stream_id LIKE 'patient:%'"
        ).fetchall()
    return {stream: code for stream, code in rows}


def test_merged_patients_arrive_as_one_person_and_a_rollback_lets_the_decision_change(
    start_sandbox: Callable[..., SandboxHandle],
    key_env: Callable[[str], None],
    tmp_path: Path,
) -> None:
    sandbox = start_sandbox()
    key_env(sandbox.api_key)
    export, work = tmp_path / "export", tmp_path / "work"
    generate_export(GeneratorOptions(out=export, patients=300, seed=11))
    planted = json.loads((export / MANIFEST).read_text())["planted"]["duplicate_patients"]
    pairs = [(p["key"], p["original"]) for p in planted]
    # The merged patient of the first pair holds plans and appointments to re-link.
    rich = [p for p in pairs if _plans_of(export, p[1]) and _appointments_of(export, p[1])]
    (a, a_orig), (b, b_orig), (c, c_orig) = [rich[0], *[p for p in pairs if p != rich[0]][:2]]

    invoke(work, "init", "--source", str(export), "--twenty-url", sandbox.base_url,
           "--api-key-env", KEY_ENV)  # fmt: skip
    invoke(work, "config", "set", "twenty.rate_limit", "1000/1s")
    # The generated export orphans a few plans on purpose; the content is what is checked.
    invoke(work, "config", "set", "run.max_rejected_share", "1.0")
    audit = work / "reports" / "source-audit.md"
    invoke(work, "source", "audit", str(export), "--out", str(audit))
    listed = audit.parent / "fixup-duplicates.csv"
    # a_orig (the patient with the plans) is merged into its look-alike a; b into b_orig.
    _fill(listed, {a: ("merge", a), b: ("Merge", ""), c: ("separate", "")})
    output = invoke(work, "source", "decide", "duplicates", str(listed), "--user", "frontdesk")
    assert f"patient {a_orig} merged into patient {a}" in output
    assert f"patient {b} merged into patient {b_orig}" in output
    assert f"patients {c} and {c_orig} stay separate" in output
    assert "2 merge(s), 1 separate; 0 already on record" in output
    assert output.splitlines()[-1].startswith("next: ")
    again = invoke(work, "source", "decide", "duplicates", str(listed))
    assert "0 merge(s), 0 separate; 3 already on record" in again
    # A new audit keeps the decisions on record in its list.
    invoke(work, "source", "audit", str(export), "--out", str(tmp_path / "again" / "a.md"))
    with (tmp_path / "again" / "fixup-duplicates.csv").open(encoding="utf-8") as handle:
        kept = {
            r["patient_id"]: (r["decision"], r["keep_patient_id"]) for r in csv.DictReader(handle)
        }
    assert (kept[a], kept[b], kept[c]) == (("merge", a), ("merge", b_orig), ("separate", ""))
    assert sum(v != ("", "") for v in kept.values()) == 3

    invoke(work, "map", "propose", str(export))
    invoke(work, "map", "confirm", "--user", "tester")
    invoke(work, "schema", "apply", "--no-probe")
    CliRunner().invoke(ferry, ["--workdir", str(work), "run", "--without-sample-approval"])
    namespace = load_config(work).namespace

    def person(key: str) -> str:
        return destination_id(namespace, "patient", key)

    content = dump(sandbox.rest_url, sandbox.api_key)
    people = content["people"]
    assert person(a_orig) not in people and person(b) not in people
    assert {person(a), person(b_orig), person(c), person(c_orig)} <= people.keys()
    for plan in _plans_of(export, a_orig):
        record = content["treatments"][destination_id(namespace, "treatment_plan", plan)]
        assert record["patientId"] == person(a)
    targets = {t["taskId"]: t["targetPersonId"] for t in content["taskTargets"].values()}
    for appointment in _appointments_of(export, a_orig):
        task = destination_id(namespace, "appointment", appointment)
        assert targets.get(task) == person(a), appointment
    merged_ids = {person(a_orig), person(b)}
    linked = {
        value
        for records in content.values()
        for record in records.values()
        for value in record.values()
        if isinstance(value, str)
    }
    assert not linked & merged_ids
    skips = _skips(work)
    assert skips[f"patient:{a_orig}"] == skips[f"patient:{b}"] == "MERGED_DUPLICATE"
    invoke(work, "verify")
    summary = work / "summary.html"
    invoke(work, "report", "summary", "--out", str(summary))
    page = summary.read_text(encoding="utf-8")
    assert "Duplicate patients decided</td><td>frontdesk" in page
    assert "2 pair(s) merged, 1 kept separate" in page

    # The run acted on the merge: changing it now is refused, and nothing is recorded.
    _fill(listed, {a: ("separate", ""), b: ("merge", ""), c: ("separate", "")})
    runner = CliRunner()
    with runner.isolation() as (_, err, _), pytest.raises(SystemExit) as exited:
        main(["--workdir", str(work), "source", "decide", "duplicates", str(listed)])
    message = err.getvalue().decode()
    assert exited.value.code == 1 and len(message.strip().splitlines()) == 1, message
    assert re.search(rf"line \d+: patient {a_orig} was already migrated", message), message
    assert "ferry rollback" in message and "Traceback" not in message
    with sqlite3.connect(work / "ferry.db") as conn:
        decided = conn.execute("SELECT count(*) FROM events WHERE type = 'DuplicateDecided'")
        assert decided.fetchone()[0] == 3

    # After a rollback the decision may change; the next run creates the patient on its own.
    invoke(work, "rollback", "--yes")
    output = invoke(work, "source", "decide", "duplicates", str(listed))
    assert f"patients {a} and {a_orig} stay separate" in output
    CliRunner().invoke(ferry, ["--workdir", str(work), "run", "--without-sample-approval"])
    content = dump(sandbox.rest_url, sandbox.api_key)
    assert {person(a), person(a_orig)} <= content["people"].keys()
    assert person(b) not in content["people"]
    for plan in _plans_of(export, a_orig):
        record = content["treatments"][destination_id(namespace, "treatment_plan", plan)]
        assert record["patientId"] == person(a_orig)
    assert _skips(work)[f"patient:{a_orig}"] == "MERGED_DUPLICATE"  # history is kept
    with sqlite3.connect(work / "ferry.db") as conn:
        state = conn.execute(
            "SELECT state FROM record_state WHERE stream_id = ?", (f"patient:{a_orig}",)
        ).fetchone()[0]
    assert state in {"loaded", "verified"}
