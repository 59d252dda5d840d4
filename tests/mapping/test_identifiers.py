"""Destination ids are UUIDv5 of the namespace and `<entity>:<key>`, byte for byte."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.identity import IdSpace, destination_id

_NAMESPACES = st.one_of(st.uuids(), st.uuids().map(str))
_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40)


@given(namespace=_NAMESPACES, entity=_TEXT, key=_TEXT)
def test_destination_id_equals_uuid5(namespace: uuid.UUID | str, entity: str, key: str) -> None:
    space = namespace if isinstance(namespace, uuid.UUID) else uuid.UUID(namespace)
    expected = str(uuid.uuid5(space, f"{entity}:{key}"))
    assert IdSpace(namespace).destination_id(entity, key) == expected
    assert destination_id(namespace, entity, key) == expected


@pytest.mark.parametrize(
    ("entity", "key"), [("", "1"), ("patient", "")], ids=["no-entity", "no-key"]
)
def test_destination_id_refuses_empty_parts(entity: str, key: str) -> None:
    with pytest.raises(ValueError, match="non-empty"):
        IdSpace(uuid.uuid4()).destination_id(entity, key)


def test_destination_id_refuses_a_namespace_that_is_no_uuid() -> None:
    with pytest.raises(ValueError):
        destination_id("not-a-uuid", "patient", "1")
