"""The export bundle as files: a directory or a ZIP, members matched by name prefix, encodings.

Only byte access and encoding detection live here; parsing is in records.py and rows.py.
"""

from __future__ import annotations

import codecs
import io
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from core.errors import BadInputError
from core.export_format import EXPORT_INFO_PREFIX, FileSpec, match_file_name

BOM = codecs.BOM_UTF8
_CHUNK = 1 << 20
_EVIDENCE = 200  # non-ASCII characters seen before the encoding is decided


class Bundle:
    """The files of one export: a directory or a ZIP archive."""

    def __init__(self, path: Path) -> None:
        """Open the export at `path`.

        Raises:
            BadInputError: when the path is missing, unreadable or not a directory or ZIP.
        """
        self.path = path
        self._zip: zipfile.ZipFile | None = None
        if not path.exists():
            raise BadInputError(
                "export not found; pass the export directory or the DentalExec_Export_*.zip",
                file=str(path),
            )
        if path.is_file():
            try:
                self._zip = zipfile.ZipFile(path)
            except (zipfile.BadZipFile, OSError) as error:
                raise BadInputError(
                    f"not a readable ZIP archive ({type(error).__name__}); re-download the "
                    "export or unzip it and pass the directory",
                    file=str(path),
                ) from None
        self.members = self._list_members()

    def _list_members(self) -> list[str]:
        if self._zip is not None:
            names = [i.filename for i in self._zip.infolist() if not i.is_dir()]
        else:
            try:
                names = [
                    str(p.relative_to(self.path))
                    for p in sorted(self.path.rglob("*"))
                    if p.is_file()
                ]
            except OSError as error:
                raise BadInputError(
                    f"cannot list the export directory ({error.strerror}); check permissions",
                    file=str(self.path),
                ) from None
        # Attachment bytes (`Files/...`) are not export tables.
        return [n for n in names if not n.replace("\\", "/").lower().startswith("files/")]

    def match(self) -> tuple[dict[str, str], list[str], str | None]:
        """(entity -> member name, unrecognised member names, export-info member or None).

        Raises:
            BadInputError: when two files match one entity (the reader cannot choose).
        """
        found: dict[str, str] = {}
        unknown: list[str] = []
        info = None
        for name in self.members:
            base = name.replace("\\", "/").rsplit("/", 1)[-1].lower()
            spec: FileSpec | None = match_file_name(name)
            if base.startswith(EXPORT_INFO_PREFIX):
                info = name
            elif spec is None:
                unknown.append(name)
            elif spec.entity in found:
                raise BadInputError(
                    f"two files for {spec.prefix}: {found[spec.entity]!r} and {name!r}; "
                    "keep one of them in the export",
                    file=str(self.path),
                )
            else:
                found[spec.entity] = name
        return found, unknown, info

    @contextmanager
    def open_binary(self, member: str) -> Iterator[IO[bytes]]:
        """A binary stream of one member.

        Raises:
            BadInputError: when the member cannot be read.
        """
        try:
            if self._zip is not None:
                stream: IO[bytes] = self._zip.open(member)
            else:
                stream = open(self.path / member, "rb")  # noqa: SIM115 - closed below
        except (OSError, zipfile.BadZipFile, RuntimeError) as error:
            raise BadInputError(
                f"cannot read ({type(error).__name__}); check the file and its permissions",
                file=member,
            ) from None
        try:
            yield stream
        finally:
            stream.close()

    @contextmanager
    def open_text(self, member: str, encoding: str) -> Iterator[IO[str]]:
        """A text stream of one member; undecodable bytes become U+FFFD (flagged per row)."""
        with self.open_binary(member) as raw:
            text = io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline="")
            try:
                yield text
            finally:
                text.detach()

    def detect_encoding(self, member: str) -> str:
        """`utf-8-sig`, `utf-8`, `ascii` or `cp1252`, from the BOM and the bytes (Q1)."""
        with self.open_binary(member) as raw:
            head = raw.read(3)
            if head == BOM:
                return "utf-8-sig"
            return _sniff(head, raw)


def _sniff(head: bytes, raw: IO[bytes]) -> str:
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    bad = good = 0
    chunk = head + raw.read(_CHUNK)
    while chunk and bad + good < _EVIDENCE:
        if chunk.isascii():
            # Decoding would only drop an incomplete sequence left by the previous chunk (never
            # counted); reset does the same without building a string: an all-ASCII file is
            # still read to its end, but at the speed of the read.
            decoder.reset()
        else:
            text = decoder.decode(chunk)
            replaced = text.count("\ufffd")
            bad += replaced
            # Extra bytes per character: >= 1 for every valid multi-byte character.
            good += len(text.encode("utf-8")) - len(text) - 2 * replaced
        chunk = raw.read(_CHUNK)
    if bad == 0 and good == 0:
        return "ascii"
    return "utf-8" if good > 2 * bad else "cp1252"
