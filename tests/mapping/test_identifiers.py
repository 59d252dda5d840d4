"""The transform's destination ids are core.identity's, byte for byte."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.identity import destination_id
from core.mapping.identifiers import fast_destination_id

_NAMESPACES = st.one_of(st.uuids(), st.uuids().map(str))
_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40)


@given(namespace=_NAMESPACES, entity=_TEXT, key=_TEXT)
def test_fast_destination_id_equals_uuid5(
    namespace: uuid.UUID | str, entity: str, key: str
) -> None:
    assert fast_destination_id(namespace, entity, key) == destination_id(namespace, entity, key)


@pytest.mark.parametrize(
    ("entity", "key"), [("", "1"), ("patient", "")], ids=["no-entity", "no-key"]
)
def test_fast_destination_id_refuses_empty_parts(entity: str, key: str) -> None:
    with pytest.raises(ValueError, match="non-empty"):
        fast_destination_id(uuid.uuid4(), entity, key)


def test_fast_destination_id_refuses_a_namespace_that_is_no_uuid() -> None:
    with pytest.raises(ValueError):
        fast_destination_id("not-a-uuid", "patient", "1")
