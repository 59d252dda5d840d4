"""Golden files: every record of the small fixture bundles -> its expected outcome.

`fixtures/golden/<bundle>/<entity>.jsonl` holds one line per source row: its key and line,
and the outcome (payload, refs, warnings and children; or the skip or reject reasons), as
validated against the mapping's schema spec, with a fixed namespace. Regenerate only on
purpose: `FERRY_REGENERATE_GOLDEN=1 pytest tests/mapping/test_golden.py`, then review the
diff by hand.
"""

from __future__ import annotations

import json
import os
from typing import Any

import msgspec
import pytest

from core.mapping import Rejected, Skipped, Transformed, transform
from core.mapping.spec import schema_spec_from_mapping
from core.mapping.validation import SpecChecks, validate
from tests.mapping.conftest import ROOT, context_for

GOLDEN = ROOT / "fixtures" / "golden"
BUNDLES = ("small_utf8", "small_cp1252", "delta_cp1252")
REGENERATE = os.environ.get("FERRY_REGENERATE_GOLDEN") == "1"


def _describe(outcome: Any) -> dict[str, Any]:
    kind = {Transformed: "transformed", Skipped: "skipped", Rejected: "rejected"}[type(outcome)]
    return {"outcome": kind, **msgspec.to_builtins(outcome)}


def _lines(bundle: str, entity: str) -> list[str]:
    source, ctx = context_for(bundle)
    spec = SpecChecks(schema_spec_from_mapping(ctx.mapping))
    lines = []
    for row in source.rows(entity):
        outcome = validate(transform(row, ctx), spec)
        if isinstance(outcome, Transformed):
            outcome.children = [validate(child, spec) for child in outcome.children]  # type: ignore[misc]
        record = {"key": row.key, "line": row.line, **_describe(outcome)}
        lines.append(json.dumps(record, ensure_ascii=False, sort_keys=True))
    return lines


def _cases() -> list[tuple[str, str]]:
    from tests.mapping.conftest import export

    return [(bundle, entity) for bundle in BUNDLES for entity in export(bundle).entities()]


@pytest.mark.parametrize(("bundle", "entity"), _cases(), ids=lambda v: v)
def test_golden(bundle: str, entity: str) -> None:
    path = GOLDEN / bundle / f"{entity}.jsonl"
    lines = _lines(bundle, entity)
    if REGENERATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    assert path.exists(), f"no golden file {path}; FERRY_REGENERATE_GOLDEN=1 to create it"
    expected = path.read_text(encoding="utf-8").splitlines()
    for got, want in zip(lines, expected, strict=False):
        assert json.loads(got) == json.loads(want)
    assert len(lines) == len(expected)


def test_every_golden_file_has_a_case() -> None:
    cases = {f"{bundle}/{entity}.jsonl" for bundle, entity in _cases()}
    files = {str(p.relative_to(GOLDEN)) for p in GOLDEN.rglob("*.jsonl")}
    assert files <= cases, files - cases
