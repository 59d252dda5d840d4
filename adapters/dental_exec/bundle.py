"""The export bundle as files: a directory or a ZIP, members matched by name prefix, encodings.

Only byte access and encoding detection live here; parsing is in records.py and rows.py.
"""

from __future__ import annotations

import codecs
import io
import os
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from core.errors import BadInputError
from core.export_format import EXPORT_INFO_PREFIX, FileSpec, match_file_name

BOM = codecs.BOM_UTF8
_CHUNK = 1 << 20
_EVIDENCE = 200  # non-ASCII characters seen before the encoding is decided
# Byte-order marks of encodings Ferry does not read; UTF-32 first (its LE mark starts as UTF-16's).
_FOREIGN_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_SAMPLE = 4096  # bytes looked at for UTF-16/32 without a mark and for binary content
# C0 controls other than tab, LF, VT, FF and CR, and DEL: text files hold almost none.
_BINARY_BYTES = re.compile(rb"[\x00-\x08\x0e-\x1f\x7f]")
_BINARY_SHARE = 0.10  # above this share of such bytes in the sample, the file is not text
# A ZIP member is refused before it is read when it expands beyond either limit.
MAX_EXPANSION_RATIO = 100  # uncompressed / compressed size, for members above RATIO_FLOOR
RATIO_FLOOR = 1 << 20  # 1 MiB: small members may compress far better (a header-only file)
MAX_MEMBER_BYTES = 4 << 30  # 4 GiB uncompressed, whatever the ratio
_DRIVE = re.compile(r"^[A-Za-z]:")


class Bundle:
    """The files of one export: a directory or a ZIP archive."""

    def __init__(self, path: Path) -> None:
        """Open the export at `path`.

        Raises:
            BadInputError: when the path is missing, unreadable or not a directory or ZIP.
        """
        self.path = path
        self._zip: zipfile.ZipFile | None = None
        self._sizes: dict[str, int] = {}
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
            names = []
            for info in self._zip.infolist():
                _check_member(info, self.path)
                if not info.is_dir():
                    names.append(info.filename)
                    self._sizes[info.filename] = info.file_size
        else:
            try:
                names = _directory_files(self.path)
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
    def open_binary(self, member: str) -> Iterator[_Capped | io.BufferedReader]:
        """A binary stream of one member.

        Raises:
            BadInputError: when the member cannot be read.
        """
        try:
            if self._zip is not None:
                inner = self._zip.open(member)
                stream: _Capped | io.BufferedReader = _Capped(inner, self._sizes[member], member)
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
        """`utf-8-sig`, `utf-8`, `ascii` or `cp1252`, from the BOM and the bytes (Q1).

        Raises:
            BadInputError: for UTF-16 or UTF-32 (with or without a byte-order mark) and for
                binary content, naming the member and what was detected.
        """
        with self.open_binary(member) as raw:
            head = raw.read(_SAMPLE)
            if head.startswith(BOM):
                return "utf-8-sig"
            _refuse_unreadable(member, head)
            return _sniff(head, raw)


def _refuse_unreadable(member: str, head: bytes) -> None:
    """Refuse an encoding Ferry cannot read, seen in the first bytes of a member."""
    found = next((name for bom, name in _FOREIGN_BOMS if head.startswith(bom)), None)
    how = "byte-order mark"
    if found is None and len(head) >= 4:
        found, how = _wide_encoding(head), "zero bytes between characters"
    if found is not None:
        raise BadInputError(
            f"encoded as {found.upper()} ({how}); Ferry reads UTF-8 and Windows-1252 only: "
            f"export again as CSV, or convert the file (iconv -f {found.upper()} -t UTF-8)",
            file=member,
        )
    if head and len(_BINARY_BYTES.findall(head)) > _BINARY_SHARE * len(head):
        raise BadInputError(
            "binary content, not CSV text (control bytes throughout); replace it with the "
            "file Dental-Exec exported",
            file=member,
        )


def _wide_encoding(head: bytes) -> str | None:
    """UTF-16/UTF-32 without a mark: ASCII text leaves zero bytes at fixed offsets."""
    size = len(head) - len(head) % 4
    share = [head[i:size:4].count(0) / (size // 4) for i in range(4)]
    if min(share[1:]) > 0.9 and share[0] < 0.5:
        return "utf-32-le"
    if min(share[:3]) > 0.9 and share[3] < 0.5:
        return "utf-32-be"
    odd, even = (share[1] + share[3]) / 2, (share[0] + share[2]) / 2
    if odd > 0.4 and even < 0.05:
        return "utf-16-le"
    if even > 0.4 and odd < 0.05:
        return "utf-16-be"
    return None


def _check_member(info: zipfile.ZipInfo, archive: Path) -> None:
    """Refuse a ZIP member that escapes the archive or expands far beyond its size.

    Raises:
        BadInputError: naming the member and what to do.
    """
    name = info.filename.replace("\\", "/")
    problem = None
    if name.startswith("/") or _DRIVE.match(name):
        problem = "an absolute path"
    elif ".." in name.split("/"):
        problem = "a `..` path that points outside the archive"
    elif info.file_size > MAX_MEMBER_BYTES:
        problem = f"{info.file_size:,} bytes uncompressed (above the {MAX_MEMBER_BYTES:,} cap)"
    elif info.file_size > RATIO_FLOOR and info.file_size > MAX_EXPANSION_RATIO * max(
        info.compress_size, 1
    ):
        ratio = info.file_size // max(info.compress_size, 1)
        problem = (
            f"an expansion of {ratio:,}x ({info.compress_size:,} -> {info.file_size:,} bytes, "
            f"above {MAX_EXPANSION_RATIO}x)"
        )
    if problem:
        raise BadInputError(
            f"archive member {info.filename!r} has {problem}; nothing was read: unzip a "
            "trusted copy of the export and pass the folder",
            file=str(archive),
        )


def _directory_files(root: Path) -> list[str]:
    """The files under `root`, relative to it; a link that leads outside `root` is refused.

    Raises:
        BadInputError: naming the first such link.
        OSError: when the directory cannot be listed.
    """
    real_root = root.resolve()
    found: list[str] = []
    for folder, dirs, files in os.walk(root, onerror=_raise, followlinks=False):
        for name in sorted(dirs) + sorted(files):
            path = Path(folder) / name
            if path.is_symlink() and not _resolves_inside(path, real_root):
                raise BadInputError(
                    "a link to a place outside the export folder (or a link loop); nothing "
                    "was read: copy the file into the export instead of linking it",
                    file=str(path.relative_to(root)),
                )
        # Links to folders inside the export are not entered (as before); links to files are.
        found += [str((Path(folder) / n).relative_to(root)) for n in files]
    return sorted(n for n in found if (root / n).is_file())


def _resolves_inside(link: Path, real_root: Path) -> bool:
    try:
        return link.resolve().is_relative_to(real_root)
    except (OSError, RuntimeError):  # a loop of links
        return False


def _raise(error: OSError) -> None:
    raise error


class _Capped(io.BufferedIOBase):
    """A ZIP member's stream that stops with an error past its declared size, so a member
    that lies about its size is never read beyond it (and never whole into memory)."""

    def __init__(self, inner: IO[bytes], cap: int, member: str) -> None:
        super().__init__()
        self._inner, self._left, self._member = inner, cap, member

    @property
    def name(self) -> str:
        """The member's name (a text wrapper's name is its buffer's)."""
        return self._member

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        return self._count(self._inner.read, -1 if size is None else size)

    def read1(self, size: int = -1) -> bytes:
        return self._count(getattr(self._inner, "read1", self._inner.read), size)

    def _count(self, read: Callable[[int], bytes], size: int) -> bytes:
        try:
            data = read(size)
        except (zipfile.BadZipFile, EOFError, zlib.error) as error:
            raise BadInputError(
                f"the archive member is damaged ({error}); re-download the export or unzip "
                "it and pass the folder",
                file=self._member,
            ) from None
        self._left -= len(data)
        if self._left < 0:
            raise BadInputError(
                "the archive member expands beyond its declared size; nothing more was read: "
                "unzip a trusted copy of the export and pass the folder",
                file=self._member,
            )
        return data

    def close(self) -> None:
        self._inner.close()
        super().close()


def _sniff(head: bytes, raw: io.BufferedIOBase) -> str:
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
