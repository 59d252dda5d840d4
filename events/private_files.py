"""Files and directories readable by their owner only, whatever the process's umask.

Ferry's files hold protected health information (the store's source rows and payloads, the
sample diff) or tell about it (mapping, reports, replays, anchors), so every file Ferry
writes is created through here: files 0600, directories Ferry creates 0700. The mode is set
with an explicit chmod after creation, because the mode given to open() and mkdir() is
reduced by the umask only, never widened, and a file that existed already keeps its old mode
otherwise. Directories that existed before (e.g. the parent of an `--out` path) are left as
they are, except the ones Ferry owns outright (`private_dir`).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO, Literal, TextIO, cast, overload

__all__ = ["create_private", "open_private", "open_private_fd", "private_dir", "write_private"]

FILE_MODE = 0o600
DIR_MODE = 0o700


def _make_parents(path: Path) -> None:
    """Create the missing ancestors of `path` owner-only; existing ones are left alone."""
    missing: list[Path] = []
    parent = path.parent
    while not parent.exists():
        missing.append(parent)
        parent = parent.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=DIR_MODE)
        except FileExistsError:  # made meanwhile by another process
            continue
        os.chmod(folder, DIR_MODE)


def private_dir(path: Path) -> Path:
    """Make a directory Ferry owns (work directory, reports/, anchors/), owner-only.

    An existing one is tightened by taking away only: its group and other bits go, and a
    folder its owner made read-only stays read-only (Ferry then says it cannot write there
    rather than granting itself the right).
    """
    path = Path(path)
    _make_parents(path)
    if not path.exists():
        path.mkdir(mode=DIR_MODE, exist_ok=True)
        os.chmod(path, DIR_MODE)  # the umask may have taken more than group and other
        return path
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        os.chmod(path, mode & DIR_MODE)
    return path


def create_private(path: Path) -> Path:
    """Create `path` empty if missing (e.g. before SQLite opens it) and make it 0600."""
    path = Path(path)
    _make_parents(path)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)
    return path


def open_private_fd(path: Path) -> int:
    """Open `path` for reading and writing without truncating it (created if missing, e.g. a
    lock file), owner-only; returns the descriptor, which the caller closes."""
    path = Path(path)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
    except BaseException:
        os.close(fd)
        raise
    return fd


@overload
def open_private(path: Path, mode: Literal["w"] = "w") -> TextIO: ...
@overload
def open_private(path: Path, mode: Literal["wb"]) -> BinaryIO: ...
def open_private(path: Path, mode: Literal["w", "wb"] = "w") -> TextIO | BinaryIO:
    """Open `path` for writing from empty (text is UTF-8), readable by its owner only."""
    path = Path(path)
    _make_parents(path)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
    except BaseException:
        os.close(fd)
        raise
    if mode == "wb":
        return cast(BinaryIO, os.fdopen(fd, "wb"))
    return cast(TextIO, os.fdopen(fd, "w", encoding="utf-8", newline=""))


def write_private(path: Path, data: str | bytes) -> Path:
    """Write `data` to `path` (text as UTF-8), readable and writable by its owner only."""
    if isinstance(data, bytes):
        with open_private(path, "wb") as binary:
            binary.write(data)
    else:
        with open_private(path) as text:
            text.write(data)
    return Path(path)
