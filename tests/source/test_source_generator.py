"""The synthetic generator: round trip through the reader, determinism, quirks, deltas."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adapters.dental_exec import open_export
from adapters.dental_exec.delta import DeltaOptions, generate_delta
from adapters.dental_exec.generator import MANIFEST, GeneratorOptions, generate_export
from core.errors import BadInputError
from core.export_format import ENTITIES, FILES, header_key
from core.export_format.dialects import dialect_headers
from core.source_audit import audit_source


def _read_errors(folder: Path) -> tuple[dict[tuple[str, int], set[str]], dict[str, int]]:
    export = open_export(folder)
    errors: dict[tuple[str, int], set[str]] = {}
    counts: dict[str, int] = {}
    for entity in export.entities():
        for row in export.rows(entity):
            counts[row.file] = counts.get(row.file, 0) + 1
            if row.errors:
                errors[(row.file, row.line)] = {e.code for e in row.errors}
    return errors, counts


def _assert_round_trip(folder: Path) -> dict[str, object]:
    manifest = json.loads((folder / MANIFEST).read_text())
    errors, counts = _read_errors(folder)
    injected = {(e["file"], e["line"]): e["code"] for e in manifest["injected_errors"]}
    assert set(errors) == set(injected)  # no row error but the deliberate ones
    for where, code in injected.items():
        assert code in errors[where], where
    assert counts == manifest["files"]
    return manifest


@pytest.fixture(scope="module")
def bundle_10k(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gen") / "export"
    generate_export(GeneratorOptions(out=out, patients=10_000, seed=42))
    return out


@pytest.mark.slow
def test_round_trip_10k_patients_has_only_injected_errors(bundle_10k: Path) -> None:
    manifest = _assert_round_trip(bundle_10k)
    assert len(manifest["injected_errors"]) >= 10  # type: ignore[arg-type]
    files = manifest["files"]
    assert isinstance(files, dict)
    assert files["patients.csv"] == 10_000
    # The medium profile's proportions, per patient row (section 7), loosely.
    assert 1.0 < files["appointments.csv"] / 10_000 < 3.0
    assert 3.5 < files["treatment_plan_procedures.csv"] / 10_000 < 7.0
    assert 0.3 < files["insurance_policies.csv"] / 10_000 < 0.8
    assert 0.4 < files["insurance_claims.csv"] / 10_000 < 1.0
    assert 0.7 < files["payments.csv"] / 10_000 < 1.8
    assert 3.0 < files["attachments.csv"] / 10_000 < 7.0


@pytest.mark.slow
def test_generated_bundle_shows_the_quirks(bundle_10k: Path) -> None:
    report = audit_source(open_export(bundle_10k), per_code_limit=5)
    for code in (
        "duplicate_patient", "family_shared_email", "placeholder_email", "lost_character",
        "provider_without_email", "provider_shared_email", "invalid_npi",
        "oversized_attachment", "status_date_contradiction", "ambiguous_local_time",
        "unknown_custom_field", "column_count", "broken_quoting", "undecodable_bytes",
    ):  # fmt: skip
        assert report.counts.get(code, 0) > 0, code
    files = {f.entity: f for f in report.files}
    assert files["payment"].notes[0].endswith("trailer row (Q17) excluded")
    assert files["patient"].encoding == "cp1252"
    assert files["custom_field"].encoding == "utf-8-sig"
    assert "orphan_reference" not in report.counts


def test_generator_is_deterministic_per_seed(tmp_path: Path) -> None:
    first, second, other = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    for out, seed in ((first, 5), (second, 5), (other, 6)):
        generate_export(GeneratorOptions(out=out, patients=300, seed=seed))
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(p.name for p in second.iterdir())
    assert all((first / n).read_bytes() == (second / n).read_bytes() for n in names)
    assert (first / "patients.csv").read_bytes() != (other / "patients.csv").read_bytes()


def test_utf8_bundle_round_trips(tmp_path: Path) -> None:
    out = tmp_path / "utf8"
    generate_export(GeneratorOptions(out=out, patients=1500, seed=9, encoding="utf-8"))
    _assert_round_trip(out)
    assert {f.encoding for f in open_export(out).inventory()} == {"utf-8-sig"}


def test_generator_refuses_a_non_empty_output(tmp_path: Path) -> None:
    (tmp_path / "x.txt").write_text("keep me")
    with pytest.raises(BadInputError, match="not an empty directory"):
        generate_export(GeneratorOptions(out=tmp_path, patients=10, seed=1))


def test_delta_manifest_lists_exactly_what_changed(tmp_path: Path) -> None:
    base = tmp_path / "base"
    generate_export(GeneratorOptions(out=base, patients=800, seed=3, error_rate=0.0))
    delta = tmp_path / "delta"
    result = generate_delta(DeltaOptions(base=base, out=delta, seed=4, change_rate=0.05))
    manifest = json.loads((delta / MANIFEST).read_text())
    before = {e: {r.key: r for r in open_export(base).rows(e)} for e in ENTITIES}
    after = {e: {r.key: r for r in open_export(delta).rows(e)} for e in ENTITIES}
    for entity in ENTITIES:
        keys = {kind: set(manifest[kind].get(entity, [])) for kind in result.keys}
        present = set(after[entity])
        assert present == keys["changed"] | keys["new"] | keys["soft_deleted"], entity
        assert not keys["hard_deleted"] & present
        assert keys["hard_deleted"] <= set(before[entity])
        assert not keys["new"] & set(before[entity])
        for key in keys["changed"]:
            assert after[entity][key].content_hash != before[entity][key].content_hash
        assert all(after[entity][k].is_deleted for k in keys["soft_deleted"])
    assert sum(len(v) for v in manifest["changed"].values()) > 0
    assert open_export(delta).export_info().is_delta


@pytest.mark.parametrize("dialect", ["dentrix", "eaglesoft", "opendental"])
def test_a_dialect_renames_headers_and_nothing_else(dialect: str, tmp_path: Path) -> None:
    canonical, renamed = tmp_path / "canonical", tmp_path / dialect
    generate_export(GeneratorOptions(out=canonical, patients=200, seed=7))
    generate_export(GeneratorOptions(out=renamed, patients=200, seed=7, dialect=dialect))
    headers = dialect_headers(dialect)
    for spec in FILES:
        name = f"{spec.prefix}.csv"
        _, _, old_rest = (canonical / name).read_bytes().partition(b"\r\n")
        new_head, _, new_rest = (renamed / name).read_bytes().partition(b"\r\n")
        assert new_rest == old_rest, name  # every row byte for byte
        cells = new_head.removeprefix(b"\xef\xbb\xbf").decode("ascii").split(",")
        renamed_cells = [c for c in cells if c in headers.get(spec.entity, {})]
        assert len(renamed_cells) == len(headers.get(spec.entity, {})), name
        keys = [header_key(c) for c in cells if c]
        assert len(keys) == len(set(keys)), f"{name}: two headers read alike"
    assert json.loads((renamed / MANIFEST).read_text())["dialect"] == dialect
    # Read through what the dialect's headers mean, the rows are the canonical export's.
    for entity in ENTITIES:
        want = [(r.key, r.content_hash) for r in open_export(canonical).rows(entity)]
        got = [(r.key, r.content_hash) for r in open_export(renamed, headers).rows(entity)]
        assert got == want, entity


def test_a_delta_of_a_dialect_export_keeps_its_values(tmp_path: Path) -> None:
    base = tmp_path / "base"
    generate_export(GeneratorOptions(out=base, patients=300, seed=3, dialect="opendental"))
    delta = tmp_path / "delta"
    generate_delta(DeltaOptions(base=base, out=delta, seed=4, change_rate=0.1))
    headers = dialect_headers("opendental")
    assert (delta / "patients.csv").read_bytes().startswith(b"PatNum,")
    rows = list(open_export(delta, headers).rows("patient"))
    assert rows and all(r.key is not None and r.values["last_name"] for r in rows)
