"""Compiled column steps and their caches: a warm cache answers exactly as a cold one."""

from __future__ import annotations

import msgspec
import pytest

from adapters.dental_exec import DentalExecExport
from core.mapping import Rejected, TransformContext, transform
from core.mapping.spec import schema_spec_from_mapping
from core.mapping.steps import cached_date, first_column
from core.mapping.validation import SpecChecks, validate
from core.values import ValueParseError
from tests.mapping.conftest import context_for

Pair = tuple[DentalExecExport, TransformContext]


@pytest.mark.parametrize("bundle", ["small_cp1252", "small_utf8"], ids=["cp1252", "utf8"])
def test_every_row_transforms_the_same_twice(bundle: str) -> None:
    source, ctx = context_for(bundle)
    spec = SpecChecks(schema_spec_from_mapping(ctx.mapping))
    encoder = msgspec.json.Encoder()
    for entity in source.entities():
        for row in source.rows(entity):
            first = encoder.encode(validate(transform(row, ctx), spec))
            again = encoder.encode(validate(transform(row, ctx), spec))
            assert first == again, row.key


@pytest.mark.parametrize("text", ["13/45/2020", "not a date", "02/30/2021"], ids=str)
def test_cached_date_raises_every_time(text: str) -> None:
    for _ in range(3):
        with pytest.raises(ValueParseError):
            cached_date(text)


def test_a_bad_value_rejects_every_row_that_holds_it(utf8_context: Pair) -> None:
    source, ctx = utf8_context
    row = next(iter(source.rows("patient")))
    broken = msgspec.structs.replace(row, values={**row.values, "birth_date": "13/45/1990"})
    for _ in range(2):
        outcome = transform(broken, ctx)
        assert isinstance(outcome, Rejected)
        assert [reason.code for reason in outcome.reasons] == ["BAD_DATE"]


def test_first_column_follows_the_mapping_it_is_given() -> None:
    _, ctx = context_for("small_utf8")
    column = first_column(ctx, "patient", "email_unique")
    assert column is not None and column.transform == "email_unique"
    other = msgspec.structs.replace(ctx.mapping, files={})
    ctx_without = TransformContext(mapping=other, settings=ctx.settings)
    assert first_column(ctx_without, "patient", "email_unique") is None
