"""CSV writing for synthetic exports: encodings, header drift, line counting, injected faults."""

from __future__ import annotations

import codecs
import csv
import io
import random
from pathlib import Path
from typing import IO

from core.export_format import FileSpec
from core.export_format.dialects import dialect_header

_ERRORS = "ferry-synthetic"


def _encode_fault(error: UnicodeError) -> tuple[bytes, int]:
    """Surrogates carry raw bytes (injected undecodable bytes); other characters become `?`."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    chunk = error.object[error.start : error.end]
    out = bytearray()
    for char in chunk:
        code = ord(char)
        out += bytes([code - 0xDC00]) if 0xDC80 <= code <= 0xDCFF else b"?"
    return bytes(out), error.end


codecs.register_error(_ERRORS, _encode_fault)
BROKEN_TOKEN = "\x00broken\x00"


class TableWriter:
    """Writes one export file and knows the physical line each row starts on."""

    def __init__(self, path: Path, spec: FileSpec, encoding: str, labels: list[str]) -> None:
        self.path, self.spec = path, spec
        self.names = [c.name for c in spec.columns]
        self.stream: IO[str] = open(  # noqa: SIM115 - closed by close()
            path, "w", encoding=encoding, errors=_ERRORS, newline=""
        )
        self.csv = csv.writer(self.stream, lineterminator="\r\n")
        self.trailing = labels and labels[-1] == ""
        self.csv.writerow(labels)
        self.line = 1
        self.rows = 0

    def write(self, row: dict[str, str], *, extra: str | None = None) -> int:
        """Write one row (canonical names -> text); returns the line it starts on."""
        values = [row.get(name, "") for name in self.names]
        if self.trailing:
            values.append("")
        if extra is not None:
            values.append(extra)
        start = self.line + 1
        self.line += 1 + sum(value.count("\n") for value in values if "\n" in value)
        if any(BROKEN_TOKEN in value for value in values):
            buffer = io.StringIO()
            csv.writer(buffer, lineterminator="\r\n").writerow(values)
            self.stream.write(buffer.getvalue().replace(BROKEN_TOKEN, '"oops"x'))
        else:
            self.csv.writerow(values)
        self.rows += 1
        return start

    def write_raw(self, text: str) -> None:
        """Write a line that is not a row (trailer, blank line)."""
        self.stream.write(text)

    def close(self) -> None:
        """Flush and close the file."""
        self.stream.close()


def header_labels(spec: FileSpec, rng: random.Random, dialect: str = "canonical") -> list[str]:
    """Header cells with version drift (Q18): alias spellings and a trailing empty column;
    in another system's dialect (core.export_format.dialects) its headers where it has one."""
    drift = {
        "email": ("E-mail", "Email"),
        "cell_phone": ("Cell Phone", "Mobile"),
        "tooth": ("Tooth", "Tooth #"),
    }
    labels = []
    for column in spec.columns:
        if column.name in drift and spec.entity in {"patient", "procedure"}:
            labels.append(rng.choice(drift[column.name]))
        else:
            labels.append(column.label)
    if dialect != "canonical":
        for i, column in enumerate(spec.columns):
            labels[i] = dialect_header(dialect, spec.entity, column.name) or labels[i]
    if spec.entity == "appointment":
        labels.append("")
    return labels
