"""The fast row path builds exactly the rows of the general path, hash included."""

from __future__ import annotations

import hashlib

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.dental_exec.rows import RowBuilder, map_header
from core.export_format import file_for_entity
from core.ports.source import SourceRow

# Texts that stress the hash shortcut and the checks: JSON escapes, the separators it
# rewrites, its `~` marker, CR/LF, blanks, padded and non-ASCII digits, dates.
TRICKY = [
    "",
    " ",
    "0",
    "007",
    "12",
    "١٢",
    "0١",
    "0²",
    ",",
    ":",
    '"',
    '","',
    '":"',
    "~",
    '~":"',
    ',"~',
    "\\",
    "a\\r",
    "x\r\ny",
    "x\ny",
    "\t",
    "\x00",
    "é",
    "\u2028",
    "03/14/2025",
    "3/14/25",
    "02/30/2025",
    "03/14/2025 09:40:00 AM",
    "Y",
    "N",
    "True",
    "Deleted",
    "Patient",
    "NPI",
]
cells = st.one_of(st.sampled_from(TRICKY), st.text(max_size=6))

HEADERS = {
    "patient": "Patient ID,Last Name,First Name,Status,Home Location ID,Primary Provider,"
    "Guarantor ID,Relationship to Guarantor,Balance,Created,Birth Date,Patient Note,Extra,",
    "appointment": "Appointment ID,Patient ID,Location ID,Duration (min),Status,Created,"
    "Created By,Deleted,Note",
    "custom_field": "Record Type,Record ID,Field Key,Field Label,Field Type,Value",
}


PLAIN = {
    "patient": "0042,Doe,Jane,Active,1,DDS1,42,Self,$0.00,03/14/2025,,Note: a; b,,",
    "appointment": "7,42,1,30,Scheduled,03/14/2025 09:40:00 AM,DDS1,N,Bring x-rays",
    "custom_field": "Patient,42,NPI,NPI,Text,1234567890",
}


def _plain(entity: str, width: int) -> list[str]:
    fields = PLAIN[entity].split(",")[:width]
    return fields + [""] * (width - len(fields))


def _builders(entity: str) -> tuple[RowBuilder, RowBuilder]:
    spec = file_for_entity(entity)
    header = map_header(spec, HEADERS[entity].split(","))
    fast, general = RowBuilder(spec, "x.csv", header), RowBuilder(spec, "x.csv", header)
    general.fast = None
    return fast, general


def _reference_hash(row: SourceRow, builder: RowBuilder) -> str:
    """The content hash as specified: SHA-256 of the JSON pairs of non-empty values."""
    values = dict(row.values)
    for name in builder.int_names:
        text = values[name]
        if text is not None and text[:1] == "0" and text.isdigit():
            values[name] = str(int(text))
    pairs = [[name, values[name]] for name in builder.hash_names if values[name]]
    return hashlib.sha256(msgspec.json.encode(pairs)).hexdigest()


@pytest.mark.parametrize("entity", list(HEADERS), ids=list(HEADERS))
@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_fast_path_builds_the_general_paths_row(entity: str, data: st.DataObject) -> None:
    fast, general = _builders(entity)
    # A plain row with a few cells replaced (mostly still a fast row), or all cells drawn.
    if data.draw(st.booleans()):
        fields = _plain(entity, fast.width)
        for _ in range(data.draw(st.integers(0, 3))):
            fields[data.draw(st.integers(0, fast.width - 1))] = data.draw(cells)
    else:
        fields = data.draw(st.lists(cells, min_size=fast.width, max_size=fast.width))
    is_multiline = data.draw(st.booleans())
    assert fast.fast is not None
    try:
        expected = general.build(7, fields, (), is_multiline)
    except ValueError:  # int() of a digit that is not decimal (`0²`): both paths fail alike
        with pytest.raises(ValueError):
            fast.build(7, fields, (), is_multiline)
        return
    row = fast.fast(7, fields)
    if row is not None:
        assert msgspec.to_builtins(row) == msgspec.to_builtins(expected)
        assert list(row.values) == list(expected.values)
        if not is_multiline:
            assert row.content_hash == _reference_hash(expected, general)
    built = fast.build(7, fields, (), is_multiline)
    assert msgspec.to_builtins(built) == msgspec.to_builtins(expected)


@pytest.mark.parametrize("entity", list(HEADERS), ids=list(HEADERS))
def test_plain_rows_take_the_fast_path(entity: str) -> None:
    fast, general = _builders(entity)
    fields = _plain(entity, fast.width)
    assert fast.fast is not None
    row = fast.fast(3, fields)
    assert row is not None
    assert row == general.build(3, fields, (), False)
