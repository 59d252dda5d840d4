"""`ferry sample` end to end on the small bundle through the sandbox: select, run, diff, approve."""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
from pathlib import Path

from adapters.dental_exec import open_export
from adapters.dental_exec.generator import GeneratorOptions, generate_export
from adapters.twenty_sandbox import SandboxHandle
from tests.pipeline.migrated import invoke_ferry

FAST = ("--rate-limit", "1000/1s")  # the sandbox has no limit; do not wait for Cloud's
SMALL = Path(__file__).resolve().parents[2] / "fixtures" / "dental_exec" / "small_cp1252"


def test_sample_then_approve_then_plan_and_verify(
    twenty_sandbox: SandboxHandle, tmp_path: Path
) -> None:
    work, key = tmp_path / "work", twenty_sandbox.api_key
    steps = [
        ("init", "--source", str(SMALL), "--twenty-url", twenty_sandbox.base_url),
        ("map", "propose", str(SMALL)),
        ("map", "confirm", "--user", "op"),
        ("schema", "apply", "--no-probe", *FAST),
    ]
    for step in steps:
        code, out = invoke_ferry(work, *step, key=key)
        assert code == 0, (step, out)

    code, out = invoke_ferry(work, "sample", "--size", "3", *FAST, key=key)
    assert code == 0, out
    assert "sample: 114 records (17 patients, 14 objects), 166 strata covered" in out
    assert "diff: 114 records, 0 field(s) not read back as sent" in out
    # the sample takes rejected rows on purpose: their share does not fail it
    assert re.search(r"run \S+: completed", out) and "max_rejected_share" not in out
    reports = work / "reports"
    rows = list(csv.DictReader(io.StringIO((reports / "sample-diff.csv").read_text())))
    email = next(r for r in rows if r["stream_id"] == "patient:10481" and "Email" in r["field"])
    assert email["agrees"] == "yes" and email["sent"] != ""
    assert all(r["agrees"] in ("yes", "") for r in rows)
    # a value derived from custom_fields.csv names its source row, line and transform
    hipaa = [r for r in rows if r["field"] == "hipaaAcknowledged"]
    assert hipaa and all(
        re.fullmatch(r"custom_fields\.csv line \d+: HIPAA_NPP_ACK=(Yes|No)", r["source"])
        and r["transform"] == "custom field"
        and r["transformed"] == "yes"
        for r in hipaa
    ), hipaa
    # the records are grouped per patient, the patient's own record first
    blocks = [k for k, _ in itertools.groupby(r["patient"] for r in rows if r["patient"])]
    assert len(blocks) == len(set(blocks)) == 17
    firsts = {}
    for r in rows:
        firsts.setdefault(r["patient"], r["stream_id"])
    assert all(firsts[p] == p for p in blocks)
    assert all(r["patient"] for r in rows if r["stream_id"].startswith("appointment:"))
    birth = next(r for r in rows if r["field"] == "birthDate" and r["source"])
    assert birth["transform"] == "date" and birth["transformed"] == "yes"
    assert (reports / "sample-diff-shareable.csv").exists()
    skipped = {r["stream_id"] for r in rows if r["note"].startswith("not sent: skipped")}
    assert "patient:10494" in skipped  # status Deleted: skipped on record, shown in the diff

    code, out = invoke_ferry(work, "plan", "--json", *FAST, key=key)
    blockers = {f["code"] for f in json.loads(out)["findings"] if f["severity"] == "blocker"}
    assert "SAMPLE_NOT_APPROVED" in blockers and "SCHEMA_MISSING" not in blockers

    code, out = invoke_ferry(work, "sample", "approve", "--user", "op", key=key)
    assert code == 0 and "approved by op" in out
    code, out = invoke_ferry(work, "plan", "--json", *FAST, key=key)
    findings = {f["code"] for f in json.loads(out)["findings"]}
    assert "SAMPLE_NOT_APPROVED" not in findings

    code, out = invoke_ferry(work, "verify", "--json", *FAST, key=key)
    data = json.loads(out)
    assert data["failed"] == 0 and data["checked"] > 100
    # only the sample ran: the rest of the export is honestly not accounted for yet
    assert code == 1 and data["reconciliation"]["adds_up"] is False
    patient = next(e for e in data["reconciliation"]["entities"] if e["entity"] == "patient")
    assert (patient["source_rows"], patient["records"], patient["not_read"]) == (18, 17, 1)


def test_a_generated_export_gets_a_readable_sample_and_a_shareable_copy_without_patients(
    twenty_sandbox: SandboxHandle, tmp_path: Path
) -> None:
    export, work, key = tmp_path / "export", tmp_path / "work", twenty_sandbox.api_key
    generate_export(GeneratorOptions(out=export, patients=400, seed=5))
    steps = [
        ("init", "--source", str(export), "--twenty-url", twenty_sandbox.base_url),
        ("map", "propose", str(export)),
        ("map", "confirm", "--user", "op"),
        ("schema", "apply", "--no-probe", *FAST),
    ]
    for step in steps:
        code, out = invoke_ferry(work, *step, key=key)
        assert code == 0, (step, out)
    toml = work / "ferry.toml"  # the size is a setting: 250 records instead of 400
    toml.write_text(toml.read_text().replace("sample_size = 400", "sample_size = 250"))
    code, out = invoke_ferry(work, "sample", *FAST, key=key)
    assert code == 0, out
    found = re.search(r"sample: (\d+) records \(\d+ patients, 14 objects\)", out)
    assert found and 200 <= int(found[1]) <= 275, out
    # rows rejected on purpose (every row error is a stratum) do not fail the sample
    assert re.search(r"run \S+: completed", out) and "max_rejected_share" not in out

    reports = work / "reports"
    full = (reports / "sample-diff.csv").read_text(encoding="utf-8")
    shared = (reports / "sample-diff-shareable.csv").read_text(encoding="utf-8")
    shared += (reports / "sample-diff-shareable.html").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(full)))
    sampled = {
        r["stream_id"].partition(":")[2] for r in rows if r["stream_id"].startswith("patient:")
    }
    values = set()
    for row in open_export(export).rows("patient"):
        if row.key in sampled:
            for column in ("last_name", "email", "cell_phone", "home_phone", "address_1", "ssn"):
                if len(text := (row.values.get(column) or "").strip()) >= 5:
                    values.add(text)
            if row.values.get("birth_date"):
                values.add(row.values["birth_date"] or "")
    assert len(values) > 100
    leaked = sorted(v for v in values if v in shared)
    assert leaked == [], f"{len(leaked)} patient value(s) in the shareable copy"
    assert "patient:" not in shared and "patient #1" in shared
    assert sum(1 for v in values if v in full) > 50  # the operator's copy does hold them
    approve = invoke_ferry(work, "sample", "approve", "--user", "op", key=key)
    assert approve[0] == 0 and "approved by op" in approve[1]
