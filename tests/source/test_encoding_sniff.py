"""The export's encoding check across its 1 MiB read chunks, all-ASCII chunks included."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.dental_exec.bundle import Bundle

MIB = 1 << 20
ASCII_LINE = b"1,Lastname,First,07/04/1986,Active\r\n"


def _ascii(size: int) -> bytes:
    return (ASCII_LINE * (size // len(ASCII_LINE) + 1))[:size]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (_ascii(3 * MIB), "ascii"),
        # Two all-ASCII chunks first: a cp1252 byte read late still decides the encoding.
        (_ascii(2 * MIB + 10) + "Müller,Zoë\r\n".encode("cp1252") + _ascii(MIB), "cp1252"),
        (_ascii(2 * MIB + 10) + "Müller,Zoë\r\n".encode() + _ascii(MIB), "utf-8"),
        # A two-byte character split by the first chunk's end (3 head bytes + 1 MiB), then
        # more ASCII chunks: the split character is still counted as UTF-8.
        (_ascii(MIB + 2) + "é".encode() + _ascii(2 * MIB), "utf-8"),
    ],
    ids=["all-ascii", "late-cp1252", "late-utf8", "utf8-split-at-chunk-end"],
)
def test_the_encoding_is_decided_by_every_chunk_not_just_the_first(
    tmp_path: Path, content: bytes, expected: str
) -> None:
    (tmp_path / "patients.csv").write_bytes(content)
    assert Bundle(tmp_path).detect_encoding("patients.csv") == expected
