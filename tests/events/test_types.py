"""Event types: one tagged union, every type documented, stored samples stay decodable."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from events.types import EVENT_TYPES, decode, encode
from tests.events.factories import every_event

SAMPLES = Path(__file__).parent / "samples" / "events-v1.jsonl"


def test_every_type_has_a_docstring_naming_when_it_is_emitted() -> None:
    for event_type in EVENT_TYPES:
        doc = event_type.__doc__ or ""
        assert "Emitted" in doc, f"{event_type.__name__} must say when it is emitted"


def test_factories_cover_every_type() -> None:
    assert {type(e).__name__ for _, e in every_event()} == {t.__name__ for t in EVENT_TYPES}


@pytest.mark.parametrize("event", [e for _, e in every_event()], ids=lambda e: type(e).__name__)
def test_round_trip(event: msgspec.Struct) -> None:
    assert decode(encode(event)) == event


def test_stored_samples_of_this_version_still_decode() -> None:
    """Evolution is additive: samples written by version 1 decode forever."""
    lines = SAMPLES.read_bytes().splitlines()
    decoded = [decode(line) for line in lines]
    assert {type(e).__name__ for e in decoded} == {t.__name__ for t in EVENT_TYPES}
    for line, event in zip(lines, decoded, strict=True):
        stored = msgspec.json.decode(line)
        now = msgspec.json.decode(encode(event))
        # Every stored field comes back as it was; a field added since has its default.
        assert {k: now[k] for k in stored} == stored
        defaults = {f.encode_name: f.default for f in msgspec.structs.fields(type(event))}
        assert all(now[k] == defaults[k] for k in now.keys() - stored.keys())


def test_unknown_type_is_refused() -> None:
    with pytest.raises(msgspec.ValidationError):
        decode(b'{"type":"RecordTeleported"}')
