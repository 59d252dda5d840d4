"""`ferry source audit` and `ferry fixtures generate` through click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from cli import ferry

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "dental_exec"
PATIENT_VALUES = ("Smith", "Laura", "laura.smith", "02/11/1984", "555-0142", "Muñoz")


def test_audit_terminal_output_shows_keys_not_values(tmp_path: Path) -> None:
    report = tmp_path / "report.md"
    result = CliRunner().invoke(
        ferry, ["source", "audit", str(FIXTURES / "small_cp1252"), "--out", str(report)]
    )
    assert result.exit_code == 0, result.output
    assert "duplicate_patient: patients.csv:11 key=10488" in result.output
    assert "Payments_20250303_101455.csv" in result.output
    for value in PATIENT_VALUES:
        assert value not in result.output
        assert value not in report.read_text(encoding="utf-8")
    assert "- attachments.csv line 5, record 44123: " in report.read_text()


def test_audit_json_shape() -> None:
    result = CliRunner().invoke(ferry, ["source", "audit", str(FIXTURES / "small_utf8"), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["files"]["patients.csv"]["rows"] == 18
    assert data["files"]["patients.csv"]["encoding"] == "utf-8-sig"
    assert set(data["findings"][0]) == {"code", "file", "line", "key", "message"}
    assert data["counts"]["invalid_npi"] == 3


def test_audit_of_a_missing_export_is_one_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(ferry, ["source", "audit", str(tmp_path / "nope")])
    assert result.exit_code != 0
    assert "export not found" in str(result.exception)
    assert "Traceback" not in result.output


def test_fixtures_generate_full_then_delta(tmp_path: Path) -> None:
    out, delta = tmp_path / "full", tmp_path / "delta"
    runner = CliRunner()
    args = ["fixtures", "generate", "--out", str(out), "--patients", "200", "--seed", "7"]
    result = runner.invoke(ferry, [*args, "--locations", "3", "--encoding", "utf-8"])
    assert result.exit_code == 0, result.output
    assert "Export written to" in result.output
    manifest = json.loads((out / "_generator_manifest.json").read_text())
    assert manifest["files"]["practices.csv"] == 3 and manifest["encoding"] == "utf-8"
    result = runner.invoke(
        ferry,
        ["fixtures", "generate", "--out", str(delta), "--delta-from", str(out), "--seed", "8",
         "--change-rate", "0.1", "--new-rate", "0.05", "--delete-rate", "0.02"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Delta written to" in result.output and "changed " in result.output
    assert json.loads((delta / "_generator_manifest.json").read_text())["kind"] == "delta"
