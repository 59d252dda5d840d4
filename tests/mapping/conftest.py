"""Fixtures of the mapping tests: the small bundles, their proposed mapping and contexts."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.dental_exec import DentalExecExport, open_export
from core.mapping import Mapping, TransformContext, TransformSettings, prepare_context
from core.mapping.proposer import propose_mapping

ROOT = Path(__file__).resolve().parents[2]
BUNDLES = ROOT / "fixtures" / "dental_exec"
NAMESPACE = "6ba7b810-9dad-11d1-80b4-00c04fd430c8"  # fixed: golden ids stay stable

_MEMBERS = {
    "DDS1": "11111111-1111-4111-8111-111111111111",
    "DDS2": "22222222-2222-4222-8222-222222222222",
}
_PLACEHOLDER = "99999999-9999-4999-8999-999999999999"


def owner_for(code: str | None) -> tuple[str | None, bool]:
    """A member resolver like MemberReport.owner_for: two matched dentists, the rest default."""
    if code in _MEMBERS:
        return _MEMBERS[code], False
    return _PLACEHOLDER, True


def export(bundle: str) -> DentalExecExport:
    """One of the fixture bundles, opened."""
    return open_export(BUNDLES / bundle)


def context_for(
    bundle: str, mapping: Mapping | None = None, **options: object
) -> tuple[DentalExecExport, TransformContext]:
    """The bundle and its TransformContext (the proposed mapping unless one is given)."""
    source = export(bundle)
    mapping = mapping or propose_mapping(source).mapping
    settings = TransformSettings(namespace=NAMESPACE, owner_for=owner_for, **options)  # type: ignore[arg-type]
    return source, prepare_context(source, mapping, settings)


@pytest.fixture(scope="session")
def utf8_context() -> tuple[DentalExecExport, TransformContext]:
    """small_utf8 with its proposed mapping (shared: transforms do not change the context)."""
    return context_for("small_utf8")
