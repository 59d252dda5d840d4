"""Standard fields are those a current Twenty has: anything else a map targets is created."""

from __future__ import annotations

from core.mapping.model import ColumnMapping, FileMapping, Mapping
from core.mapping.spec import schema_spec_from_mapping


def _person_fields(target: str) -> dict[str, str]:
    column = ColumnMapping(header="City", column="city", transform="text", target=target)
    mapping = Mapping(
        files={"patients.csv": FileMapping(file="patients.csv", target="person", columns=[column])}
    )
    spec = schema_spec_from_mapping(mapping)
    person = next(o for o in spec.objects if o.name_singular == "person")
    return {field.name: field.type for field in person.fields}


def test_a_map_targeting_person_city_creates_the_field() -> None:
    # A current Twenty's person has no `city` standard field: writing it without creating
    # it would fail every person.
    assert _person_fields("city").get("city") == "TEXT"
    assert "jobTitle" not in _person_fields("jobTitle")  # standard: never created
